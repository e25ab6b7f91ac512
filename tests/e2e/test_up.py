"""The README's demo command as a user runs it: `motcua up`, then plain mosquitto_pub / mosquitto_sub
clients (written only from docs/protocol.md) issue tickets, call them as two counters and read the board."""
from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.broker import free_port
from tests.support.wait import until

pytestmark = pytest.mark.slow     # whole `motcua up` processes, started again and again

ROOT = Path(__file__).resolve().parents[2]
MOTCUA = [sys.executable, "-m", "motcua"]
SITE = "demo-district"


def pub(port, cred, topic, payload):
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-u", cred["username"], "-P", cred["password"],
                    "-q", "1", "-t", topic, "-m", json.dumps(payload)], check=True, timeout=10)


def sub_one(port, cred, topic, count=1, wait=5):
    out = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-u", cred["username"], "-P",
                          cred["password"], "-q", "1", "-t", topic, "-C", str(count), "-W", str(wait)],
                         capture_output=True, text=True, timeout=wait + 5)
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


@pytest.fixture
def up(tmp_path):
    if not shutil.which("mosquitto_pub"):
        pytest.fail("mosquitto-clients is not installed: ./setup.sh installs it")
    mqtt_port, http_port = free_port(), free_port()
    proc = subprocess.Popen(MOTCUA + ["up", "--data-dir", str(tmp_path / "data"), "--mqtt-port", str(mqtt_port),
                                      "--http-port", str(http_port)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    line = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "ready" in line or proc.poll() is not None:
            break
    assert "ready" in line, f"motcua up did not get ready: {line!r}"
    yield proc, line, tmp_path / "data", mqtt_port, http_port
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_up_runs_a_whole_site_that_protocol_clients_can_use(up):
    proc, line, data, mqtt_port, http_port = up
    assert f"mqtt://127.0.0.1:{mqtt_port}" in line and f"http://127.0.0.1:{http_port}" in line
    creds_path = data / "credentials.json"
    assert str(creds_path) in line
    assert stat.S_IMODE(creds_path.stat().st_mode) == 0o600
    creds = json.loads(creds_path.read_text())
    k1, q1, q2, d1 = creds["kiosk"]["k1"], creds["counter"]["q1"], creds["counter"]["q2"], creds["display"]["d1"]
    root = f"motcua/v1/{SITE}"

    for i in range(3):
        pub(mqtt_port, k1, f"{root}/kiosk/k1/cmd",
            {"v": 1, "type": "ticket.issue", "req_id": f"e2e-{i}", "sector": "tu-phap-ho-tich", "ts": "2026-11-24T08:00:00+07:00"})
    # Anonymous clients are refused: the broker has a user per device.
    anon = subprocess.run(["mosquitto_pub", "-p", str(mqtt_port), "-t", f"{root}/kiosk/k1/cmd", "-m", "{}"],
                          capture_output=True, text=True, timeout=10)
    assert anon.returncode != 0
    pub(mqtt_port, q1, f"{root}/counter/q1/cmd", {"v": 1, "type": "call.next", "req_id": "c1"})
    pub(mqtt_port, q2, f"{root}/counter/q2/cmd", {"v": 1, "type": "call.next", "req_id": "c2"})

    boards = []

    def two_serving() -> bool:
        boards.append(sub_one(mqtt_port, d1, f"{root}/board")[0])
        return sum(1 for c in boards[-1]["counters"] if c["serving"]) == 2
    until(two_serving, timeout=10, interval=0.2)
    board = boards[-1]
    serving = {c["id"]: c["serving"]["number"] for c in board["counters"] if c["serving"]}
    assert serving == {"q1": "A001", "q2": "A002"}
    waiting = next(s for s in board["sectors"] if s["id"] == "tu-phap-ho-tich")["waiting"]
    assert waiting == 1

    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/health", timeout=5) as r:
        assert json.loads(r.read())["ok"] is True
    status = sub_one(mqtt_port, d1, f"{root}/server/status")[0]
    assert status["online"] is True

    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0 and "stopped" in out


def test_up_keeps_its_data_across_restarts(up, tmp_path):
    proc, line, data, mqtt_port, http_port = up
    creds = json.loads((data / "credentials.json").read_text())
    root = f"motcua/v1/{SITE}"
    pub(mqtt_port, creds["kiosk"]["k2"], f"{root}/kiosk/k2/cmd",
        {"v": 1, "type": "ticket.issue", "req_id": "keep-1", "sector": "dat-dai"})

    def issued() -> bool:      # the server has the ticket: the retained board counts it
        boards = sub_one(mqtt_port, creds["display"]["d1"], f"{root}/board")
        return bool(boards) and any(s["id"] == "dat-dai" and s["waiting"] >= 1 for s in boards[0]["sectors"])
    assert until(issued, timeout=10, interval=0.2), "the ticket never reached the board"
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=20)
    again = subprocess.Popen(MOTCUA + ["up", "--data-dir", str(data), "--mqtt-port", str(mqtt_port),
                                       "--http-port", str(http_port)], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert "ready" in again.stdout.readline()
        creds2 = json.loads((data / "credentials.json").read_text())
        assert creds2 == creds   # passwords are generated once, then kept
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/api/v1/board", timeout=5) as r:
            board = json.loads(r.read())
        assert next(s for s in board["sectors"] if s["id"] == "dat-dai")["waiting"] == 1
    finally:
        again.send_signal(signal.SIGTERM)
        again.communicate(timeout=20)
