"""Error answers: a person gets a page in Vietnamese and English, styled like the app; the JSON
routes (the API, the pages' own JSON endpoints) get JSON, like the rest of the API.

Also /favicon.ico: browsers ask for it on every site, error pages included.
"""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, jsonify, make_response, render_template, request, send_file
from werkzeug.exceptions import HTTPException

from queue_server.web import pages

log = logging.getLogger(__name__)

JSON_PREFIXES = ("/api/", "/console/api/", "/dashboard/api/", "/planning/api/", "/reports/export")
FAVICON = Path(__file__).resolve().parent / "static" / "app" / "favicon.svg"


def _(msgid: str) -> str:
    """Marks a msgid for the catalogue (tests/integration/test_web_catalogue.py); shown with pages.both."""
    return msgid


# status: (API error code, title, what to do)
ERRORS = {
    400: ("bad_request", _("Bad request"), _("The server could not understand what was sent. Go back and try again.")),
    404: ("not_found", _("Page not found"),
          _("This address does not exist here. Check the link, or start again from the home page.")),
    405: ("method_not_allowed", _("This action is not possible here"), _("This address cannot be used that way.")),
    413: ("too_large", _("Too much data"), _("What was sent is larger than {kb} KB. Go back and send less.")),
    500: ("internal", _("Something went wrong"),
          _("The server could not finish this request. The error has been logged; please try again in a moment.")),
}


def _handle(exc: HTTPException):
    code = exc.code if exc.code in ERRORS else 500
    name, title, detail = ERRORS[code]
    params = {"kb": (request.max_content_length or 0) // 1024} if code == 413 else {}
    if request.path.startswith(JSON_PREFIXES):
        t = pages.both(title)
        resp = jsonify(ok=False, error={"code": name, "message": t["en"], "message_vi": t["vi"]})
    else:
        try:
            resp = render_template("app/error.html", code=code, title=title, detail=detail, params=params)
        except Exception:   # the page itself failed to render: still a bilingual answer, never a traceback
            log.exception("the error page for %s could not be rendered", code)
            t = pages.both(title)
            resp = f"{t['vi']} / {t['en']}"
        resp = make_response(resp)
    resp.status_code = code
    if code != 500:
        for key, value in exc.get_headers():      # keeps `Allow` on a 405 (RFC 9110)
            if key.lower() != "content-type":
                resp.headers[key] = value
    return resp


def favicon():
    return send_file(FAVICON, mimetype="image/svg+xml", max_age=86400)


def init_app(app: Flask) -> None:
    pages.install(app)
    # 500 also takes any exception no other handler caught (Flask logs it first)
    for code in ERRORS:
        app.register_error_handler(code, _handle)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
