"""The cost of one booking offer (issue #16, queue_server/mqtt/province_bookings.py): building the
retained `bookings/offer` of the district site (every procedure's 8 earliest free slots over its
14 days ahead), how long it holds the service's lock at a time, and its size on the wire: with the site empty, and with
bookings made through the service, each in its procedure's earliest free slot (the first days
fill up, so the offer looks further ahead). Results in docs/appointments.md.

    .venv/bin/python -m bench.booking_offer
"""
from __future__ import annotations

import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import yaml

from bench.harness.machine import print_machine
from bench.harness.stats import summary_ms
from protocol.messages import dumps
from queue_server.domain import bookings
from queue_server.domain.commands import CreateBooking
from queue_server.domain.site import parse_site
from queue_server.mqtt.province_bookings import offer
from queue_server.service import QueueService
from queue_server.store import EventStore

SITE = Path(__file__).resolve().parents[1] / "queue_server" / "sites" / "demo-district.yaml"


def measure(svc: QueueService, n: int = 20) -> tuple[dict[str, float], dict[str, float], int]:
    """(whole offer built and serialised, each hold of the service's lock) in ms, and the bytes."""
    times, holds = [], []
    data = b""
    for _ in range(n):
        t0 = time.perf_counter()
        data = dumps(offer(svc, holds))
        times.append(time.perf_counter() - t0)
    return summary_ms(times), summary_ms(holds), len(data)


def main() -> None:
    config = parse_site(yaml.safe_load(SITE.read_text(encoding="utf-8")))
    rng = random.Random(16)
    with tempfile.TemporaryDirectory() as tmp:
        store = EventStore(str(Path(tmp) / "motcua.db"))
        svc = QueueService(config, store)
        svc.start()
        try:
            procs = [p.id for s in config.sectors for p in s.procedures]
            print(f"site {config.id}: {len(procs)} procedures, {config.bookings.days_ahead} days ahead, "
                  f"{config.bookings.slot_min}-minute slots")
            print_machine()
            print("| bookings | whole offer p50 / max (ms) | one lock hold p50 / p99 / max (ms) | bytes |")
            print("|---|---|---|---|")
            made = 0
            for target in (0, 300, 1000):
                while made < target:
                    # the earliest free slot of a procedure: the first days fill up
                    proc = rng.choice(procs)
                    now = svc.clock()
                    free = next((f for d in range(config.bookings.days_ahead + 1)
                                 for f in bookings.free_slots(svc.state, config, proc, now.date() + timedelta(days=d),
                                                              now)), None)
                    if free is None:
                        continue
                    reply = svc.execute("citizen", "web", CreateBooking(procedure=proc, slot=free["slot"],
                                                                        id_hash=f"{made:064x}"))
                    made += bool(reply["ok"])
                whole, hold, size = measure(svc)
                print(f"| {made} | {whole['p50']:.0f} / {whole['max']:.0f} | "
                      f"{hold['p50']:.1f} / {hold['p99']:.1f} / {hold['max']:.1f} | {size:,} |")
        finally:
            svc.stop()
            store.close()


if __name__ == "__main__":
    main()
