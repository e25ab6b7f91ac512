"""The managers' plan page (issue #17): staffing against the roster, whom to train for what, who
covers an absent clerk, and the wait over the day before and after the first training
suggestions. The computation is `motcua plan`'s own (queue_server.planning.plan.make_plan), on the
centre's days learned from its own event log (queue_server.planning.history.learn_scenario).

A plan takes from seconds to a minute of simulation, so it is never computed in a request: the
first visit of the day starts it in a background thread (one at a time; another asked for
meanwhile waits its turn) and the page says "Đang tính… / Computing…" until it is ready; then it
is kept for the day (the log's past days do not change during it) until a manager asks for it
again. A weekday (`?weekday=sat`) has its own plan, on that weekday's arrivals
(planning.plan.on_weekday); without one, the usual day. The pictures are PNGs drawn once per
language when a plan is ready (plan_charts.py), served from memory.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from flask import Blueprint, Flask, Response, abort, jsonify, redirect, render_template, request, url_for

from queue_server.sim.scenario import WEEKDAYS
from queue_server.web import pages, plan_charts
from queue_server.web.auth import require_role

log = logging.getLogger(__name__)

bp = Blueprint("planning", __name__)

CURVE_STEPS = 2          # the wait curve's "after": the plan's first training suggestions, this many
IMAGES = ("heatmap", "waits")
# The weekdays' names as the page shows them (the web catalogue's msgids, as booking_bp.WEEKDAYS).
WEEKDAY_NAMES = dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")))


class PlanDesk:
    """The site's plans of the day (the usual day's, None, and any weekday's asked for), computed
    in a background thread one at a time; `status()` never waits."""

    def __init__(self, service, scenario_source: Callable[[], Any] | None = None):
        self.service = service
        self._source = scenario_source or self._learned
        self._lock = threading.Lock()
        self._keys: dict[str | None, str] = {}               # weekday -> the day its plan was started
        self._thread: threading.Thread | None = None
        self._results: dict[str | None, dict[str, Any]] = {}
        self._queue: list[str | None] = []                   # asked for while another was computing

    def _learned(self):
        from queue_server.planning.history import learn_scenario
        svc = self.service
        return learn_scenario(svc.store, svc.config)[0]

    def _today(self) -> str:
        svc = self.service
        with svc.lock:
            return svc.clock().date().isoformat()

    def status(self, start: bool = True, again: bool = False, weekday: str | None = None) -> dict[str, Any]:
        """A plan's state: idle | computing | ready | failed (with the plan, or the error). Starts
        the day's computation of `weekday`'s plan (None: the usual day) if it has not run
        (`again`: even if it has), or queues it behind the one computing."""
        key = self._today()
        with self._lock:
            if start and (again or self._keys.get(weekday) != key) and weekday not in self._queue:
                self._keys[weekday] = key
                self._results[weekday] = {"status": "computing", "started": time.time()}
                if self._thread is not None and self._thread.is_alive():
                    self._queue.append(weekday)
                else:
                    self._start(key, weekday)
            return dict(self._results.get(weekday, {"status": "idle"}))

    def _start(self, key: str, weekday: str | None) -> None:
        # with self._lock held
        self._thread = threading.Thread(target=self._compute, args=(key, weekday), name="plan", daemon=True)
        self._thread.start()

    def wait(self, timeout: float) -> bool:
        """For tests and scripts: wait for every plan computing or queued; True when none is left."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self._lock:
                thread, queued = self._thread, bool(self._queue)
            if (thread is None or not thread.is_alive()) and not queued:
                return True
            if thread is not None:
                thread.join(min(1.0, max(0.0, deadline - time.time())))
        return False

    def _compute(self, key: str, weekday: str | None) -> None:
        started = time.time()
        try:
            result = self._plan(weekday)
        except Exception as exc:          # noqa: BLE001 - the page says it could not; the log has why
            from queue_server.planning.history import HistoryError
            from queue_server.planning.plan import WeekdayClosed
            if isinstance(exc, HistoryError):
                result = {"status": "failed", "reason": "history", "detail": str(exc)}
            elif isinstance(exc, WeekdayClosed):
                result = {"status": "failed", "reason": "closed"}
            else:
                log.exception("the plan could not be computed")
                result = {"status": "failed", "reason": "error"}
        result["seconds"] = round(time.time() - started, 1)
        with self._lock:
            if self._keys.get(weekday) == key:
                self._results[weekday] = result
            if self._queue:
                nxt = self._queue.pop(0)
                self._start(self._keys[nxt], nxt)

    def _plan(self, weekday: str | None = None) -> dict[str, Any]:
        from queue_server.planning import variants
        from queue_server.planning.plan import make_plan, on_weekday
        from queue_server.planning.training import EVALUATED_WITH
        from queue_server.sim.metrics import wait_by_time_of_day
        sc = self._source()
        if weekday is not None:
            sc = on_weekday(sc, weekday)
        plan = make_plan(sc)
        data = plan.to_dict()
        steps = [(s.counter, s.sector) for s in plan.training.steps[:CURVE_STEPS]]
        curves: dict[str, tuple[list[float], list[float]]] = {}
        if steps:
            # the same evaluation as the training suggestions' figures (training.evaluate), so the
            # curve and the "mean wait a -> b" of the suggestions tell the same story
            policy = "oldest-first" if EVALUATED_WITH.startswith("oldest-first") else "auto"
            for name, scen in (("now", sc), ("after", variants.with_trained(sc, steps))):
                _, days = variants.run(scen, policy, plan.days, plan.seed, sectors="trained")
                curves[name] = wait_by_time_of_day(days)
        images: dict[tuple[str, str], tuple[bytes, str]] = {}
        for lang in ("vi", "en"):
            images[("heatmap", lang)] = plan_charts.heatmap(data["staffing"], data["sector_names"], lang)
            if curves:
                change = plan_charts._("With the first {n} training suggestions", lang, n=len(steps))
                images[("waits", lang)] = plan_charts.wait_curve(curves, change, lang)
        return {"status": "ready", "plan": data, "images": images, "curve_steps": len(steps)}

    def image(self, name: str, lang: str, weekday: str | None = None) -> tuple[bytes, str] | None:
        with self._lock:
            return (self._results.get(weekday, {}).get("images") or {}).get((name, lang))

    def images_for_export(self, lang: str) -> dict[str, tuple[bytes, str]]:
        """The usual day's ready plan's pictures (name -> (PNG, alt text)) for the report export;
        {} if none."""
        with self._lock:
            images = self._results.get(None, {}).get("images") or {}
            return {name: images[(name, lang)] for name in IMAGES if (name, lang) in images}


def desk() -> PlanDesk:
    return pages.current_app_ext("motcua_plan")


def _weekday() -> str | None:
    """The weekday the request names (`weekday`: mon..sun), None for the usual day; 404 otherwise."""
    weekday = request.values.get("weekday") or None
    if weekday is not None and weekday not in WEEKDAYS:
        abort(404)
    return weekday


@bp.get("/planning")
@pages.login_required("manager")
def index():
    weekday = _weekday()
    state = desk().status(weekday=weekday)
    lang = pages.current_lang()
    alts = {name: img[1] for name in IMAGES if (img := desk().image(name, lang, weekday)) is not None}
    return render_template("app/planning.html", state=state, plan=state.get("plan"), alts=alts,
                           weekday=weekday, weekdays=WEEKDAY_NAMES)


@bp.post("/planning/again")
@pages.login_required("manager")
def again():
    if not pages.csrf_ok():
        abort(400)
    weekday = _weekday()
    desk().status(again=True, weekday=weekday)
    return redirect(url_for("planning.index", weekday=weekday))


@bp.get("/planning/api/status")
@require_role("manager")
def status():
    state = desk().status(start=False, weekday=_weekday())
    return jsonify(ok=True, status=state["status"])


@bp.get("/planning/<name>.png")
@pages.login_required("manager")
def image(name: str):
    if name not in IMAGES:
        abort(404)
    img = desk().image(name, pages.current_lang(), _weekday())
    if img is None:
        abort(404)
    return Response(img[0], mimetype="image/png", headers={"Cache-Control": "private, max-age=300"})


def init_app(app: Flask) -> None:
    pages.install(app)
    config = app.config

    def scenario_source():
        # MOTCUA_PLAN_SCENARIO: a designed scenario file instead of the log (a new centre without
        # days of its own yet); read when a plan starts, so a change needs no restart
        path = config.get("MOTCUA_PLAN_SCENARIO")
        if path:
            from queue_server.sim.scenario import load_scenario
            return load_scenario(path)
        return desk_._learned()
    desk_ = PlanDesk(app.extensions["motcua_service"], scenario_source)
    app.extensions["motcua_plan"] = desk_
    app.register_blueprint(bp)
