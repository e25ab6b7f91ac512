"""Snapshots of the state, written beside the command loop instead of inside it.

A snapshot (so a restart replays only the events after it) used to be taken in the command
loop: copying a busy day's state and writing it stopped every command for 20-65 ms every
10,000 events, which at 2,000 commands a second was most of the reply p99
(docs/performance.md). Here a thread keeps its own copy of the state by folding the same
committed events, in the same order, as a restart would (`SiteState.apply`), and writes its
copy every `every` events in a transaction of its own. The loop only hands it each batch's
events once they are durable, so a snapshot is always exactly the fold of the log up to its
seq, whatever the live state does meanwhile.
"""
from __future__ import annotations

import logging
import queue
import threading

from queue_server.domain.events import Event
from queue_server.domain.site import SiteConfig
from queue_server.domain.state import SiteState

log = logging.getLogger(__name__)


class Snapshotter:
    def __init__(self, store, config: SiteConfig, every: int):
        self.store = store
        self.config = config
        self.every = every
        self.written = 0
        self._queue: queue.SimpleQueue[list[Event] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._shadow: SiteState | None = None
        self._last = 0
        self._broken = False

    def start(self, state: SiteState, last_snapshot_seq: int) -> None:
        """Begin from a copy of `state` (the recovered one, before any new command)."""
        self._shadow = SiteState.from_dict(state.to_dict(), self.config)
        self._last = last_snapshot_seq
        self._thread = threading.Thread(target=self._run, name="motcua-snapshots", daemon=True)
        self._thread.start()

    def feed(self, events: list[Event]) -> None:
        """Events just made durable, in log order."""
        if events and self._thread is not None:
            self._queue.put(events)

    def stop(self, timeout: float = 10.0) -> None:
        """Fold what was fed, write a snapshot if one is due, and end."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        shadow = self._shadow
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            if self._broken:
                continue
            try:
                for e in batch:
                    shadow.apply(e)
            except Exception:
                # The copy may now differ from the log's fold: never write it. A snapshot only
                # shortens a restart; the log alone still rebuilds everything.
                log.exception("folding for snapshots failed; no more snapshots until a restart")
                self._broken = True
                continue
            if shadow.last_seq - self._last >= self.every:
                try:
                    self.store.write_snapshot(shadow.last_seq, shadow.to_dict())
                    self.written += 1
                except Exception:
                    log.exception("writing a snapshot failed; the next one will be tried later")
                self._last = shadow.last_seq
