"""What the province tests feed the province service: a sample province (CONFIG), a day of
events as a site server publishes them, and a site's board."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from province.config import parse_province_config

VN = timezone(timedelta(hours=7))
DAY = datetime(2026, 11, 24, 7, 30, tzinfo=VN)


def event(site: str, seq: int, kind: str, at: datetime, data: dict) -> str:
    return json.dumps({"v": 1, "type": "event", "ts": at.isoformat(), "seq": seq, "event": kind, "data": data,
                       "site": site})


def day_events(site: str, n_tickets: int, start_seq: int = 1, wait_s: float = 600.0) -> list[str]:
    """issued / called / served for n tickets of sector dat-dai, one ticket a minute."""
    out, seq = [], start_seq
    for i in range(n_tickets):
        issued = DAY + timedelta(minutes=i)
        called = issued + timedelta(seconds=wait_s)
        tid = f"20261124-C{i + 1:03d}"
        out.append(event(site, seq, "ticket.issued", issued,
                         {"ticket": {"id": tid, "number": f"C{i + 1:03d}", "sector": "dat-dai"}}))
        out.append(event(site, seq + 1, "ticket.called", called,
                         {"ticket_id": tid, "counter": "q4", "number": f"C{i + 1:03d}", "sector": "dat-dai",
                          "wait_s": wait_s}))
        out.append(event(site, seq + 2, "ticket.served", called + timedelta(minutes=5),
                         {"ticket_id": tid, "counter": "q4", "outcome": "completed", "service_s": 300}))
        seq += 3
    return out


def board(site: str, name: str, waiting: int, est_wait_s: int) -> str:
    return json.dumps({"v": 1, "type": "board", "ts": DAY.isoformat(), "seq": 1,
                       "site": {"id": site, "name": {"vi": f"Trung tâm {name}", "en": f"{name} centre"}},
                       "counters": [], "recent_calls": [],
                       "sectors": [{"id": "dat-dai", "name": {"vi": "Đất đai", "en": "Land"}, "prefix": "C",
                                    "waiting": waiting, "est_wait_s": est_wait_s}]})


CONFIG = parse_province_config({
    "name": {"vi": "Tỉnh mẫu", "en": "Sample province"},
    "sites": [{"id": "site-a", "lat": 10.80, "lon": 106.70},
              {"id": "site-b", "lat": 10.83, "lon": 106.72, "address": {"vi": "12 Lê Lợi", "en": "12 Le Loi St"}},
              {"id": "site-far", "lat": 11.90, "lon": 107.50}],
    "nearby": {"max_km": 20, "min_gain_s": 600, "interval_s": 0.2}})
