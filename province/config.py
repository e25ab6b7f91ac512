"""The province's own config: where its sites are (for "nearby") and the advice thresholds.

Optional: without it the province still stores every event and shows every site it hears
from; it just cannot say which sites are near each other, so it publishes no advice.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from motcua.config_errors import format_loc
from motcua.zones import DEFAULT_TIMEZONE
from queue_server.domain.site import I18n

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,40}$")]


class ProvinceConfigError(ValueError):
    pass


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteLocation(_Model):
    id: Slug
    name: I18n | None = None        # else the name from the site's board
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    address: I18n | None = None


class NearbyRules(_Model):
    max_km: float = Field(default=15.0, gt=0)
    min_gain_s: int = Field(default=600, ge=0)      # advise a site only if its wait is this much shorter
    max_results: int = Field(default=3, ge=1, le=10)
    stale_s: int = Field(default=900, ge=30)        # ignore a site whose last news is older (offline)
    interval_s: float = Field(default=5.0, gt=0)    # how often advice is recomputed


class PortalRules(_Model):
    """The public booking portal (province/portal_web.py, docs/appointments.md "Across a province")."""
    # the portal's address as citizens reach it: the base of a booking's QR and link
    # (<public_url>/b/<site>/<CODE>, as a centre's own pages); else the address a request came to
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s]+$")
    # the province's key of the ID card hash (hex, made at set-up, never in the repository): limits
    # per card span the province's centres, so its centres hash with the same key
    id_key_file: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _moved(cls, data: Any) -> Any:
        # Which procedures a centre takes from anyone in the province is a fact about the centre:
        # it moved to the centre's own config and travels in its offer. Said, not ignored, so an
        # old province.yaml's list is carried over rather than silently lost.
        if isinstance(data, dict) and "any_residence" in data:
            raise ValueError("any_residence is no longer read here: it moved to each centre's site config, "
                             "`bookings.any_residence: [procedure ids]` (docs/province.md)")
        return data


class ProvinceConfig(_Model):
    id: Slug = "province"
    name: I18n = I18n(vi="Tỉnh", en="Province")
    timezone: str = DEFAULT_TIMEZONE
    sites: tuple[SiteLocation, ...] = ()
    nearby: NearbyRules = NearbyRules()
    portal: PortalRules = PortalRules()

    def location(self, site: str) -> SiteLocation | None:
        return next((s for s in self.sites if s.id == site), None)


def distance_km(a: SiteLocation, b: SiteLocation) -> float:
    """Great-circle distance (haversine)."""
    r = 6371.0
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


def parse_province_config(data: Any, source: str = "province config") -> ProvinceConfig:
    if data is None:
        return ProvinceConfig()
    if not isinstance(data, dict):
        raise ProvinceConfigError(f"{source}: expected a mapping")
    try:
        return ProvinceConfig.model_validate(data)
    except ValidationError as exc:
        lines = [f"  {format_loc(e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()]
        raise ProvinceConfigError(f"{source} is not valid:\n" + "\n".join(lines)) from None


def load_province_config(path: str | Path | None) -> ProvinceConfig:
    if path is None:
        return ProvinceConfig()
    p = Path(path)
    try:
        return parse_province_config(yaml.safe_load(p.read_text(encoding="utf-8")), str(p))
    except FileNotFoundError:
        raise ProvinceConfigError(f"{p}: no such file") from None
    except yaml.YAMLError as exc:
        raise ProvinceConfigError(f"{p}: not valid YAML: {exc}") from None
