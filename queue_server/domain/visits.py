"""A visit: one ticket for several procedures (docs/visits.md).

The order the procedures are served in, and the estimated end of the whole visit, from what the
site knows now: each sector's shown wait (the board's) and each procedure's service time.

The model of a visit: the citizen is served procedure by procedure; after each one they join the
next sector's queue in the place their ticket gave them at issue (the transfer rule: it keeps
`order`), so that queue's wait has been running for them all along. Procedure k starts at
max(end of procedure k-1, issue + the sector's wait) and ends a service time later. The order is
the one that ends the visit first over every order of the sectors (at most 5! = 120), each
sector's procedures together in the citizen's order (one queue, one counter, no second wait);
ties go to the shorter wait first, then to the citizen's order.
"""
from __future__ import annotations

from itertools import permutations
from typing import Any, Callable, Sequence

from protocol.messages import VisitStep, VisitView

Item = tuple[str, str | None]     # (sector, procedure)


def plan(items: Sequence[Item], wait_s: Callable[[str], float],
         service_s: Callable[[str, str | None], float]) -> tuple[list[Item], float]:
    """(the items in the order that ends the visit first, the seconds from now to its end)."""
    groups: dict[str, list[Item]] = {}
    for it in items:
        groups.setdefault(it[0], []).append(it)
    sectors = list(groups)
    waits = {s: float(wait_s(s)) for s in sectors}
    best: tuple[float, list[float], list[int]] | None = None
    best_order: tuple[str, ...] = tuple(sectors)
    for perm in permutations(range(len(sectors))):
        order = tuple(sectors[i] for i in perm)
        end = end_of([it for s in order for it in groups[s]], waits.__getitem__, service_s)
        key = (round(end, 6), [waits[s] for s in order], list(perm))
        if best is None or key < best:
            best, best_order = key, order
    ordered = [it for s in best_order for it in groups[s]]
    return ordered, end_of(ordered, waits.__getitem__, service_s)


def end_of(items: Sequence[Item], wait_s: Callable[[str], float],
           service_s: Callable[[str, str | None], float], first_wait_s: float | None = None,
           rejoin_s: Callable[[str], float] | None = None) -> float:
    """Seconds from issue to the end of the visit served in this order (the module's model);
    `first_wait_s`: the first procedure's wait when known better (the printed wait); `rejoin_s`:
    how long a citizen who rejoins a sector with nobody left ahead of them waits for one of its
    counters to free (its services under way; none: at once). The printed end uses it, the
    order does not (`plan`: it is about the same for every order)."""
    t = 0.0
    for k, (sector, proc) in enumerate(items):
        w = first_wait_s if k == 0 and first_wait_s is not None else wait_s(sector)
        rejoin = t + rejoin_s(sector) if rejoin_s is not None and k > 0 and items[k - 1][0] != sector else t
        t = max(rejoin, w) + service_s(sector, proc)
    return t


def view(t: Any) -> dict[str, Any] | None:
    """VisitView of a ticket of more than one procedure; None for a single-procedure ticket."""
    if not t.visit:
        return None
    return VisitView.build(step=t.step_number, steps=t.steps,
                           procedures=[VisitStep.build(sector=p["sector"], procedure=p["procedure"], status=p["status"])
                                       for p in t.visit if p["status"] != "dropped"],
                           end_s=t.visit_end_s)


def step_fields(t: Any) -> dict[str, int]:
    """{"step", "steps"} for a message about a visit's ticket ("2/3"); {} for a single one."""
    return {"step": t.step_number, "steps": t.steps} if t.visit else {}
