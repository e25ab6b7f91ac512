"""The site's catalogue of sectors and procedures: GET /api/v1/catalogue.

One model, built by the server (queue_server/web/api.py) and read by the kiosk (kiosk/catalogue.py,
which adds its search and the disk cache).
"""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from protocol.messages import I18nText, _shown_from_deprecated

log = logging.getLogger(__name__)


def zone(name: str) -> ZoneInfo | None:
    """The IANA zone `name`, or None when this machine does not know it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


CATALOGUE_PATH = "/api/v1/catalogue"
MAX_BYTES = 2_000_000


def catalogue_url(server_url: str) -> str:
    return server_url.rstrip("/") + CATALOGUE_PATH


def fetch_document(url: str, timeout: float) -> Any:
    """The catalogue's JSON at `url`, not yet validated (the kiosk and the counter read it).
    Raises OSError (the server not reached; urllib's errors are OSErrors) or ValueError (not JSON)."""
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        raw = resp.read(MAX_BYTES)
    return json.loads(raw.decode("utf-8"))


class _M(BaseModel):
    # extra="ignore": the server may add fields; the kiosk reads what it knows
    model_config = ConfigDict(extra="ignore", frozen=True)


Text = I18nText


class Procedure(_M):
    id: str
    name: Text
    fee_vnd: int | None = None
    fee_note: Text | None = None
    days: int = 0
    online: Literal["full", "partial", "none"] = "none"
    documents: tuple[Text, ...] = ()
    portal_url: str | None = None


class Sector(_M):
    id: str
    prefix: str
    name: Text
    icon: str | None = None
    target_wait_min: float = 15
    waiting: int = 0
    shown_wait_s: int = 0
    est_wait_s: int = Field(0, description="deprecated: the same as shown_wait_s, for one version")
    procedures: tuple[Procedure, ...] = ()
    # issue #18, as in sector.stats: numbers left today under the sector's / each procedure's daily
    # cap (None: not capped), and whether a ticket taken now is predicted to be called after closing
    remaining_today: int | None = None
    procedures_remaining: dict[str, int] | None = None
    past_closing: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _older_server(cls, data: Any) -> Any:
        return _shown_from_deprecated(data)


class SiteInfo(_M):
    id: str
    name: Text
    online_portal: str = "https://dichvucong.gov.vn"
    hours: tuple[str, ...] = ()
    # IANA zone of the site (the server's site config); None from a server that does not send it
    timezone: str | None = None
    # the base of the booking pages (`<book_url>/<procedure>`); None: the site takes no bookings
    book_url: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        # an unknown zone must not cost the kiosk its whole catalogue: the kiosk's own setting is used
        if value is not None and zone(value) is None:
            log.warning("catalogue: unknown time zone %r, using the kiosk's setting", value)
            return None
        return value


class Catalogue(_M):
    site: SiteInfo
    priority_groups: tuple[str, ...] = ()
    sectors: tuple[Sector, ...] = Field(min_length=1)

    def sector(self, sector_id: str | None) -> Sector | None:
        return next((s for s in self.sectors if s.id == sector_id), None)

    def procedure(self, procedure_id: str | None) -> tuple[Sector, Procedure] | tuple[None, None]:
        for s in self.sectors:
            for p in s.procedures:
                if p.id == procedure_id:
                    return s, p
        return None, None
