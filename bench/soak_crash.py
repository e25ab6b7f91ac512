"""Soak: N kiosks issue many tickets while the real `motcua server` is SIGKILLed again and again.

    .venv/bin/python -m bench.soak_crash --tickets 20000 --kills 10 [--kiosks 8] [--keep DIR]

Prints the figures that docs/reliability.md quotes and exits non-zero if any guarantee broke
(same checks as tests/integration/test_crash_server.py). With --kills 0 it is a throughput run.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from tests.support.crash import check_crash_run
from tests.support.procs import crash_scenario


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tickets", type=int, default=20000)
    p.add_argument("--kiosks", type=int, default=8)
    p.add_argument("--kills", type=int, default=10)
    p.add_argument("--down", type=float, default=0.2, help="seconds the server stays dead each time")
    p.add_argument("--keep", help="keep the run's files (database, logs) in this directory")
    args = p.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="motcua-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        run = crash_scenario(work, kiosks=args.kiosks, tickets=args.tickets, kills=args.kills, down_s=args.down,
                             budget_s=max(300.0, args.tickets / 20))
        try:
            figures = check_crash_run(run, args.kiosks, args.tickets, args.kills)
        except AssertionError as exc:
            print(f"FAILED: {exc}\nfiles kept in {work}", file=sys.stderr)
            args.keep = str(work)
            return 1
        figures.update(tickets=args.tickets, kiosks=args.kiosks,
                       tickets_per_s=round(args.tickets / run.elapsed_s, 1))
        print(json.dumps(figures, indent=2))
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
