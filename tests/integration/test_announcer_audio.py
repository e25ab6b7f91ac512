"""The announcer with real espeak-ng WAVs and a fake player that records what it was asked to play.

Proves: the WAV of a call is non-silent and of plausible length, a burst of 10
calls gives 10 announcements in order and never overlapping, a recall is
announced again, calls arrive through a real mosquitto, time to start is small.
"""
from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from display.announcer import Announcer
from display.feed import attach_announcer
from motcua.speech import PhraseBank
from protocol.client import DeviceClient
from protocol.topics import Topics
from tests.support.audio import sox_rms, wav_seconds
from tests.support.wait import until

pytestmark = [pytest.mark.slow,      # real speech synthesis and playback, call after call
              pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")]

FAKE_PLAYER = r'''
import json, shutil, sys, time
log, wav = sys.argv[1], sys.argv[2]
start = time.time()
n = sum(1 for _ in open(log)) if __import__("os").path.exists(log) else 0
keep = f"{log}.{n:03d}.wav"
shutil.copy(wav, keep)
time.sleep(0.08)   # "playing"
with open(log, "a") as fh:
    fh.write(json.dumps({"wav": keep, "start": start, "end": time.time()}) + "\n")
'''


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    b = PhraseBank(tmp_path_factory.mktemp("phrases"))
    b.prerender(counter_numbers=range(1, 13))
    return b


@pytest.fixture
def player(tmp_path):
    script = tmp_path / "fake_player.py"
    script.write_text(FAKE_PLAYER)
    log = tmp_path / "played.jsonl"
    return [sys.executable, str(script), str(log)], log


def played(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def call(number: str, counter: int, recall: bool = False, ts: str | None = None) -> dict:
    return {"v": 1, "type": "call", "ts": ts or f"2026-11-25T08:00:{time.monotonic_ns() % 60:02d}.{time.monotonic_ns()}+07:00",
            "number": number, "counter": f"q{counter}", "counter_label": f"Quầy {counter}",
            "counter_label_en": f"Counter {counter}", "sector": "tu-phap", "recall": recall}


def wav_stats(path: Path) -> tuple[float, float]:
    return wav_seconds(path), sox_rms(path)


def test_one_call_is_a_real_nonsilent_wav_of_plausible_length(bank, player, tmp_path):
    cmd, log = player
    a = Announcer(bank, player=cmd, out_dir=tmp_path / "out").start()
    try:
        assert a.submit(call("A023", 5))
        assert a.wait_idle(20)
    finally:
        a.stop()
    [p] = played(log)
    duration, rms = wav_stats(Path(p["wav"]))
    # chime (1.2 s) + "Mời công dân có số thứ tự A, không, hai, ba, đến quầy số năm"
    assert 3.5 < duration < 12, duration
    assert rms > 0.02, f"announcement is (nearly) silent: RMS {rms}"
    [h] = a.history
    assert h.sentence == "Mời công dân có số thứ tự A, không, hai, ba, đến quầy số 5"
    assert h.returncode == 0
    assert h.start_latency_s < 0.5, h.start_latency_s


def test_burst_of_ten_in_order_never_overlapping_and_recall_repeats(bank, player, tmp_path):
    cmd, log = player
    a = Announcer(bank, player=cmd, out_dir=tmp_path / "out").start()
    numbers = [f"B{n:03d}" for n in range(1, 11)]
    try:
        for i, n in enumerate(numbers):
            assert a.submit(call(n, i + 1))
        assert a.submit(call("B010", 10, recall=True))      # the counter presses Recall
        assert a.wait_idle(60)
    finally:
        a.stop()
    rows = played(log)
    assert len(rows) == 11
    assert [h.number for h in a.history] == numbers + ["B010"]
    assert a.history[-1].recall and a.history[-1].sentence == a.history[-2].sentence
    for before, after in zip(rows, rows[1:]):
        assert after["start"] >= before["end"], "two announcements overlapped"
    assert len({Path(r["wav"]).stat().st_size for r in rows[:9]}) >= 2   # different counters, different WAVs


def test_duplicate_delivery_is_spoken_once_bad_payloads_ignored(bank, player, tmp_path):
    cmd, log = player
    a = Announcer(bank, player=cmd, out_dir=tmp_path / "out").start()
    try:
        c = call("C001", 3, ts="2026-11-25T08:00:00+07:00")
        assert a.submit(c)
        assert not a.submit(dict(c))          # same message redelivered (QoS 1)
        for junk in (None, [], {"number": 5}, {"number": "", "counter": "q1"}, {"counter": "q1"}):
            assert not a.submit(junk)
        assert a.wait_idle(20)
    finally:
        a.stop()
    assert len(played(log)) == 1


def test_english_is_appended_when_enabled(bank, player, tmp_path):
    cmd, log = player
    a = Announcer(bank, player=cmd, out_dir=tmp_path / "out", english=True).start()
    try:
        a.submit(call("A007", 2))
        assert a.wait_idle(20)
    finally:
        a.stop()
    assert a.history[0].sentence.endswith("Ticket number A 0 0 7, please go to counter 2.")
    duration, rms = wav_stats(Path(played(log)[0]["wav"]))
    assert duration > 6 and rms > 0.02


def test_calls_from_the_broker_are_announced(mosquitto, bank, player, tmp_path):
    cmd, log = player
    a = Announcer(bank, player=cmd, out_dir=tmp_path / "out").start()
    client = DeviceClient(mosquitto.url, "demo-district", "display", "d1", client_id="display-demo-district-d1-announcer")
    attach_announcer(client, a.submit)
    assert client.start(5)
    assert client.wait_subscribed(timeout=5)    # the broker passes on what is published from now on
    pub = mqtt.Client(CallbackAPIVersion.VERSION2)
    pub.connect("127.0.0.1", mosquitto.port)
    pub.loop_start()
    try:
        topic = Topics("demo-district").events_call
        for i in range(3):
            pub.publish(topic, json.dumps(call(f"D00{i}", 4)), qos=1).wait_for_publish(2)
        pub.publish(topic, b"garbage", qos=1).wait_for_publish(2)
        until(lambda: len(a.history) >= 3, timeout=20)
        assert a.wait_idle(20)
    finally:
        pub.loop_stop()
        client.stop()
        a.stop()
    assert [h.number for h in a.history] == ["D000", "D001", "D002"]


def test_time_to_start_with_cached_phrases(bank, player, tmp_path):
    """From the call arriving to the player starting, with every fragment cached (the figure in docs/display.md)."""
    cmd, log = player
    a = Announcer(bank, player=cmd, out_dir=tmp_path / "out").start()
    rendered_before = bank.rendered
    latencies = []
    try:
        for i in range(5):
            a.submit(call(f"E{i:03d}", i + 1))
            assert a.wait_idle(20)
            latencies.append(a.history[-1].start_latency_s)
    finally:
        a.stop()
    assert bank.rendered == rendered_before, "a fixed phrase was synthesised at call time"
    latencies.sort()
    print(f"announcer time to start: median {latencies[2] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms")
    assert latencies[2] < 0.2
