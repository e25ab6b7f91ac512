"""Province scale bench: N sites x M counters drive a simulated day into the province, on one machine.

    .venv/bin/python -m bench.province_scale                 # 60 sites x 30 counters (a few minutes)
    .venv/bin/python -m bench.province_scale --sites 5 --counters 8 --tickets-per-counter 20   # quick look

Topology, as in production: ONE MOSQUITTO PER SITE, each started on the files `motcua provision`
generates for that site (auth, ACL, the bridge to the province), bridged to one province broker
(generated too), the province consumer as its own process (`motcua province`), PostgreSQL 15
from Debian. Why one broker each rather than site prefixes on fewer brokers: the bridge is the
part under test (its queue while a link is down, 60 bridge sessions on the province broker), a
mosquitto costs about 1-2 MB, and 60 of them fit easily on one machine.

What drives them: per site, a discrete simulation of the day (tickets arriving over the opening
hours, counters serving them oldest first) produces the domain events `ticket.issued`,
`ticket.called`, `ticket.served`, `rating.submitted`, in seq order; one publisher per site (the
`server` user) sends them as `events/log` at QoS 1 as fast as the chain takes them (the day is
compressed), with a board and a sector's stats every `--board-every` events. Each event carries
`bench_sent` (wall clock) so the lag publish -> row in PostgreSQL is measured per event.

Prints events/s end to end, lag percentiles, peak memory of each part, and checks that the
province holds every event exactly once.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import random
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

VN = timezone(timedelta(hours=7))


# --- the simulated day ----------------------------------------------------------------------

def site_data(base: dict, site_id: str, counters: int) -> dict:
    """The example site with `counters` counters spread over its sectors."""
    d = json.loads(json.dumps(base))
    d["site"]["id"] = site_id
    d["site"]["name"] = {"vi": f"Trung tâm {site_id}", "en": f"Centre {site_id}"}
    sectors = [s["id"] for s in d["sectors"]]
    d["counters"] = [{"id": f"q{i + 1}", "label": {"vi": f"Quầy {i + 1}", "en": f"Counter {i + 1}"},
                      "sectors": [sectors[i % len(sectors)]]} for i in range(counters)]
    d["devices"] = {"kiosks": ["k1", "k2", "k3"], "displays": ["d1", "d2"]}
    d["inventory"]["hosts"] = [{"hostname": "srv", "role": "server"}]
    return d


def simulate_day(site: str, sectors: list[str], counters: list[str], counter_sector: dict[str, str],
                 tickets_per_counter: int, seed: int) -> list[tuple[str, datetime, dict]]:
    """(event type, time, data) of one day, in time order; oldest-first per sector."""
    rng = random.Random(seed)
    day = datetime(2026, 11, 24, 7, 30, tzinfo=VN)
    open_s = 8 * 3600
    per_sector = {s: sum(1 for c in counters if counter_sector[c] == s) for s in sectors}
    events: list[tuple[float, int, str, dict]] = []
    k = 0
    for sector in sectors:
        n = per_sector[sector] * tickets_per_counter
        if n == 0:
            continue
        arrivals = sorted(rng.uniform(0, open_s * 0.9) for _ in range(n))
        free = {c: 0.0 for c in counters if counter_sector[c] == sector}
        for i, at in enumerate(arrivals):
            tid = f"{site}-{sector}-{i}"
            number = f"{sector[0].upper()}{i + 1:03d}"
            counter = min(free, key=free.get)
            start = max(at, free[counter])
            service = rng.expovariate(1 / 420)
            free[counter] = start + service
            events.append((at, k, "ticket.issued", {"ticket": {"id": tid, "number": number, "sector": sector,
                                                               "priority": "normal"}}))
            events.append((start, k + 1, "ticket.called", {"ticket_id": tid, "counter": counter, "number": number,
                                                           "sector": sector, "wait_s": round(start - at, 1)}))
            events.append((start + service, k + 2, "ticket.served", {"ticket_id": tid, "counter": counter,
                                                                     "outcome": "completed",
                                                                     "service_s": round(service, 1)}))
            if rng.random() < 0.3:
                events.append((start + service + 5, k + 3, "rating.submitted",
                               {"ticket_id": tid, "counter": counter, "sector": sector, "score": rng.randint(1, 4)}))
            k += 4
    events.sort()
    return [(kind, day + timedelta(seconds=t), data) for t, _, kind, data in events]


# --- one publisher process for a share of the sites -----------------------------------------

def publisher(jobs: list[dict], board_every: int, start_evt, done_q, speed: float, t0) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion
    from protocol.topics import Topics

    def run_site(job: dict) -> None:
        t = Topics(job["site"])
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-server-{job['site']}")
        c.username_pw_set("server", job["password"])
        c.max_inflight_messages_set(200)
        c.max_queued_messages_set(0)
        c.connect("127.0.0.1", job["port"])
        c.loop_start()
        start_evt.wait()
        day0 = datetime(2026, 11, 24, 7, 30, tzinfo=VN)
        waiting = {s: 0 for s in job["sectors"]}
        served = {s: 0 for s in job["sectors"]}
        last = None
        for seq, (kind, at, data) in enumerate(job["events"], start=1):
            if speed:   # paced: the simulated day at `speed` times real time
                delay = t0.value + (at - day0).total_seconds() / speed - time.time()
                if delay > 0:
                    time.sleep(delay)
            data = dict(data, bench_sent=time.time())
            if kind == "ticket.issued":
                waiting[data["ticket"]["sector"]] += 1
            elif kind == "ticket.called":
                waiting[data["sector"]] -= 1
            elif kind == "ticket.served":
                served[job["sector_of"][data["ticket_id"]]] += 1
            last = c.publish(t.events_log, json.dumps(
                {"v": 1, "type": "event", "ts": at.isoformat(), "seq": seq, "event": kind, "data": data,
                 "site": job["site"]}), qos=1)
            if seq % board_every == 0:
                sectors = [{"id": s, "name": {"vi": s, "en": s}, "prefix": s[0].upper(), "waiting": w,
                            "est_wait_s": w * 420 // max(1, job["per_sector"][s])} for s, w in waiting.items()]
                c.publish(t.board, json.dumps({"v": 1, "type": "board", "ts": at.isoformat(), "seq": seq,
                                               "site": {"id": job["site"], "name": job["name"]},
                                               "counters": job["board_counters"], "recent_calls": [],
                                               "sectors": sectors}), qos=1, retain=True)
                s = job["sectors"][seq // board_every % len(job["sectors"])]
                c.publish(t.sector_stats(s), json.dumps({"v": 1, "type": "sector.stats", "ts": at.isoformat(),
                                                         "sector": s, "waiting": waiting[s],
                                                         "est_wait_s": sectors[job["sectors"].index(s)]["est_wait_s"],
                                                         "served_today": served[s]}), qos=1, retain=True)
            # keep the client's own queue short: QoS 1 flow control like a real server's
            while len(c._out_messages) > 400:
                time.sleep(0.001)
        if last is not None:
            last.wait_for_publish(120)
        c.disconnect()
        c.loop_stop()
        done_q.put((job["site"], len(job["events"]), time.time()))

    threads = [threading.Thread(target=run_site, args=(j,)) for j in jobs]
    for th in threads:
        th.start()
    for th in threads:
        th.join()


# --- measuring ----------------------------------------------------------------------------

def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    out = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                ppid = int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                out.append(int(p.name))
    return out


def tree(pid: int) -> list[int]:
    todo, out = [pid], []
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children(p)
    return out


class Sampler(threading.Thread):
    def __init__(self, groups: dict[str, callable]):
        super().__init__(daemon=True)
        self.groups = groups
        self.peak = {k: 0 for k in groups}
        self.stop_evt = threading.Event()

    def run(self):
        while not self.stop_evt.wait(1.0):
            for name, pids in self.groups.items():
                self.peak[name] = max(self.peak[name], sum(rss_kb(p) for p in pids()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sites", type=int, default=60)
    ap.add_argument("--counters", type=int, default=30)
    ap.add_argument("--tickets-per-counter", type=int, default=50, help="tickets a counter serves in the day")
    ap.add_argument("--board-every", type=int, default=10, help="a board + one sector stats every N events")
    ap.add_argument("--publishers", type=int, default=2, help="publisher processes")
    ap.add_argument("--speed", type=float, default=0,
                    help="pace the day at this many times real time (0: as fast as possible, a flood)")
    ap.add_argument("--dir", type=Path, default=None, help="work dir (default: a temp dir)")
    args = ap.parse_args()

    import tempfile
    from firmware_config.inventory import parse_inventory
    from firmware_config.localrun import local_inventory_data, province_broker_conf, site_broker_conf
    from firmware_config.provision import provision
    from tests.support.broker import Mosquitto, free_port
    from tests.support.postgres import Postgres

    work = args.dir or Path(tempfile.mkdtemp(prefix="motcua-province-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)   # PostgreSQL runs as the postgres user when we are root: it must reach pg/
    base = yaml.safe_load((ROOT / "examples" / "site-inventory.yaml").read_text(encoding="utf-8"))
    pport = free_port()
    out = work / "fleet"
    t0 = time.monotonic()
    sites = []
    for i in range(args.sites):
        sid = f"site-{i + 1:02d}"
        port = free_port()
        data = local_inventory_data(site_data(base, sid, args.counters), broker_port=port, province_port=pport)
        inv = parse_inventory(data, sid)
        bundle = provision(inv, out)
        creds = json.loads(bundle.credentials.read_text())
        conf = site_broker_conf(bundle.hosts[0].directory, work / "persist" / sid)
        sites.append({"site": sid, "port": port, "inv": inv, "password": creds["server"]["password"],
                      "broker": Mosquitto(work / "run" / sid, port=port, conf=conf)})
    print(f"provisioned {args.sites} sites in {time.monotonic() - t0:.1f} s", flush=True)

    pconf = province_broker_conf(out / "province", persistence=work / "persist" / "province").replace(
        f"listener {pport} 0.0.0.0", f"listener {pport} 127.0.0.1")
    import atexit
    province = Mosquitto(work / "run" / "province", port=pport, conf=pconf).start()
    atexit.register(province.stop)          # also when the bench fails half-way
    pg = Postgres(work / "pg")
    atexit.register(pg.stop)
    pg.start()
    db = pg.create_database("province")
    consumer = subprocess.Popen(
        [sys.executable, "-m", "motcua", "province", "--broker", province.url, "--db", db,
         "--credentials", str(out / "province" / "credentials.json"), "--http", "", "--log-level", "WARNING"],
        cwd=ROOT, stdout=open(work / "province.log", "wb"), stderr=subprocess.STDOUT)
    atexit.register(lambda: consumer.poll() is None and consumer.terminate())
    for s in sites:
        atexit.register(s["broker"].stop)
        s["broker"].start()

    # the day
    jobs, total = [], 0
    for i, s in enumerate(sites):
        inv = s["inv"]
        sectors = [x.id for x in inv.site.sectors]
        counter_sector = {c.id: c.sectors[0] for c in inv.site.counters}
        events = simulate_day(s["site"], sectors, list(counter_sector), counter_sector, args.tickets_per_counter,
                              seed=i)
        sector_of = {d["ticket"]["id"]: d["ticket"]["sector"] for k, _, d in events if k == "ticket.issued"}
        per_sector = {x: max(1, sum(1 for c in counter_sector.values() if c == x)) for x in sectors}
        jobs.append({"site": s["site"], "port": s["port"], "password": s["password"], "events": events,
                     "sectors": sectors, "sector_of": sector_of, "per_sector": per_sector,
                     "name": {"vi": f"Trung tâm {s['site']}", "en": f"Centre {s['site']}"},
                     "board_counters": [{"id": c, "label": c, "status": "serving", "sectors": [x], "serving": None}
                                        for c, x in counter_sector.items()]})
        total += len(events)
    print(f"simulated day: {total} events ({total / args.sites:.0f} per site)", flush=True)

    import psycopg
    time.sleep(2.0)   # bridges and the consumer connect
    pg_post = lambda: tree(pg.proc.pid) if pg.proc else []   # noqa: E731
    sampler = Sampler({"site brokers (all)": lambda: [s["broker"].proc.pid for s in sites if s["broker"].proc],
                       "province broker": lambda: [province.proc.pid],
                       "province consumer": lambda: [consumer.pid],
                       "postgresql (all backends)": pg_post})
    sampler.start()
    start_evt = mp.Event()
    t0 = mp.Value("d", 0.0)
    done_q: mp.Queue = mp.Queue()
    shares = [jobs[i::args.publishers] for i in range(args.publishers)]
    procs = [mp.Process(target=publisher, args=(share, args.board_every, start_evt, done_q, args.speed, t0)) for share in shares]
    for p in procs:
        p.start()
    time.sleep(1.0)
    t_start = time.time()
    t0.value = t_start
    start_evt.set()
    conn = psycopg.connect(db, autocommit=True)
    stored, last_report = 0, time.monotonic()
    deadline = time.monotonic() + 1800
    while time.monotonic() < deadline:
        time.sleep(1.0)
        try:
            stored = conn.execute("SELECT count(*) FROM province_events").fetchone()[0]
        except psycopg.Error:
            stored = 0
        if time.monotonic() - last_report >= 10:
            print(f"  {time.time() - t_start:6.0f} s: {stored} / {total} stored", flush=True)
            last_report = time.monotonic()
        if stored >= total:
            break
    t_end = conn.execute("SELECT extract(epoch FROM max(received_at)) FROM province_events").fetchone()[0]
    for p in procs:
        p.join(60)
    sent_done = []
    while not done_q.empty():
        sent_done.append(done_q.get())
    t_pub_end = max((x[2] for x in sent_done), default=time.time())
    sampler.stop_evt.set()
    lag = conn.execute("""
        SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY l), max(l) FROM (
          SELECT extract(epoch FROM received_at) - (data->>'bench_sent')::float AS l FROM province_events) x
    """).fetchone()
    dup = conn.execute("""SELECT count(*) FROM (SELECT site, count(*) n, max(seq) m FROM province_events
                          GROUP BY site) x WHERE n <> m""").fetchone()[0]
    sites_now = conn.execute("SELECT count(DISTINCT site) FROM province_sector_now").fetchone()[0]
    conn.close()
    elapsed = float(t_end) - t_start
    cores = os.cpu_count()
    print()
    print(f"## Province scale: {args.sites} sites x {args.counters} counters, {datetime.now().date()}")
    print(f"machine: {platform.machine()} {cores} cores, {platform.platform()}, Python {platform.python_version()}")
    print(f"command: {' '.join(sys.argv)}" + (f"  (paced: the 8-hour day in {8 * 3600 / args.speed:.0f} s)"
                                                if args.speed else "  (flood: as fast as the chain takes it)"))
    print(f"events: {total} ({total / args.sites:.0f}/site), stored {stored}, sites with a gap or extra: {dup}")
    print(f"boards + stats: 2 per {args.board_every} events; sites with waits 'now': {sites_now}")
    print(f"publish: {t_pub_end - t_start:.1f} s ({total / max(0.001, t_pub_end - t_start):.0f} events/s sent)")
    print(f"end to end: {elapsed:.1f} s -> {total / elapsed:.0f} events/s into PostgreSQL")
    print(f"lag publish -> row: p50 {lag[0][0]:.2f} s, p95 {lag[0][1]:.2f} s, p99 {lag[0][2]:.2f} s, "
          f"max {lag[1]:.2f} s")
    for k, v in sampler.peak.items():
        print(f"peak RSS {k}: {v / 1024:.0f} MB" + (f" ({v / 1024 / args.sites:.1f} MB each)"
                                                    if k.startswith("site") else ""))
    consumer.terminate()
    consumer.wait(20)
    for s in sites:
        s["broker"].stop()
    province.stop()
    pg.stop()
    return 0 if stored == total and dup == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
