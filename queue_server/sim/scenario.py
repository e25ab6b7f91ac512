"""The scenario file of a simulated day (docs/balancing.md), validated into typed objects.

Every bad field is named in the error (`ScenarioError`), like the site config.
Additions to the base format (all optional):
- `counter_changes: [{at: "10:00", counter: q3, status: closed}]`: a counter
  closes, pauses or opens at a time of day (it finishes its citizen first);
- service `dist` may be `lognormal` (default), `exponential`, `gamma` or `fixed`;
- `procedure_service_min: {khai-sinh: {mean: 4, cv: 0.4}}`: a procedure's own
  service time, instead of its sector's (real procedures of one sector differ:
  a certified copy takes minutes, a marriage registration much longer);
- `weekday_arrivals: {sat: {tu-phap-ho-tich: {"07:30": 12, "11:30": 0}}}`: a weekday's own
  arrival steps, used instead of `arrivals` on the simulated days of that weekday (day 0 is
  Monday 2026-03-02, FIRST_DAY); `day_of_month_factor: {31: 1.4}`: every rate of that day of
  the month multiplied (the end of a month); `closed_weekdays: [sat, sun]`: the simulated days
  are the dates from FIRST_DAY on that are not on these weekdays. All three are what
  `motcua simulate --from-log` writes when a centre's log shows such an effect
  (queue_server/planning/history.py);
- `visits: {two: 0.3, three: 0.05}`: the share of citizens who come for two or three procedures
  (their other procedures in other sectors, drawn by the sectors' arrival rates); the simulator
  issues one ticket for the visit, or one per procedure (`Simulation(visits="per-procedure")`,
  the comparison of docs/visits.md);
- `appointments: {share: 0.5, no_show: 0.1, punctuality_min: {mean: -5, sd: 5}}`: the share of
  citizens who book a slot (issue #16, docs/appointments.md "The simulator"), the share of those
  who never come, and when those who come check in (minutes after the slot's start, normal).
  The site gets a default `bookings:` section if it has none. Drawn from their own streams:
  without this section the citizens are exactly those drawn before it existed.
  Two more keys of it: `lead_days: {0: 0.4, 1: 0.3, 3: 0.2, 7: 0.1}`, how many (simulated) days
  before their visit the bookers book (0 to 60 -> share of the bookers, summing to 1; default
  `{0: 1.0}`, all on the day's midnight), and `later_days: 7`, how many later (simulated) days a
  booker whose own day has no free slot left from their time on will take instead (default 0:
  they come as a walk-in on their own day);
- `carry_over: true`: days that carry over: nobody is called after the day's closing, and whoever
  still waits comes back at the next day's opening with a new ticket (docs/appointments.md,
  "The simulator"); without it every citizen is served the same day, in overtime if need be.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from motcua.config_errors import format_loc
from queue_server.domain.site import SiteConfig, SiteConfigError, parse_site

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")   # date.weekday() order
FIRST_DAY = date(2026, 3, 2)   # a Monday: the date of simulated day 0 (stamps events, picks weekdays)
_CLOCK_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class ScenarioError(ValueError):
    """A scenario that cannot be simulated; the message names every bad field."""


def clock_s(value: str) -> int:
    """"07:30" -> seconds after midnight."""
    m = _CLOCK_RE.match(value)
    if not m:
        raise ValueError(f"{value!r} is not a time of day like '07:30'")
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60


class ServiceTime(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    dist: Literal["lognormal", "exponential", "gamma", "fixed"] = "lognormal"
    mean: float = Field(gt=0, le=600, description="minutes")
    cv: float = Field(default=0.5, ge=0, le=5)


class OnlineDiversion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    when_wait_over_min: float = Field(ge=0)
    accept: float = Field(ge=0, le=1)


class VisitShares(BaseModel):
    """The share of citizens who come for two or three procedures (a visit, docs/visits.md)."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    two: float = Field(default=0.0, ge=0, le=1)
    three: float = Field(default=0.0, ge=0, le=1)

    @field_validator("three")
    @classmethod
    def _at_most_everyone(cls, v: float, info: Any) -> float:
        if v + info.data.get("two", 0.0) > 1.0:
            raise ValueError("two + three is more than 1")
        return v


class Punctuality(BaseModel):
    """When a booked citizen checks in: minutes after the slot's start (negative: early), normal."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    mean: float = Field(default=-5.0, ge=-120, le=120)
    sd: float = Field(default=5.0, ge=0, le=120)


MAX_LEAD_DAYS = 60      # the longest lead time a scenario may give (days before the visit)


class Appointments(BaseModel):
    """Who books a slot (issue #16): the share of citizens, the share of bookings never used, how
    punctual the others are, how many days before their visit they book (`lead_days`: days ->
    share of the bookers) and how many later days a booker whose own day is full will take
    (`later_days`; 0: none, they come as a walk-in)."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    share: float = Field(ge=0, le=1)
    no_show: float = Field(default=0.1, ge=0, le=1)
    punctuality_min: Punctuality = Punctuality()
    lead_days: dict[Annotated[int, Field(ge=0, le=MAX_LEAD_DAYS)], Annotated[float, Field(ge=0, le=1)]] = {0: 1.0}
    later_days: int = Field(default=0, ge=0, le=MAX_LEAD_DAYS)

    @field_validator("lead_days")
    @classmethod
    def _lead_shares(cls, v: dict[int, float]) -> dict[int, float]:
        total = sum(v.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"the shares of the bookers sum to {total:g}; they must sum to 1")
        return dict(sorted(v.items()))


class CounterChange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    at: str
    counter: str
    status: Literal["open", "paused", "closed"]

    @field_validator("at")
    @classmethod
    def _at(cls, v: str) -> str:
        clock_s(v)
        return v


class ScenarioModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    site: str | dict[str, Any]
    days: int = Field(default=1, ge=1, le=3650)
    seed: int = 0
    arrivals: dict[str, dict[str, float]]
    service_min: dict[str, ServiceTime]
    no_show: float = Field(default=0.0, ge=0, lt=1)
    priority_share: float = Field(default=0.0, ge=0, le=1)
    counters: Literal["default"] | list[dict[str, Any]] = "default"
    online_diversion: OnlineDiversion | None = None
    counter_changes: list[CounterChange] = []
    procedure_service_min: dict[str, ServiceTime] = {}
    weekday_arrivals: dict[Literal[WEEKDAYS], dict[str, dict[str, float]]] = {}
    day_of_month_factor: dict[Annotated[int, Field(ge=1, le=31)], Annotated[float, Field(ge=0, le=10)]] = {}
    closed_weekdays: list[Literal[WEEKDAYS]] = Field(default=[], max_length=6)
    visits: VisitShares = VisitShares()
    appointments: Appointments | None = None
    carry_over: bool = False

    @field_validator("weekday_arrivals")
    @classmethod
    def _weekday_rates(cls, v: dict[str, dict[str, dict[str, float]]]) -> dict[str, dict[str, dict[str, float]]]:
        for day, arrivals in v.items():
            try:
                cls._rates(arrivals)
            except ValueError as exc:
                raise ValueError(f"{day}: {exc}") from None
        return v

    @field_validator("arrivals")
    @classmethod
    def _rates(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for sector, steps in v.items():
            if not steps:
                raise ValueError(f"{sector}: needs at least one 'HH:MM: rate' step")
            for at, rate in steps.items():
                try:
                    clock_s(at)
                except ValueError as exc:
                    raise ValueError(f"{sector}: {exc}") from None
                if rate < 0 or rate > 10000:
                    raise ValueError(f"{sector} at {at}: rate {rate} must be between 0 and 10000 tickets per hour")
        return v


@dataclass(frozen=True)
class Scenario:
    name: str
    site: SiteConfig
    days: int
    seed: int
    arrivals: dict[str, list[tuple[int, float]]]   # sector -> [(second of day, tickets per hour)], sorted
    service: dict[str, ServiceTime]
    no_show: float
    priority_share: float
    online_diversion: OnlineDiversion | None
    counter_changes: tuple[CounterChange, ...]
    source: str = "scenario"
    procedure_service: dict[str, ServiceTime] = field(default_factory=dict)   # procedure -> its own service time
    weekday_arrivals: dict[int, dict[str, list[tuple[int, float]]]] = field(default_factory=dict)  # date.weekday() ->
    day_of_month_factor: dict[int, float] = field(default_factory=dict)
    closed_weekdays: frozenset[int] = frozenset()   # date.weekday() numbers
    visits: VisitShares = VisitShares()
    appointments: Appointments | None = None
    carry_over: bool = False

    def date_of(self, day: int) -> date:
        """The date of simulated day `day` (0 = FIRST_DAY), skipping the closed weekdays."""
        d, left = FIRST_DAY, day
        while d.weekday() in self.closed_weekdays:
            d += timedelta(days=1)
        while left:
            d += timedelta(days=1)
            if d.weekday() not in self.closed_weekdays:
                left -= 1
        return d

    def arrivals_on(self, day: date) -> dict[str, list[tuple[int, float]]]:
        """The arrival steps of a simulated date: its weekday's own, else `arrivals`, times its day
        of month's factor."""
        steps = self.weekday_arrivals.get(day.weekday(), self.arrivals)
        factor = self.day_of_month_factor.get(day.day, 1.0)
        if factor == 1.0:
            return steps
        return {s: [(at, rate * factor) for at, rate in st] for s, st in steps.items()}


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; ScenarioError names any bad field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read scenario {path}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path} is not valid YAML: {exc}") from None
    return parse_scenario(data, base_dir=path.parent, source=str(path))


def parse_scenario(data: Any, base_dir: str | Path = ".", source: str = "scenario") -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a mapping with name, site, arrivals and service_min")
    try:
        model = ScenarioModel.model_validate(data)
    except ValidationError as exc:
        lines = [f"  {format_loc(e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()]
        raise ScenarioError(f"{source} is not valid:\n" + "\n".join(lines)) from None

    if isinstance(model.site, str):
        site_path = Path(base_dir) / model.site
        try:
            site_data = yaml.safe_load(site_path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ScenarioError(f"{source}: site: cannot read {site_path}: {exc.strerror or exc}") from None
        except yaml.YAMLError as exc:
            raise ScenarioError(f"{source}: site: {site_path} is not valid YAML: {exc}") from None
        site_source = str(site_path)
    else:
        site_data, site_source = model.site, f"{source}: site"
    if not isinstance(site_data, dict):
        raise ScenarioError(f"{source}: site: expected a site config mapping")
    if model.counters != "default":
        site_data = {**site_data, "counters": model.counters}
    if model.appointments is not None and "bookings" not in site_data:
        site_data = {**site_data, "bookings": {}}   # the site config's defaults (30-minute slots, 50 %)
    try:
        site = parse_site(site_data, source=site_source)
    except SiteConfigError as exc:
        raise ScenarioError(f"{source}: site: {exc}") from None

    problems = []
    profiles = [("arrivals", model.arrivals)] + [(f"weekday_arrivals.{d}", a) for d, a in model.weekday_arrivals.items()]
    for label, arrivals in profiles:
        for sector in arrivals:
            if sector not in site.sector_by_id:
                problems.append(f"{label}.{sector}: not a sector of site {site.id!r}")
            elif sector not in model.service_min:
                problems.append(f"service_min.{sector}: missing; every sector with arrivals needs a service time")
    for sector in model.service_min:
        if sector not in site.sector_by_id:
            problems.append(f"service_min.{sector}: not a sector of site {site.id!r}")
    procedures = {p.id for sec in site.sectors for p in sec.procedures}
    for proc in model.procedure_service_min:
        if proc not in procedures:
            problems.append(f"procedure_service_min.{proc}: not a procedure of site {site.id!r}")
    for i, ch in enumerate(model.counter_changes):
        if ch.counter not in site.counter_by_id:
            problems.append(f"counter_changes[{i}].counter: unknown counter {ch.counter!r}")
    for label, arrivals in profiles:
        for sector in arrivals:
            if sector in site.sector_by_id and not any(sector in c.trained for c in site.counters):
                problems.append(f"{label}.{sector}: no counter is trained for this sector, its tickets would never be called")
    if model.carry_over and site.site.overnight:
        problems.append("carry_over: the site keeps waiting tickets overnight (site.overnight); the simulator's "
                        "carry-over gives the citizen a new ticket, so use one or the other")
    if problems:
        raise ScenarioError(f"{source} is not valid:\n" + "\n".join("  " + p for p in problems))

    def steps_of(arrivals: dict[str, dict[str, float]]) -> dict[str, list[tuple[int, float]]]:
        return {s: sorted((clock_s(at), float(rate)) for at, rate in steps.items()) for s, steps in arrivals.items()}

    arrivals = steps_of(model.arrivals)
    return Scenario(name=model.name, site=site, days=model.days, seed=model.seed, arrivals=arrivals,
                    service=dict(model.service_min), no_show=model.no_show,
                    priority_share=model.priority_share, online_diversion=model.online_diversion,
                    counter_changes=tuple(sorted(model.counter_changes, key=lambda c: clock_s(c.at))),
                    source=source, procedure_service=dict(model.procedure_service_min),
                    weekday_arrivals={WEEKDAYS.index(d): steps_of(a) for d, a in model.weekday_arrivals.items()},
                    day_of_month_factor=dict(model.day_of_month_factor),
                    closed_weekdays=frozenset(WEEKDAYS.index(d) for d in model.closed_weekdays),
                    visits=model.visits, appointments=model.appointments, carry_over=model.carry_over)
