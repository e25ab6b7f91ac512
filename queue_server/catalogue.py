"""The catalogue document a kiosk loads (GET /api/v1/catalogue): the site, its priority groups,
and each sector with its procedures, waiting count and shown wait. One builder for the web API
and for tests that need a kiosk catalogue without a running server."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from protocol.messages import SHOWN_WAIT, wait_fields
from queue_server.domain import closing, estimate, views
from queue_server.domain.site import SiteConfig
from queue_server.domain.state import SiteState


def catalogue_document(state: SiteState, cfg: SiteConfig, now: datetime | None = None,
                       public_url: str | None = None) -> dict[str, Any]:
    """The document for `state` (the caller holds the service's lock, for one moment of it);
    with `now`, each sector also says whether a ticket taken now runs past closing; with
    `public_url`, a site that takes bookings gives the base of its booking pages (`book_url`:
    queue_server/web/booking_bp.py serves `<book_url>/<procedure>`), for the kiosk's QR."""
    waits = estimate.shown_waits(state, cfg)
    sectors = [{
        "id": s.id, "prefix": s.prefix, "name": s.name.model_dump(), "icon": s.icon,
        "target_wait_min": s.target_wait_min, "waiting": state.waiting_count(s.id),
        **wait_fields(SHOWN_WAIT, waits[s.id]), **views.cap_fields(state, cfg, s.id, procedures=True),
        **({} if now is None else {"past_closing": closing.past_closing(cfg, now, waits[s.id])}),
        "procedures": [{"id": p.id, "name": p.name.model_dump(), "fee_vnd": p.fee_vnd,
                        "fee_note": p.fee_note.model_dump() if p.fee_note else None, "days": p.days,
                        "online": p.online, "documents": [d.model_dump() for d in p.documents],
                        "portal_url": p.portal_url} for p in s.procedures]} for s in cfg.sectors]
    return {"site": {"id": cfg.site.id, "name": cfg.site.name.model_dump(), "online_portal": cfg.site.online_portal,
                     "hours": list(cfg.site.hours), "timezone": cfg.site.timezone,
                     **({"book_url": f"{public_url.rstrip('/')}/book"} if public_url and cfg.bookings else {})},
            "priority_groups": list(cfg.priority_groups), "sectors": sectors}
