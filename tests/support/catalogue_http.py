"""A tiny HTTP peer that serves one catalogue document at GET /api/v1/catalogue.

Only for what the real server never sends (a deliberately broken document), or where a test
needs nothing of the server but the catalogue (build it with queue_server.catalogue, the
server's own builder). Anything with tickets runs tests.support.site.RunningSite instead.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kiosk.catalogue import CATALOGUE_PATH


class StaticCatalogue:
    """`document` may be swapped at any time; stop() is the server going away."""

    def __init__(self, document: Any):
        self.document = document
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                if self.path.split("?")[0] != CATALOGUE_PATH:
                    self.send_error(404)
                    return
                body = json.dumps(outer.document, ensure_ascii=False).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
