"""Latency a citizen and a clerk feel: a counter's call.next published -> the new board at a
display, and a kiosk's ticket.issue -> its reply; p50 / p99 / max at three load levels,
with 20 counters and 4 kiosks loading the server (the real `motcua server`, durable log on).

    .venv/bin/python -m bench.latency                 # about 2 minutes
    .venv/bin/python -m bench.latency --duration 5    # quicker

Targets (loopback): call -> board p50 <= 5 ms, p99 <= 25 ms. The `~40 ms` column counts
samples in the 35-48 ms band where Nagle + delayed ACK land: it should be 0.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.harness import (BenchSite, BoardWatcher, CpuMeter, Load, nagle_cluster, print_machine,
                     print_reference, print_table, reference_commit, reference_round_trip, summary_ms)

# name -> (tickets/s per kiosk, commands/s per counter). A real centre at its busiest issues
# about one ticket every 10-20 s and a counter calls every few minutes: "busy" is already
# ten times that, "heavy" and "very heavy" are stress.
LEVELS = {"busy": (0.5, 0.25), "heavy": (5.0, 2.0), "very heavy": (25.0, 10.0)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=30.0, help="seconds per load level")
    ap.add_argument("--counters", type=int, default=20)
    ap.add_argument("--kiosks", type=int, default=4)
    ap.add_argument("--levels", default=",".join(LEVELS), help="comma-separated: " + ", ".join(LEVELS))
    ap.add_argument("--reference-n", type=int, default=2000)
    ap.add_argument("--in-process", action="store_true", help="run the server in this process (smoke test)")
    ap.add_argument("--dir", help="work directory (default: a temporary one)")
    ap.add_argument("--profile", help="write a cProfile of the server's command loop to this file")
    args = ap.parse_args(argv)

    print_machine()
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as tmp:
        work = Path(args.dir or tmp)
        with BenchSite(work, args.counters, args.kiosks, in_process=args.in_process, profile=args.profile) as site:
            print(f"site: {args.counters} counters, {args.kiosks} kiosks, 7 sectors; server "
                  f"{'in process' if args.in_process else 'motcua server (subprocess)'}; SQLite WAL synchronous=FULL")
            ref = reference_round_trip(site.port, site.bench_login(), site.topics.root, args.reference_n)
            ref["durable SQLite commit"] = reference_commit(work, min(300, args.reference_n))
            counters = [c.id for c in site.site.counters]
            kiosks = list(site.site.devices.kiosks)
            watcher = BoardWatcher(site)
            rows = []
            try:
                for name in [x.strip() for x in args.levels.split(",") if x.strip()]:
                    kiosk_rate, counter_rate = LEVELS[name]
                    load = Load(site, kiosks=kiosks, counters=counters, kiosk_rate=kiosk_rate,
                                counter_rate=counter_rate)
                    try:
                        load.prefill(30)
                        watcher.digest()
                        load.reset()
                        with CpuMeter(site) as meter:
                            rate = load.run(args.duration)
                            load.drain(5)
                    finally:
                        load.close()
                    lat, stale, not_shown = watcher.call_to_board(load.calls)
                    issue = load.latency.get("ticket.issue", [])
                    for label, values in (("call.next -> board", lat), ("ticket.issue -> reply", issue),
                                          ("call reply -> board (staleness)", stale)):
                        s = summary_ms(values)
                        rows.append([name, f"{rate:.0f}", label, s["n"], s["p50"], s["p99"], s["max"],
                                     nagle_cluster(values)])
                    errs = ", ".join(f"{k} {v}" for k, v in sorted(load.errors.items())) or "none"
                    rows.append([name, "", f"(errors: {errs}; calls not on any board: {not_shown}; "
                                 f"CPU cores used: {meter})", "", "", "", "", ""])
            finally:
                watcher.close()
            print_table("latency (ms) with the durable log on",
                        ["load", "cmd/s", "path", "n", "p50", "p99", "max", "~40 ms"], rows)
            print("targets: call.next -> board p50 <= 5 ms, p99 <= 25 ms")
            print_reference(ref, "(call -> board crosses the broker twice: counter -> server -> display, and waits "
                                 "for one durable commit)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
