"""Learning a scenario back from a real event log (queue_server/planning/history.py): the simulator
plays two weeks of the district day through the real domain, its events are written to a real
SQLite event store as the live server writes them, and the learning reads that file. Checks: the
learned parameters are the scenario's within three standard errors of their sampling, simulating
the learned scenario gives the days' mean wait within 10 % (the issue's check), the same log on
PostgreSQL learns the same, and `motcua simulate --from-log` as a user runs it."""
from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from queue_server.planning.history import learn_scenario, record_simulation
from queue_server.sim import load_scenario, simulate
from queue_server.store.log import EventStore
from tests.support.postgres import pg_url  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow     # two weeks of the district day simulated, twice

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "queue_server" / "sim" / "scenarios" / "district-normal-day.yaml"
SITE = ROOT / "queue_server" / "sim" / "site-sample.yaml"
DAYS = 14


@pytest.fixture(scope="module")
def log(tmp_path_factory) -> tuple[Path, dict]:
    """(the SQLite file of 14 simulated days, the run's summary)."""
    path = tmp_path_factory.mktemp("history") / "motcua.db"
    store = EventStore(str(path))
    try:
        summary = record_simulation(load_scenario(SCENARIO), store, days=DAYS)
    finally:
        store.close()
    return path, summary


@pytest.fixture(scope="module")
def learned(log):
    original = load_scenario(SCENARIO)
    scenario, history = learn_scenario(log[0], original.site, weeks=DAYS // 7)
    return original, scenario, history


def test_the_learned_parameters_are_the_scenarios(learned):
    original, scenario, h = learned
    assert len(h.days) == DAYS and scenario.days == DAYS
    assert not h.weekday_arrivals and not h.day_of_month_factor and not h.closed_weekdays
    # Arrivals: over each step of the original, the learned rate is its rate within 3 standard
    # errors of a Poisson count over the step's hours and the days.
    for sector, steps in original.arrivals.items():
        for (start, rate), (end, _) in zip(steps, steps[1:]):
            slots = range(start, end, 1800)
            hours = len(slots) / 2 * DAYS
            mean = sum(h.arrivals[sector].get(s, 0.0) for s in slots) / len(slots)
            assert abs(mean - rate) <= 3 * math.sqrt(max(rate, 1.0) / hours), (sector, start, mean, rate)
    # Service: the sector's mean within 3 standard errors (cv * mean / sqrt(n)), the cv within 0.15.
    for sector, spec in original.service.items():
        f = h.service[sector]
        assert abs(f.mean_s / 60 - spec.mean) <= 3 * spec.cv * spec.mean / math.sqrt(f.n), (sector, f, spec)
        assert abs(f.cv - spec.cv) <= 0.15, (sector, f, spec)
        assert scenario.service[sector].mean == pytest.approx(f.mean_s / 60, abs=1e-3)
    called = sum(f.n for f in h.service.values()) / (1 - h.no_show)
    assert abs(h.no_show - original.no_show) <= 3 * math.sqrt(original.no_show * (1 - original.no_show) / called)
    p = original.priority_share
    assert abs(h.priority_share - p) <= 3 * math.sqrt(p * (1 - p) / h.tickets)
    # The counters as they were: the site's own layout, all open, no change in a usual day.
    assert [(c.id, c.sectors, c.initial_status) for c in scenario.site.counters] == \
        [(c.id, c.sectors, c.initial_status) for c in original.site.counters]
    assert scenario.counter_changes == ()


def test_simulating_the_learned_scenario_gives_the_days_mean_wait_within_10_percent(log, learned):
    _original, scenario, h = learned
    assert h.mean_wait_s == pytest.approx(log[1]["mean_wait_s"], abs=0.1)   # the log's own days
    summary, _days = simulate(scenario, "dynamic", forecast=False)
    assert abs(summary["mean_wait_s"] / h.mean_wait_s - 1) <= 0.10, (summary["mean_wait_s"], h.mean_wait_s)


def test_the_same_log_on_postgresql_learns_the_same(log, learned, pg_url):
    sqlite, pg = EventStore(str(log[0])), EventStore(pg_url)
    try:
        events = list(sqlite.read())
        for i in range(0, len(events), 5000):
            pg.append(events[i:i + 5000], [])
        _scenario, h = learn_scenario(pg, learned[0].site, weeks=DAYS // 7)
    finally:
        sqlite.close()
        pg.close()
    assert h.scenario_data("s.yaml") == learned[2].scenario_data("s.yaml")


def motcua(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "motcua.cli", "simulate", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=240)


def test_the_cli_writes_a_scenario_that_simulates(log, tmp_path):
    out = tmp_path / "learned" / "centre.yaml"
    out.parent.mkdir()
    done = motcua("--from-log", str(log[0]), "--site", str(SITE), "--weeks", "2", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert f"{out}: 14 days (2026-03-02 to 2026-03-15)" in done.stdout
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Learned from the event log of site demo-district: 2026-03-02 to 2026-03-15")
    sc = load_scenario(out)            # the site: path is relative to the file
    assert sc.site.id == "demo-district" and sc.days == 14
    again = motcua(str(out), "--policy", "static", "--days", "1")
    assert again.returncode == 0 and "mean wait" in again.stdout, again.stderr
    printed = motcua("--from-log", str(log[0]), "--site", str(SITE), "--weeks", "2")   # no --out: printed
    assert printed.returncode == 0, printed.stderr
    assert f"site: {SITE}" in printed.stdout.splitlines()
    assert [x for x in printed.stdout.splitlines() if not x.startswith("site:")] == \
        [x for x in text.splitlines() if not x.startswith("site:")]


@pytest.mark.parametrize("case", ["missing", "not-a-log", "empty-log", "too-few-weeks", "no-source"])
def test_bad_input_is_a_clear_error_without_a_traceback(case, log, tmp_path):
    if case == "missing":
        args, said = ["--from-log", str(tmp_path / "nope.db")], "the file does not exist"
    elif case == "not-a-log":
        (tmp_path / "notes.txt").write_text("not a database", encoding="utf-8")
        args, said = ["--from-log", str(tmp_path / "notes.txt")], "is not a motcua event log"
    elif case == "empty-log":
        EventStore(str(tmp_path / "empty.db")).close()
        args, said = ["--from-log", str(tmp_path / "empty.db"), "--site", str(SITE)], "the log has no days"
    elif case == "too-few-weeks":
        args, said = ["--from-log", str(log[0]), "--site", str(SITE), "--weeks", "3"], \
            "the log covers 14 days (2026-03-02 to 2026-03-15), fewer than the 3 week(s) asked; use --weeks 2"
    else:
        args, said = [], "give a SCENARIO.yaml, or --from-log DB"
    done = motcua(*args)
    assert done.returncode == 2, done.stderr
    assert said in done.stderr and "Traceback" not in done.stderr
