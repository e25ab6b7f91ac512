"""The dashboard's what-if before a move (issue #17): the predicted wait of the sectors a move
touches, over the next hour, before the manager confirms it; auto mode's next move with its own;
and, once the hour is over, each prediction beside what happened.

The plays are the domain's (queue_server/domain/forecast/whatif.py): the state is copied under
the service's lock (`Prepared`, about a millisecond) and played outside it, one what-if at a
time, within WHATIF_DEADLINE_S, so the command loop never waits for a what-if.

Predictions are kept in memory, the last KEEP of them, not in the event log: a what-if is asked
at every tick of a checkbox, most are never applied, and each is a few hundred bytes of numbers
that the log would carry forever for a comparison that matters for an hour. A restart forgets
them (the dashboard then has nothing to compare for the hour before it). What happened is read
from the event log (today's report's tickets, and the sector changes) when it is asked for.

Auto mode's moves are applied as soon as it decides them (the server's tick), so its what-if is
made when its `counter.sectors_changed` event goes by: from the state just after the move, played
with the counter back on its previous sectors ("without") and as moved ("with").
"""
from __future__ import annotations

import copy
import logging
import queue
import threading
import time
from collections import deque
from datetime import datetime, timedelta
from typing import Any, Iterable

from queue_server.domain import events as ev
from queue_server.domain.forecast.whatif import HORIZON_S, Move, Prepared, WhatIf

log = logging.getLogger(__name__)

WHATIF_DEADLINE_S = 1.5      # the plays stop here (fewer of them); a manager is waiting for the answer
KEEP = 200                   # predictions remembered for the comparison after the hour
APPLIED_WITHIN_S = 600.0     # a manager's move counts as the predicted one if set this soon after
AUTO_FRESH_S = 20.0          # auto mode's next move, played once for every open dashboard meanwhile


class Busy(Exception):
    """Another what-if is being played; ask again in a moment."""


class WhatIfDesk:
    def __init__(self, service):
        self.service = service
        self._playing = threading.Lock()
        self._kept: deque[dict[str, Any]] = deque(maxlen=KEEP)
        self._kept_lock = threading.Lock()
        self._n = 0
        self._auto: queue.Queue = queue.Queue(maxsize=50)
        self._worker: threading.Thread | None = None
        self._auto_next: tuple[int, float, list] | None = None    # (state seq, monotonic time, answer)
        service.listeners.append(self.on_messages)

    # --- a manager's proposal ------------------------------------------------------------

    def predict(self, counter: str, sectors: tuple[str, ...], by: str | None) -> dict[str, Any]:
        """The what-if of a proposed change, kept for the comparison. ValueError for a bad move."""
        svc = self.service
        with svc.lock:
            now = svc.clock()
            prepared = Prepared(svc.state, svc.config, svc.core.policy, Move(counter, tuple(sectors)), now)
            previous = list(svc.state.counters[counter].sectors)
        result = self._play(prepared)
        return self._keep("manager", by, result, previous)

    def auto_next(self) -> list[dict[str, Any]]:
        """What auto mode would move if it looked now (a copy of the server's balancer decides, so
        the real one's memory is untouched), each with its what-if. Not kept: it is asked again and
        again; the moves auto mode makes are kept when they happen (on_messages)."""
        svc = self.service
        if svc.balancer is None:
            return []
        cached = self._auto_next
        with svc.lock:
            seq = svc.state.last_seq
            if cached is not None and cached[0] == seq and time.monotonic() - cached[1] < AUTO_FRESH_S:
                return cached[2]
            now = svc.clock()
            cmds = copy.deepcopy(svc.balancer).propose(svc.state, svc.config, now.timestamp())[:3]
            prepared = [(c, list(svc.state.counters[c.counter].sectors),
                         Prepared(svc.state, svc.config, svc.core.policy, Move(c.counter, tuple(c.sectors)), now))
                        for c in cmds]
        out = []
        for cmd, previous, p in prepared:
            out.append({**self._play(p).as_dict(), "previous": previous, "reason": cmd.reason})
        self._auto_next = (seq, time.monotonic(), out)
        return out

    def _play(self, prepared: Prepared) -> WhatIf:
        if not self._playing.acquire(timeout=WHATIF_DEADLINE_S):
            raise Busy()
        try:
            return prepared.play(deadline=time.perf_counter() + WHATIF_DEADLINE_S, clock=time.perf_counter)
        finally:
            self._playing.release()

    def _keep(self, kind: str, by: str | None, result: WhatIf, previous: list[str]) -> dict[str, Any]:
        with self._kept_lock:
            self._n += 1
            record = {"id": self._n, "kind": kind, "by": by, "previous": previous, **result.as_dict()}
            self._kept.append(record)
        return record

    # --- auto mode's moves, as they happen ------------------------------------------------

    def on_messages(self, messages: list) -> None:
        """A service listener (after each committed batch): auto mode's moves get their what-if
        in a worker thread; the command loop only puts them on a queue."""
        topic = self.service.topics.events_log
        for m in messages:
            if m.topic != topic or m.payload.get("event") != ev.COUNTER_SECTORS:
                continue
            data = m.payload.get("data") or {}
            if data.get("by") != "auto":
                continue
            try:
                self._auto.put_nowait((data.get("counter"), tuple(data.get("previous") or ())))
            except queue.Full:
                continue      # a burst of moves: the dashboard shows the ones it had time for
            if self._worker is None:
                self._worker = threading.Thread(target=self._auto_worker, name="whatif-auto", daemon=True)
                self._worker.start()

    def _auto_worker(self) -> None:
        while True:
            counter, previous = self._auto.get()
            try:
                self.predict_auto(counter, previous)
            except Exception:          # a what-if must never take the server down; nothing personal in it
                log.exception("what-if of auto mode's move failed")

    def predict_auto(self, counter: str, previous: tuple[str, ...]) -> dict[str, Any] | None:
        """The what-if of a move auto mode has just made: the site as moved, and with the counter
        back on `previous`."""
        svc = self.service
        with svc.lock:
            now = svc.clock()
            rt = svc.state.counters.get(counter)
            if rt is None or not previous:
                return None
            moved = list(rt.sectors)
            back = Prepared(svc.state, svc.config, svc.core.policy, Move(counter, previous), now)
        result = self._play(back)
        # played from the moved state: "before" is the site as moved, "after" the counter moved back
        swapped = WhatIf(result.at, result.horizon_s, result.reps, Move(counter, tuple(moved)),
                         tuple(type(r)(r.sector, r.after_s, r.before_s, r.citizens, r.reachable_after, r.reachable_before)
                               for r in result.sectors))
        return self._keep("auto", "auto", swapped, list(previous))

    # --- after the hour ----------------------------------------------------------------------

    def kept(self) -> list[dict[str, Any]]:
        with self._kept_lock:
            return list(self._kept)


def compare(records: Iterable[dict[str, Any]], tickets: Iterable[Any], changes: Iterable[ev.Event],
            now: datetime) -> list[dict[str, Any]]:
    """Each prediction of today beside what happened: for one whose hour is over, the mean wait
    (issue to first call) of the citizens of that hour in each sector it touched, from the
    report's tickets; whether the move was applied (auto mode's always are; a manager's when the
    counter got those sectors within APPLIED_WITHIN_S), and so which side of the prediction to
    compare with. Newest first."""
    tickets = list(tickets)
    changes = [e for e in changes if e.type == ev.COUNTER_SECTORS]
    out = []
    for rec in reversed(list(records)):
        at = datetime.fromisoformat(rec["at"])
        end = at + timedelta(seconds=HORIZON_S)
        move = rec.get("move") or {}
        if rec["kind"] == "auto":
            applied = True
        else:
            applied = any(e.data.get("counter") == move.get("counter") and list(e.data.get("sectors") or []) ==
                          list(move.get("sectors") or []) and
                          0 <= (datetime.fromisoformat(e.ts) - at).total_seconds() <= APPLIED_WITHIN_S
                          for e in changes)
        row = {**rec, "applied": applied, "done": now >= end, "actual": {}}
        if now >= end:
            for s in rec["sectors"]:
                waits = []
                for t in tickets:
                    if t.sector != s["sector"] or t.status == "cancelled" or t.issued >= end:
                        continue
                    if t.wait_s is not None:
                        if t.issued + timedelta(seconds=t.wait_s) >= at:
                            waits.append(t.wait_s)
                    elif t.status == "waiting":        # still waiting: at least this long so far
                        waits.append((now - t.issued).total_seconds())
                row["actual"][s["sector"]] = {"mean_s": round(sum(waits) / len(waits), 1) if waits else None,
                                              "citizens": len(waits)}
        out.append(row)
    return out
