"""The managers' live dashboard: sectors against their targets, counters, alerts, charts, rebalancing.

The page is live through the one SSE stream (/api/v1/stream); the rebalancing
buttons call the manager endpoints of the JSON API (api.py), so a click is the
same recorded command as `motcua rebalance`.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, jsonify, render_template, request

from protocol.messages import DeviceStatus
from queue_server.domain import events as ev
from queue_server.domain import views
from queue_server.domain.commands import OVERRIDE_REASON_MAX_CHARS
from queue_server.reports import build_report
from queue_server.reports.source import events_for_days
from queue_server.web import pages
from queue_server.web import whatif_desk
from queue_server.web.api import _by, bad_request
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
    "id_key_missing": "{device}: check-in by ID card is off (no ID card key); provision the kiosk again",
    "help": "{device}: a citizen asked for help",
}


def device_alerts(devices: dict[tuple[str, str], DeviceStatus], bookings: bool = True) -> list[dict[str, Any]]:
    """Alerts a manager should act on, from the devices' statuses (protocol.messages.DeviceStatus):
    a device offline, a printer in trouble or low on paper, a kiosk that cannot read ID cards for
    check-in (`bookings`: the site takes bookings; one that does not gives its kiosks no key), a
    citizen asking for help."""
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
        if st.id_key_missing and bookings:
            alert("id_key_missing")
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
        alerts = device_alerts(svc.devices, bookings=cfg.bookings is not None)
        day, auto_mode, seq = svc.state.day, svc.state.auto_mode, svc.state.last_seq
    lang = pages.current_lang()
    return {"ts": now.isoformat(), "day": day, "auto_mode": auto_mode, "seq": seq,
            "sectors": sectors, "counters": counters, "devices": devices,
            "alerts": [{**a, "text": alert_text(a, lang)} for a in alerts]}


def pages_service(app: Flask):
    return app.extensions["motcua_service"]


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
        self.tickets: list = []         # the report's tickets and today's sector changes, for the what-if's
        self.changes: list = []         # comparison after the hour

    def get(self, fresh: bool = False) -> dict[str, Any]:
        """`fresh`: recompute whenever the log moved, even within TODAY_CACHE_S (the what-if's
        history, asked rarely, must see a change just applied)."""
        svc = pages.service()
        with svc.lock:
            key = (svc.state.day, svc.state.last_seq)
            now = svc.clock()
        with self._lock:
            if self._value is not None and (key == self._key or (not fresh and time.monotonic() - self._at < TODAY_CACHE_S)):
                return self._value
            day = key[0] or now.date().isoformat()
            changes: list = []

            def tap(events):
                for e in events:
                    if e.type == ev.COUNTER_SECTORS:
                        changes.append(e)
                    yield e
            report = build_report(tap(events_for_days(svc.store, day, day)), svc.config, day, day, now=now)
            self.tickets, self.changes = report.tickets, changes
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


@bp.post("/dashboard/api/whatif")
@require_role("manager")
def whatif():
    """The what-if of a proposed change of a counter's sectors: {counter, sectors} -> each touched
    sector's mean wait over the next hour without and with it (whatif_desk)."""
    body = request.get_json(silent=True)
    if (not isinstance(body, dict) or not isinstance(body.get("counter"), str)
            or not isinstance(body.get("sectors"), list) or not all(isinstance(s, str) for s in body["sectors"])):
        return bad_request("body must be JSON with a counter id in `counter` and a list of sector ids in `sectors`",
                           "Dữ liệu phải là JSON có mã quầy `counter` và danh sách lĩnh vực `sectors`")
    try:
        record = pages.current_app_ext("motcua_whatif").predict(body["counter"], tuple(body["sectors"]),
                                                                 _by())
    except ValueError as exc:
        return bad_request(f"cannot predict this change: {exc}", "Không dự báo được thay đổi này: dữ liệu không hợp lệ")
    except whatif_desk.Busy:
        return _busy()
    return jsonify(ok=True, whatif=record)


@bp.get("/dashboard/api/whatif/auto")
@require_role("viewer")
def whatif_auto():
    """Auto mode's next move(s), if it looked now, each with its what-if."""
    try:
        return jsonify(ok=True, moves=pages.current_app_ext("motcua_whatif").auto_next())
    except whatif_desk.Busy:
        return _busy()


@bp.get("/dashboard/api/whatif/history")
@require_role("viewer")
def whatif_history():
    """Today's predictions, newest first, each beside what happened once its hour is over."""
    today = pages.current_app_ext("motcua_today")
    today.get(fresh=True)       # the tickets and sector changes as the log has them now
    svc = pages.service()
    with svc.lock:
        now, day = svc.clock(), svc.state.day
    records = [r for r in pages.current_app_ext("motcua_whatif").kept()
               if day is None or datetime.fromisoformat(r["at"]).astimezone(svc.config.site.tz).date().isoformat() == day]
    return jsonify(ok=True, predictions=whatif_desk.compare(records, today.tickets, today.changes, now))


def _busy():
    return jsonify(ok=False, error={"code": "busy", "message": "another prediction is being computed; try again",
                                    "message_vi": "Đang tính một dự báo khác; vui lòng thử lại"}), 503


def init_app(app: Flask) -> None:
    pages.install(app)
    app.extensions["motcua_today"] = TodayCache()
    app.extensions["motcua_whatif"] = whatif_desk.WhatIfDesk(pages_service(app))
    app.register_blueprint(bp)
