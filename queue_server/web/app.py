"""App factory (docs/architecture.md rule 6): nothing is built at import time."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from queue_server.service import QueueService
from queue_server.web.live import LiveHub

log = logging.getLogger(__name__)

@dataclass
class WebSettings:
    secret_key: str
    api_token: str                  # bearer token for manager endpoints (CLI, scripts)
    data_dir: str | None = None
    # Behind HTTPS (a reverse proxy with the site's certificate) cookies are Secure; a plain-HTTP
    # LAN site cannot use them, or nobody could log in.
    secure_cookies: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def create_app(service: QueueService, settings: WebSettings) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY=settings.secret_key, JSON_AS_ASCII=False, MOTCUA_API_TOKEN=settings.api_token,
                      MOTCUA_DATA_DIR=settings.data_dir, SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=settings.secure_cookies, MAX_CONTENT_LENGTH=64 * 1024, **settings.extra)
    app.json.ensure_ascii = False
    app.extensions["motcua_service"] = service
    app.extensions["motcua_live"] = LiveHub(service)
    from queue_server.web import api
    app.register_blueprint(api.bp)

    @app.errorhandler(RecursionError)
    def _too_deep(_exc):
        # A JSON body nested thousands deep: the parser gives up; the client gets a 400, not a 500.
        return {"ok": False, "error": {"code": "bad_request", "message": "the JSON body is nested too deeply",
                                       "message_vi": "Dữ liệu JSON lồng quá sâu"}}, 400
    # Every area by hand, as the Flask tutorial does: a missing module is an error, never a silent skip.
    from queue_server.web import (auth_bp, booking_bp, console_bp, dashboard_bp, display_bp, planning_bp, reports_bp,
                                  track_bp)
    app.register_blueprint(display_bp.bp)
    # the page areas register their blueprint with what they install (page helpers, caches)
    dashboard_bp.init_app(app)
    planning_bp.init_app(app)
    reports_bp.init_app(app)
    track_bp.init_app(app)
    booking_bp.init_app(app)   # the citizens' booking pages and the manager's bookings (issue #16)
    console_bp.init_app(app)
    auth_bp.init_app(app)      # and the OpenAPI document
    from queue_server.web import errors
    errors.init_app(app)   # bilingual error pages for people, JSON errors for the JSON routes
    return app
