"""The managers' plan page (issue #17): staffing against the roster, whom to train for what, who
covers an absent clerk, and the wait over the day before and after the first training
suggestions. The computation is `motcua plan`'s own (queue_server.planning.plan.make_plan), on the
centre's days learned from its own event log (queue_server.planning.history.learn_scenario).

A plan takes from seconds to a minute of simulation, so it is never computed in a request: the
first visit of the day starts it in a background thread (one at a time) and the page says
"Đang tính… / Computing…" until it is ready; then it is kept for the day (the log's past days do
not change during it) until a manager asks for it again. The pictures are PNGs drawn once per
language when the plan is ready (plan_charts.py), served from memory.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from flask import Blueprint, Flask, Response, abort, jsonify, redirect, render_template, url_for

from queue_server.web import pages, plan_charts
from queue_server.web.auth import require_role

log = logging.getLogger(__name__)

bp = Blueprint("planning", __name__)

CURVE_STEPS = 2          # the wait curve's "after": the plan's first training suggestions, this many
IMAGES = ("heatmap", "waits")


class PlanDesk:
    """The site's plan of the day, computed in a background thread; `status()` never waits."""

    def __init__(self, service, scenario_source: Callable[[], Any] | None = None):
        self.service = service
        self._source = scenario_source or self._learned
        self._lock = threading.Lock()
        self._key: str | None = None
        self._thread: threading.Thread | None = None
        self._result: dict[str, Any] = {"status": "idle"}

    def _learned(self):
        from queue_server.planning.history import learn_scenario
        svc = self.service
        return learn_scenario(svc.store, svc.config)[0]

    def _today(self) -> str:
        svc = self.service
        with svc.lock:
            return svc.clock().date().isoformat()

    def status(self, start: bool = True, again: bool = False) -> dict[str, Any]:
        """The plan's state: idle | computing | ready | failed (with the plan, or the error). Starts
        the day's computation if it has not run (`again`: even if it has)."""
        key = self._today()
        with self._lock:
            busy = self._thread is not None and self._thread.is_alive()
            if start and not busy and (again or key != self._key):
                self._key = key
                self._result = {"status": "computing", "started": time.time()}
                self._thread = threading.Thread(target=self._compute, args=(key,), name="plan", daemon=True)
                self._thread.start()
            return dict(self._result)

    def wait(self, timeout: float) -> bool:
        """For tests and scripts: wait for the computation in progress; True when none is left."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def _compute(self, key: str) -> None:
        started = time.time()
        try:
            result = self._plan()
        except Exception as exc:          # noqa: BLE001 - the page says it could not; the log has why
            from queue_server.planning.history import HistoryError
            if isinstance(exc, HistoryError):
                result = {"status": "failed", "reason": "history", "detail": str(exc)}
            else:
                log.exception("the plan could not be computed")
                result = {"status": "failed", "reason": "error"}
        result["seconds"] = round(time.time() - started, 1)
        with self._lock:
            if self._key == key:
                self._result = result

    def _plan(self) -> dict[str, Any]:
        from queue_server.planning import variants
        from queue_server.planning.plan import make_plan
        from queue_server.planning.training import EVALUATED_WITH
        from queue_server.sim.metrics import wait_by_time_of_day
        sc = self._source()
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

    def image(self, name: str, lang: str) -> tuple[bytes, str] | None:
        with self._lock:
            return (self._result.get("images") or {}).get((name, lang))

    def images_for_export(self, lang: str) -> dict[str, tuple[bytes, str]]:
        """The ready plan's pictures (name -> (PNG, alt text)) for the report export; {} if none."""
        with self._lock:
            images = self._result.get("images") or {}
            return {name: images[(name, lang)] for name in IMAGES if (name, lang) in images}


def desk() -> PlanDesk:
    return pages.current_app_ext("motcua_plan")


@bp.get("/planning")
@pages.login_required("manager")
def index():
    state = desk().status()
    lang = pages.current_lang()
    alts = {name: img[1] for name in IMAGES if (img := desk().image(name, lang)) is not None}
    return render_template("app/planning.html", state=state, plan=state.get("plan"), alts=alts)


@bp.post("/planning/again")
@pages.login_required("manager")
def again():
    if not pages.csrf_ok():
        abort(400)
    desk().status(again=True)
    return redirect(url_for("planning.index"))


@bp.get("/planning/api/status")
@require_role("manager")
def status():
    state = desk().status(start=False)
    return jsonify(ok=True, status=state["status"])


@bp.get("/planning/<name>.png")
@pages.login_required("manager")
def image(name: str):
    if name not in IMAGES:
        abort(404)
    img = desk().image(name, pages.current_lang())
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
