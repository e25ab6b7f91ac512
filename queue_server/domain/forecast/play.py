"""One play of the forecast: the site played forward from now until the new ticket is called,
with every counter calling as the site's policy does."""
from __future__ import annotations

import bisect
import heapq
import random
from collections import deque

from queue_server.domain.autobalance import AutoBalancer
from queue_server.domain.policy import DynamicPolicy, SectorView

MAX_STEPS = 4000                 # events in one run: a bound, never reached on a real day


def later_factors(model: dict, later) -> tuple[tuple[str, float | None], ...]:
    """A visit's later procedures as the play needs them, (sector, log factor), in the sectors it
    plays (a sector no counter calls from now is left out)."""
    return tuple((s, model[s].log_factor(p)) for s, p in later if s in model)


class Play:
    """The site played forward from now until the new ticket is called, once per `run`.

    Counters call as the site's policy does: DynamicPolicy's own rules and score
    (`DynamicPolicy.pick`, the code the live site decides with), or, for the
    reference policies, priority first and then the longest waiting over their sectors."""

    def __init__(self, scored: DynamicPolicy | None, model: dict, busy0: list, now_s: float, sod: int):
        self.scored, self.model, self.busy0, self.now_s, self.sod = scored, model, busy0, now_s, sod
        self.home = [reach for reach, *_ in busy0]
        self.full = [full for *_, full in busy0]
        self.target = {s: m.target_s for s, m in model.items()}
        self._share_out(list(self.home))
        self.initial = (self.sharing, self.capacity)

    def _share_out(self, reaches: list) -> None:
        """sector -> [(counter, its share of the sector)] and all counters' shares together."""
        self.reaches = reaches
        self.sharing: dict[str, list[tuple[int, float]]] = {}
        for i, reach in enumerate(reaches):
            for s in reach:
                self.sharing.setdefault(s, []).append((i, 1.0 / len(reach)))
        self.capacity = {s: sum(share for _, share in row) for s, row in self.sharing.items()}

    def run(self, rng: random.Random, queues0: dict, watch=None) -> float:
        """One play; the new ticket's wait in seconds (seconds played, when there is none).
        `watch` (a what-if, whatif.py) sees every call: `watch.called(sector, order, at, queues)`
        ends the play when it returns True, and `watch.left(queues, at)` gets who is still
        waiting when the play ends otherwise."""
        return self._run(rng, queues0, watch, None)[0]

    def run_visit(self, rng: random.Random, queues0: dict, order: float, normal: bool, first: float | None,
                  rest: list[tuple[str, float | None]]) -> tuple[float, float]:
        """One play of a visit's ticket: (its first wait, the end of its last procedure), in
        seconds from now. `order`, `normal`: the ticket's place and line; `first`: the log factor
        of the first procedure (None: the sector's whole spread); `rest`: the later procedures,
        (sector, log factor), in the order served. The play goes on as the live site does (docs/visits.md): after each service the citizen
        is called again at once when the counter serves the next sector ("continue here"), else
        joins that sector's queue in the place their ticket gave them (its `order`, the transfer
        rule), where everyone still ahead, and the counters' services then under way, come first."""
        return self._run(rng, queues0, None, (first, rest, order, normal))

    def _run(self, rng: random.Random, queues0: dict, watch, visit) -> tuple[float, float]:
        model = self.model
        queues = {s: (deque(pq), deque(nq)) for s, (pq, nq) in queues0.items()}
        busy = [serving is not None for _, serving, *_ in self.busy0]
        # the visit of the citizen at each counter still to come: (order, normal, later procedures)
        carrying: list = [None] * len(self.busy0)
        self.reaches = list(self.home)
        self.sharing, self.capacity = self.initial
        # (seconds from now, tie-break, what): a counter (int) frees, or a sector (str) gets a citizen
        events: list = []
        n = 0
        for i, (_, serving_sector, elapsed, procedure, carried, _) in enumerate(self.busy0):
            if carried is not None:
                later = later_factors(model, carried[2])
                carrying[i] = (carried[0], carried[1], later) if later else None
            m = model.get(serving_sector)
            events.append((m.remaining(rng, elapsed, m.log_factor(procedure)) if m is not None else 0.0, n, i))
            n += 1
        horizon = 86400.0 - self.sod
        for s, m in model.items():
            first = m.next_arrival(rng, 0.0, self.sod, horizon)
            if first is not None:
                events.append((first, n, s))
                n += 1
        heapq.heapify(events)
        idle: list[int] = []
        t = 0.0
        first_wait = None
        step = 0                                         # the visit's procedure being served
        for _ in range(MAX_STEPS):
            if not events:
                break
            t, _, what = heapq.heappop(events)
            if isinstance(what, tuple) and what[0] == "mine":    # the visit's citizen is done here
                i = what[1]
                step += 1
                if step > len(visit[1]):
                    return first_wait, t
                s, log_factor = visit[1][step - 1]
                if s in self.home[i]:                    # continue here: called again at once
                    heapq.heappush(events, (t + model[s].remaining(rng, 0.0, log_factor), n, ("mine", i)))
                    n += 1
                    continue
                pq, nq = queues[s]
                line = nq if visit[3] else pq
                # into the next queue in the ticket's place: by its order, ahead of later arrivals
                bisect.insort(line, (visit[2], True, False, log_factor, ()), key=lambda e: e[0])
                for k, j in enumerate(idle):             # an idle counter of that sector calls at once
                    if s in self.reaches[j]:
                        heapq.heappush(events, (t, n, idle.pop(k)))
                        n += 1
                        break
                what = i                                 # and this counter calls its next citizen
            elif isinstance(what, tuple):                # an idle counter looks again (auto mode)
                i = what[1]
                if i not in idle:
                    continue
                idle.remove(i)
                what = i
            elif isinstance(what, str):                  # an arrival
                m = model[what]
                pq, nq = queues[what]
                (pq if rng.random() < m.priority else nq).append((self.now_s + t, False, False, None, ()))
                nxt = m.next_arrival(rng, t, self.sod, horizon)
                if nxt is not None:
                    heapq.heappush(events, (nxt, n, what))
                    n += 1
                for k, i in enumerate(idle):             # the longest idle counter that serves it calls at once
                    if what in self.reaches[i]:
                        heapq.heappush(events, (t, n, idle.pop(k)))
                        n += 1
                        break
                continue
            i = what                                     # a counter frees: it calls as the policy says
            c = carrying[i]
            if c is not None:
                # Another visit's citizen goes on to their next procedure, as the new ticket's does
                # (below): here at once when this counter serves its sector, else into its queue in
                # their ticket's place.
                carrying[i] = None
                order, normal, later = c
                s, log_factor = later[0]
                if s in self.home[i]:
                    carrying[i] = (order, normal, later[1:]) if len(later) > 1 else None
                    heapq.heappush(events, (t + model[s].remaining(rng, 0.0, log_factor), n, i))
                    n += 1
                    continue
                pq, nq = queues[s]
                bisect.insort(nq if normal else pq, (order, False, False, log_factor, later[1:]), key=lambda e: e[0])
                for k, j in enumerate(idle):
                    if s in self.reaches[j]:
                        heapq.heappush(events, (t, n, idle.pop(k)))
                        n += 1
                        break
            busy[i] = False
            chosen = self._choose(i, queues, busy, self.now_s + t)
            if chosen is None or isinstance(chosen, float):
                idle.append(i)
                if chosen is not None:                   # auto mode will move it after a while
                    heapq.heappush(events, (t + chosen, n, ("look", i)))
                    n += 1
                continue
            s, line = chosen
            order, mine, _, log_factor, later = line.popleft()
            if later:
                carrying[i] = (order, line is queues[s][1], later)
            if mine:
                if visit is None:
                    return t, t
                if first_wait is None:
                    first_wait = t
                    log_factor = visit[0]
                # the citizen is there (the no-shows the model draws are other people's)
                busy[i] = True
                heapq.heappush(events, (t + model[s].remaining(rng, 0.0, log_factor), n, ("mine", i)))
                n += 1
                continue
            if watch is not None and watch.called(s, order, self.now_s + t, queues):
                return t, t
            busy[i] = True
            heapq.heappush(events, (t + model[s].service(rng, log_factor), n, i))
            n += 1
        if watch is not None:
            watch.left(queues, self.now_s + t)
        return (t if first_wait is None else first_wait), t

    def _choose(self, i: int, queues: dict, busy: list, now: float) -> tuple[str, deque] | float | None:
        """The sector counter `i` calls from and the line (priority or normal) it takes the head of;
        or, when it has nobody but auto mode will move it to someone waiting, in how many seconds."""
        reach = self.reaches[i]
        if reach is not self.full[i] and not any(queues[s][0] or queues[s][1] for s in reach):
            # Auto mode's work-conserving rule: a counter with nobody waiting in its sectors takes
            # its whole trained list once someone there has waited AutoBalancer.IDLE_WAIT_S.
            waited = [now - (queues[s][0] or queues[s][1])[0][0] for s in self.full[i]
                      if s not in reach and (queues[s][0] or queues[s][1])]
            if not waited:
                return None
            if max(waited) < AutoBalancer.IDLE_WAIT_S:
                return AutoBalancer.IDLE_WAIT_S - max(waited)
            reaches = list(self.reaches)
            reaches[i] = self.full[i]
            self._share_out(reaches)
            reach = self.full[i]
        if self.scored is None:
            best = best_key = None
            for s in reach:
                pq, nq = queues[s]
                if pq or nq:
                    key = (0, pq[0][0]) if pq else (1, nq[0][0])
                    if best_key is None or key < best_key:
                        best, best_key = s, key
            if best is None:
                return None
            pq, nq = queues[best]
            return best, (pq if pq else nq)
        waiting = [s for s in reach if queues[s][0] or queues[s][1]]
        if not waiting:
            return None
        if len(waiting) == 1:
            pq, nq = queues[waiting[0]]
            if not pq or not nq:      # one line in one sector: nothing for the policy to weigh
                return waiting[0], (pq or nq)
        views = []
        for s in waiting:
            pq, nq = queues[s]
            head = pq[0] if pq else nq[0]
            others_free = 0.0
            if len(waiting) > 1:      # only the score, between sectors, reads it
                for j, share in self.sharing[s]:
                    if j != i:
                        others_free += 0.5 * share if busy[j] else 1.0
            views.append(SectorView(s, bool(pq), head[0], head[2], nq[0][0] if pq and nq else None,
                                    len(pq) + len(nq), self.model[s].mean, self.target[s],
                                    self.capacity[s], others_free))
        s, normal = self.scored.pick(views, now)
        pq, nq = queues[s]
        return s, (nq if normal or not pq else pq)

