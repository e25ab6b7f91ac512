"""The issue's balancing targets, measured: every shipped scenario, 30 simulated days.

    .venv/bin/python -m bench.policy_targets [--days N] [SCENARIO.yaml ...]

A thin wrapper over `python -m queue_server.sim.report --days 30`: prints the
per-policy table, the verdict lines and the target table (met / MISSED) that
docs/balancing.md quotes. Exits 0 unless something errors: the targets are
figures to report honestly, not a pass/fail test.
"""
from __future__ import annotations

import sys

from queue_server.sim.report import main


if __name__ == "__main__":
    args = sys.argv[1:]
    if not any(a == "--days" or a.startswith("--days=") for a in args):
        args = ["--days", "30", *args]
    sys.exit(main(args))
