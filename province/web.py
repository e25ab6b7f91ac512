"""The province dashboard (Flask app factory): waits per site and sector, now and over the day.

Read-only over the province's PostgreSQL; one short-lived connection per request (psycopg
connections are not shared between threads). JSON under /api/v1/province/.
"""
from __future__ import annotations

import secrets
from datetime import date, datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, abort, current_app, jsonify, render_template, request
from jinja2 import ChoiceLoader, FileSystemLoader

from province.config import ProvinceConfig
from province.store import Store
from province.texts import T

bp = Blueprint("province", __name__)


# The booking portal wears the site's citizen pages' look: their templates and static files
# (citizen_base.html, site.css, booking.css) are read from the site's package, not copied.
SITE_WEB = Path(__file__).resolve().parents[1] / "queue_server" / "web"


def create_app(config: dict) -> Flask:
    """config: {"DB_URL": postgresql://..., "PROVINCE": ProvinceConfig, "SERVICE": ProvinceService|None,
    "RELAY": BookingRelay|None (the booking portal answers 503 without), "ID_HASH_KEY": bytes|None,
    "SECRET_KEY": the forms' session key (a new one per start when not given)}."""
    from province import portal_web
    from queue_server.web import pages
    app = Flask(__name__, static_folder=str(SITE_WEB / "static"))
    app.config.update(config)
    app.config.setdefault("PROVINCE", ProvinceConfig())
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secrets.token_bytes(32)
    app.jinja_loader = ChoiceLoader([FileSystemLoader(str(Path(__file__).parent / "templates")),
                                     FileSystemLoader(str(SITE_WEB / "templates"))])
    # the helpers the site's citizen templates call (the dashboard keeps its own inline styles, so
    # the pages' CSP is the portal's alone: portal_web sets it)
    app.jinja_env.globals.update(both=pages.both, csrf_token=pages.csrf_token)
    app.register_blueprint(bp)
    app.register_blueprint(portal_web.bp)
    app.jinja_env.globals["T"] = T
    return app


def _store() -> Store:
    return Store(current_app.config["DB_URL"])


def _day() -> date:
    tz = ZoneInfo(current_app.config["PROVINCE"].timezone)
    raw = request.args.get("day")
    if raw is None:
        return datetime.now(timezone.utc).astimezone(tz).date()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, T("day must be YYYY-MM-DD", "en"))


def _name(names: dict | None, fallback: str, lang: str = "vi") -> str:
    return (names or {}).get(lang) or fallback


def gather(day: date) -> dict:
    store = _store()
    try:
        now, sites = store.now(), store.sites()
        hours = store.day(day, current_app.config["PROVINCE"].timezone)
    finally:
        store.close()
    return {"now": now, "sites": sites, "day": hours}


@bp.get("/")
def dashboard():
    day = _day()
    data = gather(day)
    by_key: dict[tuple[str, str], dict[int, dict]] = {}
    for r in data["day"]:
        by_key.setdefault((r["site"], r["sector"]), {})[r["hour"]] = r
    hours = sorted({r["hour"] for r in data["day"]}) or list(range(7, 18))
    site_names = {s["site"]: s["name"] for s in data["sites"]}
    for r in data["now"]:
        site_names.setdefault(r["site"], r["site_name"])
    sector_names = {(r["site"], r["sector"]): r["sector_name"] for r in data["now"]}
    peak = max((r["mean_wait_s"] or 0 for r in data["day"]), default=0) or 1
    service = current_app.config.get("SERVICE")
    return render_template("province.html", day=day, now=data["now"], sites=data["sites"], hours=hours,
                           by_key=sorted(by_key.items()), site_names=site_names, sector_names=sector_names,
                           peak=peak, name=_name, counters=service.counters if service else None,
                           province=current_app.config["PROVINCE"])


def _jsonable(rows: list[dict]) -> list[dict]:
    return [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in r.items()} for r in rows]


@bp.get("/api/v1/province/now")
def api_now():
    store = _store()
    try:
        return jsonify({"v": 1, "sectors": _jsonable(store.now())})
    finally:
        store.close()


@bp.get("/api/v1/province/day")
def api_day():
    day = _day()
    store = _store()
    try:
        return jsonify({"v": 1, "day": day.isoformat(),
                        "hours": _jsonable(store.day(day, current_app.config["PROVINCE"].timezone))})
    finally:
        store.close()


@bp.get("/api/v1/province/sites")
def api_sites():
    store = _store()
    try:
        out = {"v": 1, "sites": _jsonable(store.sites())}
    finally:
        store.close()
    service = current_app.config.get("SERVICE")
    if service:
        c = service.counters
        out["consumer"] = {"received": c.received, "stored": c.stored, "duplicates": c.duplicates,
                           "rejected": c.rejected, "db_errors": c.db_errors,
                           "connected": service.connected.is_set()}
    return jsonify(out)


@bp.errorhandler(400)
def bad_request(err):
    return jsonify({"v": 1, "error": {"code": "bad_request", "message": T.both("day must be YYYY-MM-DD")}}), 400
