"""The command loop alone, in this process: its CPU per command without MQTT, or with the real
gateway publishing to a running bench site."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from queue_server.config import load_site

from .site import write_bench_site

if TYPE_CHECKING:
    import paho.mqtt.client as mqtt

    from .site import BenchSite


def command_loop_cpu(directory: Path, counters: int = 60, kiosks: int = 40, commands: int = 6000,
                     batch: int = 20, mqtt: BenchSite | None = None) -> dict[str, float]:
    """The server's command loop without MQTT: a fixed mixed stream (issue / call.next /
    serve.done) through `QueueService.process` in batches, the durable SQLite log on, every
    output serialised as the gateway would. CPU time of this thread per command (robust to other
    load on the machine) and wall time per batch (includes the fsync).

    With `mqtt` (a running BenchSite), the real `MqttGateway` publishes every output to its
    broker instead, and the CPU is the whole process's (command loop + paho's network thread
    reading the PUBACKs), measured until every publish is acknowledged: what one command costs
    the server process with MQTT, without the neighbours' load in the figure."""
    import json as _json

    from protocol.messages import dumps
    from queue_server.loop import Item as _Item
    from queue_server.service import QueueService
    from queue_server.store import EventStore
    site = load_site(write_bench_site(directory, counters, kiosks))
    store = EventStore(str(directory / "cpu.db"))
    svc = QueueService(site, store)
    svc.publish = lambda msgs: [dumps(m.payload) for m in msgs]
    gateway = None
    if mqtt is not None:
        from queue_server.mqtt.gateway import MqttGateway
        cred = mqtt.creds["server"]
        gateway = MqttGateway(svc, mqtt.url, username=cred["username"], password=cred["password"],
                              client_id=f"cpu-bench-{os.getpid()}")
        if not gateway.start():
            raise RuntimeError("the CPU benchmark's gateway could not connect")
    sectors = [s.id for s in site.sectors]
    cids = [c.id for c in site.counters]
    kids = list(site.devices.kiosks)
    n = [0]

    def item(kind: str, dev: str, ctype: str, **f) -> _Item:
        n[0] += 1
        return _Item(kind, dev, _json.dumps({"v": 1, "type": ctype, "ts": "2026-01-05T09:00:00+07:00",
                                             "req_id": f"r{n[0]}", **f}).encode())
    for i in range(30 * len(sectors)):          # a queue to call from, as in the MQTT benchmarks
        svc.process([item("kiosk", kids[i % len(kids)], "ticket.issue", sector=sectors[i % len(sectors)])])
    stream, nxt = [], {c: "call.next" for c in cids}
    for i in range(commands):
        if i % 3 == 0:
            stream.append(item("kiosk", kids[i % len(kids)], "ticket.issue", sector=sectors[(i // 3) % len(sectors)]))
        else:
            c = cids[(i // 3 * 2 + i % 3) % len(cids)]
            stream.append(item("counter", c, nxt[c]))
            nxt[c] = "serve.done" if nxt[c] == "call.next" else "call.next"
    svc.limiter.rate = svc.limiter.burst = 1e9   # one thread plays every device at once here
    clock = time.thread_time if gateway is None else time.process_time
    if gateway is not None:
        _wait_acked(gateway.client, 30)
    cpu0, wall0 = clock(), time.perf_counter()
    for i in range(0, len(stream), batch):
        svc.process(stream[i:i + batch])
    if getattr(svc, "_owed_counters", None):      # what the loop publishes when the state window ends
        svc.outbox.publish_due()
    if gateway is not None:
        _wait_acked(gateway.client, 60)
    cpu, wall = clock() - cpu0, time.perf_counter() - wall0
    if gateway is not None:
        import logging
        logging.getLogger("queue_server.mqtt.gateway").setLevel(logging.ERROR)   # "disconnected" is expected
        gateway.stop()
    store.close()
    return {"cpu_us_per_cmd": cpu / commands * 1e6, "wall_ms_per_batch": wall / (commands / batch) * 1e3,
            "cmds_per_cpu_s": commands / cpu}


def _wait_acked(client: mqtt.Client, timeout: float) -> None:
    """Until paho holds no unacknowledged or queued outgoing message (polls its own tables)."""
    deadline = time.monotonic() + timeout
    while (client._out_messages or client._out_packet) and time.monotonic() < deadline:
        time.sleep(0.002)
