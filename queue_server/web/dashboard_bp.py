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

from protocol.messages import DeviceStatus
from queue_server.domain import views
from queue_server.domain.commands import OVERRIDE_REASON_MAX_CHARS
from queue_server.reports import build_report
from queue_server.reports.source import events_for_days
from queue_server.web import pages
from queue_server.web.auth import require_role

bp = Blueprint("dashboard", __name__)

TODAY_CACHE_S = 3.0


# Every alert a device's status can raise, with its text (msgid of the web catalogue, {device}
# filled in). One printer alert per PRINTER_STATES word other than "ok": a state a device can
# report cannot miss the page (tests/unit/test_device_status.py checks the whole class).
ALERT_TEXTS: dict[str, str] = {
    "offline": "{device} is offline",
    "printer_paper_out": "{device}: printer out of paper",
    "printer_cover_open": "{device}: printer cover open",
    "printer_offline": "{device}: printer not connected",
    "printer_error": "{device}: printer error",
    "paper_low": "{device}: printer paper low",
    "help": "{device}: a citizen asked for help",
}


def device_alerts(devices: dict[tuple[str, str], DeviceStatus]) -> list[dict[str, Any]]:
    """Alerts a manager should act on, from the devices' statuses (protocol.messages.DeviceStatus):
    a device offline, a printer in trouble or low on paper, a citizen asking for help."""
    out = []
    for (kind, dev), st in sorted(devices.items()):
        def alert(name: str, **extra: Any) -> None:
            out.append({"kind": name, "device_kind": kind, "device": dev, **extra})
        if not st.online:
            alert("offline")
        if st.printer is not None and st.printer != "ok":
            alert(f"printer_{st.printer}")
        if st.paper_low and st.printer != "paper_out":
            alert("paper_low")
        if st.help_requested:
            alert("help", at=st.help_requested_at)
    return out


def alert_text(alert: dict[str, Any], lang: str) -> str:
    return pages.T(ALERT_TEXTS[alert["kind"]], lang, device=f"{alert['device_kind']} {alert['device']}")


def dashboard_state() -> dict[str, Any]:
    svc = pages.service()
    cfg = svc.config
    with svc.lock:
        now = svc.clock()
        sectors = [views.sector_stats(svc.state, cfg, s.id, now) for s in cfg.sectors]
        counters = [views.counter_state(svc.state, cfg, c.id, now) for c in cfg.counters]
        devices = [st.model_dump(mode="json") for _, st in sorted(svc.devices.items())]
        alerts = device_alerts(svc.devices)
        day, auto_mode, seq = svc.state.day, svc.state.auto_mode, svc.state.last_seq
    lang = pages.current_lang()
    return {"ts": now.isoformat(), "day": day, "auto_mode": auto_mode, "seq": seq,
            "sectors": sectors, "counters": counters, "devices": devices,
            "alerts": [{**a, "text": alert_text(a, lang)} for a in alerts]}


def site_meta() -> dict[str, Any]:
    cfg = pages.service().config
    return {"site": {"id": cfg.site.id, "name": cfg.site.name.model_dump()},
            "sectors": [{"id": s.id, "name": s.name.model_dump(), "prefix": s.prefix,
                         "target_wait_s": int(s.target_wait_min * 60)} for s in cfg.sectors],
            "counters": [{"id": c.id, "label": c.label.model_dump(), "trained": list(c.trained)} for c in cfg.counters],
            "reason_max_chars": OVERRIDE_REASON_MAX_CHARS}


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
