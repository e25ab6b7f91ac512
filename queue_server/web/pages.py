"""What every HTML page of the web app shares: language, the message catalogue, page login, headers.

Text goes through `queue_server/web/locale/vi/LC_MESSAGES/messages.po` (msgid = English).
Managers' pages follow the chosen language (Vietnamese by default); citizens'
pages show Vietnamese first and English under it.
"""
from __future__ import annotations

import json
import secrets
from functools import wraps
from typing import Any, Callable
from urllib.parse import urlsplit

from flask import Flask, current_app, redirect, request, session, url_for
from markupsafe import Markup

from motcua.i18n import LANGS, Catalogue
from queue_server.web.auth import ROLE_ORDER

T = Catalogue(__file__)

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "connect-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'")




def service():
    return current_app.extensions["motcua_service"]


def current_lang() -> str:
    lang = request.args.get("lang")
    if lang in LANGS:
        return lang
    lang = session.get("lang")
    return lang if lang in LANGS else "vi"


def gettext(msgid: str, **params: Any) -> str:
    return T(msgid, current_lang(), **params)


def both(msgid: str, **params: Any) -> dict[str, str]:
    return T.both(msgid, **params)


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: no open redirect to another host."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def page_role() -> str | None:
    role = session.get("role")
    return role if role in ROLE_ORDER else None


def login_required(role: str) -> Callable:
    """For HTML pages: redirect to the login page (JSON endpoints use auth.require_role)."""
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            have = page_role()
            if have is None:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if ROLE_ORDER[have] < ROLE_ORDER[role]:
                from flask import render_template
                return render_template("app/forbidden.html", need=role), 403
            return view(*args, **kwargs)
        return wrapped
    return decorator


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


def csrf_ok() -> bool:
    sent = request.form.get("csrf") or request.headers.get("X-CSRF-Token")
    return bool(sent) and secrets.compare_digest(sent, session.get("csrf", ""))


def to_json(value: Any) -> Markup:
    """JSON for a <script type="application/json"> block; '<' escaped so it cannot close the tag."""
    text = json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def fmt_minutes(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds / 60:.1f}".replace(".", ",") if current_lang() == "vi" else f"{seconds / 60:.1f}"


def fmt_num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if current_lang() == "vi" else text


def fmt_pct(value: float | None) -> str:
    if value is None:
        return "–"
    text = f"{value:.1f}"
    return (text.replace(".", ",") if current_lang() == "vi" else text) + " %"


def install(app: Flask) -> None:
    """Once per app: template helpers and security headers for the pages."""
    if app.extensions.get("motcua_pages"):
        return
    app.extensions["motcua_pages"] = True
    app.jinja_env.globals.update(_=gettext, both=both, lang=current_lang, csrf_token=csrf_token, to_json=to_json,
                                 page_role=page_role, role_at_least=lambda r: (page_role() is not None and
                                                                               ROLE_ORDER[page_role()] >= ROLE_ORDER[r]),
                                 fmt_minutes=fmt_minutes, fmt_pct=fmt_pct, LANGS=LANGS)
    app.jinja_env.filters["minutes"] = fmt_minutes
    app.jinja_env.filters["pct"] = fmt_pct
    app.jinja_env.filters["num"] = fmt_num

    @app.after_request
    def _headers(resp):
        # Every response, JSON and the wall display included.
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if resp.mimetype == "text/html":
            resp.headers.setdefault("Content-Security-Policy", CSP)
        return resp


def current_app_ext(name: str) -> Any:
    return current_app.extensions[name]
