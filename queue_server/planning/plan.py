"""The plan of a centre (docs/planning.md): one entry, `make_plan(scenario) -> Plan`, used by
`motcua plan` and by the managers' page, so both show the same computation.

Every figure is a prediction by simulating the scenario's days with the real domain
(queue_server/sim), with common random numbers: every variant meets the same citizens.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable, Sequence

from queue_server.planning import roster, staffing, texts, training, variants
from queue_server.sim.scenario import WEEKDAYS, Scenario

# The share of a sector's citizens who should be called within the sector's target wait
# (`target_wait_min` in the site config) when the site says nothing else; the usual
# service-level convention of contact centres ("80 % within the target").
DEFAULT_TARGET_SHARE = 0.8


@dataclass(frozen=True)
class StaffingCell:
    """One sector in one half-hour."""
    sector: str
    slot: str                 # start of the half-hour, "09:00"
    arrivals_per_hour: float
    offered_load: float       # arrivals x mean service: the counters kept busy on average (Erlangs)
    first_guess: int          # Erlang C: the least counters meeting the target in steady state
    need: int                 # after the correction by simulating the day
    roster: int               # open counters whose own (first) sector it is
    sim_within_target: float | None   # simulated share within target with `need` counters (None: no tickets)

    @property
    def shortfall(self) -> int:
        return max(0, self.need - self.roster)


@dataclass(frozen=True)
class Staffing:
    target_share: float
    slots: list[str]
    sectors: list[str]
    cells: list[StaffingCell]
    shortfall_counter_hours: float                 # sum over cells of max(0, need - roster) x 0.5 h
    shortfall_by_sector_h: dict[str, float]
    rounds: int                                    # simulation rounds the correction took


@dataclass(frozen=True)
class TrainingStep:
    """Train `counter` for `sector` (after the steps before it): the predicted effect."""
    counter: str
    sector: str
    mean_wait_before_s: float
    mean_wait_after_s: float
    p90_wait_before_s: float
    p90_wait_after_s: float
    gap_captured_after: float        # share of the static-to-pooled gap captured once added
    text: dict[str, str]             # {"vi": "Đào tạo Quầy 5 cho Lý lịch tư pháp: ...", "en": ...}


@dataclass(frozen=True)
class Training:
    evaluated_with: str              # how the candidates were simulated
    static_mean_wait_s: float
    pooled_mean_wait_s: float
    mean_wait_s: float               # today's trained lists
    p90_wait_s: float
    gap_captured: float
    candidates: int                  # skill additions considered
    simulated: int                   # of which simulated
    steps: list[TrainingStep]


@dataclass(frozen=True)
class RosterOption:
    """One way to cover an absent clerk: the counters whose sectors change (and spare counters opened)."""
    changes: dict[str, list[str]]    # counter -> the sectors it serves for the day
    opened: list[str]                # spare counters opened for the day
    mean_wait_s: float
    p90_wait_s: float
    never_called: int                # citizens of the simulated days nobody could call
    text: dict[str, str]


@dataclass(frozen=True)
class RosterCover:
    absent: str                      # the counter closed all day
    nobody_covers_mean_wait_s: float   # of the citizens called
    nobody_covers_never_called: int    # citizens nobody could call (their sector left without a counter)
    options: list[RosterOption]      # best first


@dataclass(frozen=True)
class Plan:
    scenario: str
    days: int                        # simulated days behind each figure
    seed: int
    sector_names: dict[str, dict[str, str]]
    counter_labels: dict[str, dict[str, str]]
    staffing: Staffing
    training: Training
    roster: list[RosterCover] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (the `--json` output and the page's data)."""
        out = asdict(self)
        for cell, raw in zip(self.staffing.cells, out["staffing"]["cells"]):
            raw["shortfall"] = cell.shortfall
        return out


# Simulated days behind each figure, at most: enough for the comparisons (every variant meets the
# same citizens), few enough to answer within a minute. Staffing plays one sector at a time,
# which is cheap, and judges each half-hour on its own citizens, so it plays more days.
PLAN_DAYS = 10
STAFFING_DAYS = 20


class WeekdayClosed(ValueError):
    """A plan asked for a weekday the centre is closed on."""


def on_weekday(scenario: Scenario, weekday: str) -> Scenario:
    """The scenario with every simulated day a `weekday` ("mon".."sun"): that weekday's own arrivals
    where the scenario has them (a learned scenario has them for a weekday whose days differ from
    the others'), else the usual day's. ValueError for a weekday the centre is closed on."""
    if weekday not in WEEKDAYS:
        raise ValueError(f"unknown weekday {weekday!r}; one of {', '.join(WEEKDAYS)}")
    w = WEEKDAYS.index(weekday)
    if w in scenario.closed_weekdays:
        raise WeekdayClosed(f"the centre is closed on {weekday} in this scenario (closed_weekdays)")
    return replace(scenario, name=f"{scenario.name} ({weekday})",
                   arrivals=scenario.weekday_arrivals.get(w, scenario.arrivals), weekday_arrivals={})


def make_plan(scenario: Scenario, *, days: int | None = None, seed: int | None = None,
              target_share: float = DEFAULT_TARGET_SHARE, suggestions: int = 3,
              absent: Sequence[str] | None = None,
              progress: Callable[[str], None] | None = None, workers: int = 1) -> Plan:
    """The plan for `scenario`: staffing, training suggestions (`suggestions` of them, greedy) and
    who covers each counter in `absent` (default: the one the centre can least spare,
    roster.default_absent). `days` defaults to the scenario's (at most PLAN_DAYS), `seed` to its
    own; `progress` gets a line per stage (for the CLI); `workers` > 1 simulates on that many
    forked processes (variants.pmap: the same plan, sooner; only from a single-threaded program).
    ValueError for an unknown counter or a target share outside (0, 1)."""
    if not 0.0 < target_share < 1.0:
        raise ValueError(f"target share {target_share} must be between 0 and 1 (e.g. 0.8 for 80 %)")
    site = scenario.site
    for c in absent or ():
        if c not in site.counter_by_id:
            raise ValueError(f"unknown counter {c!r}; the site's counters: {', '.join(site.counter_by_id)}")
    days = days or min(scenario.days, PLAN_DAYS)
    seed = scenario.seed if seed is None else seed
    names = {s.id: {"vi": s.name.vi, "en": s.name.en} for s in site.sectors}
    labels = {c.id: {"vi": c.label.vi, "en": c.label.en} for c in site.counters}

    staff = _staffing(scenario, target_share, max(days, STAFFING_DAYS), seed, progress, workers)
    train = _training(scenario, days, seed, suggestions, names, labels, progress, workers)
    covers = [_cover(scenario, c, days, seed, names, labels, progress, workers)
              for c in (roster.default_absent(scenario) if absent is None else absent)]
    return Plan(scenario=scenario.name, days=days, seed=seed, sector_names=names, counter_labels=labels,
                staffing=staff, training=train, roster=covers)


def _staffing(sc: Scenario, share: float, days: int, seed: int,
              progress: Callable[[str], None] | None, workers: int) -> Staffing:
    day_slots = staffing.slots(sc)
    cells: list[StaffingCell] = []
    by_sector: dict[str, float] = {}
    rounds = 0
    sectors = [s.id for s in sc.site.sectors if s.id in sc.arrivals]
    needs = variants.pmap(staffing.sector_need, [(sc, sector, share, days, seed, day_slots) for sector in sectors],
                          workers)
    for sector, need in zip(sectors, needs):
        rounds = max(rounds, need.rounds)
        have = staffing.roster_counts(sc, sector, day_slots)
        for i, slot in enumerate(day_slots):
            got = need.shares[i]
            cells.append(StaffingCell(sector=sector, slot=slot.label, arrivals_per_hour=round(need.rates[i], 2),
                                      offered_load=round(need.loads[i], 2), first_guess=need.first_guess[i],
                                      need=need.need[i], roster=have[i],
                                      sim_within_target=None if got is None else round(got[0], 3)))
        by_sector[sector] = sum(max(0, n - h) * (s.end - s.start) / 3600.0
                                for n, h, s in zip(need.need, have, day_slots))
        if progress:
            progress(f"staffing: {sector}: {by_sector[sector]:.1f} counter-hours short")
    return Staffing(target_share=share, slots=[s.label for s in day_slots], sectors=sectors, cells=cells,
                    shortfall_counter_hours=round(sum(by_sector.values()), 2),
                    shortfall_by_sector_h={k: round(v, 2) for k, v in by_sector.items()}, rounds=rounds)


def _training(sc: Scenario, days: int, seed: int, count: int, names: dict, labels: dict,
              progress: Callable[[str], None] | None, workers: int) -> Training:
    found = training.suggest(sc, days, seed, count=count, progress=progress, workers=workers)
    steps = []
    for st in found.steps:
        text = texts.both("Train {counter} for {sector}: mean wait {before} → {after} min",
                          counter=labels[st.counter], sector=names[st.sector],
                          before=_by_lang(texts.minutes, st.before.mean_wait_s),
                          after=_by_lang(texts.minutes, st.after.mean_wait_s))
        steps.append(TrainingStep(counter=st.counter, sector=st.sector,
                                  mean_wait_before_s=st.before.mean_wait_s, mean_wait_after_s=st.after.mean_wait_s,
                                  p90_wait_before_s=st.before.p90_wait_s, p90_wait_after_s=st.after.p90_wait_s,
                                  gap_captured_after=round(found.gap_captured(st.after), 4), text=text))
    return Training(evaluated_with=training.EVALUATED_WITH, static_mean_wait_s=found.static.mean_wait_s,
                    pooled_mean_wait_s=found.pooled.mean_wait_s, mean_wait_s=found.now.mean_wait_s,
                    p90_wait_s=found.now.p90_wait_s, gap_captured=round(found.gap_captured(found.now), 4),
                    candidates=found.candidates, simulated=found.simulated, steps=steps)


def _cover(sc: Scenario, absent: str, days: int, seed: int, names: dict, labels: dict,
           progress: Callable[[str], None] | None, workers: int) -> RosterCover:
    got = roster.cover(sc, absent, days, seed, progress=progress, workers=workers)
    options = []
    for o in got.options:
        parts = [texts.both("Open {counter} for {sectors}", counter=labels[c],
                            sectors=_sector_list(sc.site.counter_by_id[c].sectors, names)) for c in o.opened]
        for c, sectors in o.changes.items():
            added = [s for s in sectors if s not in sc.site.counter_by_id[c].sectors]
            parts.append(texts.both("{counter} also serves {sectors}", counter=labels[c],
                                    sectors=_sector_list(added, names)))
        changes = {lang: "; ".join(p[lang] for p in parts) for lang in ("vi", "en")}
        text = texts.both("{changes}: mean wait {after} min", changes=changes,
                          after=_by_lang(texts.minutes, o.mean_wait_s))
        options.append(RosterOption(changes=o.changes, opened=o.opened, mean_wait_s=o.mean_wait_s,
                                    p90_wait_s=o.p90_wait_s, never_called=o.never_called, text=text))
    return RosterCover(absent=absent, nobody_covers_mean_wait_s=got.nobody.mean_wait_s,
                       nobody_covers_never_called=got.nobody.never_called, options=options)


def _by_lang(fmt: Callable[[float, str], str], value: float) -> dict[str, str]:
    return {lang: fmt(value, lang) for lang in ("vi", "en")}


def _sector_list(sectors: Sequence[str], names: dict) -> dict[str, str]:
    return {lang: ", ".join(names[s][lang] for s in sectors) for lang in ("vi", "en")}
