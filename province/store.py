"""The province's PostgreSQL: every site's events, idempotent on (site, seq), and the latest waits.

psycopg 3. `add_events` is the only write path for the log: a repeat of (site, seq) (a bridge
redelivery, a consumer restart before its ack) changes nothing. Reads for the dashboard are
plain SQL over the same tables.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable

import psycopg
from psycopg.types.json import Jsonb

SCHEMA = """
CREATE TABLE IF NOT EXISTS province_events (
    site        text        NOT NULL,
    seq         bigint      NOT NULL,
    type        text        NOT NULL,
    ts          timestamptz NOT NULL,
    data        jsonb       NOT NULL,
    received_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (site, seq)
);
CREATE INDEX IF NOT EXISTS province_events_ts ON province_events (ts);
CREATE INDEX IF NOT EXISTS province_events_type_ts ON province_events (type, ts);
CREATE TABLE IF NOT EXISTS province_sector_now (
    site         text        NOT NULL,
    sector       text        NOT NULL,
    name         jsonb,
    waiting      integer     NOT NULL,
    est_wait_s   integer     NOT NULL,
    served_today integer,
    ts           timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (site, sector)
);
CREATE TABLE IF NOT EXISTS province_sites (
    site       text PRIMARY KEY,
    name       jsonb,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
"""


@dataclass(frozen=True)
class EventRow:
    site: str
    seq: int
    type: str
    ts: str
    data: dict


class Store:
    def __init__(self, url: str):
        self.url = url
        self.conn = psycopg.connect(url)

    def migrate(self) -> None:
        with self.conn.transaction():
            self.conn.execute(SCHEMA)

    def close(self) -> None:
        self.conn.close()

    # --- writes -------------------------------------------------------------------------
    def add_events(self, rows: Iterable[EventRow]) -> int:
        """Insert, ignoring any (site, seq) already there; returns how many were new."""
        rows = list(rows)
        if not rows:
            return 0
        with self.conn.transaction():
            cur = self.conn.cursor()
            cur.executemany(
                "INSERT INTO province_events (site, seq, type, ts, data) VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (site, seq) DO NOTHING",
                [(r.site, r.seq, r.type, r.ts, Jsonb(r.data)) for r in rows], returning=False)
            return max(cur.rowcount, 0)   # psycopg >= 3.1: the total over every statement

    def set_sector_now(self, items: Iterable[tuple]) -> None:
        """(site, sector, name|None, waiting, est_wait_s, served_today|None, ts)."""
        items = list(items)
        if not items:
            return
        with self.conn.transaction():
            self.conn.cursor().executemany(
                "INSERT INTO province_sector_now (site, sector, name, waiting, est_wait_s, served_today, ts) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (site, sector) DO UPDATE SET "
                "name = COALESCE(EXCLUDED.name, province_sector_now.name), waiting = EXCLUDED.waiting, "
                "est_wait_s = EXCLUDED.est_wait_s, "
                "served_today = COALESCE(EXCLUDED.served_today, province_sector_now.served_today), "
                "ts = EXCLUDED.ts, updated_at = clock_timestamp() "
                "WHERE province_sector_now.ts IS NULL OR EXCLUDED.ts >= province_sector_now.ts",
                [(s, sec, None if n is None else Jsonb(n), w, e, st, ts) for s, sec, n, w, e, st, ts in items])

    def set_site_names(self, names: dict[str, dict]) -> None:
        if not names:
            return
        with self.conn.transaction():
            self.conn.cursor().executemany(
                "INSERT INTO province_sites (site, name) VALUES (%s, %s) ON CONFLICT (site) DO UPDATE "
                "SET name = EXCLUDED.name, updated_at = clock_timestamp()",
                [(s, Jsonb(n)) for s, n in names.items()])

    # --- reads --------------------------------------------------------------------------
    def _rows(self, sql: str, params: Any = ()) -> list[dict]:
        with self.conn.transaction():
            cur = self.conn.execute(sql, params)
            cols = [c.name for c in cur.description]
            return [dict(zip(cols, r)) for r in cur.fetchall()]

    def sites(self) -> list[dict]:
        """Per site: events stored, first/last seq, missing seqs, last event time, delivery lag."""
        return self._rows("""
            SELECT e.site, s.name, count(*) AS events, min(e.seq) AS first_seq, max(e.seq) AS last_seq,
                   max(e.seq) - min(e.seq) + 1 - count(*) AS missing,
                   max(e.ts) AS last_ts, max(e.received_at) AS last_received_at,
                   EXTRACT(EPOCH FROM percentile_cont(0.5) WITHIN GROUP (ORDER BY e.received_at - e.ts))
                       AS lag_p50_s
            FROM province_events e LEFT JOIN province_sites s USING (site)
            GROUP BY e.site, s.name ORDER BY e.site""")

    def events(self, site: str) -> list[tuple[int, str]]:
        return [(r["seq"], r["type"]) for r in
                self._rows("SELECT seq, type FROM province_events WHERE site = %s ORDER BY seq", (site,))]

    def booking(self, site: str, code: str) -> dict[str, Any] | None:
        """A booking of `site` as the province's copy of its event log tells it (the fields of
        protocol.messages.BookingView the portal shows), or None. The booking.* events folded in
        order, as the centre folds them (queue_server/domain/fold.py)."""
        rows = self._rows("SELECT type, ts, data FROM province_events WHERE site = %s AND type LIKE 'booking.%%' "
                          "AND data->>'code' = %s ORDER BY seq", (site, code))
        b: dict[str, Any] | None = None
        for r in rows:
            d, kind = r["data"], r["type"]
            if kind == "booking.created":
                b = {"code": code, "site": site, "kind": d.get("kind", "slot"), "sector": d.get("sector"),
                     "procedure": d.get("procedure"), "status": "booked"}
            if b is None:
                continue
            if kind in ("booking.created", "booking.moved") and d.get("slot") and d.get("slot_epoch") is not None:
                b.update(_slot_times(d["slot"], d["slot_epoch"], d.get("slot_s") or 0), slot=d["slot"])
            elif kind == "booking.cancelled":
                b.update(status="cancelled", cancel_reason=d.get("by"), offer=d.get("offer"))
            elif kind == "booking.checked_in":
                b["status"] = {"late": "late", "remote": "checked_in"}.get(d.get("outcome"), "checked_in")
            elif kind == "booking.no_show":
                b["status"] = "no_show"
        return b

    def count(self) -> int:
        return self._rows("SELECT count(*) AS n FROM province_events")[0]["n"]

    def now(self) -> list[dict]:
        return self._rows("""
            SELECT n.site, s.name AS site_name, n.sector, n.name AS sector_name, n.waiting, n.est_wait_s,
                   n.served_today, n.ts, n.updated_at
            FROM province_sector_now n LEFT JOIN province_sites s USING (site)
            ORDER BY n.site, n.sector""")

    def day(self, day: date, tz: str) -> list[dict]:
        """Per site, sector and local hour of `day`: tickets issued, called, mean and max wait."""
        return self._rows("""
            WITH d AS (
                SELECT site, type, (ts AT TIME ZONE %(tz)s) AS local_ts,
                       CASE WHEN type = 'ticket.issued' THEN data->'ticket'->>'sector'
                            ELSE data->>'sector' END AS sector,
                       (data->>'wait_s')::float AS wait_s
                FROM province_events
                WHERE type IN ('ticket.issued', 'ticket.called')
                  AND ts >= (%(day)s::date)::timestamp AT TIME ZONE %(tz)s
                  AND ts <  (%(day)s::date + 1)::timestamp AT TIME ZONE %(tz)s)
            SELECT site, sector, EXTRACT(HOUR FROM local_ts)::int AS hour,
                   count(*) FILTER (WHERE type = 'ticket.issued') AS issued,
                   count(*) FILTER (WHERE type = 'ticket.called') AS called,
                   avg(wait_s) FILTER (WHERE type = 'ticket.called') AS mean_wait_s,
                   max(wait_s) FILTER (WHERE type = 'ticket.called') AS max_wait_s
            FROM d WHERE sector IS NOT NULL
            GROUP BY site, sector, hour ORDER BY site, sector, hour""", {"day": day.isoformat(), "tz": tz})


def _slot_times(slot: str, epoch: float, length_s: float) -> dict[str, str]:
    """slot_start/slot_end with the centre's offset: the event has the slot's local id and its
    epoch, and the difference is the centre's offset then."""
    utc = datetime.fromtimestamp(epoch, timezone.utc)
    zone = timezone(datetime.fromisoformat(slot) - utc.replace(tzinfo=None))
    start = utc.astimezone(zone)
    return {"slot_start": start.isoformat(), "slot_end": (start + timedelta(seconds=length_s)).isoformat()}


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str)
