"""The highest sustained command rate (mixed ticket.issue / call.next / serve.done, one third
each) with the durable log on, before the command -> reply p99 passes 50 ms; and how stale the
displays' board gets while the server coalesces board publishes (one board per batch).

    .venv/bin/python -m bench.throughput                      # about 1-2 minutes
    .venv/bin/python -m bench.throughput --rates 500,1000 --duration 3

The offered load is open loop (Poisson per device) from one connection speaking for every
device. The bench site has 60 counters and 40 kiosks, so no device passes the server's
per-device limit (50 commands/s) below 4,000 commands/s. The load generator runs on the
same 2 cores as the server and mosquitto. Target: >= 2,000 commands/s on 2 cores.

Staleness = a call.next reply received -> the first board (at a display, with its own
broker user) that shows that call: how long a display lags the truth already published.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.harness import (BenchSite, BoardWatcher, CounterStateWatcher, CpuMeter, Load,
                     command_loop_cpu,
                     print_machine, print_reference, print_table, reference_round_trip,
                     reference_throughput, rss_kib, summary_ms)

P99_LIMIT_MS = 50.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rates", default="250,500,1000,1500,2000,2500,3000,3500,4000",
                    help="offered commands/s, in increasing order")
    ap.add_argument("--duration", type=float, default=6.0, help="seconds per rate")
    ap.add_argument("--counters", type=int, default=60)
    ap.add_argument("--kiosks", type=int, default=40)
    ap.add_argument("--keep-going", action="store_true", help="run every rate even after p99 passes 50 ms")
    ap.add_argument("--reference-n", type=int, default=1000)
    ap.add_argument("--in-process", action="store_true", help="run the server in this process (smoke test)")
    ap.add_argument("--dir", help="work directory (default: a temporary one)")
    ap.add_argument("--profile", help="write a cProfile of the server's command loop to this file")
    ap.add_argument("--loop-commands", type=int, default=3000,
                    help="commands for the MQTT-free command loop figure (0 to skip)")
    args = ap.parse_args(argv)

    print_machine()
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as tmp:
        work = Path(args.dir or tmp)
        with BenchSite(work, args.counters, args.kiosks, in_process=args.in_process, profile=args.profile) as site:
            print(f"site: {args.counters} counters, {args.kiosks} kiosks, 7 sectors; server "
                  f"{'in process' if args.in_process else 'motcua server (subprocess)'}; SQLite WAL synchronous=FULL")
            ref = reference_round_trip(site.port, site.bench_login(), site.topics.root, args.reference_n)
            ref_tput = reference_throughput(site.port, site.bench_login(), f"{site.topics.root}/bench/tput",
                                            n=5000 if args.reference_n < 1000 else 20000)
            counters = [c.id for c in site.site.counters]
            kiosks = list(site.site.devices.kiosks)
            watcher = BoardWatcher(site)
            states = CounterStateWatcher(site)
            rows, best = [], 0.0
            try:
                for rate in rates:
                    load = Load(site, kiosks=kiosks, counters=counters, kiosk_rate=rate / 3 / len(kiosks),
                                counter_rate=2 * rate / 3 / len(counters))
                    try:
                        if not rows:
                            load.prefill(30)
                        watcher.digest()
                        watcher.boards = 0
                        load.reset()
                        states.reset()
                        with CpuMeter(site) as meter:
                            offered = load.run(args.duration)
                            load.drain(10)
                        time.sleep(0.2)      # the last window's counter states
                        lost = len(load.sent)
                    finally:
                        load.close()
                    all_lat = [v for vs in load.latency.values() for v in vs]
                    s = summary_ms(all_lat)
                    lat, stale, not_shown = watcher.call_to_board(load.calls)
                    st = summary_ms(stale)
                    cb = summary_ms(lat)
                    state_lags, never = states.lags()
                    sl = summary_ms(state_lags)
                    done = load.replies / args.duration
                    cpu = meter.cores
                    limited = load.errors.get("rate_limited", 0)
                    ok = s["p99"] <= P99_LIMIT_MS and lost == 0 and limited == 0
                    if ok:
                        best = max(best, done)
                    rows.append([f"{rate:.0f}", f"{offered:.0f}", f"{done:.0f}", s["p50"], s["p99"], s["max"],
                                 cb["p99"], st["p50"], st["p99"], st["max"], sl["p99"], sl["max"] if not never else f"{never} never",
                                 f"{watcher.boards / args.duration:.0f}",
                                 f"{cpu['server']:.2f}", f"{cpu['publisher']:.2f}", f"{cpu['bench']:.2f}", f"{cpu['broker']:.2f}", f"{cpu['others']:.2f}",
                                 lost, limited, "yes" if ok else "NO"])
                    if not ok and not args.keep_going:
                        break
            finally:
                watcher.close()
                states.close()
            rss = rss_kib(site.server_pid) // 1024
            print_table("throughput: command -> reply (ms), board staleness (ms), durable log on",
                        ["offered/s", "sent/s", "replied/s", "p50", "p99", "max", "call->board p99",
                         "stale p50", "stale p99", "stale max", "counter state lag p99", "lag max", "boards/s", "server cores",
                         "publisher cores", "bench cores", "broker cores", "others' cores", "unanswered", "rate-limited", "p99<=50"], rows)
            print(f"highest sustained rate with p99 <= {P99_LIMIT_MS:.0f} ms: {best:.0f} commands/s "
                  f"(target >= 2000 on 2 cores); server RSS after the run {rss} MiB")
            print_reference(ref, f"mosquitto_pub -> mosquitto_sub, QoS 1, 200-byte messages: {ref_tput:.0f} msg/s")
            if args.loop_commands:
                rows = []
                for b in (5, 20, 100):
                    m = command_loop_cpu(work / f"loop-mqtt-{b}", args.counters, args.kiosks,
                                         commands=args.loop_commands, batch=b, mqtt=site)
                    rows.append([b, m["cpu_us_per_cmd"], f"{m['cmds_per_cpu_s']:.0f}"])
                print_table("the command loop with MQTT (the real gateway, this broker), CPU of the whole process "
                            "until every publish is acknowledged",
                            ["commands/batch", "CPU us/command", "commands per CPU-second"], rows)
        if args.loop_commands:
            loop = command_loop_cpu(work / "loop", args.counters, args.kiosks, commands=args.loop_commands, batch=20)
            print_table("the command loop alone (no MQTT), same site, batches of 20, durable log on",
                        ["CPU us/command", "commands per CPU-second", "wall ms/batch (incl. fsync)"],
                        [[loop["cpu_us_per_cmd"], f"{loop['cmds_per_cpu_s']:.0f}", loop["wall_ms_per_batch"]]])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
