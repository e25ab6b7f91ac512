"""Login and logout for the web pages (roles: viewer, clerk, manager) and the language switch."""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, redirect, render_template, request, session, url_for

from motcua.i18n import LANGS
from queue_server.users import LoginThrottle, Users
from queue_server.web import pages

bp = Blueprint("auth", __name__)

HOME = {"manager": "dashboard.index", "viewer": "dashboard.index", "clerk": "console.index"}


def users() -> Users:
    return Users(pages.service().store.engine)


def home_for(role: str | None) -> str:
    endpoint = HOME.get(role or "", "dashboard.index")
    return url_for(endpoint) if endpoint in current_app.view_functions else "/"


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    status = 200
    next_url = pages.safe_next(request.values.get("next"), "")
    if request.method == "POST":
        username = (request.form.get("username") or "").strip().lower()[:80]
        password = request.form.get("password") or ""
        throttle: LoginThrottle = current_app.extensions["motcua_login_throttle"]
        key = (request.remote_addr or "?", username)
        if not pages.csrf_ok():
            error, status = pages.gettext("The form expired; please try again."), 400
        elif throttle.blocked(key):
            error, status = pages.gettext("Too many failed attempts; wait 30 seconds and try again."), 429
        else:
            user = users().verify(username, password)
            if user is None:
                throttle.failed(key)
                error, status = pages.gettext("Wrong username or password."), 401
            else:
                throttle.succeeded(key)
                lang = session.get("lang")
                session.clear()
                session.permanent = False
                session.update(user=user.username, role=user.role, name=user.display_name or user.username)
                if lang:
                    session["lang"] = lang
                return redirect(pages.safe_next(next_url, home_for(user.role)))
    return render_template("app/login.html", error=error, next=next_url), status


@bp.post("/logout")
def logout():
    if pages.csrf_ok() and session.get("user"):
        if session.get("counter"):
            users().sign_out_counter(session["user"])
        lang = session.get("lang")
        session.clear()
        if lang:
            session["lang"] = lang
    return redirect(url_for("auth.login"))


@bp.get("/lang/<code>")
def set_lang(code: str):
    if code in LANGS:
        session["lang"] = code
    return redirect(pages.safe_next(request.args.get("next"), "/"))


@bp.get("/")
def root():
    return redirect(home_for(pages.page_role()) if pages.page_role() else url_for("track.waits"))


def init_app(app: Flask) -> None:
    from queue_server.web import openapi
    pages.install(app)
    app.extensions.setdefault("motcua_login_throttle", LoginThrottle())
    app.register_blueprint(bp)
    app.register_blueprint(openapi.bp)
