"""The call announcer: one worker plays each call in arrival order, never two at once.

`submit(call)` only enqueues (it runs on the MQTT thread and must return at
once); the worker assembles the WAV from cached fragments and hands it to the
player command, waiting for it to finish before the next call. A burst of
calls is queued, not dropped; a recall is a new `events/call` message and is
announced again. The only messages skipped are exact duplicates of one just
received (a QoS 1 redelivery carries the same `ts`).
"""
from __future__ import annotations

import logging
import os
import queue
import shutil
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from motcua.speech import PhraseBank, announcement_text, counter_number, spoken_en, write_wav

log = logging.getLogger(__name__)


def default_player(audio_device: str | None = None) -> list[str]:
    """aplay (ALSA, on the Pi) with the configured device; sox's `play` when aplay is missing."""
    if shutil.which("aplay") or not shutil.which("play"):
        return ["aplay", "-q", *(["-D", audio_device] if audio_device else [])]
    return ["play", "-q"]


@dataclass
class Played:
    """What the announcer did for one call (kept for tests, logs and the time-to-start figure)."""
    number: str
    counter: str
    recall: bool
    sentence: str
    wav: Path
    duration_s: float
    start_latency_s: float   # from submit() to the player being started
    returncode: int


@dataclass
class Announcer:
    bank: PhraseBank
    player: Sequence[str] = field(default_factory=default_player)
    english: bool = False
    chime: bool = True
    out_dir: Path | None = None
    play_timeout_s: float = 30.0
    on_played: Callable[[Played], None] | None = None

    def __post_init__(self) -> None:
        self.out_dir = Path(self.out_dir or self.bank.cache_dir / "out")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._queue: queue.Queue = queue.Queue()
        self._recent_keys: deque = deque(maxlen=32)
        self._keys_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self.history: list[Played] = []
        self._n = 0

    # MQTT side ----------------------------------------------------------------

    def submit(self, call: dict[str, Any] | None) -> bool:
        """Queue one call; False (and a log line) for a payload that is not a call."""
        if not isinstance(call, dict) or not isinstance(call.get("number"), str) or not call["number"].strip() \
                or not isinstance(call.get("counter"), str):
            log.warning("announcer ignored a payload that is not a call: %.200r", call)
            return False
        key = (call.get("number"), call.get("counter"), call.get("ts"), call.get("recall"))
        with self._keys_lock:
            if call.get("ts") and key in self._recent_keys:
                return False  # the broker delivered the same message twice
            self._recent_keys.append(key)
        self._idle.clear()
        self._queue.put((time.perf_counter(), call))
        return True

    def on_message(self, topic: str, payload: bytes) -> None:
        import json
        try:
            self.submit(json.loads(payload))
        except (ValueError, RecursionError):
            log.warning("announcer ignored a payload that is not JSON on %s", topic)

    # worker -------------------------------------------------------------------

    def start(self) -> "Announcer":
        self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._queue.put(None)
        if self._thread:
            self._thread.join(timeout)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once every queued call has been played (for tests and shutdown)."""
        return self._idle.wait(timeout)

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def _run(self) -> None:
        while not self._stop.is_set():
            item = self._queue.get()
            if item is None:
                break
            submitted, call = item
            try:
                self._announce(submitted, call)
            except Exception:  # one bad call or a broken speaker must not stop the next ones
                log.exception("announcement of %s failed", call.get("number"))
            finally:
                if self._queue.empty():
                    self._idle.set()

    def build_wav(self, call: dict[str, Any]) -> tuple[Path, str, float]:
        spoken = announcement_text(call)
        english = None
        if self.english:
            english = spoken_en(call["number"], call.get("counter_label_en") or
                                (f"Counter {counter_number(call.get('counter_label'), call.get('counter'))}"
                                 if counter_number(call.get("counter_label"), call.get("counter")) else None),
                                call.get("counter"), step=call.get("step"), steps=call.get("steps"),
                                sector_name_en=call.get("sector_name_en"))
        frames = self.bank.assemble(spoken.fragments, chime=self.chime, english=english)
        self._n += 1
        # a few rotating names: the player reads one while the next is written
        path = self.out_dir / f"announce-{self._n % 4}.wav"
        write_wav(path, frames)
        return path, spoken.sentence + (f" / {english}" if english else ""), len(frames) / 2 / 22050

    def _announce(self, submitted: float, call: dict[str, Any]) -> None:
        path, sentence, duration = self.build_wav(call)
        started = time.perf_counter()
        rc = self._play(path)
        played = Played(number=call["number"], counter=call["counter"], recall=bool(call.get("recall")),
                        sentence=sentence, wav=path, duration_s=duration,
                        start_latency_s=started - submitted, returncode=rc)
        self.history.append(played)
        log.info("announced %s (%.1f s, started %.0f ms after the call)", sentence, duration,
                 played.start_latency_s * 1000)
        if self.on_played:
            self.on_played(played)

    def _play(self, path: Path) -> int:
        try:
            proc = subprocess.run([*self.player, str(path)], capture_output=True, timeout=self.play_timeout_s,
                                  env={**os.environ})
        except FileNotFoundError:
            log.error("audio player %s not found", self.player[0])
            return 127
        except subprocess.TimeoutExpired:
            log.error("audio player took longer than %.0f s; stopped it", self.play_timeout_s)
            return -1
        if proc.returncode != 0:
            log.warning("audio player exited %s: %s", proc.returncode, proc.stderr[-300:].decode("utf-8", "replace"))
        return proc.returncode


def build_announcer(cfg, player: str | None = None) -> Announcer:
    """The Announcer for a DisplayConfig, fragments pre-rendered (about half a second on a Pi 4);
    `player` is a command line that replaces aplay (the WAV path is appended)."""
    bank = PhraseBank(cfg.announcer.cache_dir, voice=cfg.announcer.voice)
    bank.prerender(counter_numbers=range(1, 41))
    cmd = player.split() if player else default_player(cfg.announcer.audio_device)
    return Announcer(bank, player=cmd, english=cfg.announcer.english, chime=cfg.announcer.chime)
