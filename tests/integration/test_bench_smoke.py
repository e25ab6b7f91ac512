"""Each benchmark runs end to end with a very small load and prints its table (figures are not
checked: a benchmark fails only on error). Real mosquitto, real `motcua server`, real SQLite."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]   # four benchmarks, each its own processes


def run_bench(script: str, *args: str) -> str:
    # as bench/README.md runs them: a module of the bench package, from the checkout's root
    module = "bench." + script.removesuffix(".py")
    proc = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, timeout=55)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    assert "machine: " in proc.stdout
    return proc.stdout


def test_latency_prints_its_table():
    out = run_bench("latency.py", "--duration", "1", "--levels", "busy", "--reference-n", "50")
    assert "call.next -> board" in out and "ticket.issue -> reply" in out
    assert "physical reference" in out and "round trip" in out


def test_throughput_prints_its_table():
    out = run_bench("throughput.py", "--rates", "60", "--duration", "1", "--counters", "20", "--kiosks", "4",
                    "--reference-n", "50", "--loop-commands", "200", "--in-process")
    assert "replied/s" in out and "stale p99" in out
    assert "mosquitto_pub -> mosquitto_sub" in out
    assert "the command loop alone" in out
    assert "counter state lag p99" in out and "the command loop with MQTT" in out


def test_restart_prints_its_table():
    out = run_bench("restart.py", "--events", "3000", "--tickets-per-day", "150", "--restarts", "1")
    assert "restart (seconds)" in out and "3000" in out


def test_memory_prints_its_table():
    out = run_bench("memory.py", "--parts", "server,kiosk-vm,display-vm", "--days", "2", "--tickets-per-day", "60",
                    "--changes", "100", "--sample-every", "50")
    assert "server: simulated month" in out
    assert "kiosk (view-model" in out and "display (view-model" in out
