"""A stand-in for the queue server, for kiosk tests, demos and screenshots.

It speaks the same contract as the real server (docs/protocol.md and the HTTP
catalogue) but keeps nothing: tickets are counted per sector in memory,
replies are cached per (kiosk, req_id) exactly like the real server's
idempotency, so tests can prove a retry never issues a second ticket.
The real server replaces it in the end-to-end test once it exists.
"""
from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from protocol import guidance
from protocol.client import BrokerUrl
from protocol.messages import (PRINTED_WAIT, SHOWN_WAIT, ProtocolError, dumps, parse_command, reply_error,
                               reply_ok, wait_fields)
from protocol.ticket_number import format_number
from protocol.topics import Topics
from kiosk.catalogue import CATALOGUE_PATH


def load_site(path: str | Path):
    from queue_server.domain.site import parse_site
    return parse_site(yaml.safe_load(Path(path).read_text(encoding="utf-8")), str(path))


def catalogue_from_site(site, stats: dict[str, dict[str, int]] | None = None) -> dict[str, Any]:
    """The GET /api/v1/catalogue document for a SiteConfig (same shape the lead's server serves)."""
    stats = stats or {}
    return {
        "site": {"id": site.site.id, "name": site.site.name.model_dump(), "online_portal": site.site.online_portal,
                 "timezone": site.site.timezone},
        "priority_groups": list(site.priority_groups),
        "sectors": [{
            "id": s.id, "prefix": s.prefix, "name": s.name.model_dump(), "icon": s.icon,
            "target_wait_min": s.target_wait_min,
            "waiting": stats.get(s.id, {}).get("waiting", 0), **wait_fields(SHOWN_WAIT, stats.get(s.id, {}).get("est_wait_s", 0)),
            "procedures": [{
                "id": p.id, "name": p.name.model_dump(), "fee_vnd": p.fee_vnd,
                "fee_note": p.fee_note.model_dump() if p.fee_note else None, "days": p.days, "online": p.online,
                "documents": [d.model_dump() for d in p.documents], "portal_url": p.portal_url,
            } for p in s.procedures],
        } for s in site.sectors],
    }


class CatalogueServer:
    """Serves one catalogue document at /api/v1/catalogue on 127.0.0.1 (stop() = server down)."""

    def __init__(self, document: dict[str, Any]):
        self.document = document
        self.hits = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                outer.hits += 1
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

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> "CatalogueServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class FakeTicketServer:
    """Answers ticket.issue / guidance.online from any kiosk of `site` on the broker.

    `ignore_next` drops that many commands unanswered (a server that missed
    them), to exercise the kiosk's same-req_id retry.
    """

    def __init__(self, broker_url: str, site, *, public_url: str = "http://127.0.0.1:8080",
                 service_s: int = 300, fail_code: str | None = None):
        self.site = site
        self.topics = Topics(site.site.id)
        self.public_url = public_url.rstrip("/")
        self.service_s = service_s
        self.fail_code = fail_code
        self.ignore_next = 0
        self.issued: list[dict[str, Any]] = []
        self.guided: list[dict[str, Any]] = []
        self.received: list[dict[str, Any]] = []
        self._replies: dict[tuple[str, str], dict[str, Any]] = {}
        self._counts: dict[str, int] = {}
        self._waiting: dict[str, int] = {}
        self._lock = threading.Lock()
        self.ready = threading.Event()
        b = BrokerUrl.parse(broker_url)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"fake-server-{site.site.id}")
        self.client.will_set(self.topics.server_status, dumps({"v": 1, "type": "server.status", "ts": _now(),
                                                               "online": False}), qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self._broker = b

    def start(self, wait: float = 5.0) -> "FakeTicketServer":
        self.client.connect(self._broker.host, self._broker.port, keepalive=15)
        self.client.loop_start()
        if not self.ready.wait(wait):
            raise TimeoutError("fake server did not connect")
        return self

    def stop(self, announce_offline: bool = True) -> None:
        if announce_offline:
            self.publish_status(False).wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()

    def publish_status(self, online: bool):
        return self.client.publish(self.topics.server_status,
                                   dumps({"v": 1, "type": "server.status", "ts": _now(), "online": online}),
                                   qos=1, retain=True)

    def publish_stats(self, sector: str, waiting: int, est_wait_s: int):
        return self.client.publish(self.topics.sector_stats(sector),
                                   dumps({"v": 1, "type": "sector.stats", "ts": _now(), "sector": sector,
                                          "waiting": waiting, **wait_fields(SHOWN_WAIT, est_wait_s), "served_today": 0}),
                                   qos=1, retain=True)

    def _on_connect(self, client, userdata, flags, reason_code, properties=None) -> None:
        client.subscribe(self.topics.all_kiosk_cmds, 1)
        self.publish_status(True)
        self.ready.set()

    def _on_message(self, client, userdata, msg) -> None:
        parsed = self.topics.parse_cmd(msg.topic)
        if parsed is None:
            return
        kind, device = parsed
        try:
            cmd = parse_command(kind, msg.payload)
        except ProtocolError as exc:
            reply = reply_error(exc.req_id, exc.code, exc.message, _now())
            client.publish(self.topics.reply(kind, device), dumps(reply), qos=1)
            return
        with self._lock:
            self.received.append({"device": device, "type": cmd.type, "req_id": cmd.req_id})
            if self.ignore_next > 0:
                self.ignore_next -= 1
                return
            key = (device, cmd.req_id)
            reply = self._replies.get(key)
            if reply is None:
                reply = self._decide(device, cmd)
                self._replies[key] = reply
        client.publish(self.topics.reply(kind, device), dumps(reply), qos=1)

    def _decide(self, device: str, cmd) -> dict[str, Any]:
        if self.fail_code:
            return reply_error(cmd.req_id, self.fail_code, f"refused: {self.fail_code}", _now(),
                               message_vi="Từ chối")
        if cmd.type == "ticket.issue":
            sector = self.site.sector_by_id.get(cmd.sector)
            if sector is None:
                return reply_error(cmd.req_id, "unknown_sector", f"no sector {cmd.sector}", _now())
            n = self._counts[sector.id] = self._counts.get(sector.id, 0) + 1
            ahead = self._waiting.get(sector.id, 0)
            self._waiting[sector.id] = ahead + 1
            number = format_number(sector.prefix, n)
            tid = f"t-{sector.id}-{n}"
            ticket = {"id": tid, "number": number, "sector": sector.id, "procedure": cmd.procedure,
                      "priority": cmd.priority, "issued_at": _now(), "position": ahead + 1, "ahead": ahead,
                      **wait_fields(PRINTED_WAIT, ahead * self.service_s), "token": f"tok{n}",
                      "track_url": f"{self.public_url}/t/{tid}?k=tok{n}"}
            self.issued.append(ticket)
            self.publish_stats(sector.id, ahead + 1, (ahead + 1) * self.service_s)
            return reply_ok(cmd.req_id, {"ticket": ticket}, _now())
        if cmd.type == "guidance.online":
            found = self.site.procedure_by_id.get(cmd.procedure)
            if found is None:
                return reply_error(cmd.req_id, "unknown_procedure", f"no procedure {cmd.procedure}", _now())
            sector, proc = found
            portal = proc.portal_url or self.site.site.online_portal
            steps = guidance.steps(portal, proc.name.get(cmd.lang), proc.online, cmd.lang)
            self.guided.append({"device": device, "procedure": proc.id})
            return reply_ok(cmd.req_id, {"guidance": {"portal_url": portal,
                                                      "steps": steps, "procedure": proc.id, "sector": sector.id,
                                                      "online": proc.online}}, _now())
        return reply_error(cmd.req_id, "bad_request", "not a kiosk command", _now())


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat()
