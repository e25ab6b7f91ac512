"""Training: which (counter, sector) skill to add, ranked by what each buys (docs/planning.md).

Greedy, each step simulated: every candidate skill is a counter not yet trained for a sector that
has citizens. The fluid shortfall of flow.py (Jordan & Graves' measure; ties go to the skill that
joins the farthest-apart ends of the skill graph, which makes their long chain) orders them, the
first `shortlist` are simulated on the scenario's days with every counter on its whole trained
list, oldest first (what auto mode reaches within 3 %, docs/balancing.md), and the one with the
lowest mean wait is added; then the next step starts from there. Every variant meets the same
citizens (the simulator's common random numbers), so the differences are the skill's, not luck's.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from queue_server.planning import flow, variants
from queue_server.sim.scenario import Scenario

EVALUATED_WITH = "oldest-first over trained"
SHORTLIST = 6
# A skill that lowers the mean wait by less than this share is not suggested: smaller differences
# are within what other simulated days would change, and training a clerk is not free.
MIN_GAIN = 0.02


@dataclass(frozen=True)
class Outcome:
    mean_wait_s: float
    p90_wait_s: float

    @property
    def key(self) -> tuple[float, float]:
        return (self.mean_wait_s, self.p90_wait_s)


def evaluate(sc: Scenario, days: int, seed: int, policy: str = "oldest-first", sectors: str = "trained") -> Outcome:
    summary, _ = variants.run(sc, policy, days, seed, sectors=sectors)
    return Outcome(summary["mean_wait_s"], summary["p90_wait_s"])


def working_counters(sc: Scenario) -> list[str]:
    """Counters open at some time of the day (one closed all day cannot use a new skill)."""
    out = []
    for c in sc.site.counters:
        if c.initial_status == "open" or any(ch.counter == c.id and ch.status == "open" for ch in sc.counter_changes):
            out.append(c.id)
    return out


def candidates(sc: Scenario) -> list[tuple[str, str]]:
    working = set(working_counters(sc))
    return [(c.id, s) for c in sc.site.counters if c.id in working
            for s in sc.arrivals if s not in c.trained]


def ranked(sc: Scenario, fluid: flow.FluidDay) -> list[tuple[str, str]]:
    """The candidates, the most promising first (fluid shortfall, then chain length, then order)."""
    skills = flow.skills_of(sc)
    base = fluid.shortfall(skills)
    scored = []
    for i, (c, s) in enumerate(candidates(sc)):
        trial = {k: set(v) | ({s} if k == c else set()) for k, v in skills.items()}
        gain = base - fluid.shortfall(trial)
        scored.append((-round(gain, 6), -flow.distance(skills, c, s), i, (c, s)))
    scored.sort()
    return [x[-1] for x in scored]


@dataclass(frozen=True)
class Step:
    counter: str
    sector: str
    before: Outcome
    after: Outcome


@dataclass(frozen=True)
class Suggestions:
    static: Outcome
    pooled: Outcome
    now: Outcome
    candidates: int
    simulated: int
    steps: list[Step]

    def gap_captured(self, o: Outcome) -> float:
        gap = self.static.mean_wait_s - self.pooled.mean_wait_s
        return (self.static.mean_wait_s - o.mean_wait_s) / gap if gap > 0 else 1.0


def suggest(sc: Scenario, days: int, seed: int, count: int = 3, shortlist: int = SHORTLIST,
            progress: Callable[[str], None] | None = None, workers: int = 1) -> Suggestions:
    """Up to `count` skill additions, greedy, each with its simulated effect; fewer when no
    candidate lowers the mean wait by MIN_GAIN any more."""
    static, pooled, now = variants.pmap(evaluate, [(sc, days, seed, "static", "sectors"),
                                                   (sc, days, seed, "pooled", "sectors"),
                                                   (sc, days, seed)], workers)
    fluid = flow.FluidDay(sc)
    current, before = sc, now
    steps: list[Step] = []
    total = len(candidates(sc))
    simulated = 0
    for k in range(count):
        short = ranked(current, fluid)[:shortlist]
        outcomes = variants.pmap(evaluate, [(variants.with_trained(current, [cs]), days, seed) for cs in short],
                                 workers)
        simulated += len(short)
        if not outcomes:
            break
        after, (c, s) = min(zip(outcomes, short), key=lambda x: x[0].key)
        if after.mean_wait_s > before.mean_wait_s * (1.0 - MIN_GAIN):
            break
        steps.append(Step(c, s, before, after))
        if progress:
            progress(f"training {k + 1}: {c} for {s}: mean wait {before.mean_wait_s / 60:.1f} -> "
                     f"{after.mean_wait_s / 60:.1f} min")
        current, before = variants.with_trained(current, [(c, s)]), after
    return Suggestions(static, pooled, now, total, simulated, steps)
