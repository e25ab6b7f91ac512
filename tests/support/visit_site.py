"""The three-sector site the visit tests are written against (sector a has two procedures, q1 serves
a and b), and `issue_visit`, a kiosk ticket for several procedures through the harness."""
from __future__ import annotations

from queue_server.domain.site import parse_site


def visit_site(site_extra=None, caps=None, proc_caps=None):
    caps, proc_caps = caps or {}, proc_caps or {}

    def sector(sid, prefix, procs):
        return {"id": sid, "prefix": prefix, "name": {"vi": sid, "en": sid}, "target_wait_min": 10,
                "service_min": 5, "daily_cap": caps.get(sid),
                "procedures": [{"id": p, "name": {"vi": p, "en": p}, "daily_cap": proc_caps.get(p)} for p in procs]}
    return parse_site({
        "site": {"id": "test", "name": {"vi": "Thử", "en": "Test"}, **(site_extra or {})},
        "sectors": [sector("a", "A", ["a1", "a2"]), sector("b", "B", ["b1"]), sector("c", "C", ["c1"])],
        "counters": [
            {"id": "q1", "label": {"vi": "Quầy 1", "en": "Counter 1"}, "sectors": ["a", "b"]},
            {"id": "q2", "label": {"vi": "Quầy 2", "en": "Counter 2"}, "sectors": ["b"]},
            {"id": "q3", "label": {"vi": "Quầy 3", "en": "Counter 3"}, "sectors": ["c"]},
        ]})


def issue_visit(h, *items, **fields):
    """Issue one ticket for `items` ((sector, procedure) pairs) at kiosk k1; the ticket, or the refusal."""
    procs = [{"sector": s, "procedure": p} for s, p in items]
    r = h.do("kiosk", "k1", type="ticket.issue", procedures=procs, **fields)
    return r if isinstance(r, str) else r["ticket"]
