"""The managers' live dashboard: sectors against their targets, counters, alerts, charts, rebalancing.

The page is live through the one SSE stream (/api/v1/stream); the rebalancing
buttons call the manager endpoints of the JSON API (api.py), so a click is the
same recorded command as `motcua rebalance`.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from flask import Blueprint, Flask, jsonify, render_template

from queue_server.domain import views
from queue_server.reports import build_report
from queue_server.reports.source import events_for_days
from queue_server.web import pages
from queue_server.web.auth import require_role

bp = Blueprint("dashboard", __name__)

TODAY_CACHE_S = 3.0


def device_alerts(devices: dict[tuple[str, str], dict[str, Any]]) -> list[dict[str, Any]]:
    """Alerts a manager should act on: a device offline, a printer out of paper, a citizen asking for help."""
    out = []
    for (kind, dev), st in sorted(devices.items()):
        if st.get("online") is False:
            out.append({"kind": "offline", "device_kind": kind, "device": dev})
        printer = st.get("printer")
        if printer in ("paper_out", "paper_low", "error", "offline"):
            out.append({"kind": f"printer_{printer}", "device_kind": kind, "device": dev})
        if st.get("help_requested"):
            out.append({"kind": "help", "device_kind": kind, "device": dev, "at": st.get("help_requested_at")})
    return out


def dashboard_state() -> dict[str, Any]:
    svc = pages.service()
    cfg = svc.config
    with svc.lock:
        now = svc.clock()
        sectors = [views.sector_stats(svc.state, cfg, s.id, now) for s in cfg.sectors]
        counters = [views.counter_state(svc.state, cfg, c.id, now) for c in cfg.counters]
        devices = [{"kind": k, "id": i, **st} for (k, i), st in sorted(svc.devices.items())]
        alerts = device_alerts(svc.devices)
        return {"ts": now.isoformat(), "day": svc.state.day, "auto_mode": svc.state.auto_mode, "seq": svc.state.last_seq,
                "sectors": sectors, "counters": counters, "devices": devices, "alerts": alerts}


def site_meta() -> dict[str, Any]:
    cfg = pages.service().config
    return {"site": {"id": cfg.site.id, "name": cfg.site.name.model_dump()},
            "sectors": [{"id": s.id, "name": s.name.model_dump(), "prefix": s.prefix,
                         "target_wait_s": int(s.target_wait_min * 60)} for s in cfg.sectors],
            "counters": [{"id": c.id, "label": c.label.model_dump(), "trained": list(c.trained)} for c in cfg.counters]}


class TodayCache:
    """Today's report, recomputed at most every few seconds and only when the log moved."""

    def __init__(self):
        self._lock = threading.Lock()
        self._key: tuple[str | None, int] | None = None
        self._at = 0.0
        self._value: dict[str, Any] | None = None

    def get(self) -> dict[str, Any]:
        svc = pages.service()
        with svc.lock:
            key = (svc.state.day, svc.state.last_seq)
            now = svc.clock()
        with self._lock:
            if self._value is not None and (key == self._key or time.monotonic() - self._at < TODAY_CACHE_S):
                return self._value
            day = key[0] or now.date().isoformat()
            report = build_report(events_for_days(svc.store, day, day), svc.config, day, day, now=now)
            self._value = {"day": day, "hourly": report.hourly, "utilisation": report.utilisation,
                           "total": report.total.as_row()}
            self._key, self._at = key, time.monotonic()
            return self._value


@bp.get("/dashboard")
@pages.login_required("viewer")
def index():
    return render_template("app/dashboard.html", meta=site_meta(), state=dashboard_state())


@bp.get("/dashboard/api/state")
@require_role("viewer")
def state():
    return jsonify(dashboard_state())


@bp.get("/dashboard/api/today")
@require_role("viewer")
def today():
    return jsonify(pages.current_app_ext("motcua_today").get())


def init_app(app: Flask) -> None:
    pages.install(app)
    app.extensions["motcua_today"] = TodayCache()
    app.register_blueprint(bp)
