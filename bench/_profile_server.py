"""`motcua server` with the command loop's thread under cProfile (for `--profile FILE`).

    python -m bench._profile_server OUT.prof <motcua server arguments>

The profile of the service thread is written to OUT.prof when the server stops (SIGTERM).
"""
from __future__ import annotations

import cProfile
import os
import sys
from pathlib import Path

from motcua.cli import main
from queue_server import loop, service


def run() -> int:
    out = sys.argv[1]
    profiler = cProfile.Profile()
    original = loop.CommandLoop._run

    def profiled(self):
        profiler.enable()
        try:
            original(self)
        finally:
            profiler.disable()
            profiler.dump_stats(out)
    if not os.environ.get("BENCH_NO_PROFILE"):
        loop.CommandLoop._run = profiled
    trace = os.environ.get("BENCH_TRACE")
    if trace:
        # Per batch: queue wait of its first item, time in process(), time in the commit.
        import json
        import time
        from queue_server.store import log as store_log
        rows: list = []
        items: list = []
        orig_process = service.QueueService.process
        orig_append = store_log.EventStore.append
        in_append = [0.0, False]

        def append(self, new_events, new_replies, snapshot=None):
            t = time.monotonic()
            try:
                return orig_append(self, new_events, new_replies, snapshot)
            finally:
                in_append[0] += time.monotonic() - t
                in_append[1] = in_append[1] or snapshot is not None
        store_log.EventStore.append = append

        import gc
        gc_rows: list = []
        gc_t0 = [0.0]

        def on_gc(phase, info):
            if phase == "start":
                gc_t0[0] = time.monotonic()
            else:
                gc_rows.append((info["generation"], time.monotonic() - gc_t0[0], info["collected"]))
                if len(gc_rows) % 50 == 0:
                    Path(trace + ".gc").write_text(json.dumps(gc_rows))
        gc.callbacks.append(on_gc)

        def process(self, batch):
            # Per batch: queue wait of its first item, time in process(), batch size, start,
            # time in the durable commit, whether a snapshot was written.
            t0 = time.monotonic()
            in_append[:] = [0.0, False]
            orig_process(self, batch)
            t1 = time.monotonic()
            rows.append((t0 - batch[0].received, t1 - t0, len(batch), t0, in_append[0], in_append[1]))
            for it in batch:        # per command: req_id, received by paho, batch start, batch end
                req = getattr(it.parsed, "req_id", None)
                if req:
                    items.append((req, it.received, t0, t1))
            if len(rows) % 20 == 0:
                Path(trace).write_text(json.dumps(rows))
                Path(trace + ".items").write_text(json.dumps(items))
        service.QueueService.process = process
    if os.environ.get("BENCH_SNAPSHOT_EVERY"):
        # A/B of the snapshots' cost: the server's own default is 10,000 events.
        from queue_server import site_server
        site_server.ServerOptions.snapshot_every = int(os.environ["BENCH_SNAPSHOT_EVERY"])
    if os.environ.get("BENCH_SWITCH"):
        sys.setswitchinterval(float(os.environ["BENCH_SWITCH"]))
    return main(["server", *sys.argv[2:]])


if __name__ == "__main__":
    raise SystemExit(run())
