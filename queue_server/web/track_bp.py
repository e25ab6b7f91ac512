"""Citizens' pages, no login: a ticket's tracking page `/t/<token>` (from the QR) and the public "waits now".

Both are live through the SSE stream and readable on a cheap phone: server-rendered,
a few lines of plain JavaScript, and a meta refresh when JavaScript is off.

The tracking page shows one model of the ticket, `ticket_page()`, built here with every text in
both languages: the template renders it on first load, and `/t/<token>/live.json` sends the same
model on every change the stream announces, which `track.js` only puts in place. So a transfer,
a recall or the end of the service can never leave a field of the page behind.

A visit of several procedures (docs/visits.md) adds where it stands ("2/3: Đất đai"), each
procedure with its state, the next one, and when the whole visit should end: estimated now from
the procedures still to come, as the visit's end is printed (queue_server/domain/visits.py).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, Flask, jsonify, redirect, render_template, url_for

from motcua.board_texts import step_text
from protocol.booking_texts import both as told    # a booking's notice, by key (not a msgid here)
from queue_server.domain import estimate, views, visits
from queue_server.domain.commands import CancelTicket
from queue_server.web import pages
from queue_server.web.api import ticket_view
from queue_server.web.pages import both

bp = Blueprint("track", __name__)

TOKEN_MAX = 64
FINAL = ("served", "no_show", "cancelled", "expired")   # nothing changes any more: the page stops listening


def _headline(view: dict[str, Any]) -> dict[str, str]:
    status = view["status"]
    if status == "called":
        return both("Go to counter {counter}", counter=view["counter_number"])
    if status == "waiting":
        return both("Waiting")
    if status == "served":
        return both("You have been served. Thank you!")
    if status == "no_show":
        return both("You were called but did not come to the counter. Please ask at the reception.")
    if status == "cancelled":
        return both("This ticket is cancelled.")
    return both("This ticket is no longer valid.")


# a visit's procedure as the citizen reads it (protocol VisitStep.status)
STEP_WORDS = {"done": "Done", "current": "Now", "waiting": "Later", "no_show": "Missed"}


def visit_model(view: dict[str, Any], sector_names: dict[str, dict[str, str]],
                end_at: str | None) -> dict[str, Any] | None:
    """Where the visit of `view` stands, worded in both languages; None for a single procedure."""
    visit = view.get("visit")
    if not visit or view["status"] not in ("waiting", "called"):
        return None
    procs = visit["procedures"]
    steps = [{"where": step_text(i, len(procs), sector_names.get(p["sector"], {"vi": p["sector"]})),
              "status": p["status"], "status_name": both(STEP_WORDS.get(p["status"], "Later"))}
             for i, p in enumerate(procs, 1)]
    following = next((st for st in steps if st["status"] == "waiting"), None)
    return {"where": step_text(visit["step"], visit["steps"], view["sector_name"]), "steps": steps,
            "next": None if following is None else {
                lang: both("Next: {procedure}", procedure=following["where"][lang])[lang] for lang in ("vi", "en")},
            "end": None if end_at is None else both("Your visit should end at about {time}", time=end_at)}


def booking_notes(t, tz) -> list[dict[str, str]]:
    """A ticket taken from a phone, or a booking checked in early (issue #16): whether its citizen
    has checked in at the kiosk yet, and by when they must."""
    if t.status != "waiting":
        return []
    if t.booking_kind == "remote" and t.held:
        by = datetime.fromtimestamp(t.arrive_by_epoch, tz) if t.arrive_by_epoch else None
        return [both("Not checked in yet: scan your ID card at the kiosk before {time}, or the ticket lapses.",
                     time=f"{by:%H:%M}" if by else "–")]
    if t.booking_kind == "remote":
        return [both("Checked in at the kiosk: you keep your place.")]
    if t.booking_kind == "slot" and t.held and t.due_epoch:
        return [told("booking_early", time=f"{datetime.fromtimestamp(t.due_epoch, tz):%H:%M}")]
    return []


# the travel times a citizen may pick for "when to leave home" (minutes); the first shown is DEFAULT_TRAVEL
TRAVEL_MIN = (10, 20, 30, 45)
DEFAULT_TRAVEL = 20


def leave_model(t, tz) -> dict[str, Any] | None:
    """When to leave home (issue #16), for a ticket taken from a phone whose citizen has not checked
    in yet: the time they must be at the kiosk by, less each travel time. A booked slot's ticket
    exists only once its citizen is at the kiosk: its leave time is on the booking's page
    (booking_bp.booking_model, from the slot's start)."""
    if t.status != "waiting" or t.booking_kind != "remote" or not t.held or not t.arrive_by_epoch:
        return None
    return leave_times(datetime.fromtimestamp(t.arrive_by_epoch, tz))


def leave_times(be_there: datetime, today: date | None = None) -> dict[str, Any]:
    """"Leave at 08:05" for each travel time the citizen may pick: `be_there` (aware, local) less
    it; with the day when that is not `today` (a booking days ahead)."""
    def text(at: datetime) -> dict[str, str]:
        if today is None or at.date() == today:
            return both("Leave at {time}", time=f"{at:%H:%M}")
        return both("Leave at {time} on {day}", time=f"{at:%H:%M}", day=f"{at:%d/%m/%Y}")
    return {"default": DEFAULT_TRAVEL,
            "options": [{"min": m, "text": text(be_there - timedelta(minutes=m))} for m in TRAVEL_MIN]}


def page_model(view: dict[str, Any], recalls: int, transferred: bool,
               visit: dict[str, Any] | None = None, booking: list[dict[str, str]] | None = None,
               leave: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the tracking page shows of `view` (api.ticket_view), worded in both languages;
    `visit`: visit_model's, for a ticket of several procedures; `booking`: booking_notes';
    `leave`: leave_model's."""
    status = view["status"]
    waiting = status == "waiting"
    notes = list(booking or [])
    if status == "called" and recalls:
        notes.append(both("You are being called again. Please come to the counter now."))
    if waiting and transferred:
        notes.append(both("Your ticket was moved to this sector. You keep your place in the queue."))
    return {"number": view["number"], "status": status, "seq": view["seq"],
            "sector_name": view["sector_name"], "headline": _headline(view), "called": status == "called",
            "recalls": recalls, "notes": notes,
            "ahead": view["ahead"] if waiting else None,
            "wait_min": round(view["live_wait_s"] / 60) if waiting else None,
            # the domain's rule (QueueCore._ticket_cancel): only a waiting ticket can be cancelled
            "can_cancel": waiting, "final": status in FINAL, "visit": visit, "leave": leave,
            # what the page's alert says when called (track.js: banner, sound, vibration, notification)
            "call_alert": both("Your turn: go to counter {counter}", counter=view["counter_number"])
            if status == "called" else None}


def ticket_page(token: str) -> dict[str, Any] | None:
    if not token or len(token) > TOKEN_MAX:
        return None
    svc = pages.service()
    with svc.lock:      # the view and the ticket's history from one moment of the state
        view = ticket_view(svc, token)
        if view is None:
            return None
        t = svc.state.tickets[svc.state.by_token[token]]
        names = {s.id: s.name.model_dump() for s in svc.config.sectors}
        return page_model(view, t.recalls, t.transferred, visit_model(view, names, _visit_end(svc, t, view)),
                          booking_notes(t, svc.config.site.tz), leave_model(t, svc.config.site.tz))


def _visit_end(svc, t, view: dict[str, Any]) -> str | None:
    """The site's clock time ("10:45") when the visit should end: the procedures still to come,
    each after its sector's wait now and its service time (visits.end_of, the printed end's model),
    the current one after this ticket's own live wait (none once called)."""
    if not t.visit or t.status not in ("waiting", "called"):
        return None
    to_come = [(p["sector"], p["procedure"]) for p in t.visit[t.step:] if p["status"] in ("current", "waiting")]
    waits = estimate.shown_waits(svc.state, svc.config)
    first = view["live_wait_s"] if t.status == "waiting" else 0
    seconds = visits.end_of(to_come, waits.__getitem__, svc.core.service_s, first_wait_s=first)
    end = (svc.clock() + timedelta(seconds=seconds)).astimezone(svc.config.site.tz)
    return f"{end:%H:%M}"


@bp.get("/t/<token>")
def ticket(token: str):
    page = ticket_page(token)
    if page is None:
        return render_template("app/track_missing.html"), 404
    return render_template("app/track.html", m=page, token=token)


@bp.get("/t/<token>/live.json")
def live(token: str):
    page = ticket_page(token)
    if page is None:
        return jsonify(ok=False, error={"code": "not_found", "message": "no ticket of today has this link",
                                        "message_vi": "Không có số nào trong ngày ứng với đường dẫn này"}), 404
    return jsonify(ok=True, page=page)


@bp.post("/t/<token>/cancel")
def cancel(token: str):
    """The no-JavaScript way to cancel (the page's script calls the JSON API instead)."""
    if ticket_page(token) is None:
        return render_template("app/track_missing.html"), 404
    reply = pages.service().execute("citizen", "web", CancelTicket(token=token))
    if not reply.get("ok"):
        return render_template("app/track.html", m=ticket_page(token), token=token, error=reply["error"]), 409
    return redirect(url_for("track.ticket", token=token))


@bp.get("/waits")
def waits():
    svc = pages.service()
    with svc.lock:
        board = views.board(svc.state, svc.config, svc.clock())
    return render_template("app/waits.html", board=board)


def init_app(app: Flask) -> None:
    pages.install(app)
    app.register_blueprint(bp)
