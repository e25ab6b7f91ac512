"""Reading back the sound the system makes: a WAV's length, and its loudness measured by sox."""
from __future__ import annotations

import io
import subprocess
import wave
from pathlib import Path


def wav_seconds(src: bytes | str | Path) -> float:
    """Length of a 16-bit mono WAV (a file, or the bytes of one), in seconds."""
    with wave.open(io.BytesIO(src) if isinstance(src, bytes) else str(src), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2), "expected 16-bit mono"
        return w.getnframes() / w.getframerate()


def sox_rms(path: str | Path) -> float:
    """RMS amplitude (0..1) as `sox FILE -n stat` reports it: sound, not silence, is well above 0."""
    stat = subprocess.run(["sox", str(path), "-n", "stat"], capture_output=True, text=True, timeout=20).stderr
    return float(next(line.split(":")[1] for line in stat.splitlines() if line.startswith("RMS     amplitude")))
