"""Who may call an endpoint: a manager's bearer token (CLI, scripts) or a logged-in session role.

The dashboard's login (session `role`) plugs into the same check.
"""
from __future__ import annotations

import hmac
from functools import wraps
from typing import Callable

from flask import current_app, jsonify, request, session

ROLE_ORDER = {"viewer": 0, "clerk": 1, "manager": 2}


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _bearer() -> bool:
    header = request.headers.get("Authorization", "")
    token = current_app.config.get("MOTCUA_API_TOKEN")
    return bool(token) and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token)


def _csrf_header_ok() -> bool:
    sent = request.headers.get("X-CSRF-Token", "")
    expected = session.get("csrf", "")
    return bool(sent) and bool(expected) and hmac.compare_digest(sent, expected)


def current_role() -> str | None:
    if _bearer():
        return "manager"
    role = session.get("role")
    return role if role in ROLE_ORDER else None


def require_role(role: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            have = current_role()
            if have is None:
                return jsonify(ok=False, error={"code": "unauthorized", "message": "log in first",
                                                "message_vi": "Vui lòng đăng nhập"}), 401
            if request.method not in SAFE_METHODS and not _bearer() and not _csrf_header_ok():
                # A logged-in browser must prove the request comes from our own page.
                return jsonify(ok=False, error={"code": "csrf", "message": "missing or wrong CSRF token; reload the page",
                                                "message_vi": "Phiên làm việc đã cũ; vui lòng tải lại trang"}), 403
            if ROLE_ORDER[have] < ROLE_ORDER[role]:
                return jsonify(ok=False, error={"code": "not_allowed", "message": f"needs the {role} role",
                                                "message_vi": "Bạn không có quyền thực hiện thao tác này"}), 403
            return view(*args, **kwargs)
        return wrapped
    return decorator
