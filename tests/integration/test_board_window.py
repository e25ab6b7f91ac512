"""The board rule (outbox.BOARD_WINDOW_S): a batch that changes what a counter shows publishes
its board with it, before its replies; a batch that only changes waiting counts publishes at
most one board per window, and the newest state still reaches the displays within the window."""
from __future__ import annotations

import json
import threading
import time

from queue_server import outbox
from queue_server.service import QueueService
from queue_server.store import EventStore


def cmd(type_, req_id, **fields) -> bytes:
    return json.dumps({"v": 1, "type": type_, "req_id": req_id, **fields}).encode()


class Capture:
    def __init__(self, svc: QueueService):
        self.lock = threading.Lock()
        self.batches: list[tuple[float, list]] = []
        svc.publish = self.on

    def on(self, messages) -> None:
        with self.lock:
            self.batches.append((time.monotonic(), list(messages)))

    def boards(self, topic):
        with self.lock:
            return [(t, m.payload) for t, ms in self.batches for m in ms if m.topic == topic]


def test_calls_publish_their_board_at_once_and_counts_within_the_window(tmp_path, site_config):
    svc = QueueService(site_config, EventStore(str(tmp_path / "db.sqlite")))
    cap = Capture(svc)
    svc.limiter.rate = svc.limiter.burst = 1e9
    svc.ticket_limiter.rate = svc.ticket_limiter.burst = 1e9
    svc.start()
    board = svc.topics.board
    try:
        # 200 tickets one after the other, each its own batch: waiting counts only
        for i in range(200):
            assert svc.execute("kiosk", "k1", cmd("ticket.issue", f"t{i}", sector="tu-phap-ho-tich"))["ok"]
        time.sleep(outbox.BOARD_WINDOW_S * 3)
        boards = cap.boards(board)
        # The outbox decides a board's window when it builds the batch, and the batch is published
        # after its commit, whose time varies: two boards' publish times may be closer than the
        # window although their decisions were not. The loop is one thread (build, commit, publish,
        # then the next), so a board was decided after the publish before its own and before its
        # own publish: those bound the decisions, and no two may be less than a window apart.
        with cap.lock:
            stamps = [t for t, _ in cap.batches]
            at = [i for i, (_, ms) in enumerate(cap.batches) if any(m.topic == board for m in ms)]
        spans = [stamps[b] - stamps[a - 1] for a, b in zip(at, at[1:]) if a > 0]
        assert spans and all(g >= outbox.BOARD_WINDOW_S for g in spans), spans
        with cap.lock:
            batches = sum(1 for _, ms in cap.batches if any(m.topic.endswith("/reply") for m in ms))
        assert len(boards) < batches, "no board was held back"
        # the newest board shows every ticket: the held-back one went out when its window ended
        newest = boards[-1][1]
        assert next(s for s in newest["sectors"] if s["id"] == "tu-phap-ho-tich")["waiting"] == 200

        # a call: its board goes out in the same publish as the reply, before it
        n = len(cap.batches)
        reply = svc.execute("counter", "q1", cmd("call.next", "c1"))
        number = reply["result"]["ticket"]["number"]
        with cap.lock:
            batch = next(ms for _, ms in cap.batches[n:] if any(m.topic.endswith("/reply") for m in ms))
        topics = [m.topic for m in batch]
        assert board in topics and topics.index(board) < topics.index(svc.topics.reply("counter", "q1"))
        shown = next(m.payload for m in batch if m.topic == board)
        assert any((c.get("serving") or {}).get("number") == number for c in shown["counters"])
    finally:
        svc.stop()
        svc.store.close()
