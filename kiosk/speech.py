"""Read-aloud with espeak-ng (offline, Vietnamese voice `vi`).

Each `say()` stops whatever is still speaking, so tapping the speaker button
twice never talks over itself, and never blocks the UI thread.
"""
from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import unicodedata

log = logging.getLogger(__name__)


class Speaker:
    def __init__(self, voice: str = "vi", audio_device: str | None = None, enabled: bool = True,
                 exe: str | None = None, speed: int = 140):
        self.voice = voice
        self.audio_device = audio_device
        self.exe = exe or shutil.which("espeak-ng") or "espeak-ng"
        self.enabled = enabled and shutil.which(self.exe) is not None
        self.speed = speed           # words a minute; slower than the default 175 for elderly listeners
        self._procs: list[subprocess.Popen] = []
        self._lock = threading.Lock()
        self.last_text = ""

    def voice_for(self, lang: str) -> str:
        return "en" if lang == "en" else self.voice

    def command(self, text: str, lang: str = "vi", wav: str | None = None) -> list[str]:
        cmd = [self.exe, "-v", self.voice_for(lang), "-s", str(self.speed)]
        if wav:
            cmd += ["-w", wav]
        elif self.audio_device:
            cmd += ["--stdout"]
        # "--" so a text starting with "-" is never read as an option
        return cmd + ["--", unicodedata.normalize("NFC", text)]

    def say(self, text: str, lang: str = "vi") -> bool:
        """Start speaking `text`; returns False when speech is off or espeak-ng is missing."""
        self.last_text = text
        self.stop()
        if not self.enabled or not text.strip():
            return False
        try:
            with self._lock:
                if self.audio_device:
                    # espeak-ng cannot pick an ALSA device itself: pipe its WAV to aplay
                    first = subprocess.Popen(self.command(text, lang), stdout=subprocess.PIPE,
                                             stderr=subprocess.DEVNULL)
                    second = subprocess.Popen(["aplay", "-q", "-D", self.audio_device], stdin=first.stdout,
                                              stderr=subprocess.DEVNULL)
                    first.stdout.close()
                    self._procs = [first, second]
                else:
                    self._procs = [subprocess.Popen(self.command(text, lang), stdout=subprocess.DEVNULL,
                                                    stderr=subprocess.DEVNULL)]
            return True
        except OSError as exc:
            log.warning("speech failed: %s", exc)
            return False

    @property
    def speaking(self) -> bool:
        with self._lock:
            return any(p.poll() is None for p in self._procs)

    def stop(self) -> None:
        with self._lock:
            for p in self._procs:
                if p.poll() is None:
                    p.terminate()
                    try:
                        p.wait(1)
                    except subprocess.TimeoutExpired:
                        p.kill()
            self._procs = []

    def render_wav(self, text: str, path: str, lang: str = "vi", timeout: float = 20) -> None:
        """Synthesize to a WAV file (used by tests and to pre-check a voice at install time)."""
        subprocess.run(self.command(text, lang, wav=path), check=True, timeout=timeout,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
