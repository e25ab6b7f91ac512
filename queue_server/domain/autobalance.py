"""Auto mode: move trained counters toward a sector whose predicted wait runs over target,
and back when the surge is over, as a floor manager would.

Pure: `AutoBalancer.propose(state, config, now_epoch)` returns manager commands
(`SetCounterSectors(..., by="auto")`); the caller runs each through
`QueueCore.decide`, so every move is an event a manager sees and can undo.
The live server calls it every few seconds while `state.auto_mode` is on; the
simulator's `auto` policy calls the very same class.

The move toward a surging sector S stays within the counter's `trained` list
(never an override): a counter trained for S but not serving it, whose own
sectors are calm (or at most half as pressed as S), takes S as well, and the
dynamic policy shares its calls by urgency. (Dropping a counter's calm sector
to focus it on S was tried and left out: in simulation it too often left the
dropped sector short when it picked up again, for a small gain.)

Work-conserving (`work_conserving`, on by default): a counter with nobody
waiting in its own sectors, while a sector in its `trained` list has had
someone waiting for `idle_wait_s`, takes its whole trained list (its own
sectors first); the dynamic policy still calls its own sectors' citizens when
they press more. It goes home once nobody has waited in the sectors it was
moved for during `idle_calm_for_s` (2 hours: a long calm, so a counter that
helps all day is moved twice, not forty times). Over 30 simulated days this
brings auto to within -2.7% .. +1.7% of every counter serving its whole
trained list all day (docs/balancing.md), at 10-23 moves a day.

Hysteresis, so counters do not flap:
- a surge starts when S's predicted wait is over `on_ratio` x target and is
  over only when it has stayed under `off_ratio` x target (off < on) for
  `calm_for_s`;
- a counter stays moved at least `min_dwell_s`, and once moved back is left
  alone for `min_dwell_s` too;
- at most one move per surging sector per `sector_cooldown_s`, so the effect
  of one move shows in the estimate before the next.

Memory (which counters it moved, for which sector, since when) is rebuilt from
the state after a restart: a counter whose sectors are its configured ones plus
some trained extras (or a trained subset of them, without override) is taken
as moved by auto mode for the extras (or for what it kept), moved "now", so
the dwell time starts again rather than flapping. A counter whose sectors
someone else changed while we ran is left alone until it is back home.
"""
from __future__ import annotations

from dataclasses import dataclass

from queue_server.domain.commands import SetCounterSectors
from queue_server.domain.site import SiteConfig
from queue_server.domain.state import SiteState


@dataclass
class _Moved:
    sectors: tuple[str, ...]      # what we set
    for_sectors: tuple[str, ...]  # the surging (or idle-helped) sectors it was moved for
    at: float
    kind: str = "surge"           # "surge": over target; "idle": it would idle while they waited


class AutoBalancer:
    # The work-conserving rule as the rest of the domain sees it: the forecast plays it and the
    # estimate counts its helpers, asking here (`idle_reach`, these two figures) instead of
    # keeping their own copies. They get no balancer object (the policy alone reaches them), so
    # they follow the site's default rule; a balancer built with another `idle_wait_s` (a trial)
    # is not followed by them.
    #
    # How long someone must have waited in a trained sector before an idle counter takes it:
    # the rule itself (the default `idle_wait_s`), which the forecast's plays move counters by.
    IDLE_WAIT_S = 30.0
    # When the stream estimate counts a helper's first call, at the earliest: later than the
    # rule's wait, because the balancer moves it only when it next looks (the live server every
    # few seconds, the simulator every 30 s) and the clerk then calls. The figure the estimate's
    # error was measured with (docs/balancing.md); 30 s here would change every estimate.
    HELPER_FIRST_CALL_S = 60.0

    @staticmethod
    def idle_reach(state: SiteState, config: SiteConfig, rt) -> tuple[str, ...] | None:
        """The sectors the work-conserving rule may give counter `rt` beyond its own (its trained
        list, in order, less what it serves now); None when the rule does not apply to it (auto
        mode off, a manager's override, a counter not in the config)."""
        conf = config.counter_by_id.get(rt.id)
        if not state.auto_mode or rt.sectors_override or conf is None:
            return None
        return tuple(s for s in conf.trained if s not in rt.sectors)

    def __init__(self, on_ratio: float = 1.0, off_ratio: float = 0.5, min_dwell_s: float = 900.0,
                 sector_cooldown_s: float = 180.0, calm_ratio: float = 0.6, calm_for_s: float = 600.0, min_waiting: int = 2,
                 work_conserving: bool = True, idle_wait_s: float = IDLE_WAIT_S, idle_calm_for_s: float = 7200.0):
        if not 0 < off_ratio < on_ratio:
            raise ValueError("off_ratio must be above 0 and below on_ratio")
        self.on_ratio = on_ratio
        self.off_ratio = off_ratio
        self.min_dwell_s = min_dwell_s
        self.sector_cooldown_s = sector_cooldown_s
        self.calm_ratio = calm_ratio
        self.calm_for_s = calm_for_s
        self.min_waiting = min_waiting
        self.work_conserving = work_conserving
        self.idle_wait_s = idle_wait_s
        self.idle_calm_for_s = idle_calm_for_s
        self.reset()

    def reset(self) -> None:
        """Forget everything; the next `propose` rebuilds the memory from the state."""
        self._moved: dict[str, _Moved] = {}
        self._foreign: set[str] = set()
        self._last_change: dict[str, float] = {}
        self._sector_last: dict[str, float] = {}
        self._calm_since: dict[str, float] = {}
        self._empty_since: dict[str, float] = {}
        self._synced = False

    # --- memory -----------------------------------------------------------------

    def _sync(self, state: SiteState, config: SiteConfig, now: float) -> None:
        for cid, rt in state.counters.items():
            conf = config.counter_by_id.get(cid)
            if conf is None:
                continue
            home, cur = tuple(conf.sectors), tuple(rt.sectors)
            moved = self._moved.get(cid)
            if moved is not None:
                if cur == moved.sectors:
                    continue
                # Not what we set: a manager moved it, or our command was refused.
                del self._moved[cid]
            if cur == home:
                self._foreign.discard(cid)
                continue
            if cid in self._foreign:
                continue
            if not self._synced and not rt.sectors_override and set(cur) <= set(conf.trained):
                extras = tuple(s for s in cur if s not in home)
                self._moved[cid] = _Moved(cur, extras or cur, now)
                self._last_change[cid] = now
            else:
                self._foreign.add(cid)
        self._synced = True

    def moved(self) -> dict[str, tuple[str, ...]]:
        """counter -> the surging sectors auto mode moved it for (for a dashboard)."""
        return {cid: m.for_sectors for cid, m in self._moved.items()}

    # --- decisions --------------------------------------------------------------

    def ratios(self, state: SiteState, config: SiteConfig) -> dict[str, float]:
        """Predicted wait of a new ticket over the sector's target, per sector."""
        from queue_server.domain import estimate   # estimate asks this module about the idle rule
        return {s.id: estimate.sector_wait(state, config, s.id) / (s.target_wait_min * 60.0)
                for s in config.sectors}

    def propose(self, state: SiteState, config: SiteConfig, now_epoch: float) -> list[SetCounterSectors]:
        now = now_epoch
        self._sync(state, config, now)
        ratio = self.ratios(state, config)
        for s, r in ratio.items():
            if r >= self.off_ratio:
                self._calm_since.pop(s, None)
            else:
                self._calm_since.setdefault(s, now)
            if state.waiting_count(s) > 0:
                self._empty_since.pop(s, None)
            else:
                self._empty_since.setdefault(s, now)
        out: list[SetCounterSectors] = []
        touched: set[str] = set()

        # Back home when every sector it was moved for is calm again.
        for cid, m in list(self._moved.items()):
            if now - m.at < self.min_dwell_s:
                continue
            if all(self._over(s, now, m.kind) for s in m.for_sectors):
                home = tuple(config.counter_by_id[cid].sectors)
                out.append(SetCounterSectors(cid, home, reason="auto: surge over in " + ", ".join(m.for_sectors),
                                             by="auto"))
                del self._moved[cid]
                self._last_change[cid] = now
                touched.add(cid)

        surging = sorted((s for s, r in ratio.items() if r > self.on_ratio and state.waiting_count(s) >= self.min_waiting),
                         key=lambda s: -ratio[s])
        for s in surging:
            if now - self._sector_last.get(s, float("-inf")) < self.sector_cooldown_s:
                continue
            move = self._best_move(state, config, s, ratio, now, touched)
            if move is None:
                continue
            cid, sectors = move
            target_min = config.sector_by_id[s].target_wait_min
            out.append(SetCounterSectors(
                cid, sectors, by="auto",
                reason=f"auto: {s} predicted wait {ratio[s] * target_min:.0f} min over target {target_min:g} min"))
            prev = self._moved.get(cid)
            for_sectors = tuple(dict.fromkeys((prev.for_sectors if prev else ()) + (s,)))
            self._moved[cid] = _Moved(sectors, for_sectors, now)
            self._last_change[cid] = now
            self._sector_last[s] = now
            touched.add(cid)

        if self.work_conserving:
            out.extend(self._idle_helpers(state, config, now, touched))
        return out

    def _over(self, s: str, now: float, kind: str) -> bool:
        """Is the reason a counter was moved for sector `s` gone? A surge: calm (under `off_ratio`)
        for `calm_for_s`. An idle helper: nobody waiting there for `calm_for_s`."""
        if kind == "idle":
            return now - self._empty_since.get(s, now) >= self.idle_calm_for_s
        return now - self._calm_since.get(s, now) >= self.calm_for_s

    def _idle_helpers(self, state: SiteState, config: SiteConfig, now: float,
                      touched: set[str]) -> list[SetCounterSectors]:
        """Work-conserving: a counter with nobody waiting in its sectors, while a sector it is
        trained for has someone waiting, takes its whole trained list (the policy still calls its
        own sectors' citizens first when they press more)."""
        out = []
        for rt, conf in self._movable(state, config, now, touched):
            cid = rt.id
            cur = tuple(rt.sectors)
            if any(state.waiting_count(x) > 0 for x in cur):
                continue
            extras = tuple(x for x in conf.trained if x not in cur and self._waited(state, x, now))
            if not extras:
                continue
            sectors = cur + tuple(x for x in conf.trained if x not in cur)
            out.append(SetCounterSectors(cid, sectors, by="auto",
                                         reason="auto: idle while " + ", ".join(extras) + " wait"))
            prev = self._moved.get(cid)
            for_sectors = tuple(dict.fromkeys((prev.for_sectors if prev else ()) + extras))
            self._moved[cid] = _Moved(sectors, for_sectors, now, "idle" if prev is None else prev.kind)
            self._last_change[cid] = now
            touched.add(cid)
        return out

    def _movable(self, state: SiteState, config: SiteConfig, now: float, touched: set[str]):
        """(runtime, config) of every counter auto mode may move now: open, configured, not
        moved in this round, not a manager's (override or moved by someone else), past its dwell."""
        for rt in state.counters.values():
            conf = config.counter_by_id.get(rt.id)
            if (conf is None or not rt.on_duty or rt.id in touched or rt.id in self._foreign
                    or rt.sectors_override or now - self._last_change.get(rt.id, float("-inf")) < self.min_dwell_s):
                continue
            yield rt, conf

    def _waited(self, state: SiteState, sector: str, now: float) -> bool:
        if state.waiting_count(sector) == 0:
            return False
        if self.idle_wait_s <= 0:
            return True
        from queue_server.domain.policy import head_of
        head = head_of(state, sector)
        return head is not None and now - head.order >= self.idle_wait_s

    def _best_move(self, state: SiteState, config: SiteConfig, s: str, ratio: dict[str, float], now: float,
                   touched: set[str]) -> tuple[str, tuple[str, ...]] | None:
        best: tuple[float, str, tuple[str, ...]] | None = None
        for rt, conf in self._movable(state, config, now, touched):
            cid = rt.id
            cur = tuple(rt.sectors)
            if s in cur or s not in conf.trained:
                continue
            # Its own sectors must be clearly less pressed than S (the policy then shares its calls).
            load = max((ratio.get(x, 0.0) for x in cur), default=0.0)
            if load >= max(self.calm_ratio, ratio[s] / 2.0):
                continue
            cand = (load, cid, cur + (s,))
            if best is None or cand[:2] < best[:2]:
                best = cand
        return None if best is None else (best[1], best[2])
