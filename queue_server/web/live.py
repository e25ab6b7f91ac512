"""Server-Sent Events: the one live channel of every page (board, calls, stats, device changes).

The service calls `LiveHub.on_messages` after each committed batch; each open
stream has a small queue. A slow browser drops old boards (only the newest
board matters), never blocks the command loop.
"""
from __future__ import annotations

import json
import queue
import threading
from typing import Iterator

from queue_server.service import Message, QueueService

HEARTBEAT_S = 15.0


class LiveHub:
    def __init__(self, service: QueueService):
        self.service = service
        self._lock = threading.Lock()
        self._streams: list[queue.Queue] = []
        service.listeners.append(self.on_messages)

    def on_messages(self, messages: list[Message]) -> None:
        if not self._streams:       # nobody is watching: the command loop pays nothing
            return
        topics = self.service.topics
        events: list[tuple[str, dict]] = []
        for m in messages:
            if m.topic == topics.board:
                events.append(("board", m.payload))
            elif m.topic == topics.events_call:
                events.append(("call", m.payload))
            elif topics.parse_sector_stats(m.topic):
                events.append(("stats", m.payload))
            elif topics.parse_counter_state(m.topic):
                events.append(("counter", m.payload))
            elif m.topic == topics.events_log:
                events.append(("event", m.payload))
            elif topics.parse_device_status(m.topic):
                events.append(("device", m.payload))   # which device changed; its health is behind a login
        if not events:
            return
        with self._lock:
            streams = list(self._streams)
        for q in streams:
            for item in events:
                try:
                    q.put_nowait(item)
                except queue.Full:
                    pass  # this browser is too slow; it gets the next board

    def stream(self, first: list[tuple[str, dict]], kinds: set[str], max_events: int | None = None,
               heartbeat: float = HEARTBEAT_S) -> Iterator[str]:
        q: queue.Queue = queue.Queue(maxsize=500)
        with self._lock:
            self._streams.append(q)
        sent = 0
        try:
            yield "retry: 2000\n\n"
            for name, data in first:
                yield format_sse(name, data)
                sent += 1
            while max_events is None or sent < max_events:
                try:
                    name, data = q.get(timeout=heartbeat)
                except queue.Empty:
                    yield ": keep-alive\n\n"
                    continue
                if name in kinds:
                    yield format_sse(name, data)
                    sent += 1
        finally:
            with self._lock:
                if q in self._streams:
                    self._streams.remove(q)


def format_sse(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"
