"""Read-aloud with the real espeak-ng: Vietnamese to a WAV checked with the wave module and sox."""
from __future__ import annotations

import shutil
import time
import wave

from kiosk.speech import Speaker
from tests.support.audio import sox_rms, wav_seconds

TEXT = "Số thứ tự của bạn là A, 0, 2, 3. Tư pháp – Hộ tịch. Số người đang chờ trước bạn: 4."



def test_vietnamese_speech_renders_to_a_real_wav(tmp_path):
    out = tmp_path / "screen.wav"
    Speaker(voice="vi").render_wav(TEXT, str(out))
    with wave.open(str(out)) as w:
        assert w.getframerate() >= 16000
    assert 3.0 < wav_seconds(out) < 30.0      # (and mono)
    if shutil.which("sox"):
        assert sox_rms(out) > 0.01           # sound, not silence


def test_say_is_non_blocking_and_interrupts_the_previous_one(tmp_path):
    spk = Speaker(voice="vi")
    # no sound card here: speak into a file sink by pointing the command at a WAV per call
    spk.command = lambda text, lang="vi", wav=None, _c=spk.command: _c(text, lang, wav=str(tmp_path / "x.wav"))
    t0 = time.monotonic()
    assert spk.say(TEXT * 20)
    assert time.monotonic() - t0 < 0.5
    first = spk._procs[0]
    assert spk.say("Xin chào")
    assert first.poll() is not None          # the long one was stopped
    spk.stop()
    assert not spk.speaking


def test_disabled_or_missing_espeak_is_silent_not_a_crash():
    assert Speaker(enabled=False).say("Xin chào") is False
    assert Speaker(exe="/nonexistent/espeak-ng").say("Xin chào") is False
