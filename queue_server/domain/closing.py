"""The word before a long wait: would a citizen taking a ticket now be called after closing?

Counters serve only in the site's opening periods (`site.hours`), so a wait is counted in open
time: what is left of it when a period ends goes on when the next one starts (a ticket taken at
11:20 with 30 minutes to wait is called at 13:50, not 11:50). A wait that does not fit in what is
left of today's periods runs past closing. Outside the day's periods (after the last one) every
wait does.
"""
from __future__ import annotations

from datetime import datetime

from queue_server.domain.site import SiteConfig


def past_closing(config: SiteConfig, now: datetime, wait_s: float) -> bool:
    local = now.astimezone(config.site.tz)
    t = local.hour * 3600 + local.minute * 60 + local.second
    left = max(0.0, float(wait_s))
    for a, b in config.site.periods:
        start, end = a.hour * 3600 + a.minute * 60, b.hour * 3600 + b.minute * 60
        if end <= t:
            continue
        t = max(t, start)
        if t + left < end:
            return False
        left -= end - t
        t = end
    return True
