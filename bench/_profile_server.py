"""`motcua server` with the command loop's thread under cProfile (for `--profile FILE`).

    python bench/_profile_server.py OUT.prof <motcua server arguments>

The profile of the service thread is written to OUT.prof when the server stops (SIGTERM).
"""
from __future__ import annotations

import cProfile
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from motcua.cli import main  # noqa: E402
from queue_server import service  # noqa: E402


def run() -> int:
    out = sys.argv[1]
    profiler = cProfile.Profile()
    original = service.QueueService._run

    def profiled(self):
        profiler.enable()
        try:
            original(self)
        finally:
            profiler.disable()
            profiler.dump_stats(out)
    if not os.environ.get("BENCH_NO_PROFILE"):
        service.QueueService._run = profiled
    trace = os.environ.get("BENCH_TRACE")
    if trace:
        # Per batch: queue wait of its first item, time in process(), time in the commit.
        import json
        import time
        rows: list = []
        orig_process = service.QueueService.process

        def process(self, batch):
            t0 = time.monotonic()
            orig_process(self, batch)
            rows.append((t0 - batch[0].received, time.monotonic() - t0, len(batch), t0))
            if len(rows) % 20 == 0:
                Path(trace).write_text(json.dumps(rows))
        service.QueueService.process = process
    if os.environ.get("BENCH_SWITCH"):
        sys.setswitchinterval(float(os.environ["BENCH_SWITCH"]))
    return main(["server", *sys.argv[2:]])


if __name__ == "__main__":
    raise SystemExit(run())
