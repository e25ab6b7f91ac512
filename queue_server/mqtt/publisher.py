"""Publishing from a process of its own, so paho's per-message work stays off the command loop.

At a few thousand commands a second the server publishes four to five QoS 1 messages per
command. In one process, paho's packet building, its network thread and the PUBACKs share one
interpreter lock with the command loop, and that lock, not the cores, capped the rate
(docs/performance.md). Here the command loop serialises a batch once and writes it to a pipe
in one call; a child process (`python -m queue_server.mqtt.publisher`) owns a second broker
connection and publishes every message in the order written, so a reply still reaches the
broker after the state it changes.

The child:
- reads its settings (broker, user, password, CA) as the first line on stdin, never from argv
  or the environment, where other local users could read them;
- answers `connected` / `disconnected` lines on stdout;
- keeps the last payload of every retained topic and publishes them all again after a
  reconnect, so a broker restarted without persistence shows the truth again at once;
- drains, waits for the broker's acknowledgements and exits when stdin closes, which is also
  what happens when the server dies: no orphan, and the server's own connection carries the
  last will.

The parent restarts a child that died and sends it every retained message and the recent
`events/log` tail again (consumers are idempotent on seq), then the batch that failed.
"""
from __future__ import annotations

import json
import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable, Iterable, Sequence

from protocol.client import BrokerUrl, close_client, set_nodelay
from protocol.messages import dumps
from queue_server.mqtt.connection import server_client

log = logging.getLogger(__name__)

_LEN = struct.Struct("<I")
_REPO = Path(__file__).resolve().parents[2]
WAKE_EVERY = 32     # messages queued in paho between two wakes of its network thread (see publish_batch)

# (topic, payload bytes, qos, retain)
Wire = tuple[str, bytes, int, bool]


def serialise(payload: dict) -> bytes:
    try:
        return dumps(payload)
    except UnicodeEncodeError:
        # A client's req_id echoed back may hold a lone surrogate ("\ud800" in its JSON):
        # escape it rather than drop this reply and every message after it in the batch.
        return json.dumps(payload, separators=(",", ":")).encode("ascii")


def to_wire(messages: Iterable) -> list[Wire]:
    return [(m.topic, serialise(m.payload), m.qos, m.retain) for m in messages]


def _wake(sock) -> None:
    try:
        sock.send(b"0")
    except OSError:     # full (the thread is awake anyway) or closed by a stop
        pass


def publish_batch(client, batch: Sequence[Wire]):
    """Publish every message of `batch` in order; returns the last message's info (or None).

    paho wakes its network thread (one byte on a socket pair) for every publish, and each wake
    hands it the GIL to write that one message: with a batch's dozens of messages that costs
    more than the publishing. Wake it once per WAKE_EVERY messages instead."""
    wake = getattr(client, "_sockpairW", None)
    if wake is not None and len(batch) > 1:
        client._sockpairW = None
    info = None
    try:
        for i, (topic, data, qos, retain) in enumerate(batch, 1):
            info = client.publish(topic, data, qos=qos, retain=retain)
            if wake is not None and i % WAKE_EVERY == 0:
                _wake(wake)
    finally:
        if wake is not None and client._sockpairW is None and wake.fileno() != -1:
            client._sockpairW = wake
            _wake(wake)
    return info


def _frame(batch: list[Wire]) -> bytes:
    body = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
    return _LEN.pack(len(body)) + body


def _grow_pipe(fd: int) -> None:
    # A 64 KiB pipe holds a few boards; 1 MiB lets a burst through without stalling the loop.
    try:
        import fcntl
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (OSError, ImportError):
        pass


class PublisherProcess:
    """The server's side: `publish(messages)` from the command loop, a child that publishes."""

    def __init__(self, broker: str, *, username: str | None, password: str | None, ca_file: str | None,
                 client_id: str, replay: Callable[[], list] | None = None):
        self.settings = {"broker": broker, "username": username, "password": password, "ca_file": ca_file,
                         "client_id": client_id}
        self.replay = replay            # messages to send a new child first (retained + log tail)
        self.connected = threading.Event()
        self.restarts = 0
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._stopping = False

    # --- lifecycle --------------------------------------------------------------------------

    def start(self, wait: float = 10.0) -> bool:
        with self._lock:
            self._spawn()
        return self.connected.wait(wait)

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._stopping = True
            proc = self._proc
        if proc is None:
            return
        try:
            proc.stdin.close()      # the child drains, waits for the acknowledgements, exits
        except OSError:
            pass
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("publisher process did not finish in %.0f s; killing it", timeout)
            proc.kill()
            proc.wait()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def _spawn(self) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_REPO), env.get("PYTHONPATH", "")) if p)
        self.connected.clear()
        proc = subprocess.Popen([sys.executable, "-m", "queue_server.mqtt.publisher"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, env=env, cwd=str(_REPO), close_fds=True)
        _grow_pipe(proc.stdin.fileno())
        proc.stdin.write(json.dumps(self.settings).encode() + b"\n")
        proc.stdin.flush()
        self._proc = proc
        threading.Thread(target=self._watch, args=(proc,), name="motcua-publisher-watch", daemon=True).start()

    def _watch(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            word = line.strip()
            if word == b"connected":
                self.connected.set()
            elif word == b"disconnected":
                self.connected.clear()
        proc.wait()
        if self._stopping or self._proc is not proc:
            return
        log.error("publisher process ended (exit %s); starting a new one", proc.returncode)
        with self._lock:
            if self._proc is proc and not self._stopping:
                self._restart_locked()

    def _restart_locked(self) -> None:
        old = self._proc
        if old is not None and old.poll() is None:
            old.kill()
        self.restarts += 1
        self._spawn()
        if self.replay is not None:
            try:
                self._proc.stdin.write(_frame(to_wire(self.replay())))
                self._proc.stdin.flush()
            except OSError:
                log.exception("could not replay the retained state to the new publisher")

    # --- the command loop's side -----------------------------------------------------------

    def publish(self, messages: list) -> None:
        if not messages:
            return
        frame = _frame(to_wire(messages))
        with self._lock:
            if self._proc is None or self._stopping:
                return
            for attempt in (1, 2):
                try:
                    self._proc.stdin.write(frame)
                    self._proc.stdin.flush()
                    return
                except (BrokenPipeError, ValueError, OSError):
                    if self._stopping or attempt == 2:
                        raise
                    log.error("publisher process gone; starting a new one")
                    self._restart_locked()


# --- the child ------------------------------------------------------------------------------

class _Child:
    def __init__(self, settings: dict):
        self.broker = BrokerUrl.parse(settings["broker"])
        self.client = server_client(self.broker, settings["client_id"], username=settings.get("username"),
                                    password=settings.get("password"), ca_file=settings.get("ca_file"))
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.retained: dict[str, Wire] = {}
        self.lock = threading.Lock()    # a reconnect's replay and a new batch never interleave
        self.last = None
        self.ever_connected = False

    def _say(self, word: str) -> None:
        try:
            sys.stdout.write(word + "\n")
            sys.stdout.flush()
        except (OSError, ValueError):
            pass

    def _on_connect(self, client, userdata, flags, reason_code, properties=None) -> None:
        if reason_code.is_failure:
            log.error("broker refused the publisher: %s", reason_code)
            return
        set_nodelay(client)
        with self.lock:
            if self.ever_connected and self.retained:
                publish_batch(client, list(self.retained.values()))
            self.ever_connected = True
        self._say("connected")

    def _on_disconnect(self, client, userdata, flags, reason_code, properties=None) -> None:
        self._say("disconnected")

    def publish(self, batch: list[Wire]) -> None:
        with self.lock:
            for w in batch:
                if w[3]:
                    self.retained[w[0]] = w
            info = publish_batch(self.client, batch)
            if info is not None:
                self.last = info

    def run(self, stdin) -> int:
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=15)
        self.client.loop_start()
        try:
            while True:
                head = stdin.read(_LEN.size)
                if len(head) < _LEN.size:
                    break
                (n,) = _LEN.unpack(head)
                body = stdin.read(n)
                if len(body) < n:
                    break
                self.publish(pickle.loads(body))
        finally:
            # Stdin closed: the server stopped or died. Let what was written reach the broker.
            close_client(self.client, self.last, timeout=5)
        return 0


def main() -> int:
    # Ctrl-C in a terminal reaches the whole process group, and systemd signals the whole
    # cgroup: the child must outlive the parent's own stop to drain what it was given.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s publisher %(levelname)s %(message)s")
    stdin = sys.stdin.buffer
    settings = json.loads(stdin.readline() or b"{}")
    if not settings.get("broker"):
        print("publisher: no settings on stdin", file=sys.stderr)
        return 2
    return _Child(settings).run(stdin)


if __name__ == "__main__":
    sys.exit(main())
