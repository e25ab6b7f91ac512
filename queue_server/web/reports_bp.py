"""Reports for managers: per day or period, per sector, counter, procedure and clerk, with the
Decision 766/QĐ-TTg indicators (formulas shown), CSV/XLSX export and a print page."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Flask, Response, jsonify, render_template, request

from queue_server.reports import build_report
from queue_server.reports.export import to_csv, to_xlsx
from queue_server.reports.source import events_for_days
from queue_server.users import Users
from queue_server.web import pages
from queue_server.web.auth import current_role, require_role

bp = Blueprint("reports", __name__)

MAX_DAYS = 366


class PeriodError(ValueError):
    def __init__(self, en: str, vi: str):
        super().__init__(en)
        self.en, self.vi = en, vi


def period() -> tuple[str, str]:
    """`from` and `to` (ISO dates) from the query; today by default; at most a year."""
    svc = pages.service()
    today = svc.clock().date()
    try:
        first = date.fromisoformat(request.args.get("from", request.args.get("to", today.isoformat())))
        last = date.fromisoformat(request.args.get("to", first.isoformat()))
    except (ValueError, TypeError):
        raise PeriodError("dates must be YYYY-MM-DD", "Ngày phải có dạng YYYY-MM-DD") from None
    if last < first:
        raise PeriodError("`to` is before `from`", "Ngày kết thúc trước ngày bắt đầu")
    if (last - first).days >= MAX_DAYS:
        raise PeriodError(f"a report covers at most {MAX_DAYS} days", f"Báo cáo tối đa {MAX_DAYS} ngày")
    return first.isoformat(), last.isoformat()


def make_report(first: str, last: str):
    svc = pages.service()
    sessions = Users(svc.store.engine).counter_sessions()
    return build_report(events_for_days(svc.store, first, last), svc.config, first, last,
                        clerk_sessions=sessions, now=svc.clock())


def _bad_period(err: PeriodError, html: bool):
    if html:
        return render_template("app/reports.html", error=err, report=None, first="", last="", presets=presets()), 400
    return jsonify(ok=False, error={"code": "bad_request", "message": err.en, "message_vi": err.vi}), 400


def sector_names() -> dict[str, dict[str, str]]:
    return {s.id: s.name.model_dump() for s in pages.service().config.sectors}


def presets() -> dict[str, tuple[str, str]]:
    today = pages.service().clock().date()
    monday = today - timedelta(days=today.weekday())
    return {"Today": (today.isoformat(), today.isoformat()),
            "Yesterday": ((today - timedelta(days=1)).isoformat(),) * 2,
            "This week": (monday.isoformat(), today.isoformat()),
            "This month": (today.replace(day=1).isoformat(), today.isoformat())}


@bp.get("/reports")
@pages.login_required("viewer")
def index():
    try:
        first, last = period()
    except PeriodError as err:
        return _bad_period(err, html=True)
    return render_template("app/reports.html", report=make_report(first, last), first=first, last=last,
                           presets=presets(), printing=False, names=sector_names())


@bp.get("/reports/print")
@pages.login_required("viewer")
def print_page():
    try:
        first, last = period()
    except PeriodError as err:
        return _bad_period(err, html=True)
    return render_template("app/reports.html", report=make_report(first, last), first=first, last=last,
                           presets=presets(), printing=True, names=sector_names())


def _download(body: bytes, mimetype: str, first: str, last: str, ext: str) -> Response:
    name = f"motcua-{pages.service().config.id}-{first}_{last}.{ext}"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/reports/export.csv")
@require_role("viewer")
def export_csv():
    try:
        first, last = period()
    except PeriodError as err:
        return _bad_period(err, html=False)
    return _download(to_csv(make_report(first, last)), "text/csv; charset=utf-8", first, last, "csv")


@bp.get("/reports/export.xlsx")
@require_role("viewer")
def export_xlsx():
    try:
        first, last = period()
    except PeriodError as err:
        return _bad_period(err, html=False)
    # the manager's plan pictures, when one is ready (the plan is a manager's page)
    images = (pages.current_app_ext("motcua_plan").images_for_export(pages.current_lang())
              if current_role() == "manager" else None)
    return _download(to_xlsx(make_report(first, last), images),
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", first, last, "xlsx")


@bp.get("/api/v1/reports")
@require_role("viewer")
def report_json():
    try:
        first, last = period()
    except PeriodError as err:
        return _bad_period(err, html=False)
    return jsonify(ok=True, report=make_report(first, last).to_dict())


def init_app(app: Flask) -> None:
    pages.install(app)
    app.register_blueprint(bp)
