"""What every benchmark shares, one module per job: `stats` (percentiles, tables), `machine`
(the machine line, memory, the CPU meter), `site` (a bench site: config, broker with auth +
ACL, the real `motcua server` as a subprocess, a raw paho client), `reference` (the physical
reference: bare mosquitto measured with its own clients in the same run, one durable commit),
`load` (the open-loop load and the watchers of the board and counter states) and `in_process`
(the command loop alone, in this process).

A benchmark is run from the checkout as `.venv/bin/python -m bench.<name>`: Python then puts
the checkout on sys.path, so `from bench.harness import ...` and the test helpers a benchmark
borrows (`tests.support`) import with no sys.path change, and the project's packages come from
the editable install (./setup.sh). A benchmark that starts a copy of itself does it the same way,
with the checkout as the working directory. Benchmarks print figures; they exit non-zero only
when something breaks, never because a figure is slow.
"""
from __future__ import annotations

from .in_process import command_loop_cpu
from .load import BoardWatcher, CounterStateWatcher, Load
from .machine import CpuMeter, load_average, machine, print_machine, rss_kib
from .reference import print_reference, reference_commit, reference_round_trip, reference_throughput
from .site import BENCH_USER, ROOT, BenchSite, bench_site_config, close_client, free_port, raw_client, write_bench_site
from .stats import fmt, nagle_cluster, percentile, print_table, summary_ms

__all__ = ["BENCH_USER", "ROOT", "BenchSite", "BoardWatcher", "CounterStateWatcher", "CpuMeter", "Load",
           "bench_site_config", "close_client", "command_loop_cpu", "fmt", "free_port", "load_average", "machine",
           "nagle_cluster", "percentile", "print_machine", "print_reference", "print_table", "raw_client",
           "reference_commit", "reference_round_trip", "reference_throughput", "rss_kib", "summary_ms",
           "write_bench_site"]
