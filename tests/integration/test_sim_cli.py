"""`motcua simulate` as a user runs it: a real process, real files."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DISTRICT = ROOT / "queue_server" / "sim" / "scenarios" / "district-normal-day.yaml"
PROVINCE = ROOT / "queue_server" / "sim" / "scenarios" / "province" / "ha-noi-long-bien-bat-trang.yaml"


def motcua(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "motcua.cli", "simulate", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow     # simulated days in a child process
def test_json_output():
    out = motcua(str(DISTRICT), "--policy", "dynamic", "--days", "2", "--seed", "9", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert list(data) == ["policy", "scenario", "days", "tickets", "diverted_online", "mean_wait_s", "p90_wait_s",
                          "max_wait_s", "served_within_target_share", "est_wait_mae_s", "per_sector",
                          "counter_utilization"]
    assert data["policy"] == "dynamic" and data["days"] == 2
    again = motcua(str(DISTRICT), "--policy", "dynamic", "--days", "2", "--seed", "9", "--json")
    assert again.stdout == out.stdout


def test_readable_table():
    out = motcua(str(DISTRICT), "--policy", "static", "--days", "1")
    assert out.returncode == 0, out.stderr
    assert "mean wait" in out.stdout and "tu-phap-ho-tich" in out.stdout and "{" not in out.stdout


@pytest.mark.slow     # simulated days in a child process
def test_compare_with_chart(tmp_path):
    chart = tmp_path / "chart.png"
    out = motcua(str(DISTRICT), "--compare", "--days", "2", "--chart", str(chart))
    assert out.returncode == 0, out.stderr
    header = out.stdout.splitlines()[2].split()
    assert header == ["static", "dynamic", "auto", "pooled"]
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 10_000


@pytest.mark.slow     # simulated days in a child process
def test_compare_json_lists_the_four(tmp_path):
    out = motcua(str(DISTRICT), "--compare", "--days", "1", "--json")
    assert [r["policy"] for r in json.loads(out.stdout)] == ["static", "dynamic", "auto", "pooled"]


def test_bad_scenario_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(DISTRICT.read_text(encoding="utf-8").replace("no_show: 0.04", "no_show: 7")
                   .replace("../site-sample.yaml", str(DISTRICT.parent.parent / "site-sample.yaml")), encoding="utf-8")
    out = motcua(str(bad), "--json")
    assert out.returncode == 2
    assert "no_show" in out.stderr and "Traceback" not in out.stderr
    missing = motcua(str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    wrong = motcua(str(DISTRICT), "--policy", "fastest")
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr


@pytest.mark.slow     # simulated days in a child process
def test_policy_targets_bench_prints_the_target_table():
    """bench/policy_targets.py (30 days by default; 1 day here to stay fast) exits 0 and marks each target."""
    rural = ROOT / "queue_server" / "sim" / "scenarios" / "rural-commune.yaml"
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "policy_targets.py"), "--days", "1", str(rural)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "1 simulated days per scenario and policy" in out.stdout
    row = next(line for line in out.stdout.splitlines() if line.startswith("| rural-commune | ") and "met" in line
               or line.startswith("| rural-commune | ") and "MISSED" in line)
    assert row.count("|") == 9                      # scenario + 6 targets + moves a day
    assert "target checks missed" in out.stdout


def test_a_province_scenario_confined_and_cross_centre():
    """The same citizens with bookings confined to each centre and going to the other: the same
    figures as the simulator's own (province.centre_figures), per centre and run."""
    from queue_server.sim.province import ProvinceSimulation, centre_figures, load_province

    out = motcua(str(PROVINCE), "--compare", "--days", "2", "--seed", "3", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert list(data) == ["scenario", "days", "policy", "confined", "cross_centre"]
    province = load_province(PROVINCE)
    for run, allowed in (("confined", False), ("cross_centre", True)):
        played = ProvinceSimulation(province.with_cross(allowed), "dynamic", seed=3, days=2).run()
        assert data[run] == json.loads(json.dumps({sc.site.id: centre_figures(d)
                                                   for sc, d in zip(province.centres, played)}))
    assert data["confined"]["hn-bat-trang"]["booked_from_elsewhere"] == 0
    table = motcua(str(PROVINCE), "--days", "1")
    assert table.returncode == 0, table.stderr
    assert "cross-centre" in table.stdout and "hn-long-bien" in table.stdout and "hall peak" in table.stdout
    refused = motcua(str(PROVINCE), "--policy", "pooled")
    assert refused.returncode == 2 and "static, dynamic or auto" in refused.stderr
