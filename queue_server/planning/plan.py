"""The plan of a centre (docs/planning.md): one entry, `make_plan(scenario) -> Plan`, used by
`motcua plan` and by the managers' page, so both show the same computation.

Every figure is a prediction by simulating the scenario's days with the real domain
(queue_server/sim), with common random numbers: every variant meets the same citizens.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

from queue_server.sim.scenario import Scenario

# The share of a sector's citizens who should be called within the sector's target wait
# (`target_wait_min` in the site config) when the site says nothing else; the usual
# service-level convention of contact centres ("80 % within the target").
DEFAULT_TARGET_SHARE = 0.8
SLOT_S = 1800   # a half-hour: the grain of the staffing plan and of the arrival profile


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
    text: dict[str, str]


@dataclass(frozen=True)
class RosterCover:
    absent: str                      # the counter closed all day
    nobody_covers_mean_wait_s: float
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


def make_plan(scenario: Scenario, *, days: int | None = None, seed: int | None = None,
              target_share: float = DEFAULT_TARGET_SHARE, suggestions: int = 3,
              absent: Sequence[str] | None = None,
              progress: Callable[[str], None] | None = None) -> Plan:
    """The plan for `scenario`: staffing, training suggestions (`suggestions` of them, greedy) and
    who covers each counter in `absent` (default: see roster.default_absent).
    `days`/`seed` default to the scenario's; `progress` gets a line per stage (for the CLI)."""
    raise NotImplementedError("being written (issue #17)")
