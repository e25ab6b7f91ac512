"""Time to ready after a restart with 100,000 and 1,000,000 events in the log.

    .venv/bin/python -m bench.restart                      # about 2-4 minutes (writing the logs)
    .venv/bin/python -m bench.restart --events 20000       # quicker

The logs are shaped like real days of the demo district centre: one day is played through the
real domain (QueueCore: issue, call, serve, no-show, rating, online guidance, with a simulated
clock), then repeated day after day with its dates and ticket ids moved, folded through
SiteState and written through EventStore in big transactions, with a snapshot every 10,000
events as the server writes them. Then:

- recover: EventStore open (with its Alembic check) + QueueService (latest snapshot + replay of
  the events after it), in this process;
- ready: `motcua server` spawned -> its retained server/status says online (imports, migrations,
  recovery, broker connection, retained state republished), what a centre waits for;
- full replay (no snapshot): every event folded from the start, what snapshots save.

Target: ready <= 3 s with 1,000,000 events.
"""
from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from bench.harness import BenchSite, print_machine, print_table
from queue_server.config import DEMO_SITE, load_site

SNAPSHOT_EVERY = 10_000
DAY0 = datetime(2026, 1, 5)


def one_real_day(site, tickets: int, seed: int = 3) -> list[tuple[str, str, dict, str]]:
    """(type, ts, data, device) of one busy day, decided by the real domain core."""
    from protocol.messages import parse_command
    from queue_server.domain.core import Context, QueueCore, execute, fold_in
    rng = random.Random(seed)
    tz = site.site.tz
    core = QueueCore(site)
    out: list[tuple[str, str, dict, str]] = []

    def keep(events):
        out.extend((e.type, e.ts, e.data, e.device) for e in events)

    def run(kind, device, ctype, now, **fields):
        seq = core.state.last_seq
        cmd = parse_command(kind, json.dumps({"v": 1, "type": ctype, "ts": now.isoformat(), "req_id": f"r{seq}",
                                              **fields}).encode())
        d = execute(core, kind, cmd, Context(now=now, device=device, token=f"tok{seq:08d}"), f"{kind}/{device}")
        keep(d.events)
        return d
    start = DAY0.replace(hour=7, minute=30, tzinfo=tz)
    keep(fold_in(core.state, core.rollover(start), "system/clock"))
    sectors = [s for s in site.sectors]
    kiosks = list(site.devices.kiosks)
    counters = [c.id for c in site.counters]
    span = 9 * 3600.0
    arrivals = sorted(rng.uniform(0, span) for _ in range(tickets))
    counter_free = {c: 0.0 for c in counters}
    for i, t in enumerate(arrivals):
        now = start + timedelta(seconds=t)
        sector = rng.choice(sectors)
        proc = rng.choice(sector.procedures).id if sector.procedures else None
        if rng.random() < 0.04 and proc:
            run("kiosk", rng.choice(kiosks), "guidance.online", now, procedure=proc)
        run("kiosk", rng.choice(kiosks), "ticket.issue", now, sector=sector.id, procedure=proc,
            priority="elderly" if rng.random() < 0.05 else "normal")
        # Counters that are free call the next citizen; the service takes 2-15 minutes.
        for c in counters:
            if counter_free[c] <= t:
                d = run("counter", c, "call.next", now)
                if d.error is None:
                    dur = rng.uniform(120, 900)
                    counter_free[c] = t + dur
                    done_at = now + timedelta(seconds=dur)
                    if rng.random() < 0.05:
                        run("counter", c, "serve.no_show", done_at)
                    else:
                        run("counter", c, "serve.done", done_at)
                        ticket_id = core.state.tickets[core.state.counters[c].last_served].id
                        if rng.random() < 0.3:
                            run("counter", c, "rating.submit", done_at, ticket_id=ticket_id, score=rng.randint(1, 4))
    return out


def write_log(db: str, site, total: int, tickets_per_day: int) -> dict:
    """Write `total` events (whole days, then a partial last day) with snapshots; returns figures."""
    from queue_server.domain.events import Event
    from queue_server.domain.state import SiteState
    from queue_server.store import EventStore
    t0 = time.perf_counter()
    day = one_real_day(site, tickets_per_day)
    day_json = [(typ, ts, json.dumps(data, ensure_ascii=False), dev) for typ, ts, data, dev in day]
    store = EventStore(db)
    state = SiteState.initial(site)
    seq, d, snapshots = 0, 0, 0
    pending: list[Event] = []
    last_snap = 0
    day0_iso, day0_id = DAY0.date().isoformat(), DAY0.strftime("%Y%m%d")
    while seq < total:
        date = DAY0 + timedelta(days=d)
        iso, compact, shift = date.date().isoformat(), date.strftime("%Y%m%d"), d * 86400.0
        for typ, ts, data_s, dev in day_json:
            if seq >= total:
                break
            seq += 1
            data = json.loads(data_s.replace(day0_iso, iso).replace(day0_id, compact))
            for key in ("at_epoch",):
                if key in data:
                    data[key] += shift
            if "ticket" in data and isinstance(data["ticket"], dict) and "order" in data["ticket"]:
                data["ticket"]["order"] += shift
            if "previous" in data and data.get("previous") == iso:   # day.started of day 0 repeated
                data["previous"] = None
            e = Event(seq, typ, ts.replace(day0_iso, iso), data, dev, None)
            state.apply(e)
            pending.append(e)
            snapshot = None
            # No snapshot at the very end: the worst case replays SNAPSHOT_EVERY events after the last one.
            if seq - last_snap >= SNAPSHOT_EVERY and seq < total:
                snapshot = (seq, state.to_dict())
                last_snap = seq
                snapshots += 1
            if snapshot or len(pending) >= 50_000:
                store.append(pending, [], snapshot)
                pending = []
        d += 1
    if pending:
        store.append(pending, [], None)
    write_s = time.perf_counter() - t0
    # What a snapshot costs the command loop when it comes due (state of a busy afternoon).
    store.close()
    scratch = EventStore(db + ".scratch")
    t1 = time.perf_counter()
    scratch.append([], [], (seq, state.to_dict()))
    snap_ms = (time.perf_counter() - t1) * 1000
    scratch.close()
    for suffix in ("", "-wal", "-shm"):
        Path(db + ".scratch" + suffix).unlink(missing_ok=True)
    return {"events": seq, "days": d, "per_day": len(day), "snapshots": snapshots, "snap_ms": snap_ms,
            "tickets": len(state.tickets), "write_s": write_s, "mib": Path(db).stat().st_size / 2**20}


def recover_in_process(db: str, site) -> tuple[float, int]:
    from queue_server.service import QueueService
    from queue_server.store import EventStore
    t0 = time.perf_counter()
    store = EventStore(db)
    svc = QueueService(site, store)
    elapsed = time.perf_counter() - t0
    seq = svc.state.last_seq
    store.close()
    return elapsed, seq


def full_replay(db: str, site) -> tuple[float, int]:
    from queue_server.domain.state import SiteState
    from queue_server.store import EventStore
    store = EventStore(db)
    t0 = time.perf_counter()
    state = SiteState.initial(site)
    n = 0
    for e in store.read(after=0):
        state.apply(e)
        n += 1
    elapsed = time.perf_counter() - t0
    store.close()
    return elapsed, n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", default="100000,1000000", help="comma-separated log sizes")
    ap.add_argument("--tickets-per-day", type=int, default=1200, help="a busy district centre")
    ap.add_argument("--restarts", type=int, default=3, help="server restarts per size (median reported)")
    ap.add_argument("--full-replay-max", type=int, default=100_000,
                    help="also time a replay without snapshots for logs up to this size")
    ap.add_argument("--dir", help="work directory (default: a temporary one)")
    args = ap.parse_args(argv)

    print_machine()
    site = load_site(DEMO_SITE)
    rows, gen_rows = [], []
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as tmp:
        work = Path(args.dir or tmp)
        for total in [int(x) for x in args.events.split(",") if x.strip()]:
            db = str(work / f"log-{total}.db")
            info = write_log(db, site, total, args.tickets_per_day)
            gen_rows.append([info["events"], info["days"], info["per_day"], info["snapshots"],
                             f"{info['mib']:.0f}", info["write_s"], info["snap_ms"], info["tickets"]])
            rec, seq = recover_in_process(db, site)
            assert seq == info["events"], f"recovered seq {seq}, wrote {info['events']}"
            readies = []
            bench = BenchSite(work / f"site-{total}", site_path=DEMO_SITE, db=db)
            try:
                bench.start_broker()
                for _ in range(max(1, args.restarts)):
                    readies.append(bench.start_server(timeout=120))
                    bench.stop_server()
            finally:
                bench.stop()
            readies.sort()
            replay = full_replay(db, site) if total <= args.full_replay_max else (float("nan"), 0)
            rows.append([total, rec, readies[len(readies) // 2], readies[-1], replay[0]])
    print_table("the generated logs (demo district site: 8 counters, 7 sectors)",
                ["events", "days", "events/day", "snapshots", "MiB", "write s", "one snapshot ms",
                 "tickets in it"], gen_rows)
    print_table("restart (seconds)",
                ["events in log", "recover (in process)", "ready p50 (motcua server)", "ready max",
                 "full replay, no snapshot"], rows)
    print("target: ready <= 3 s with 1,000,000 events. `ready` = spawn -> retained server/status online, "
          f"median of {args.restarts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
