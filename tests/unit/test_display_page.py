"""The /display blueprint alone in a bare Flask app: page, labels, static files."""
from __future__ import annotations

import json
import re

from flask import Flask

from queue_server.web.display_bp import bp


def client():
    app = Flask(__name__)
    app.register_blueprint(bp)
    return app.test_client()


def test_page_is_vietnamese_first_with_labels_and_stream_url():
    r = client().get("/display")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert '<html lang="vi">' in html
    labels = json.loads(re.search(r'<script type="application/json" id="labels">(.*?)</script>', html, re.S).group(1))
    assert labels["Connection lost"] == {"vi": "Mất kết nối", "en": "Connection lost"}
    assert '"/api/v1/stream?kinds=board,call"' in html and '"/health"' in html


def test_static_files_are_served_and_plain_es5():
    c = client()
    js = c.get("/display/static/display.js")
    assert js.status_code == 200
    text = js.get_data(as_text=True)
    # cheap smart-TV browsers: no arrow functions, let/const, template strings or classes
    assert not re.search(r"=>|\blet |\bconst |`|\bclass ", text)
    assert c.get("/display/static/display.css").status_code == 200
