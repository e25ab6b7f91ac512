"""Citizens' pages, no login: a ticket's tracking page `/t/<token>` (from the QR) and the public "waits now".

Both are live through the SSE stream and readable on a cheap phone: server-rendered,
a few lines of plain JavaScript, and a meta refresh when JavaScript is off.

The tracking page shows one model of the ticket, `ticket_page()`, built here with every text in
both languages: the template renders it on first load, and `/t/<token>/live.json` sends the same
model on every change the stream announces, which `track.js` only puts in place. So a transfer,
a recall or the end of the service can never leave a field of the page behind.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify, redirect, render_template, url_for

from queue_server.domain import views
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


def page_model(view: dict[str, Any], recalls: int, transferred: bool) -> dict[str, Any]:
    """Everything the tracking page shows of `view` (api.ticket_view), worded in both languages."""
    status = view["status"]
    waiting = status == "waiting"
    notes = []
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
            "can_cancel": waiting, "final": status in FINAL}


def ticket_page(token: str) -> dict[str, Any] | None:
    if not token or len(token) > TOKEN_MAX:
        return None
    svc = pages.service()
    with svc.lock:      # the view and the ticket's history from one moment of the state
        view = ticket_view(svc, token)
        if view is None:
            return None
        t = svc.state.tickets[svc.state.by_token[token]]
        return page_model(view, t.recalls, t.transferred)


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
