"""The province consumer: bridged `events/log`, `board` and `sector/+/stats` of every site -> PostgreSQL.

Nothing lost, nothing doubled:
- a persistent MQTT session (fixed client id, clean session off) on the province broker, so
  events that arrive while the consumer is down wait there for it;
- manual acknowledgement: a QoS 1 message is acknowledged only after its batch is committed,
  so a crash before the commit means the broker sends it again;
- the insert is idempotent on (site, seq), so anything sent again is stored once.

Boards and sector stats give the waits "now"; the advice loop publishes nearby sites with
shorter waits (nearby.py) whenever it changes.
"""
from __future__ import annotations

import json
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from province import nearby, portal
from province.config import ProvinceConfig
from province.store import EventRow, Store
from protocol.messages import SHOWN_WAIT, read_wait
from protocol.topics import ProvinceTopics, Topics, is_slug, site_of

log = logging.getLogger("motcua.province")
P = ProvinceTopics()


@dataclass
class Counters:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    boards: int = 0
    stats: int = 0
    advice_published: int = 0
    db_errors: int = 0
    last_error: str | None = None
    rejected_examples: list[str] = field(default_factory=list)

    def reject(self, why: str) -> None:
        self.rejected += 1
        if len(self.rejected_examples) < 20:
            self.rejected_examples.append(why)
        log.warning("rejected: %s", why)


def parse_event(topic: str, payload: bytes) -> EventRow | str:
    """An events/log message -> EventRow, or the reason it is refused."""
    site = site_of(topic)
    if site is None or topic != Topics(site).events_log:
        return f"{topic}: not an events/log topic"
    try:
        msg = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return f"{topic}: not JSON"
    if not isinstance(msg, dict) or msg.get("v") != 1 or msg.get("type") != "event":
        return f"{topic}: not a v1 event envelope"
    seq, kind, ts, data = msg.get("seq"), msg.get("event"), msg.get("ts"), msg.get("data", {})
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        return f"{topic}: seq must be a positive integer"
    if not isinstance(kind, str) or not kind or len(kind) > 64:
        return f"{topic}: event must be the event type"
    if not isinstance(data, dict):
        return f"{topic}: data must be an object"
    if msg.get("site", site) != site:
        return f"{topic}: payload site {msg.get('site')!r} is not the topic's site"
    try:
        when = datetime.fromisoformat(ts)
        if when.tzinfo is None:
            raise ValueError
    except (TypeError, ValueError):
        return f"{topic}: ts must be an ISO-8601 time with offset"
    return EventRow(site, seq, kind, ts, data)


def _int(v, default=0) -> int:
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else default


class ProvinceService:
    def __init__(self, broker_url: str, db_url: str, config: ProvinceConfig | None = None, *,
                 username: str | None = None, password: str | None = None, client_id: str = "motcua-province",
                 batch: int = 500, publish_advice: bool = True, ca_file: str | None = None,
                 offers: Callable[[], dict] | None = None):
        """`offers`: the booking relay's offers() (province/booking_relay.py), so the nearby advice
        carries each centre's earliest free booking slot; None: advice without slots."""
        self.broker_url, self.db_url = broker_url, db_url
        self.config = config or ProvinceConfig()
        self.batch = batch
        self.publish_advice = publish_advice
        self.offers = offers
        self.counters = Counters()
        self.now: dict[tuple[str, str], nearby.SectorNow] = {}
        self.site_names: dict[str, dict] = {}
        self._q: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._published: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()
        self.connected = threading.Event()
        u = urlparse(broker_url)
        self._host, self._port = u.hostname or "127.0.0.1", u.port or (8883 if u.scheme == "mqtts" else 1883)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                                  manual_ack=True)
        if u.scheme == "mqtts":
            self.client.tls_set(ca_certs=ca_file)   # None: the system's CAs
        if username:
            self.client.username_pw_set(username, password)
        self.client.reconnect_delay_set(1, 5)
        self.client.will_set(P.status, json.dumps({"v": 1, "type": "province.status", "online": False}), 1, True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self._sub_mid: int | None = None
        self._threads: list[threading.Thread] = []

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> "ProvinceService":
        store = Store(self.db_url)
        store.migrate()
        for row in store.now():   # advice survives a restart
            self.now[(row["site"], row["sector"])] = nearby.SectorNow(
                row["site"], row["sector"], row["waiting"], row["est_wait_s"], row["updated_at"].timestamp(),
                row["site_name"])
        store.close()
        self._threads = [threading.Thread(target=self._writer, name="province-writer", daemon=True)]
        if self.publish_advice:
            self._threads.append(threading.Thread(target=self._advice_loop, name="province-advice", daemon=True))
        for t in self._threads:
            t.start()
        self.client.connect_async(self._host, self._port, keepalive=30)
        self.client.loop_start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(10)
        try:
            self.client.publish(P.status, json.dumps({"v": 1, "type": "province.status", "online": False}), 1, True)
            self.client.disconnect()
        finally:
            self.client.loop_stop()

    # --- MQTT -----------------------------------------------------------------------------
    def _on_connect(self, client, userdata, flags, rc, props=None):
        if rc.is_failure:
            log.error("province broker refused the connection: %s", rc)
            return
        _, self._sub_mid = client.subscribe([(P.all_events_log, 1), (P.all_boards, 1), (P.all_sector_stats, 1)])
        client.publish(P.status, json.dumps({"v": 1, "type": "province.status", "online": True}), 1, True)

    def _on_subscribe(self, client, userdata, mid, reason_codes, props=None):
        # "connected" means the subscriptions are in place: anything a site sends from now on reaches us
        # (set on CONNACK, a message published before the SUBACK could be missed on a first connection)
        if mid == self._sub_mid:
            if any(rc.is_failure for rc in reason_codes):
                log.error("province broker refused a subscription: %s", reason_codes)
                return
            self.connected.set()

    def _on_message(self, client, userdata, msg):
        self._q.put((msg.topic, msg.payload, msg.mid, msg.qos))

    # --- the writer: batches into PostgreSQL, acks after commit -------------------------------
    def _writer(self) -> None:
        store = None
        pending: list = []
        while not self._stop.is_set() or pending or not self._q.empty():
            if not pending:
                try:
                    pending.append(self._q.get(timeout=0.2))
                except queue.Empty:
                    if self._stop.is_set():
                        break
                    continue
                while len(pending) < self.batch:
                    try:
                        pending.append(self._q.get_nowait())
                    except queue.Empty:
                        break
            try:
                if store is None:
                    store = Store(self.db_url)
                self._write(store, pending)
            except Exception as exc:   # the database is away: keep the batch, unacked, and retry
                self.counters.db_errors += 1
                self.counters.last_error = str(exc)
                log.error("database write failed, retrying: %s", exc)
                try:
                    if store:
                        store.close()
                except Exception:
                    pass
                store = None
                if self._stop.wait(1.0):
                    break
                continue
            for _, _, mid, qos in pending:
                if qos > 0:
                    self.client.ack(mid, qos)
            pending = []
        if store:
            store.close()

    def _write(self, store: Store, batch: list) -> None:
        events: dict[tuple[str, int], EventRow] = {}
        now_items, names, valid = [], {}, 0
        clock = time.time()
        for topic, payload, _, _ in batch:
            self.counters.received += 1
            if topic.endswith("/events/log"):
                row = parse_event(topic, payload)
                if isinstance(row, str):
                    self.counters.reject(row)
                else:
                    valid += 1
                    events.setdefault((row.site, row.seq), row)
            else:
                now_items += self._snapshot(topic, payload, clock, names)
        inserted = store.add_events(events.values())
        self.counters.stored += inserted
        self.counters.duplicates += valid - inserted
        if now_items:
            # the newest snapshot per (site, sector) of this batch
            latest = {}
            for it in now_items:
                latest[(it[0], it[1])] = it
            store.set_sector_now(latest.values())
        if names:
            store.set_site_names(names)

    def _snapshot(self, topic: str, payload: bytes, clock: float, names: dict) -> list[tuple]:
        site = site_of(topic)
        try:
            msg = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            self.counters.reject(f"{topic}: not JSON")
            return []
        if site is None or not isinstance(msg, dict):
            self.counters.reject(f"{topic}: not a v1 object")
            return []
        ts = msg.get("ts") if isinstance(msg.get("ts"), str) else None
        items = []
        if topic == Topics(site).board and msg.get("type") == "board":
            self.counters.boards += 1
            info = msg.get("site")
            if isinstance(info, dict) and isinstance(info.get("name"), dict):
                names[site] = info["name"]
                self.site_names[site] = info["name"]
            for s in msg.get("sectors") or []:
                if isinstance(s, dict) and is_slug(s.get("id")):
                    items.append((site, s["id"], s.get("name") if isinstance(s.get("name"), dict) else None,
                                  _int(s.get("waiting")), _int(read_wait(s, SHOWN_WAIT)), None, ts))
        elif msg.get("type") == "sector.stats":
            self.counters.stats += 1
            sector = Topics(site).parse_sector_stats(topic)
            if sector:
                items.append((site, sector, None, _int(msg.get("waiting")), _int(read_wait(msg, SHOWN_WAIT)),
                              _int(msg.get("served_today"), None), ts))
        else:
            self.counters.reject(f"{topic}: unexpected message type {msg.get('type')!r}")
        with self._lock:
            for site_, sector, _, waiting, est, _, _ in items:
                self.now[(site_, sector)] = nearby.SectorNow(site_, sector, waiting, est, clock,
                                                             self.site_names.get(site_))
        return items

    # --- nearby-sites advice ------------------------------------------------------------------
    def _advice_loop(self) -> None:
        while not self._stop.wait(self.config.nearby.interval_s):
            try:
                self.publish_advice_now()
            except Exception as exc:   # advice is best effort; the log must go on
                log.error("advice failed: %s", exc)

    def publish_advice_now(self) -> int:
        tz = ZoneInfo(self.config.timezone)
        with self._lock:
            snapshot = dict(self.now)
        now = datetime.now(timezone.utc)
        slots = (portal.nearby_bookings(self.config, portal.from_offers(self.offers()),
                                        snapshot.keys(), now) if self.offers else None)
        advice = nearby.compute(snapshot, self.config, time.time(), now.astimezone(tz).isoformat(timespec="seconds"),
                                slots)
        sent = 0
        for (site, sector), payload in advice.items():
            key = json.dumps({k: v for k, v in payload.items() if k != "ts"}, sort_keys=True, ensure_ascii=False)
            if self._published.get((site, sector)) == key:
                continue
            info = self.client.publish(P.nearby(site, sector), json.dumps(payload, ensure_ascii=False), 1, True)
            if info.rc == mqtt.MQTT_ERR_SUCCESS:
                self._published[(site, sector)] = key
                sent += 1
        self.counters.advice_published += sent
        return sent

    def idle(self) -> bool:
        return self._q.empty()
