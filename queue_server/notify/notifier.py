"""The webhook notifier wired to a running site (issue #16, docs/appointments.md "Messages to the
citizen's phone"): the event log is its outbox (queue_server/domain/notices.py), webhook.py sends.

- `LogOutbox` is webhook.Outbox over the service: `pending` reads the open messages from the
  state (the fold of the log: after a restart too), each made into a Notification with its words
  (protocol/booking_texts.py); `delivered` and `given_up` go through the command loop as the
  commands notify.sent / notify.failed, so an outcome is durable like any other event.
- `Notifier` runs the DeliveryLoop in a thread of its own; the service's listeners wake it when a
  batch queued a message. The command loop never waits on HTTP: it only queues.
- `load_or_create_secret`: the shared secret of the signature, made at the first start.
"""
from __future__ import annotations

import logging
import secrets
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from protocol import booking_code, booking_texts
from queue_server.domain import events as ev
from queue_server.domain import notices
from queue_server.domain.commands import NotifyFailed, NotifySent
from queue_server.domain.site import Notify, SiteConfig
from queue_server.notify.webhook import MIN_SECRET_BYTES, DeliveryLoop, Notification, WebhookSender

log = logging.getLogger(__name__)

KIND, DEVICE = "notifier", "webhook"     # the notifier's commands' source in the log: notifier/webhook
REPORT_TIMEOUT_S = 30.0                  # waiting for the command loop to commit an outcome


def load_or_create_secret(path: Path) -> bytes:
    """The webhook's shared secret: 32 random bytes as 64 hex digits in a file only its owner
    reads, made at the first start; a province that gives its own puts it in the file instead.
    A file that is not hex, or too short, stops the server with a message naming it."""
    from motcua.files import write_private
    if not path.exists():
        write_private(path, secrets.token_hex(MIN_SECRET_BYTES) + "\n")
    try:
        secret = bytes.fromhex(path.read_text().strip())
    except ValueError:
        raise SystemExit(f"{path}: the webhook secret must be hex digits") from None
    if len(secret) < MIN_SECRET_BYTES:
        raise SystemExit(f"{path}: the webhook secret must be at least {MIN_SECRET_BYTES} bytes "
                         f"({2 * MIN_SECRET_BYTES} hex digits)")
    return secret


def notification(config: SiteConfig, d: dict[str, Any]) -> Notification:
    """An open message (notify.queued's data) as the gateway gets it: its words in both
    languages, and the facts they are made of (times local, ISO 8601) for a gateway that writes
    its own."""
    tz = config.site.tz
    centre = config.site.name.model_dump()
    kind = d["kind"]
    facts: dict[str, Any] = {"site": config.id, "centre": centre, "code": d.get("code"), "lang": d.get("lang", "vi"),
                             "sector": d.get("sector"), "procedure": d.get("procedure")}
    if kind == notices.REMINDER:
        facts.update(slot=d["slot"], lead_h=d["lead_h"])
        text = booking_texts.reminder_message(centre, d["slot"], booking_code.display(d["code"]))
    elif kind == notices.CLOSURE:
        facts.update(slot=d["slot"], offer=d.get("offer"))
        text = booking_texts.closure_message(d["slot"], d.get("offer"))
    elif kind == notices.TURN_NEAR:
        arrive_by = datetime.fromtimestamp(d["arrive_by_epoch"], tz)
        facts.update(ticket=d["number"], ticket_id=d["ticket_id"], ahead=d["ahead"], arrive_by=arrive_by.isoformat())
        text = booking_texts.turn_near_message(centre, d["number"], d["ahead"], arrive_by.strftime("%H:%M"))
    else:
        raise ValueError(f"unknown kind of message {kind!r}")
    return Notification(d["id"], kind, d["phone"], text, facts, expires_at=d.get("expires_epoch"))


class LogOutbox:
    """webhook.Outbox over a QueueService: the open messages of the log, and their outcomes as commands."""

    def __init__(self, service: Any):
        self.service = service
        # Reported but maybe not yet folded in (or the report failed): not sent again by this
        # process. A restart forgets it, and the gateway drops the repeat by its delivery id.
        self._closed: set[str] = set()

    def pending(self) -> list[Notification]:
        with self.service.lock:
            open_ = [dict(d) for d in self.service.state.notify_pending.values()]
        self._closed &= {d["id"] for d in open_}
        out = []
        for d in open_:
            if d["id"] in self._closed:
                continue
            try:
                out.append(notification(self.service.config, d))
            except (KeyError, TypeError, ValueError):
                log.exception("message %s cannot be made; given up", d.get("id"))
                self.given_up(d["id"], 0.0, "unreadable", attempts=0, last_error=None)
        return out

    def delivered(self, notification_id: str, at: float, *, attempts: int) -> None:
        self._report(NotifySent(notification_id, attempts))

    def given_up(self, notification_id: str, at: float, reason: str, *, attempts: int,
                 last_error: str | None) -> None:
        self._report(NotifyFailed(notification_id, reason, attempts, last_error))

    def _report(self, cmd: NotifySent | NotifyFailed) -> None:
        self._closed.add(cmd.id)
        try:
            reply = self.service.execute(KIND, DEVICE, cmd, timeout=REPORT_TIMEOUT_S)
            if not reply.get("ok"):
                log.warning("message %s: the outcome was refused: %s", cmd.id, reply.get("error"))
        except Exception:      # the loop is stopping or stuck: kept in _closed, not sent again here
            log.warning("message %s: its outcome could not be recorded", cmd.id, exc_info=True)


class Notifier:
    """The delivery loop of a site's messages, in its own thread."""

    def __init__(self, service: Any, cfg: Notify, secret: bytes):
        self.service = service
        self.outbox = LogOutbox(service)
        self.sender = WebhookSender(cfg.webhook_url, secret)
        self.loop = DeliveryLoop(self.outbox, self.sender, base_s=cfg.retry_first_s)
        self._log_topic = service.topics.events_log
        self._thread: threading.Thread | None = None

    @classmethod
    def from_site(cls, service: Any, site: SiteConfig, data_dir: Path) -> "Notifier | None":
        """The site's notifier, or None when its config has no `notify:` section."""
        if site.notify is None:
            return None
        return cls(service, site.notify, load_or_create_secret(Path(data_dir) / site.notify.secret_file))

    def _on_messages(self, messages: list) -> None:
        # a listener runs in the command loop's thread: it only sets an event
        if any(m.topic == self._log_topic and m.payload.get("event") == ev.NOTIFY_QUEUED for m in messages):
            self.loop.wake()

    def start(self) -> None:
        self.service.listeners.append(self._on_messages)
        self._thread = threading.Thread(target=self._run, name="motcua-notifier", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.loop.run()
        except Exception:      # a bug here must not go unseen: the messages stay in the log
            log.exception("the notifier stopped")

    def stop(self, timeout: float = 5.0) -> None:
        self.loop.stop()
        if self._on_messages in self.service.listeners:
            self.service.listeners.remove(self._on_messages)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
