"""The site configuration: sectors, procedures, counters, devices, hours.

Validated at start into typed objects; any bad field is named in the error
(`SiteConfigError`), so a provincial IT person can fix the YAML by reading it.
"""
from __future__ import annotations

import re
from datetime import time
from functools import cached_property
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from motcua.config_errors import format_loc
from motcua.zones import DEFAULT_TIMEZONE, known_zone
from protocol import spoken, ticket_number
from protocol.messages import PRIORITY_GROUPS

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,40}$")]
_HOURS_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def _check_hours(value: tuple[str, ...]) -> tuple[str, ...]:
    for item in value:
        m = _HOURS_RE.match(item)
        if not m or (m.group(1), m.group(2)) >= (m.group(3), m.group(4)):
            raise ValueError(f"{item!r} is not an opening period like '07:30-11:30'")
    return value


def _periods(hours: tuple[str, ...]) -> list[tuple[time, time]]:
    out = []
    for item in hours:
        a, b = item.split("-")
        out.append((time.fromisoformat(a), time.fromisoformat(b)))
    return out


class SiteConfigError(ValueError):
    """A site config that cannot be used; the message names every bad field."""


class I18n(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


class Procedure(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Slug
    name: I18n
    fee_vnd: int | None = Field(default=None, ge=0)
    fee_note: I18n | None = None
    days: int = Field(default=0, ge=0)
    online: Literal["full", "partial", "none"] = "none"
    documents: tuple[I18n, ...] = ()
    portal_url: str | None = None
    # At most this many of this procedure a day (kiosk tickets and visits); none: no cap.
    daily_cap: int | None = Field(default=None, ge=0)


class Sector(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Slug
    prefix: Annotated[str, StringConstraints(pattern=ticket_number.PREFIX_PATTERN)]
    name: I18n
    target_wait_min: float = Field(gt=0, le=600)
    procedures: tuple[Procedure, ...] = ()
    # A starting guess for service time before any ticket of the day is served.
    service_min: float = Field(default=8.0, gt=0, le=240)
    icon: str | None = None
    # At most this many procedures of this sector a day (tickets and visits' procedures); none: no cap.
    daily_cap: int | None = Field(default=None, ge=0)

    @cached_property
    def procedures_by_id(self) -> dict[str, Procedure]:
        return {p.id: p for p in self.procedures}


class Counter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Slug
    label: I18n
    sectors: tuple[Slug, ...] = Field(min_length=1)
    trained: tuple[Slug, ...] = ()
    initial_status: Literal["open", "paused", "closed"] = "open"
    # The roster as planned: when the counter is staffed ("07:30-10:00"). Empty: the site's hours,
    # unless it starts closed (a spare). A booking slot's capacity counts these (domain/bookings.py).
    hours: tuple[str, ...] = ()

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_hours(value)

    @model_validator(mode="after")
    def _trained_covers_sectors(self) -> "Counter":
        if not self.trained:
            object.__setattr__(self, "trained", self.sectors)
        missing = [s for s in self.sectors if s not in self.trained]
        if missing:
            raise ValueError(f"sectors {missing} are not in trained {list(self.trained)}")
        return self

    @property
    def periods(self) -> list[tuple[time, time]]:
        """Its planned hours (`hours`) as (start, end); empty when it follows the site's."""
        return _periods(self.hours)

    @property
    def spoken_number(self) -> str | None:
        """The number the counter is called by ("Quầy 05" -> "5"); None when its name has none.
        The displays' voice follows the same rule (protocol/spoken.py)."""
        return spoken.counter_number(self.label.vi, self.id)

    @property
    def number(self) -> str:
        """The counter's number as sent to devices (`counter_number`): the spoken number, else the id."""
        return self.spoken_number or self.id


class Devices(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kiosks: tuple[Slug, ...] = ()
    displays: tuple[Slug, ...] = ()
    # Counter terminals are the counters themselves; no list needed.


class Limits(BaseModel):
    """Per-device rate limits. A stuck button or a broken client must not flood the site or use
    up a sector's numbers; a load test raises them."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    device_cmds_per_s: float = Field(default=50.0, gt=0)
    device_burst: float = Field(default=200.0, ge=1)
    # ~1,000 tickets an hour per kiosk after a burst of 300: more than a printer can print,
    # fewer than a stuck button would take (9,999 numbers a sector a day).
    kiosk_tickets_per_s: float = Field(default=0.3, gt=0)
    kiosk_ticket_burst: float = Field(default=300.0, ge=1)


class Bookings(BaseModel):
    """Bookings and remote tickets (issue #16, docs/appointments.md). A site without this section
    takes none."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    slot_min: Literal[15, 30] = 30
    # The share of each slot's counter time that bookings may take; walk-ins keep the rest.
    share: float = Field(default=0.5, ge=0.0, le=1.0)
    days_ahead: int = Field(default=14, ge=1, le=90)     # how far ahead a slot can be booked (today = 0)
    early_min: int = Field(default=30, ge=0, le=240)     # check-in opens this long before the slot
    late_min: int = Field(default=15, ge=0, le=120)      # later than this after it: a walk-in's ticket
    remote: bool = True                                  # "join today's queue from my phone"
    remote_grace_min: int = Field(default=30, ge=5, le=240)  # a remote ticket lapses this long after it is taken
    per_week: int = Field(default=3, ge=1, le=50)        # bookings one ID card may make in 7 days
    # The file (relative to the data directory, or absolute) holding the key of the ID card hash
    # (protocol/cccd.id_hash): made at set-up by the site server, never in the repository; the
    # province's own key where limits span its centres.
    id_key_file: str = "id-hash.key"
    # The procedures this centre takes bookings for from a citizen of anywhere in the province
    # (regardless of residence), carried in its offer to the province's portal; absent: every
    # procedure it takes bookings for. A fact about the centre, so kept in its own config.
    any_residence: tuple[Slug, ...] | None = None


class Notify(BaseModel):
    """Messages to citizens' phones through the province's SMS/Zalo gateway (issue #16,
    docs/appointments.md "Messages to the citizen's phone"): reminders of a booked slot, "your turn
    is near" for a ticket taken from a phone, a closure's notice. Without this section none is made."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    # Where each message is POSTed (queue_server/notify/webhook.py): the gateway's address.
    webhook_url: str = Field(pattern=r"^https?://[^\s/]+")
    # The shared secret of the signature (relative to the data directory, or absolute): made at the
    # first start (64 hex digits, owner-only), or the province's own put there; never in the repository.
    secret_file: str = "notify-webhook.key"
    # Hours before a booked slot that a reminder goes out (24: the day before; () none). A
    # reminder whose time had passed when the booking was made is not sent (they have just booked).
    remind_before_h: tuple[float, ...] = (24.0,)
    # "Your turn is near" when this many or fewer are ahead of a ticket taken from a phone not yet
    # checked in (0: never).
    turn_near_ahead: int = Field(default=3, ge=0, le=100)
    # The first retry's wait (seconds); each next one doubles (webhook.BACKOFF_MAX_S at most).
    retry_first_s: float = Field(default=5.0, gt=0, le=600)

    @field_validator("remind_before_h")
    @classmethod
    def _leads(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 0 < h <= 24 * 14 for h in value):
            raise ValueError("each reminder is between 0 and 336 hours before the slot")
        return tuple(sorted(set(value), reverse=True))


class SiteInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Slug
    name: I18n
    timezone: str = DEFAULT_TIMEZONE
    hours: tuple[str, ...] = ("07:30-11:30", "13:30-17:00")
    online_portal: str = "https://dichvucong.gov.vn"
    public_url: str | None = None  # base of track_url; defaults to the web app's own address
    announce_en: bool = False
    # Refuse tickets outside `hours`. Off by default so a demo works at any hour.
    enforce_hours: bool = False
    # Keep the day's unserved tickets open past midnight (centres that serve them the next
    # morning); off: day.started expires them, as always (docs/visits.md).
    overnight: bool = False
    limits: Limits = Limits()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_hours(value)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def periods(self) -> list[tuple[time, time]]:
        return _periods(self.hours)


class SiteConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    site: SiteInfo
    sectors: tuple[Sector, ...] = Field(min_length=1)
    counters: tuple[Counter, ...] = Field(min_length=1)
    devices: Devices = Devices()
    priority_groups: tuple[str, ...] = PRIORITY_GROUPS
    bookings: Bookings | None = None
    notify: Notify | None = None        # messages to citizens' phones (issue #16); none without it

    @model_validator(mode="after")
    def _cross_checks(self) -> "SiteConfig":
        problems = []
        seen: dict[str, str] = {}
        for i, s in enumerate(self.sectors):
            if s.id in seen:
                problems.append(f"sectors[{i}].id: duplicate sector {s.id!r}")
            if s.prefix in seen.values():
                problems.append(f"sectors[{i}].prefix: prefix {s.prefix!r} used twice")
            seen[s.id] = s.prefix
        proc_ids: set[str] = set()
        for i, s in enumerate(self.sectors):
            for j, p in enumerate(s.procedures):
                if p.id in proc_ids:
                    problems.append(f"sectors[{i}].procedures[{j}].id: duplicate procedure {p.id!r}")
                proc_ids.add(p.id)
        if self.bookings is not None:
            for pid in self.bookings.any_residence or ():
                if pid not in proc_ids:
                    problems.append(f"bookings.any_residence: unknown procedure {pid!r} "
                                    f"(not a procedure of any sector)")
        counter_ids: set[str] = set()
        for i, c in enumerate(self.counters):
            if c.id in counter_ids:
                problems.append(f"counters[{i}].id: duplicate counter {c.id!r}")
            counter_ids.add(c.id)
            for field in ("sectors", "trained"):
                for sid in getattr(c, field):
                    if sid not in seen:
                        problems.append(f"counters[{i}].{field}: unknown sector {sid!r}")
        for g in self.priority_groups:
            if g not in PRIORITY_GROUPS:
                problems.append(f"priority_groups: unknown group {g!r} (known: {', '.join(PRIORITY_GROUPS)})")
        ids = list(self.devices.kiosks) + list(self.devices.displays)
        if len(ids) != len(set(ids)):
            problems.append("devices: a device id is used twice")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @cached_property
    def sector_by_id(self) -> dict[str, Sector]:
        return {s.id: s for s in self.sectors}

    @cached_property
    def counter_by_id(self) -> dict[str, Counter]:
        return {c.id: c for c in self.counters}

    @cached_property
    def procedure_by_id(self) -> dict[str, tuple[Sector, Procedure]]:
        return {p.id: (s, p) for s in self.sectors for p in s.procedures}

    @cached_property
    def any_residence(self) -> frozenset[str]:
        """The procedures this centre takes bookings for from anyone in the province
        (`bookings.any_residence`, else every procedure); none without `bookings`."""
        if self.bookings is None:
            return frozenset()
        if self.bookings.any_residence is None:
            return frozenset(self.procedure_by_id)
        return frozenset(self.bookings.any_residence)

    @property
    def id(self) -> str:
        return self.site.id

    def is_device(self, kind: str, device_id: str) -> bool:
        if kind == "kiosk":
            return device_id in self.devices.kiosks
        if kind == "counter":
            return device_id in self.counter_by_id
        if kind == "display":
            return device_id in self.devices.displays
        return False


def parse_site(data: Any, source: str = "site config") -> SiteConfig:
    """A dict (from YAML) -> SiteConfig, or SiteConfigError naming each bad field."""
    if not isinstance(data, dict):
        raise SiteConfigError(f"{source}: expected a mapping with site, sectors and counters")
    try:
        return SiteConfig.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = format_loc(err["loc"])
            lines.append(f"  {loc or '(top)'}: {err['msg']}")
        raise SiteConfigError(f"{source} is not valid:\n" + "\n".join(lines)) from None


