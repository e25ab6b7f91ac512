"""Load: one connection speaking for every device, open loop, every command timed; and the
watchers of what the devices then see (the board, each counter's state)."""
from __future__ import annotations

import json
import os
import threading
import time
from datetime import datetime, timezone

from .site import BenchSite, close_client, raw_client


class Load:
    """Open-loop commands (Poisson arrivals per device) from one `bench` connection.

    Kiosks send `ticket.issue` (sectors in turn); counters alternate `call.next` and
    `serve.done`. Every command gets a unique req_id; the reply time is taken in the
    network thread. `calls` keeps (counter, number, t_sent) of every answered call.next,
    so a display's boards can be matched to the call they show.
    """

    def __init__(self, site: BenchSite, *, kiosks: list[str], counters: list[str], kiosk_rate: float,
                 counter_rate: float, seed: int = 7):
        import random
        self.site, self.t = site, site.topics
        self.kiosks, self.counters = kiosks, counters
        self.kiosk_rate, self.counter_rate = kiosk_rate, counter_rate
        self.rng = random.Random(seed)
        self.sectors = [s.id for s in site.site.sectors]
        self.sent: dict[str, tuple[str, float]] = {}          # req_id -> (type, t_sent)
        self.latency: dict[str, list[float]] = {}             # type -> reply latencies (s)
        self.errors: dict[str, int] = {}                      # error code -> count
        self.calls: list[tuple[str, str, float, float]] = []  # counter, number, t_sent, t_reply
        self.replies = 0
        self.sent_n = 0
        self._lock = threading.Lock()
        self._n = 0
        # Unique across runs: a repeated (device, req_id) would get the server's cached reply.
        self._run_id = os.urandom(6).hex()
        self._next_counter_cmd = {c: "call.next" for c in counters}
        self._sector_i = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.client = raw_client(site.port, *site.bench_login(), name="load", on_message=self._on_reply,
                                 subscribe=[f"{self.t.root}/kiosk/+/reply", f"{self.t.root}/counter/+/reply"])

    def _on_reply(self, client, userdata, msg) -> None:
        now = time.perf_counter()
        try:
            r = json.loads(msg.payload)
        except ValueError:
            return
        with self._lock:
            sent = self.sent.pop(r.get("req_id"), None)
            if sent is None:
                if isinstance(r, dict) and r.get("ok") is False:   # e.g. `internal` carries no req_id
                    code = "untracked " + str(r.get("error", {}).get("code", "?"))
                    self.errors[code] = self.errors.get(code, 0) + 1
                return
            self.replies += 1
            kind, t0 = sent
            self.latency.setdefault(kind, []).append(now - t0)
            if not r.get("ok"):
                code = r.get("error", {}).get("code", "?")
                self.errors[code] = self.errors.get(code, 0) + 1
            elif kind == "call.next":
                parts = msg.topic.split("/")
                self.calls.append((parts[-2], r["result"]["ticket"]["number"], t0, now))

    def send(self, kind: str, device: str, ctype: str, fields: dict | None = None, track: bool = True) -> None:
        with self._lock:
            self._n += 1
            req_id = f"{device}-{self._run_id}-{self._n}"
            if track:
                self.sent[req_id] = (ctype, time.perf_counter())
            self.sent_n += 1
        payload = {"v": 1, "type": ctype, "ts": datetime.now(timezone.utc).isoformat(), "req_id": req_id,
                   **(fields or {})}
        self.client.publish(self.t.cmd(kind, device), json.dumps(payload, separators=(",", ":")), qos=1)

    def issue(self, kiosk: str) -> None:
        sector = self.sectors[self._sector_i % len(self.sectors)]
        self._sector_i += 1
        self.send("kiosk", kiosk, "ticket.issue", {"sector": sector})

    def counter_step(self, counter: str) -> None:
        ctype = self._next_counter_cmd[counter]
        self._next_counter_cmd[counter] = "serve.done" if ctype == "call.next" else "call.next"
        self.send("counter", counter, ctype)

    def prefill(self, per_sector: int) -> None:
        """Tickets waiting before the measured run (sent slowly enough for the rate limiter),
        and one real service (about 0.3 s) at every counter, so each sector has a non-zero
        service time as on a real morning: the load below may call and finish within one
        batch (zero seconds), which no clerk does."""
        n = per_sector * len(self.sectors)
        for i in range(n):
            self.issue(self.kiosks[i % len(self.kiosks)])
            if i % (20 * len(self.kiosks)) == 0:
                time.sleep(0.05)
        self.drain(10)
        for c in self.counters:
            self.send("counter", c, "call.next")
        self.drain(10)
        time.sleep(0.3)
        for c in self.counters:
            self.send("counter", c, "serve.done")
        self.drain(10)

    def drain(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.sent and time.monotonic() < deadline:
            time.sleep(0.01)

    def reset(self) -> None:
        with self._lock:
            self.latency, self.errors, self.calls = {}, {}, []
            self.replies = self.sent_n = 0

    def run(self, duration: float) -> float:
        """Send for `duration` seconds (blocking); returns the achieved send rate."""
        import heapq
        heap: list[tuple[float, int, str, str]] = []
        t0 = time.perf_counter()
        for i, k in enumerate(self.kiosks):
            if self.kiosk_rate > 0:
                heap.append((t0 + self.rng.expovariate(self.kiosk_rate), i, "kiosk", k))
        for i, c in enumerate(self.counters):
            if self.counter_rate > 0:
                heap.append((t0 + self.rng.expovariate(self.counter_rate), 1000 + i, "counter", c))
        heapq.heapify(heap)
        end = t0 + duration
        sent = 0
        while heap:
            t_next, i, kind, dev = heapq.heappop(heap)
            if t_next >= end:
                break
            delay = t_next - time.perf_counter()
            if delay > 0.0005:
                time.sleep(delay)
            if kind == "kiosk":
                self.issue(dev)
                rate = self.kiosk_rate
            else:
                self.counter_step(dev)
                rate = self.counter_rate
            sent += 1
            heapq.heappush(heap, (t_next + self.rng.expovariate(rate), i, kind, dev))
        return sent / (time.perf_counter() - t0)

    def close(self) -> None:
        close_client(self.client)


class BoardWatcher:
    """A display (its own broker user and ACL) subscribed to the retained board: keeps the
    receive time of every board and, per (counter, number), when a board first showed it."""

    def __init__(self, site: BenchSite, display: str = "d1"):
        self.first_seen: dict[tuple[str, str], float] = {}
        self.boards = 0
        self.bytes = 0
        self._raw: list[tuple[float, bytes]] = []
        self._lock = threading.Lock()
        self.client = raw_client(site.port, *site.login("display", display), name="display",
                                 on_message=self._on_board, subscribe=[site.topics.board])

    def _on_board(self, client, userdata, msg) -> None:
        now = time.perf_counter()
        with self._lock:
            self._raw.append((now, msg.payload))

    def digest(self) -> None:
        """Parse the boards received so far (outside the network thread's hot path)."""
        with self._lock:
            raw, self._raw = self._raw, []
        for t, payload in raw:
            self.boards += 1
            self.bytes += len(payload)
            try:
                board = json.loads(payload)
            except ValueError:
                continue
            for c in board.get("counters", []):
                s = c.get("serving")
                if s:
                    self.first_seen.setdefault((c["id"], s["number"]), t)
            # A call answered and finished within one batch is only in recent_calls.
            for r in board.get("recent_calls", []):
                self.first_seen.setdefault((r["counter"], r["number"]), t)

    def call_to_board(self, calls: list[tuple[str, str, float, float]]) -> tuple[list[float], list[float], int]:
        """(call published -> board shows it, reply received -> board shows it (staleness), missing)."""
        self.digest()
        lat, stale, missing = [], [], 0
        for counter, number, t_sent, t_reply in calls:
            t = self.first_seen.get((counter, number))
            if t is None:
                missing += 1
                continue
            lat.append(t - t_sent)
            stale.append(max(0.0, t - t_reply))
        return lat, stale, missing

    def close(self) -> None:
        close_client(self.client)


class CounterStateWatcher:
    """A subscriber to the board and every `counter/+/state`: how long a counter's retained state
    lags the board. The server publishes a counter's state with its batch when an event names
    that counter, but a state whose only change is a sector's waiting count at most once per
    short window (outbox.STATE_WINDOW_S). For each board, and each counter whose newest state
    then shows other waiting counts than the board, the lag is the time until a state of that
    counter with the board's seq or newer arrives."""

    def __init__(self, site: BenchSite):
        self._raw: list[tuple[float, str, bytes]] = []
        self._lock = threading.Lock()
        self.client = raw_client(site.port, *site.bench_login(), name="states", on_message=self._on_msg,
                                 subscribe=[site.topics.board, site.topics.all_counter_states])

    def _on_msg(self, client, userdata, msg) -> None:
        now = time.perf_counter()
        with self._lock:
            self._raw.append((now, msg.topic, msg.payload))

    def reset(self) -> None:
        with self._lock:
            self._raw = []

    def lags(self) -> tuple[list[float], int]:
        """(lag of every out-of-date counter state after a board, in s; states never caught up)."""
        with self._lock:
            raw, self._raw = self._raw, []
        latest: dict[str, dict] = {}                     # counter -> newest state so far
        pending: list[tuple[float, int, str]] = []       # (board time, board seq, counter)
        lags: list[float] = []
        for t, topic, payload in raw:
            try:
                m = json.loads(payload)
            except ValueError:
                continue
            if m.get("type") == "counter.state":
                c = m["counter"]
                latest[c] = m
                still = []
                for tb, seq, pc in pending:
                    if pc == c and m["seq"] >= seq:
                        lags.append(t - tb)
                    else:
                        still.append((tb, seq, pc))
                pending = still
            elif m.get("type") == "board":
                waiting = {s["id"]: s["waiting"] for s in m["sectors"]}
                for c in m["counters"]:
                    st = latest.get(c["id"])
                    if st is None:
                        continue
                    if any(waiting.get(s) != n for s, n in st["waiting"].items()) and \
                            not any(pc == c["id"] for _, _, pc in pending):
                        pending.append((t, m["seq"], c["id"]))
        return lags, len(pending)

    def close(self) -> None:
        close_client(self.client)
