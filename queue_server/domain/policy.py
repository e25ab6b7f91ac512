"""Calling policies: which waiting ticket a counter gets when it asks for the next one.

A policy only reads the state; it never changes it. The live site and the
simulator call the very same objects (`queue_server.sim` runs them on
simulated days; docs/balancing.md has the figures).

Every policy keeps one rule inside a sector: priority citizens first, then
the ticket with the earliest `order` (a transferred citizen keeps the order
of their first ticket, so they keep their place). Policies differ in which
of the counter's sectors they call from.
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Protocol

from queue_server.domain.site import SiteConfig
from queue_server.domain.state import SiteState
from queue_server.domain.tickets import BOOKED_RANK, CounterRuntime, Ticket


class Policy(Protocol):
    """What the forecast (forecast/) asks of a policy to play the site forward as it calls."""
    name: str
    # True: the forecast plays the policy's own score (`pick`, DynamicPolicy); False: priority
    # first, then the longest waiting over the counter's reach.
    scores: bool
    # Whether a counter's assigned sectors decide what it calls from, so auto mode's moves
    # (AutoBalancer.idle_reach) change it; False for a policy that ignores them.
    follows_counter_sectors: bool

    def choose(self, state: SiteState, config: SiteConfig, counter: str, now: float) -> Ticket | None:
        """The ticket `counter` should call now (epoch seconds `now`), or None."""

    def reach(self, state: SiteState, config: SiteConfig, rt: CounterRuntime) -> tuple[str, ...]:
        """The sectors counter `rt` calls from under this policy now."""


class _OwnSectors:
    """A policy whose counters call from their assigned sectors."""
    scores = False
    follows_counter_sectors = True

    def reach(self, state: SiteState, config: SiteConfig, rt: CounterRuntime) -> tuple[str, ...]:
        return tuple(rt.sectors)


def eligible_sectors(state: SiteState, counter: str) -> list[str]:
    return list(state.counters[counter].sectors)


def head_of(state: SiteState, sector: str) -> Ticket | None:
    """The ticket a sector's queue calls next: priority first, then the earliest order."""
    best: Ticket | None = None
    for tid in state.waiting.get(sector, ()):
        t = state.tickets[tid]
        if best is None or (t.rank, t.order) < (best.rank, best.order):
            best = t
    return best


def _oldest_over(state: SiteState, sectors) -> Ticket | None:
    best: Ticket | None = None
    for sector in sectors:
        t = head_of(state, sector)
        if t is not None and (best is None or (t.rank, t.order) < (best.rank, best.order)):
            best = t
    return best


class OldestFirstPolicy(_OwnSectors):
    """Priority citizens first, then the ticket that has waited longest over the counter's sectors."""

    name = "oldest-first"

    def choose(self, state: SiteState, config: SiteConfig, counter: str, now: float) -> Ticket | None:
        return _oldest_over(state, eligible_sectors(state, counter))


class StaticPolicy:
    """Each counter calls only its first sector: how most centres work today (the baseline)."""

    name = "static"
    scores = False
    # Calls only its first sector; auto mode adds sectors after it, so its moves change nothing.
    follows_counter_sectors = False

    def reach(self, state: SiteState, config: SiteConfig, rt: CounterRuntime) -> tuple[str, ...]:
        return tuple(rt.sectors[:1])

    def choose(self, state: SiteState, config: SiteConfig, counter: str, now: float) -> Ticket | None:
        sectors = state.counters[counter].sectors
        return head_of(state, sectors[0]) if sectors else None


class PooledPolicy:
    """Every counter serves every sector, oldest first: the reference lower bound no skill set can beat."""

    name = "pooled"
    scores = False
    follows_counter_sectors = False

    def reach(self, state: SiteState, config: SiteConfig, rt: CounterRuntime) -> tuple[str, ...]:
        return tuple(s.id for s in config.sectors)

    def choose(self, state: SiteState, config: SiteConfig, counter: str, now: float) -> Ticket | None:
        return _oldest_over(state, state.waiting.keys())


class DynamicPolicy(_OwnSectors):
    """The production policy: what a skilled floor manager weighs, as one score per sector.

    For each of the counter's sectors with someone waiting, take the ticket
    that sector would call next (priority first, then oldest; a transferred
    citizen keeps the order of their first ticket, so keeps their place) and
    score the sector:

        score = scarcity x effective wait x (mean service / sector service) ** SERVICE_WEIGHT

    - effective wait: how long the head ticket has waited, plus a bonus for a
      transferred citizen (they queued once already), plus part of the queue
      behind it spread over the counters that can serve the sector (a long
      queue presses harder than a lone ticket of the same age);
    - scarcity: a sector few other open counters can take now (none idle,
      few sharing it) weighs more here: a counter should not leave a queue
      that only it can drain in favour of one many counters share;
    - a short service frees the counter sooner (the c-mu rule: the sector with
      the shorter mean service is called first, other things equal);
    - the sector's target acts through the bound below (a ticket is overdue at
      4 x its target) and through auto mode (a surge is a predicted wait over
      target). Dividing the wait by target ** TARGET_EXP inside the score was
      measured (TARGET_EXP 0.5, 0.25, 0.1): it lengthened the p90 wait on the
      urban surge by 1-4% for no gain in the mean, so TARGET_EXP is 0.

    Two rules sit above the score:

    1. Bounded wait (no starvation). A ticket is *overdue* once it has waited
       `STARVE_FACTOR` x its sector's target (`PRIORITY_STARVE_FACTOR` for
       priority citizens). Overdue tickets are called before anything else,
       earliest deadline first (deadline = order + limit). A ticket issued
       after another's deadline has a later deadline, so once a ticket is
       overdue no newcomer overtakes it at any open counter serving its
       sector: it is called after at most the tickets already waiting at its
       deadline with an earlier deadline, i.e. within its limit plus the time
       those take (tests/unit/test_policy_dynamic.py checks both the rule, as
       a property over random queues, and a flood case).
    2. Priority citizens (by law) are called before normal tickets in the
       counter's sectors, unless rule 1 applies.

    Bookings (issue #16, docs/appointments.md): a checked-in booking is in its
    sector's queue only from its slot's start (bookings.due_events), ranks
    between priority citizens and walk-ins inside its sector (BOOKED_RANK), and
    a sector whose head it is counts as urgent under rule 2. Rule 1 stays above:
    it joins the queue with its slot's start as its place, so its deadline is
    never earlier than that of a walk-in already waiting, and an overdue walk-in
    is still called before it.

    The weights were chosen by a grid on 30 simulated days of the five shipped
    scenarios and checked on three other seeds (docs/balancing.md); they move
    the results by 1-3%, which is itself a finding: with lognormal services
    and a policy that cannot know one citizen's service time before the call,
    the skill sets, not the order, set the waits.
    """

    name = "dynamic"
    scores = True      # the forecast plays `pick`, the code the live site decides with
    STARVE_FACTOR = 4.0
    PRIORITY_STARVE_FACTOR = 2.0
    TRANSFER_BONUS_S = 300.0
    QUEUE_WEIGHT = 0.5
    SCARCITY_WEIGHT = 3.0
    SERVICE_WEIGHT = 0.5
    LATENESS_POWER = 1.0
    TARGET_EXP = 0.0

    def choose(self, state: SiteState, config: SiteConfig, counter: str, now: float) -> Ticket | None:
        from queue_server.domain.estimate import mean_service_s  # estimate imports nothing from here
        heads: dict[str, Ticket] = {}
        for sector in state.counters[counter].sectors:
            t = head_of(state, sector)
            if t is not None:
                heads[sector] = t
        if not heads:
            return None
        shares = _capacity_shares(state, counter)
        views = []
        oldest_normal: dict[str, Ticket] = {}
        for sector, t in heads.items():
            if t.rank < 1:      # a priority citizen or a due booking heads it: an older walk-in may be overdue
                normal = _oldest_normal(state, sector)
                if normal is not None:
                    oldest_normal[sector] = normal
            mine_share, others_share, others_free = shares.get(sector, (1.0, 0.0, 0.0))
            views.append(SectorView(
                sector, t.rank == 0, t.order, t.transferred,
                oldest_normal[sector].order if sector in oldest_normal else None,
                state.waiting_count(sector), mean_service_s(state, config, sector),
                config.sector_by_id[sector].target_wait_min * 60.0, mine_share + others_share, others_free,
                _appointment_due(t, now)))
        sector, normal = self.pick(views, now)
        return oldest_normal[sector] if normal else heads[sector]

    def pick(self, views: "list[SectorView]", now: float) -> tuple[str, bool]:
        """The rules and the score over plain figures: (sector to call from, whether to call its
        oldest normal ticket rather than its head). The live site (`choose`) and the printed-wait
        forecast (forecast/, which plays the site forward) both decide through here."""
        # Rule 1: overdue tickets, earliest deadline first. Only a sector's head can be its
        # earliest deadline among normal tickets (same limit, earliest order); priority
        # tickets have a shorter limit, so the oldest normal one behind a priority head counts too.
        overdue = None
        for v in views:
            deadline = v.order + self.limit_for(v.target_s, v.priority)
            if deadline <= now and (overdue is None or (deadline, v.order) < overdue[:2]):
                overdue = (deadline, v.order, v.sector, False)
            if v.normal_order is not None:
                deadline = v.normal_order + self.limit_for(v.target_s, False)
                if deadline <= now and (overdue is None or (deadline, v.normal_order) < overdue[:2]):
                    overdue = (deadline, v.normal_order, v.sector, True)
        if overdue is not None:
            return overdue[2], overdue[3]
        # Rule 2: priority citizens (and appointments due) first, oldest of them.
        urgent = [v for v in views if v.priority or v.appointment_due]
        if urgent:
            return min(urgent, key=lambda v: v.order).sector, False
        # The score.
        ref = sum(v.service_s for v in views) / len(views)
        best_key: tuple[float, float] | None = None
        best = views[0].sector
        for v in views:
            waited = max(0.0, now - v.order)
            if v.transferred:
                waited += self.TRANSFER_BONUS_S
            # The queue behind the head, spread over every counter's share of the sector.
            backlog = (v.waiting - 1) * v.service_s / max(v.capacity, 0.25)
            eff = waited + self.QUEUE_WEIGHT * backlog
            # The less other counters can take this sector now, the more it is this counter's job.
            scarcity = 1.0 + self.SCARCITY_WEIGHT / (1.0 + v.others_free)
            score = (scarcity * (eff / v.target_s ** self.TARGET_EXP) ** self.LATENESS_POWER
                     * (ref / v.service_s) ** self.SERVICE_WEIGHT)
            key = (score, -v.order)
            if best_key is None or key > best_key:
                best_key, best = key, v.sector
        return best, False

    def limit_s(self, config: SiteConfig, t: Ticket) -> float:
        """How long `t` may wait before rule 1 (bounded wait) calls it ahead of everything."""
        return self.limit_for(config.sector_by_id[t.sector].target_wait_min * 60.0, t.rank == 0)

    def limit_for(self, target_s: float, priority: bool) -> float:
        return target_s * (self.PRIORITY_STARVE_FACTOR if priority else self.STARVE_FACTOR)


class SectorView(NamedTuple):
    """What `DynamicPolicy.pick` weighs about one of the counter's sectors with someone waiting."""
    sector: str
    priority: bool                # the head is a priority citizen
    order: float                  # the head's place (epoch seconds; a transfer keeps the first)
    transferred: bool
    normal_order: float | None    # the oldest normal ticket's place, when the head is a priority one
    waiting: int
    service_s: float              # the sector's mean service
    target_s: float
    capacity: float               # all open counters' shares of the sector, this one's included
    others_free: float            # what other counters can take of it now (_capacity_shares)
    appointment_due: bool = False  # the head has an appointment whose time has come


def _oldest_normal(state: SiteState, sector: str) -> Ticket | None:
    best = None
    for tid in state.waiting.get(sector, ()):
        t = state.tickets[tid]
        if t.rank != 0 and (best is None or t.order < best.order):
            best = t
    return best


def _appointment_due(t: Ticket, now: float) -> bool:
    """A booking in the queue is due: it joins it only at its slot's start."""
    return t.rank == BOOKED_RANK


def _capacity_shares(state: SiteState, counter: str) -> dict[str, tuple[float, float, float]]:
    """sector -> (this counter's share, other open counters' share, their free capacity now).

    A counter serving n sectors gives each 1/n of its time. Free capacity: an
    idle other counter will call at once (a whole counter); a busy one gives
    half its share (it calls again only after its citizen).
    """
    out: dict[str, list[float]] = {}
    for c in state.counters.values():
        if not c.on_duty or not c.sectors:
            continue
        share = 1.0 / len(c.sectors)
        for s in c.sectors:
            row = out.setdefault(s, [0.0, 0.0, 0.0])
            if c.id == counter:
                row[0] += share
            else:
                row[1] += share
                row[2] += 0.5 * share if c.serving else 1.0
    return {s: (r[0], r[1], r[2]) for s, r in out.items()}


DEFAULT_POLICY = DynamicPolicy

POLICIES: dict[str, Callable[[], Policy]] = {
    "static": StaticPolicy,
    "dynamic": DynamicPolicy,
    "pooled": PooledPolicy,
    "oldest-first": OldestFirstPolicy,
}


def make_policy(name: str) -> Policy:
    """A policy by name (`POLICIES`); ValueError naming the known ones otherwise."""
    try:
        return POLICIES[name]()
    except KeyError:
        raise ValueError(f"unknown policy {name!r}; known: {', '.join(POLICIES)}") from None
