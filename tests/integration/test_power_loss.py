"""Guarantee 3: the event log survives a kill at any point; after a restart the state is exactly
what was acknowledged.

1. A real `motcua server` is SIGKILLed at random moments (seeded; the seed is printed) while
   kiosks and counters send commands one after another. Between the kill and the restart the
   database is read as it was left: it holds every acknowledged command and, per device, at most
   the one command that was in flight. After the restart the in-flight command is retried with
   its req_id, and then the log holds exactly the acknowledged commands.
2. A power cut can also tear the last write: the WAL is cut at random byte offsets; every copy
   opens, is a gap-free prefix of the log and folds into a state.
3. The store really runs WAL with synchronous=FULL (fsync before a commit returns, so before any
   reply is published).
"""
from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import threading
import time
from collections import defaultdict
from datetime import datetime, timezone

import pytest

from queue_server.config import load_site
from queue_server.domain.events import Event
from queue_server.domain.state import SiteState
from queue_server.service import QueueService
from queue_server.store import EventStore
from tests.support.procs import ServerProcess, connect, site_broker, site_with_kiosks

pytestmark = pytest.mark.slow     # power cuts, one server process after another

KILLS = 5


class SequentialDevice:
    """A device that sends one command at a time, remembers what was acknowledged and what is in flight."""

    def __init__(self, client, commands):
        self.client, self.commands = client, commands
        self.name = f"{client.kind}/{client.device_id}"
        self.acked: dict[str, dict] = {}
        self.inflight: str | None = None
        self.stop = threading.Event()
        self.error: str | None = None
        self.lock = threading.Lock()       # acked and inflight change together
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        i = 0
        try:
            while not self.stop.is_set():
                typ, fields = self.commands[i % len(self.commands)]
                req = f"{self.client.device_id}-{i:05d}"
                with self.lock:
                    self.inflight = req
                while True:
                    try:
                        reply = self.client.request(typ, fields, req_id=req, timeout=30, retry_every=0.3)
                        break
                    except Exception:
                        if self.stop.is_set():
                            return
                if not reply.get("ok") and reply["error"]["code"] == "rate_limited":
                    time.sleep(0.1)
                    continue
                with self.lock:
                    self.acked[req] = reply
                    self.inflight = None
                i += 1
        except Exception as exc:
            self.error = repr(exc)


def db_keys(db) -> dict[str, set[str]]:
    """device -> req_ids that changed the state, read straight from the file the server left."""
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT device, req_id FROM events WHERE req_id IS NOT NULL").fetchall()
    finally:
        con.close()
    out: dict[str, set[str]] = defaultdict(set)
    for device, req in rows:
        out[device].add(req)
    return out


def test_sigkill_at_random_points_keeps_exactly_what_was_acknowledged(tmp_path):
    seed = int(os.environ.get("MOTCUA_FAULT_SEED", random.randrange(1 << 30)))
    rnd = random.Random(seed)
    print("power-loss seed:", seed, "(MOTCUA_FAULT_SEED to replay)")
    site_path = site_with_kiosks(tmp_path, 3)
    site = load_site(site_path)
    broker, files = site_broker(tmp_path / "mosquitto", site)
    server = ServerProcess(tmp_path / "server", site_path, broker.url, files.credentials).start()
    devices: list[SequentialDevice] = []
    try:
        sectors = [s.id for s in site.sectors]
        for i in range(1, 4):
            c = connect(broker.url, site.id, "kiosk", f"k{i}", files.creds)
            devices.append(SequentialDevice(c, [("ticket.issue", {"sector": s}) for s in sectors]))
        for cid in ("q1", "q4"):
            c = connect(broker.url, site.id, "counter", cid, files.creds)
            devices.append(SequentialDevice(c, [("call.next", {}), ("serve.done", {}), ("call.next", {}),
                                                ("serve.no_show", {})]))
        for d in devices:
            d.thread.start()
        checked_inflight = 0
        for _ in range(KILLS):
            time.sleep(rnd.uniform(0.05, 0.8))     # time passing: the power goes at a random moment
            server.kill()
            time.sleep(0.1)     # let every reply already on its way land
            on_disk = db_keys(server.db)
            for d in devices:
                with d.lock:
                    acked, inflight = dict(d.acked), d.inflight
                acked_changing = {r for r, rep in acked.items() if rep.get("ok")}
                have = on_disk.get(d.name, set())
                missing = acked_changing - have
                assert not missing, f"{d.name}: acknowledged but not on disk: {sorted(missing)[:5]}"
                extra = have - set(acked)
                assert extra <= ({inflight} if inflight else set()), \
                    f"{d.name}: on disk but never acknowledged nor in flight: {sorted(extra)[:5]}"
                checked_inflight += bool(extra)
            server.start()
        time.sleep(0.3)     # time passing: the devices go on a little against the restarted server
        for d in devices:
            d.stop.set()
        for d in devices:
            d.thread.join(35)
            assert d.error is None, d.error
        server.stop()

        # after the last restart and the retries: exactly the acknowledged commands, once each
        on_disk = db_keys(server.db)
        for d in devices:
            acked_changing = {r for r, rep in d.acked.items() if rep.get("ok")}
            have = on_disk.get(d.name, set())
            assert acked_changing <= have and have <= set(d.acked) | {d.inflight}, d.name
        kiosk_tickets = sum(len(d.acked) for d in devices if d.name.startswith("kiosk/"))
        assert kiosk_tickets > 20, "the kiosks hardly ran; the test proved little"

        # and the state a restart rebuilds is the fold of that log
        store = EventStore(str(server.db))
        try:
            folded = SiteState.initial(site)
            for e in store.read():
                folded.apply(e)
            assert QueueService(site, store).state.to_dict() == folded.to_dict()
        finally:
            store.close()
        print(f"power-loss: {KILLS} kills, {kiosk_tickets} tickets acknowledged, "
              f"{checked_inflight} times a device's in-flight command was committed but unanswered at the kill")
    finally:
        for d in devices:
            d.stop.set()
            try:
                d.client.stop()
            except Exception:
                pass
        server.stop()
        broker.stop()


def test_a_torn_wal_tail_opens_as_a_clean_prefix(tmp_path, site_config):
    db = tmp_path / "live" / "motcua.db"
    store = EventStore(str(db))
    with store.engine.connect() as conn:      # the schema is long on disk; the WAL holds only events
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    svc = QueueService(site_config, store, clock=lambda: datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc))
    svc.start()
    try:
        for i in range(120):
            r = svc.execute("kiosk", "k1", f'{{"v":1,"type":"ticket.issue","req_id":"r{i}","sector":"dat-dai"}}'
                            .encode())
            assert r["ok"], r
        # copy what is on disk while the store is still open (closing would checkpoint the WAL away)
        wal = db.with_name(db.name + "-wal")
        assert wal.exists() and wal.stat().st_size > 0
        db_bytes, wal_bytes = db.read_bytes(), wal.read_bytes()
        total = store.last_seq()
    finally:
        svc.stop()
        store.close()
    rnd = random.Random(7)
    cuts = sorted({0, len(wal_bytes), *(rnd.randrange(len(wal_bytes)) for _ in range(25))})
    seen = []
    for n, cut in enumerate(cuts):
        d = tmp_path / f"cut{n}"
        d.mkdir()
        (d / "motcua.db").write_bytes(db_bytes)
        (d / "motcua.db-wal").write_bytes(wal_bytes[:cut])
        con = sqlite3.connect(d / "motcua.db")
        try:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            rows = con.execute("SELECT seq, ts, type, device, req_id, data FROM events ORDER BY seq").fetchall()
        finally:
            con.close()
        seqs = [r[0] for r in rows]
        assert seqs == list(range(1, len(seqs) + 1)), f"cut at {cut}: not a prefix"
        state = SiteState.initial(site_config)
        for r in rows:
            state.apply(Event(r[0], r[2], r[1], json.loads(r[5]), r[3], r[4]))
        seen.append(len(seqs))
    assert seen == sorted(seen), "a longer WAL must never hold fewer events"
    assert seen[-1] == total
    assert len(set(seen)) > 5, f"the cuts hardly tore anything: {seen}"
    print("torn WAL: events kept per cut", seen)
    shutil.rmtree(tmp_path / "live", ignore_errors=True)


def test_store_commits_are_durable_wal_full(tmp_path):
    store = EventStore(str(tmp_path / "x.db"))
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2      # FULL
    finally:
        store.close()
