"""The one command loop of a site: one queue, one worker thread, commands taken in batches.

MQTT commands (bytes) and web or CLI commands (domain command objects) wait in the same queue
and are handled in order. The thread takes what is queued (up to MAX_BATCH) as one batch, so a
batch is committed in one durable transaction; between batches it publishes the messages held
back for their window and runs the periodic tick. What a batch does is the service's
(QueueService.process): this module only schedules.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable

log = logging.getLogger(__name__)

MAX_BATCH = 256
# Periodic work (a new day at midnight, auto mode's look at the queues) runs every TICK_S,
# busy or not: a site whose devices send a command every second must still be balanced.
TICK_S = 2.0


@dataclass
class Item:
    kind: str                      # kiosk | counter | manager | citizen | system
    device: str
    payload: Any                   # bytes from MQTT, or a command object
    future: Future | None = None
    received: float = field(default_factory=time.monotonic)
    parsed: Any = None             # the command parsed from `payload`, once (idempotency.ReplyCache.prefetch)
    # A command object's idempotency key (a booking page's form): its reply is stored like an MQTT
    # command's, so the same form sent again after a lost answer or a restart gets the same reply.
    req_id: str | None = None

    @property
    def from_wire(self) -> bool:
        """Sent as bytes (MQTT): its reply is published, remembered and stored for retries."""
        return isinstance(self.payload, (bytes, bytearray, str))


_NOTHING = object()                # the loop woke with no command (a tick or a held-back message is due)


class CommandLoop:
    """The queue and its worker thread. `process(batch)` handles a batch; `tick()` is the periodic
    work; `due_at()` says when held-back messages are due (or None) and `publish_due()` sends them."""

    def __init__(self, process: Callable[[list[Item]], None], tick: Callable[[], None],
                 due_at: Callable[[], float | None], publish_due: Callable[[], None]):
        self.process, self.tick, self.due_at, self.publish_due = process, tick, due_at, publish_due
        self._queue: queue.Queue[Item | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="motcua-service", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def put(self, item: Item) -> None:
        self._queue.put(item)

    def idle(self) -> bool:
        """No command waits in the queue."""
        return self._queue.empty()

    def _run(self) -> None:
        ticked = time.monotonic()
        while True:
            due = self.due_at()
            wake = ticked + TICK_S if due is None else min(ticked + TICK_S, due)
            try:
                first = self._queue.get(timeout=max(0.0, wake - time.monotonic()))
            except queue.Empty:
                first = _NOTHING
            if first is None:
                return
            if first is not _NOTHING:
                self._run_batch(first)
            due = self.due_at()
            if due is not None and time.monotonic() >= due:
                self.publish_due()
            if time.monotonic() >= ticked + TICK_S:
                ticked = time.monotonic()
                try:
                    self.tick()
                except Exception:
                    log.exception("periodic tick failed")

    def _run_batch(self, first: Item) -> None:
        batch = [first]
        while len(batch) < MAX_BATCH:
            try:
                nxt = self._queue.get_nowait()
            except queue.Empty:
                break
            if nxt is None:
                self._queue.put(None)
                break
            batch.append(nxt)
        try:
            self.process(batch)
        except Exception:  # the loop must outlive any bug; process() already answered what it could
            log.exception("a batch failed")
            for item in batch:
                if item.future and not item.future.done():
                    item.future.set_exception(RuntimeError("internal error"))
