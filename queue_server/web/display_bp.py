"""The browser wall display at /display: the same content as the Kivy display, for any smart TV.

A plain page (no build step, ES5 JavaScript) fed live by the server's
Server-Sent Events (GET /api/v1/stream: `board` first, then `board` and
`call` events). Labels come from the display's catalogue (display/texts.py),
so both displays say the same words.
"""
from __future__ import annotations

import json

from flask import Blueprint, current_app, render_template

bp = Blueprint("display", __name__, template_folder="templates", static_folder="static/display",
               static_url_path="/display/static")


@bp.get("/display")
def display_page():
    from display.texts import page_labels
    stream_url = current_app.config.get("MOTCUA_DISPLAY_STREAM_URL", "/api/v1/stream?kinds=board,call")
    # embedded as JSON in a <script type="application/json">: "</" must not close the tag early
    labels = json.dumps(page_labels(), ensure_ascii=False).replace("</", "<\\/")
    health_url = current_app.config.get("MOTCUA_DISPLAY_HEALTH_URL", "/health")
    return render_template("display/index.html", stream_url=stream_url, health_url=health_url, labels_json=labels)
