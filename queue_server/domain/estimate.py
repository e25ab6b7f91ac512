"""Wait estimates from the live state: people ahead, counters that can serve, service times."""
from __future__ import annotations

from queue_server.domain.site import SiteConfig
from queue_server.domain.state import SiteState


def mean_service_s(state: SiteState, config: SiteConfig, sector: str) -> float:
    stats = state.sectors[sector]
    if stats.service_s_ewma is not None and stats.service_n >= 3:
        return stats.service_s_ewma
    return config.sector_by_id[sector].service_min * 60.0


def capacity(state: SiteState, config: SiteConfig, sector: str) -> float:
    """Counters' worth of service the sector gets now: a counter shared by n sectors gives 1/n."""
    cap = 0.0
    for c in state.counters.values():
        if c.status != "closed" and sector in c.sectors:
            cap += 1.0 / len(c.sectors)
    if cap == 0.0:
        # Nobody serves it right now: assume the counters configured for it will open.
        cap = sum(1.0 / len(c.sectors) for c in config.counters if sector in c.sectors) or 0.5
    return cap


def wait_for_position(state: SiteState, config: SiteConfig, sector: str, ahead: int) -> int:
    """Seconds until a citizen with `ahead` people before them in `sector` is called."""
    if ahead <= 0:
        return 0
    return int(round(ahead * mean_service_s(state, config, sector) / capacity(state, config, sector)))


def sector_wait(state: SiteState, config: SiteConfig, sector: str) -> int:
    """The wait a citizen taking a ticket now in `sector` should expect."""
    return wait_for_position(state, config, sector, state.waiting_count(sector))


def ahead_of(state: SiteState, sector: str, rank: int, order: float) -> int:
    return sum(1 for t in state.waiting_in(sector) if (t.rank, t.order) < (rank, order))
