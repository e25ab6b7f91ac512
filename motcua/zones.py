"""Time zones named in config files: one check for the site config and a device's config."""
from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# A site's zone when its config names none; also a device's fallback when the server's catalogue
# does not say (an older server). Here, not in the site model, so a device can read it without
# importing the server.
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


def known_zone(value: str) -> str:
    """`value` if the system's tz database knows it, else ValueError (pydantic shows it in place)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value
