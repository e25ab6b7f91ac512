"""Citizens' pages, no login: a ticket's tracking page `/t/<token>` (from the QR) and the public "waits now".

Both are live through the SSE stream and readable on a cheap phone: server-rendered,
a few lines of plain JavaScript, and a meta refresh when JavaScript is off.
"""
from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, url_for

from queue_server.domain import views
from queue_server.domain.commands import CancelTicket
from queue_server.web import pages
from queue_server.web.api import ticket_view

bp = Blueprint("track", __name__)

TOKEN_MAX = 64


def _lookup(token: str):
    if not token or len(token) > TOKEN_MAX:
        return None
    return ticket_view(pages.service(), token)


@bp.get("/t/<token>")
def ticket(token: str):
    view = _lookup(token)
    if view is None:
        return render_template("app/track_missing.html"), 404
    return render_template("app/track.html", t=view, token=token, cancelled=False)


@bp.post("/t/<token>/cancel")
def cancel(token: str):
    """The no-JavaScript way to cancel (the page's script calls the JSON API instead)."""
    view = _lookup(token)
    if view is None:
        return render_template("app/track_missing.html"), 404
    reply = pages.service().execute("citizen", "web", CancelTicket(token=token))
    if not reply.get("ok"):
        return render_template("app/track.html", t=ticket_view(pages.service(), token), token=token,
                               error=reply["error"]), 409
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
