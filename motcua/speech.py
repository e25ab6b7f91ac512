"""The words of an announcement, and the sound files they are made of.

Shared by the Pi display's announcer (display/announcer.py) and the browser display's
announce.wav (queue_server/web/display_bp.py): neither package imports the other.

An announcement is assembled from pre-rendered fragments (chime, the fixed
prefix, each letter and digit, "đến quầy số", the counter number) so it can
start playing a few milliseconds after the call arrives instead of waiting
for a whole sentence to be synthesised. Fragments are rendered once with
espeak-ng (offline) and cached on disk; the chime is generated here with the
`wave` module, so nothing binary lives in the repository.

Ticket digits are read one by one ("A, không, hai, ba"), which is how people
read a ticket aloud; the counter number is read as a number ("quầy số mười
hai"), the way the counters are named. A visit of several procedures (docs/visits.md) adds where
it stands, as the board shows "2/3: Đất đai": "thủ tục 2 trên 3, Đất đai".
"""
from __future__ import annotations

import array
import hashlib
import io
import logging
import math
import os
import shutil
import subprocess
import tempfile
import threading
import unicodedata
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

# re-exported: the announcer and the browser display's announce.wav read it from here
from protocol.spoken import counter_number  # noqa: F401

log = logging.getLogger(__name__)

RATE = 22050            # espeak-ng's output rate; the chime and the silences use it too
PREFIX_VI = "Mời công dân có số thứ tự"
TO_COUNTER_VI = "đến quầy số"
TO_VI = "đến"
DIGITS_VI = ["không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"]
# Letter names as Vietnamese say them when reading a code aloud; espeak-ng's own
# reading of a lone capital is close but reads some Latin letters the English way.
LETTERS_VI = {
    "A": "a", "B": "bê", "C": "xê", "D": "dê", "Đ": "đê", "E": "e", "F": "ép", "G": "giê", "H": "hát",
    "I": "i", "J": "gi", "K": "ca", "L": "e lờ", "M": "em mờ", "N": "en nờ", "O": "o", "P": "pê",
    "Q": "quy", "R": "e rờ", "S": "ét", "T": "tê", "U": "u", "V": "vê", "W": "vê kép", "X": "ích",
    "Y": "i dài", "Z": "dét",
}
ESPEAK_SPEED = 140      # words per minute; slower than espeak's 175 so a hall with echo can follow

# silence between fragments, in ms: short inside the ticket number so each
# character stands out, longer around it
GAP_AFTER_PREFIX = 220
GAP_BETWEEN_CHARS = 160
GAP_BEFORE_COUNTER = 260
GAP_IN_COUNTER = 60
GAP_AFTER_CHIME = 150
GAP_BEFORE_STEP = 220
STEP_VI = "thủ tục {step} trên {steps}"
STEP_EN = "procedure {step} of {steps}"


def _visit_step(step: int | None, steps: int | None) -> bool:
    return bool(step and steps and steps > 1)


@dataclass(frozen=True)
class Spoken:
    """One announcement as fragments (each rendered and cached alone) and as one sentence."""
    fragments: list[tuple[str, int]]   # (text, silence in ms after it)
    sentence: str


def spoken_vi(number: str, counter_label: str | None, counter_id: str | None = None, *, step: int | None = None,
              steps: int | None = None, sector_name: str | None = None) -> Spoken:
    """"A023", "Quầy 5" -> "Mời công dân có số thứ tự A, không, hai, ba, đến quầy số 5"; procedure
    `step` of `steps` of a visit adds ", thủ tục 2 trên 3, Đất đai" (the sector's name when known)."""
    number = unicodedata.normalize("NFC", str(number)).strip().upper()
    frags: list[tuple[str, int]] = [(PREFIX_VI, GAP_AFTER_PREFIX)]
    chars, shown = [], []
    for ch in number:
        if ch.isdigit():
            chars.append(DIGITS_VI[int(ch)])
        elif ch in LETTERS_VI:
            chars.append(LETTERS_VI[ch])
        elif ch.isalnum():
            chars.append(ch)
        else:
            continue
        shown.append(ch if not ch.isdigit() else DIGITS_VI[int(ch)])
    for i, word in enumerate(chars):
        frags.append((word, GAP_BEFORE_COUNTER if i == len(chars) - 1 else GAP_BETWEEN_CHARS))
    n = counter_number(counter_label, counter_id)
    if n is not None:
        frags += [(TO_COUNTER_VI, GAP_IN_COUNTER), (n, 0)]
        tail = f"{TO_COUNTER_VI} {n}"
    else:
        label = unicodedata.normalize("NFC", str(counter_label or counter_id or "")).strip()
        frags += [(TO_VI, GAP_IN_COUNTER), (label, 0)]
        tail = f"{TO_VI} {label}"
    sentence = f"{PREFIX_VI} {', '.join(shown)}, {tail}"
    if _visit_step(step, steps):
        which = STEP_VI.format(step=step, steps=steps)
        name = unicodedata.normalize("NFC", sector_name).strip() if sector_name else ""
        frags[-1] = (frags[-1][0], GAP_BEFORE_STEP)
        frags.append((which, GAP_IN_COUNTER if name else 0))
        sentence += f", {which}"
        if name:
            frags.append((name, 0))
            sentence += f", {name}"
    return Spoken(frags, sentence)


def spoken_en(number: str, counter_label_en: str | None, counter_id: str | None = None, *, step: int | None = None,
              steps: int | None = None, sector_name_en: str | None = None) -> str:
    """English is one sentence (rendered on demand, then cached): digits spaced so they are read singly."""
    spaced = " ".join(str(number).upper())
    n = counter_number(counter_label_en, counter_id)
    where = f"counter {n}" if n is not None else str(counter_label_en or counter_id)
    if _visit_step(step, steps):
        where += ", " + STEP_EN.format(step=step, steps=steps) + (f", {sector_name_en}" if sector_name_en else "")
    return f"Ticket number {spaced}, please go to {where}."


# --- sound files -------------------------------------------------------------

def chime_frames(rate: int = RATE) -> bytes:
    """A two-note "ding-dong" (E5 then C5) with a soft attack and a bell-like decay, 16-bit mono."""
    out = array.array("h")
    for freq, length in ((659.25, 0.45), (523.25, 0.75)):
        n = int(rate * length)
        for i in range(n):
            t = i / rate
            env = min(1.0, t / 0.01) * math.exp(-3.5 * t)
            s = math.sin(2 * math.pi * freq * t) + 0.35 * math.sin(2 * math.pi * 2 * freq * t)
            out.append(int(9000 * env * s))
    return out.tobytes()


def silence(ms: int, rate: int = RATE) -> bytes:
    return b"\x00\x00" * int(rate * ms / 1000)


def read_frames(path: Path) -> bytes:
    with wave.open(str(path), "rb") as w:
        if w.getnchannels() != 1 or w.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit mono")
        if w.getframerate() != RATE:
            raise ValueError(f"{path}: expected {RATE} Hz, got {w.getframerate()}")
        return w.readframes(w.getnframes())


def wav_bytes(frames: bytes, rate: int = RATE) -> bytes:
    """16-bit mono frames as a whole WAV file in memory (the browser display fetches these)."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return buf.getvalue()


def write_wav(path: Path, frames: bytes, rate: int = RATE) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(wav_bytes(frames, rate))
    os.replace(tmp, path)  # readers never see half a file


def trim(frames: bytes, threshold: int = 250, keep_ms: int = 25) -> bytes:
    """Cut espeak-ng's leading and trailing silence so fragments join without long holes."""
    a = array.array("h")
    a.frombytes(frames)
    first = next((i for i, v in enumerate(a) if abs(v) > threshold), None)
    if first is None:
        return frames
    last = next(i for i in range(len(a) - 1, -1, -1) if abs(a[i]) > threshold)
    keep = int(RATE * keep_ms / 1000)
    return a[max(0, first - keep):min(len(a), last + keep)].tobytes()


def find_espeak() -> str:
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if not exe:
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
    return exe


class PhraseBank:
    """Rendered fragments on disk, keyed by voice, speed and text; rendered once, then read from memory."""

    def __init__(self, cache_dir: str | Path | None = None, voice: str = "vi", speed: int = ESPEAK_SPEED):
        self.cache_dir = Path(cache_dir or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                              / "motcua" / "announcer").expanduser()
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.voice, self.speed = voice, speed
        self._frames: dict[tuple[str, str], bytes] = {}
        self._lock = threading.Lock()
        self.espeak = find_espeak()
        self.rendered = 0       # how many fragments espeak-ng had to synthesise (cache misses)

    def path_for(self, text: str, voice: str | None = None) -> Path:
        voice = voice or self.voice
        key = hashlib.sha1(f"{voice}|{self.speed}|{text}".encode("utf-8")).hexdigest()[:16]
        return self.cache_dir / f"{voice}-{key}.wav"

    def frames(self, text: str, voice: str | None = None) -> bytes:
        voice = voice or self.voice
        with self._lock:
            hit = self._frames.get((voice, text))
        if hit is not None:
            return hit
        path = self.path_for(text, voice)
        if not path.exists():
            self._render(text, voice, path)
        frames = trim(read_frames(path))
        with self._lock:
            self._frames[(voice, text)] = frames
        return frames

    def _render(self, text: str, voice: str, path: Path) -> None:
        with tempfile.NamedTemporaryFile(suffix=".wav", dir=self.cache_dir, delete=False) as tmp:
            tmp_path = Path(tmp.name)
        try:
            subprocess.run([self.espeak, "-v", voice, "-s", str(self.speed), "-w", str(tmp_path), "--", text],
                           check=True, capture_output=True, timeout=20)
            os.replace(tmp_path, path)
            self.rendered += 1
        finally:
            tmp_path.unlink(missing_ok=True)

    def prerender(self, counter_numbers: Iterable[str] = (), letters: Iterable[str] | None = None) -> int:
        """Render every fixed fragment now (at start), so the first call is as fast as the rest."""
        texts = [PREFIX_VI, TO_COUNTER_VI, TO_VI, *DIGITS_VI,
                 *(LETTERS_VI[ch] for ch in (letters or LETTERS_VI) if ch in LETTERS_VI),
                 *[str(n) for n in counter_numbers]]
        for text in texts:
            self.frames(text)
        chime_frames_cached()   # about 20 ms of arithmetic: not on the first call's path
        return len(texts)

    def assemble(self, parts: list[tuple[str, int]], chime: bool = True, english: str | None = None) -> bytes:
        out = [chime_frames_cached(), silence(GAP_AFTER_CHIME)] if chime else []
        for text, gap in parts:
            out += [self.frames(text), silence(gap)]
        if english:
            out += [silence(450), self.frames(english, voice="en")]
        return b"".join(out)


_CHIME: bytes | None = None


def chime_frames_cached() -> bytes:
    global _CHIME
    if _CHIME is None:
        _CHIME = chime_frames()
    return _CHIME


def announcement_text(call: dict[str, Any]) -> Spoken:
    """The words of an `events/call` (with `sector_name`, the sector's Vietnamese name, when the
    display knows it from its board)."""
    return spoken_vi(call["number"], call.get("counter_label"), call.get("counter"), step=_int(call.get("step")),
                     steps=_int(call.get("steps")), sector_name=call.get("sector_name") or None)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
