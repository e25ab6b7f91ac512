"""Province scenarios (issue #16, docs/appointments.md "The simulator"): two or more centres of one
province, each its own site config and scenario, simulated day by day on the same dates, with
bookings confined to each citizen's own centre or allowed to go to another centre that accepts
the procedure.

    name: ha-noi-long-bien-bat-trang
    days: 30
    seed: 1
    centres: [long-bien.yaml, bat-trang.yaml]     # each a centre's scenario, with `appointments`
    cross_centre:
      allowed: true             # false: every booking stays at its citizen's own centre
      procedures: [chung-thuc-ban-sao, dang-ky-bien-dong]   # accepted regardless of residence at
                                  # every centre (default: per centre, what its site config takes
                                  # from anyone in the province, `bookings.any_residence`, as the
                                  # portal lists it)
      travel_min: 30            # another centre's slot counts as this much later (getting there)
      reluctance: 0.3           # the share of bookers who only ever book at their own centre

Each centre is a `Simulation` of its own scenario (its own counters, arrivals, carry-over), on
its own random streams (the province's seed and the centre's place in the list), so its citizens
are the same whether bookings are confined or not. The booking happens at each day's midnight,
as in a single centre's run (`Simulation._book`), but jointly: every booker of every centre, in
the order of the times they would have come, takes the same three draws as there (books or not,
uses the booking or not, punctuality) and one more from the province's own stream (reluctant or
not); then books, through the real `booking.create` of the chosen centre, the slot that starts
first once the travel penalty is added to another centre's: the first free slot from their time
on at their own centre, unless another centre's first free one starts earlier even after the
journey or their own has none left (that day only; none anywhere: a walk-in at their own centre). The day is then played at each centre
apart (`Simulation.play_day`): a booked citizen checks in where they booked.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from motcua.config_errors import format_loc
from queue_server.domain import bookings
from queue_server.sim.engine import CheckIn, Citizen, DayResult, Simulation
from queue_server.sim.metrics import appointment_figures, carry_over_figures
from queue_server.sim.scenario import Scenario, ScenarioError, load_scenario

SEED_STRIDE = 1000     # centre i runs on seed * SEED_STRIDE + i: its own streams, the same every run


class CrossCentre(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    allowed: bool = True
    procedures: list[str] | None = None
    travel_min: float = Field(default=30.0, ge=0, le=600)
    reluctance: float = Field(default=0.3, ge=0, le=1)


class ProvinceModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    days: int = Field(default=1, ge=1, le=3650)
    seed: int = 0
    centres: list[str] = Field(min_length=2, max_length=20)
    cross_centre: CrossCentre = CrossCentre()


@dataclass(frozen=True)
class ProvinceScenario:
    name: str
    days: int
    seed: int
    centres: tuple[Scenario, ...]
    cross: CrossCentre
    accepts: tuple[frozenset[str], ...]   # per centre: the procedures it takes from another centre's citizens

    def with_cross(self, allowed: bool) -> "ProvinceScenario":
        return ProvinceScenario(self.name, self.days, self.seed, self.centres,
                                self.cross.model_copy(update={"allowed": allowed}), self.accepts)


def load_province(path: str | Path) -> ProvinceScenario:
    """Read and validate a province scenario; ScenarioError names any bad field."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"cannot read province scenario {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path} is not valid YAML: {exc}") from None
    return parse_province(data, base_dir=path.parent, source=str(path))


def parse_province(data: Any, base_dir: str | Path = ".", source: str = "province scenario") -> ProvinceScenario:
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a mapping with name and centres")
    try:
        model = ProvinceModel.model_validate(data)
    except ValidationError as exc:
        lines = [f"  {format_loc(e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()]
        raise ScenarioError(f"{source} is not valid:\n" + "\n".join(lines)) from None
    centres = tuple(load_scenario(Path(base_dir) / c) for c in model.centres)
    problems = []
    ids = [c.site.id for c in centres]
    if len(set(ids)) != len(ids):
        problems.append(f"centres: two centres have the same site id ({', '.join(ids)})")
    for i, c in enumerate(centres):
        if c.appointments is None:
            problems.append(f"centres[{i}] ({c.site.id}): needs an appointments section (who books)")
        elif c.appointments.lead_days != {0: 1.0} or c.appointments.later_days:
            # a province run books every centre's bookers at each day's midnight for that day
            problems.append(f"centres[{i}] ({c.site.id}): appointments.lead_days and later_days are not "
                            f"simulated in a province run (bookings are made on the day): leave them out")
    common = frozenset.intersection(*(frozenset(c.site.procedure_by_id) for c in centres))
    # By default what each centre takes from anyone in the province, as its site config says
    # (`bookings.any_residence`, the fact the portal reads from its offer, per centre); an
    # explicit list, the same at every centre, overrides it for a what-if.
    listed = model.cross_centre.procedures
    accepts = (tuple(frozenset(c.site.any_residence) for c in centres) if listed is None
               else tuple(frozenset(listed) for _ in centres))
    for p in sorted(frozenset(listed or ()) - common):
        problems.append(f"cross_centre.procedures: {p!r} is not a procedure of every centre")
    if problems:
        raise ScenarioError(f"{source} is not valid:\n" + "\n".join("  " + p for p in problems))
    return ProvinceScenario(name=model.name, days=model.days, seed=model.seed, centres=centres,
                            cross=model.cross_centre, accepts=accepts)


@dataclass
class _Booker:
    centre: int
    k: int
    cit: Citizen
    gone: float
    late_min: float
    reluctant: bool


class ProvinceSimulation:
    """Simulate the province's centres together; `run()` -> one list of DayResult per centre."""

    def __init__(self, province: ProvinceScenario, policy: str = "dynamic", seed: int | None = None,
                 days: int | None = None, forecast: bool = False):
        self.p = province
        self.seed = province.seed if seed is None else seed
        self.days = province.days if days is None else days
        self.sims = [Simulation(sc, policy, seed=self.seed * SEED_STRIDE + i, days=self.days, forecast=forecast)
                     for i, sc in enumerate(province.centres)]

    def run(self) -> list[list[DayResult]]:
        out: list[list[DayResult]] = [[] for _ in self.sims]
        for day in range(self.days):
            begun = [sim.begin_day(day) for sim in self.sims]
            plans = self._book(day, begun)
            for i, (sim, (res, _)) in enumerate(zip(self.sims, begun)):
                walk_ins, check_ins = plans[i]
                out[i].append(sim.play_day(res, walk_ins, check_ins))
        return out

    def _book(self, day: int, begun: list[tuple[DayResult, list[Citizen]]]):
        """Every centre's bookers book, in the order of the times they would have come; per centre
        (its walk-ins, the check-ins of those who come to it)."""
        plans: list[tuple[list[Citizen], list[CheckIn]]] = [([], []) for _ in self.sims]
        bookers: list[_Booker] = []
        for i, (sim, (_res, citizens)) in enumerate(zip(self.sims, begun)):
            ap = sim.sc.appointments
            assert ap is not None
            # The same three draws per citizen as Simulation._book, then the province's own one.
            rng = random.Random(f"{sim.seed}:{day}:appointments")
            rel = random.Random(f"{sim.seed}:{day}:province")
            for k, cit in enumerate(citizens):
                u, gone, late = rng.random(), rng.random(), rng.gauss(ap.punctuality_min.mean, ap.punctuality_min.sd)
                reluctant = rel.random() < self.p.cross.reluctance
                if u >= ap.share or cit.procedure is None or cit.extra:
                    plans[i][0].append(cit)
                else:
                    bookers.append(_Booker(i, k, cit, gone, late, reluctant))
        bookers.sort(key=lambda b: (b.cit.at, b.centre, b.k))
        for b in bookers:
            home = self.sims[b.centre]
            res = begun[b.centre][0]
            pick = self._choose(b)
            booking = None
            if pick is not None:
                j, slot = pick
                booking = self.sims[j]._create(b.cit.procedure, slot, f"{home.seed}:{day}:{b.k}")
            if booking is None:
                res.booking_refused += 1
                plans[b.centre][0].append(b.cit)
                continue
            there = self.sims[j]
            begun[j][0].bookings += 1
            if b.gone < there.sc.appointments.no_show:
                begun[j][0].booked_no_show += 1
                continue
            plans[j][1].append(there.check_in_of(booking, b.cit, b.late_min, away=j != b.centre))
        for walk_ins, check_ins in plans:
            walk_ins.sort(key=lambda c: (c.at, c.sector))
        return plans

    def _choose(self, b: _Booker) -> tuple[int, str] | None:
        """(centre, slot) starting first once another centre's travel is added; the own centre
        first on a tie; None when no centre has a slot that day."""
        home = self.sims[b.centre]
        midnight = home._midnight
        wanted = next((a for _, a, e in bookings.slots_of_day(home.config, midnight.date())
                       if (e - midnight).total_seconds() > b.cit.at), None)
        if wanted is None:
            return None
        centres = [b.centre]
        if self.p.cross.allowed and not b.reluctant:
            centres += [j for j in range(len(self.sims)) if j != b.centre and b.cit.procedure in self.p.accepts[j]]
        best: tuple[datetime, int, str] | None = None
        for j in centres:
            sim = self.sims[j]
            slot = bookings.next_free(sim.state, sim.config, b.cit.procedure, wanted, midnight)
            if slot is None or slot[:10] != wanted.date().isoformat():
                continue
            start, _ = bookings.parse_slot(sim.config, slot)
            cost = start + timedelta(minutes=self.p.cross.travel_min if j != b.centre else 0)
            if best is None or cost < best[0]:
                best = (cost, j, slot)
        return None if best is None else (best[1], best[2])


def centre_figures(days: list[DayResult]) -> dict[str, Any]:
    """One centre's figures: those of `appointment_figures` and `carry_over_figures`, the mean wait
    of everyone served (walk-ins from their ticket, booked citizens after their slot), and how
    many booked citizens came from another centre."""
    fig = {**appointment_figures(days), **carry_over_figures(days)}
    waits = [r.wait_s for d in days for r in d.records if not r.booked]
    waits += [b.called_s - max(b.slot_s, b.checked_in_s) for d in days for b in d.booked if b.called_s is not None]
    fig["mean_wait_s"] = round(sum(waits) / len(waits), 1) if waits else 0.0
    fig["served"] = len(waits)
    fig["booked_from_elsewhere"] = sum(1 for d in days for b in d.booked if b.away)
    # checked in for a slot, yet not called by the closing (sent home with carry_over)
    fig["booked_never_called"] = sum(1 for d in days for b in d.booked if b.called_s is None)
    return fig
