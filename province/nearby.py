"""Which nearby sites have a shorter wait for the same sector: pure, from the latest waits.

Published retained on `motcua/v1/province/nearby/{site}/{sector}` (protocol.topics.ProvinceTopics);
each site's bridge brings its own sectors' advice back to its broker for the kiosks:

    {"v": 1, "type": "province.nearby", "ts": "...", "site": "a", "sector": "dat-dai",
     "own": {"waiting": 14, "shown_wait_s": 2400, "est_wait_s": 2400},
     "nearby": [{"site": "b", "name": {"vi": "...", "en": "..."}, "distance_km": 3.2,
                 "waiting": 2, "shown_wait_s": 300, "est_wait_s": 300, "address": {"vi": "...", "en": "..."} | null,
                 "next_booking": "2026-12-03T08:30:00+07:00" | null, "book_url": "https://.../book/<procedure>/b" | null,
                 "bookings": {"<procedure>": {"slot": "...", "url": "..." | null}} | null}],
     "title": {"vi": "Điểm tiếp nhận gần đây chờ ít hơn", "en": "Nearby centres with shorter waits"}}

The model is protocol.messages.ProvinceNearby (est_wait_s: the deprecated name of shown_wait_s).
`bookings` gives, per procedure of the sector that centre takes from anywhere in the province
(issue #16: from its booking offer), its earliest free slot and the province portal's page to
book it there (portal.public_url set); `next_booking`/`book_url` are the earliest of them. An empty `nearby` list clears the advice. The kiosk decides when to show it (its own
`long_wait_min`); the province only says where it is shorter.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from province.config import ProvinceConfig, distance_km
from province.texts import T
from protocol.messages import SHOWN_WAIT, NearbyOption, NearbyWait, ProvinceNearby, wait_fields


@dataclass
class SectorNow:
    site: str
    sector: str
    waiting: int
    est_wait_s: int
    at: float                 # epoch seconds when the province last heard of it
    site_name: dict | None = None


def compute(now: dict[tuple[str, str], SectorNow], config: ProvinceConfig, clock: float,
            ts: str, bookings: Mapping[tuple[str, str], dict[str, Any]] | None = None
            ) -> dict[tuple[str, str], dict[str, Any]]:
    """(site, sector) -> advice payload, for every fresh (site, sector) of a located site.
    `bookings`: (site, sector) -> that centre's booking fields (portal.nearby_bookings)."""
    rules = config.nearby
    fresh = {k: v for k, v in now.items() if clock - v.at <= rules.stale_s}
    out = {}
    for (site, sector), own in fresh.items():
        here = config.location(site)
        if here is None:
            continue
        options = []
        for (other, osector), cand in fresh.items():
            if osector != sector or other == site:
                continue
            there = config.location(other)
            if there is None:
                continue
            km = distance_km(here, there)
            if km > rules.max_km or cand.est_wait_s > own.est_wait_s - rules.min_gain_s:
                continue
            name = there.name.model_dump() if there.name else (cand.site_name or {"vi": other, "en": other})
            options.append(NearbyOption.build(site=other, name=name, distance_km=round(km, 1), waiting=cand.waiting,
                                              **wait_fields(SHOWN_WAIT, cand.est_wait_s),
                                              address=there.address.model_dump() if there.address else None,
                                              **(bookings or {}).get((other, sector), {})))
        options.sort(key=lambda o: (o[SHOWN_WAIT], o["distance_km"]))
        out[(site, sector)] = ProvinceNearby.build(ts=ts, site=site, sector=sector,
                                                   own=NearbyWait.build(waiting=own.waiting,
                                                                        **wait_fields(SHOWN_WAIT, own.est_wait_s)),
                                                   nearby=options[:rules.max_results],
                                                   title=T.both("Nearby centres with shorter waits"))
    return out
