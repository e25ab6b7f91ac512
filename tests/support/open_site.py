"""A copy of a site config that is open now, whatever the time of day the tests run.

The kiosk says "you may not be served before closing" before printing when the server predicts
the wait runs past the site's opening hours (issue #18, docs/visits.md), and the real server reads
the real clock. A test against the real server that expects a ticket to print therefore runs the
site in a fixed-offset zone where it is about 10:00 now, open 06:00-22:00: at least 11 hours of
opening time ahead, at any hour of any day.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import yaml

OPEN_HOURS = ["06:00-22:00"]
LOCAL_HOUR = 10


def zone_where_it_is(hour: int, now: datetime | None = None) -> str:
    """An IANA fixed-offset zone (Etc/GMT±N, whose sign is POSIX's: Etc/GMT-7 is UTC+7) in which
    the local time now is between `hour`:00 and `hour`:59."""
    utc_hour = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).hour
    offset = (hour - utc_hour) % 24
    if offset > 14:                 # the zones go from UTC-12 to UTC+14
        offset -= 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"


def open_now(site_path: str | Path, directory: str | Path, *, hours: list[str] | None = None,
             daily_caps: dict[str, int] | None = None) -> Path:
    """Write `site_path`'s config, open now (see above), into `directory`; return its path.
    `hours`: other opening periods in that zone (e.g. ["06:00-07:00"]: closed for the day now);
    `daily_caps`: {sector or procedure id: daily_cap}."""
    data = yaml.safe_load(Path(site_path).read_text(encoding="utf-8"))
    data["site"]["timezone"] = zone_where_it_is(LOCAL_HOUR)
    data["site"]["hours"] = list(hours or OPEN_HOURS)
    for sector in data["sectors"]:
        if sector["id"] in (daily_caps or {}):
            sector["daily_cap"] = daily_caps[sector["id"]]
        for proc in sector.get("procedures", []):
            if proc["id"] in (daily_caps or {}):
                proc["daily_cap"] = daily_caps[proc["id"]]
    out = Path(directory) / Path(site_path).name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return out
