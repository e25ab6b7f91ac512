"""bench/appointment_targets.py runs end to end, one simulated day, and prints its targets (the
figures are not checked: a benchmark fails only on error), as tests/integration/test_bench_smoke.py."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]   # simulated days in a child process


def run_bench(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "bench.appointment_targets", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=170)
    assert proc.returncode == 0, f"failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


def test_the_province_target_is_printed():
    out = run_bench("--province", "--days", "1")
    assert "bookings confined to each centre" in out and "cross-centre booking" in out
    assert "hn-long-bien mean wait" in out and "target >= 40%" in out
    assert "hn-bat-trang utilisation" in out and "(target: rises)" in out
    assert "booked_from_elsewhere" in out and "carried_over" in out


def test_the_surge_targets_with_days_that_carry_over_are_printed():
    out = run_bench("--days", "1", "--carry-over")
    assert "days that carry over: carried_over" in out
    assert "hall peak" in out and "booked p90 after slot" in out and "walk-ins' mean wait" in out


def test_the_lead_time_figures_are_printed():
    out = run_bench("--days", "2", "--lead-days", "0:0.5,1:0.5", "--later-days", "1", "--surge-days", "1")
    assert "lead days {0: 0.5, 1: 0.5}, later days 1, surge ends after day 1 (rates x 0.6 after)" in out
    assert "hall peak per 5-day block" in out
    assert "lead time:" in out and "for a later day than their citizen's own" in out and "mean lead" in out
    assert "days 1-2:" in out


def test_bad_lead_days_are_a_clear_error():
    for bad, words in (("0:0.5,1:0.4", "sum to 0.9"), ("tomorrow", "expected DAYS:SHARE pairs")):
        proc = subprocess.run([sys.executable, "-m", "bench.appointment_targets", "--days", "1", "--lead-days", bad],
                              cwd=ROOT, capture_output=True, text=True, timeout=170)
        assert proc.returncode == 2 and words in proc.stderr and "Traceback" not in proc.stderr
