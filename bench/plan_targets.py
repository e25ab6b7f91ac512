"""The plan's targets (issue #17, docs/planning.md), measured.

    .venv/bin/python -m bench.plan_targets [--days 30] [--skip search,timing] [SCENARIO.yaml ...]

1. Training: on each scenario (default: district-normal-day and counter-closing), the plan as
   `motcua plan` makes it; its first two training suggestions added to the `trained` lists; then
   static, pooled and auto over `--days` days (the printed-wait forecast off: it does not change
   who is called when). Target: auto captures >= 85 % of the static-to-pooled gap.
2. Staffing: each sector's planned counters per half-hour against the least a search by
   simulation finds meeting the same target on the same days: for each half-hour, counters taken
   off it one at a time (the plan kept elsewhere) while every half-hour still meets the target.
   Target: every half-hour within one counter. For reference, a descent search over the whole
   day (from one counter more than the plan everywhere, one off a half-hour at a time, earliest
   first, until no half-hour can give one up) and its counter-hours: it finds fewer in total by
   alternating (5 counters, then 2, then 5), which no roster would do.
3. Time: `motcua plan --from-log DB --weeks 4` on a 30-day event log of the district scenario
   (written by queue_server.planning.history.record_simulation), wall clock with 2 workers, and
   the CPU time of all its processes. Target: under 60 s on 2 cores. The load average is printed
   with it: the wall clock means little on a machine others are using; the CPU time over 2 is
   what it would take on 2 idle cores at best. Then the same learning and plan in this process
   with one worker, the CPU time at the end of each stage.

Exits 0: the targets are figures to report, not a test.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import print_machine
from queue_server.planning import staffing, variants
from queue_server.planning.plan import DEFAULT_TARGET_SHARE, STAFFING_DAYS, make_plan
from queue_server.sim import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = [ROOT / "queue_server/sim/scenarios/district-normal-day.yaml",
             ROOT / "queue_server/sim/scenarios/counter-closing.yaml"]


def training_target(path: Path, days: int, workers: int) -> None:
    sc = load_scenario(path)
    t0 = time.monotonic()
    plan = make_plan(sc, suggestions=2, absent=[], workers=workers)
    took = time.monotonic() - t0
    adds = [(s.counter, s.sector) for s in plan.training.steps[:2]]
    trained = variants.with_trained(sc, adds)
    runs = {"static": (sc, "static"), "pooled": (sc, "pooled"), "auto now": (sc, "auto"),
            "auto after": (trained, "auto")}
    got = dict(zip(runs, variants.pmap(_mean, [(v, pol, days, sc.seed) for v, pol in runs.values()], workers)))
    gap = got["static"] - got["pooled"]
    print(f"\n{sc.name}: plan in {took:.0f} s; first two suggestions: "
          + ", ".join(f"{c} for {s}" for c, s in adds))
    for step in plan.training.steps[:2]:
        print(f"  {step.text['vi']}   ({step.text['en']})")
    print(f"  {days} days: static {got['static'] / 60:.1f} min, pooled {got['pooled'] / 60:.1f} min")
    for label in ("auto now", "auto after"):
        captured = (got["static"] - got[label]) / gap if gap > 0 else 1.0
        verdict = "" if label == "auto now" else ("  (target >= 85 %: " + ("met" if captured >= 0.85 else "MISSED") + ")")
        print(f"  {label}: mean wait {got[label] / 60:.1f} min, gap captured {100 * captured:.0f} %{verdict}")


def _mean(sc, policy: str, days: int, seed: int) -> float:
    return variants.run(sc, policy, days, seed)[0]["mean_wait_s"]


def _meets(sc, sector: str, need: list[int], day_slots, days: int, seed: int, share: float) -> bool:
    return staffing.meets(staffing.played_shares(sc, sector, need, day_slots, days, seed), share)


def searched_least(sc, sector: str, start: list[int], day_slots, days: int, seed: int, share: float) -> list[int]:
    """One counter off a half-hour at a time while every half-hour still meets the target."""
    need = list(start)
    changed = True
    while changed:
        changed = False
        for i in range(len(need)):
            while need[i] > 1:
                trial = need[:i] + [need[i] - 1] + need[i + 1:]
                if not _meets(sc, sector, trial, day_slots, days, seed, share):
                    break
                need, changed = trial, True
    return need


def least_each(sc, sector: str, plan_need: list[int], day_slots, days: int, seed: int, share: float) -> list[int]:
    """For each half-hour alone, the least counters that still meet the target in every half-hour,
    the plan kept everywhere else."""
    out = []
    for i, n in enumerate(plan_need):
        while n > 1 and _meets(sc, sector, plan_need[:i] + [n - 1] + plan_need[i + 1:], day_slots, days, seed, share):
            n -= 1
        out.append(n)
    return out


def _search_sector(sc, sector: str, plan_need: list[int], days: int, share: float):
    day_slots = staffing.slots(sc)
    each = least_each(sc, sector, plan_need, day_slots, days, sc.seed, share)
    start = [n + 1 if n > 0 else 0 for n in plan_need]
    return sector, each, searched_least(sc, sector, start, day_slots, days, sc.seed, share)


def staffing_target(path: Path, workers: int) -> None:
    sc = load_scenario(path)
    days = max(min(sc.days, 10), STAFFING_DAYS)
    plan = make_plan(sc, suggestions=0, absent=[], workers=workers)
    planned: dict[str, list[int]] = {}
    for cell in plan.staffing.cells:
        planned.setdefault(cell.sector, []).append(cell.need)
    found = {sector: (each, least) for sector, each, least in variants.pmap(
        _search_sector, [(sc, s, n, days, DEFAULT_TARGET_SHARE) for s, n in planned.items()], workers)}
    print(f"\n{sc.name}: staffing ({days} days, {100 * DEFAULT_TARGET_SHARE:.0f} % within target): the plan; "
          f"each half-hour's least with the plan elsewhere; the descent search's whole day")
    worst, cells, off = 0, 0, 0
    for sector, need in planned.items():
        each, least = found[sector]
        diffs = [p - q for p, q in zip(need, each)]
        worst = max(worst, max(diffs))
        cells += len(diffs)
        off += sum(1 for d in diffs if d > 1)
        print(f"  {sector:<16} plan {' '.join(map(str, need))}  least {' '.join(map(str, each))}  "
              f"search {' '.join(map(str, least))}  counter-hours {sum(need) / 2:.1f} / {sum(least) / 2:.1f}")
    print(f"  the plan is at most {worst} counter(s) above a half-hour's least; {off} of {cells} half-hours more "
          f"than one above (target: none): {'met' if off == 0 else 'MISSED'}")


def timing_target(workers: int) -> None:
    from queue_server.planning.history import record_simulation
    from queue_server.store.log import EventStore

    sc = load_scenario(SCENARIOS[0])
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "district-30-days.db"
        store = EventStore(f"sqlite:///{db}")
        try:
            record_simulation(dataclasses.replace(sc, days=30), store, policy="dynamic")
        finally:
            store.close()
        cmd = [sys.executable, "-m", "motcua.cli", "plan", "--from-log", str(db), "--weeks", "4",
               "--workers", str(workers), "--json"]
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        took = time.monotonic() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        stages = _stages(db)
    if done.returncode != 0:
        print(f"\nmotcua plan --from-log failed ({done.returncode}): {done.stderr.strip()[-500:]}")
        return
    print(f"\nmotcua plan --from-log (30-day district log, 4 weeks, {workers} workers): {took:.1f} s wall, "
          f"{cpu:.1f} s CPU over its processes, load average {load:.1f} at the start "
          f"(target < 60 s: {'met' if took < 60 else 'MISSED'})")
    print("  the same in one process, CPU seconds at the end of each stage:")
    for line in stages:
        print(f"    {line}")


def _stages(db: Path) -> list[str]:
    """Learning and the plan's stages in this process (one worker), with the CPU time used so far."""
    from queue_server.config import load_site
    from queue_server.planning.history import learn_scenario

    lines: list[str] = []
    t0 = time.process_time()
    learned, _ = learn_scenario(str(db), load_site(None), weeks=4)
    lines.append(f"{time.process_time() - t0:6.1f}  learned {learned.days} days from the log")
    make_plan(learned, progress=lambda m: lines.append(f"{time.process_time() - t0:6.1f}  {m}"))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.plan_targets", description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=30, help="days for the training target (default 30)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip", default="", help="comma-separated: training, search, timing")
    parser.add_argument("scenarios", nargs="*", help="scenario files (default: district and counter closing)")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    paths = [Path(p) for p in args.scenarios] or SCENARIOS
    print_machine()
    for path in paths:
        if "training" not in skip:
            training_target(path, args.days, args.workers)
        if "search" not in skip:
            staffing_target(path, args.workers)
    if "timing" not in skip:
        timing_target(args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
