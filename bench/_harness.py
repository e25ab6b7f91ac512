"""What every benchmark shares: a bench site (config, broker with auth + ACL, the real
`motcua server` as a subprocess), a raw paho client, the physical reference (bare
mosquitto measured with its own clients in the same run), percentiles and tables.

Benchmarks print figures; they exit non-zero only when something breaks, never
because a figure is slow.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:          # `python bench/latency.py` from anywhere
    sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
import yaml  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from firmware_config.broker import acl_text, password_file, write_site_broker  # noqa: E402
from protocol.client import set_nodelay  # noqa: E402
from protocol.topics import Topics  # noqa: E402
from queue_server.config import DEMO_SITE, load_site  # noqa: E402
from queue_server.domain.stats import percentile_nearest_rank  # noqa: E402
from queue_server.processes import Mosquitto  # noqa: E402

BENCH_USER = "bench"


# --- numbers and tables ------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (queue_server/domain/stats.py, as the reports), nan when empty:
    a table prints nan for a figure nothing was measured for."""
    v = percentile_nearest_rank(values, p)
    return float("nan") if v is None else v


def summary_ms(values_s: list[float]) -> dict[str, float]:
    """n, p50, p99, max in milliseconds, from values in seconds."""
    ms = [v * 1000.0 for v in values_s]
    return {"n": len(ms), "p50": percentile(ms, 50), "p99": percentile(ms, 99), "max": max(ms) if ms else float("nan")}


def nagle_cluster(values_s: list[float], lo_ms: float = 35.0, hi_ms: float = 48.0) -> int:
    """How many samples sit where Nagle + delayed ACK put them (about 40 ms on Linux)."""
    return sum(1 for v in values_s if lo_ms <= v * 1000.0 <= hi_ms)


def fmt(v: Any) -> str:
    if isinstance(v, float):
        if v != v:
            return "-"
        return f"{v:.2f}" if abs(v) < 100 else f"{v:.0f}"
    return str(v)


def print_table(title: str, headers: list[str], rows: Iterable[Iterable[Any]]) -> None:
    rows = [[fmt(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    sys.stdout.flush()


def machine() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    mosq = "?"
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    try:
        out = subprocess.run([exe, "-h"], capture_output=True, text=True, timeout=5).stdout
        mosq = out.splitlines()[0].strip() if out else "?"
    except (OSError, subprocess.TimeoutExpired):
        pass
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "nproc": str(os.cpu_count()),
            "cpu": cpu, "ram": ram, "python": platform.python_version(), "mosquitto": mosq}


def print_machine() -> None:
    m = machine()
    print(f"machine: {m['nproc']} cores · {m['cpu']} · {m['ram']} RAM · Python {m['python']} · "
          f"{m['mosquitto']} · {m['date']} · load average {load_average()}")


def rss_kib(pid: int | str = "self") -> int:
    """Resident set size (VmRSS) of a process, KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# --- the bench site ----------------------------------------------------------------------

def bench_site_config(counters: int = 20, kiosks: int = 4, displays: int = 2, site_id: str = "bench") -> dict:
    """The demo site's sectors with `counters` counters (each on two sectors, trained on
    three, like the demo) and `kiosks` kiosks: the demo has only 8 counters and 2 kiosks."""
    demo = yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8"))
    sectors = [s["id"] for s in demo["sectors"]]
    n = len(sectors)
    data = dict(demo)
    data["site"] = {**demo["site"], "id": site_id,
                    "name": {"vi": "Trung tâm đo hiệu năng", "en": "Benchmark centre"}}
    data["site"].pop("enforce_hours", None)
    # A load test plays many devices at machine speed: lift the per-device limits.
    data["site"]["limits"] = {"device_cmds_per_s": 1e9, "device_burst": 1e9,
                              "kiosk_tickets_per_s": 1e9, "kiosk_ticket_burst": 1e9}
    data["counters"] = [{"id": f"q{i + 1}", "label": {"vi": f"Quầy {i + 1}", "en": f"Counter {i + 1}"},
                         "sectors": [sectors[i % n], sectors[(i + 1) % n]],
                         "trained": [sectors[i % n], sectors[(i + 1) % n], sectors[(i + 2) % n]]}
                        for i in range(counters)]
    data["devices"] = {"kiosks": [f"k{i + 1}" for i in range(kiosks)],
                       "displays": [f"d{i + 1}" for i in range(displays)]}
    return data


def write_bench_site(directory: Path, counters: int = 20, kiosks: int = 4, displays: int = 2) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"bench-site-{counters}c-{kiosks}k.yaml"
    path.write_text("# Generated by bench/_harness.py for benchmarks.\n" +
                    yaml.safe_dump(bench_site_config(counters, kiosks, displays), allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    load_site(path)  # fail here, with the site loader's message, if the generated config is wrong
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raw_client(port: int, user: str | None = None, password: str | None = None, *, name: str = "",
               on_message: Callable | None = None, subscribe: list[str] = (), wait: float = 5.0) -> mqtt.Client:
    """A bare paho client with TCP_NODELAY, connected and subscribed (QoS 1) before it returns."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{name or 'bench'}-{os.getpid()}-{time.monotonic_ns()}")
    if user:
        c.username_pw_set(user, password)
    c.max_inflight_messages_set(0)    # unlimited: a cap makes paho scan its in-flight messages on every PUBACK
    c.max_queued_messages_set(0)
    ready = threading.Event()
    subs = list(subscribe)

    def on_connect(client, userdata, flags, rc, props=None):
        set_nodelay(client)
        if subs:
            client.subscribe([(t, 1) for t in subs])
        else:
            ready.set()

    def on_subscribe(client, userdata, mid, rcs, props=None):
        ready.set()

    c.on_connect = on_connect
    c.on_subscribe = on_subscribe
    if on_message:
        c.on_message = on_message
    c.connect("127.0.0.1", port, keepalive=30)
    c.loop_start()
    if not ready.wait(wait):
        raise RuntimeError(f"bench client {name} could not connect/subscribe to 127.0.0.1:{port}")
    return c


def close_client(c: mqtt.Client) -> None:
    try:
        c.disconnect()
        c.loop_stop()
    except Exception:
        pass


class BenchSite:
    """A bench site: generated config, mosquitto with the site's users and ACL plus one `bench`
    user (readwrite on the site tree, so one load-generating connection can speak for every
    device), and the queue server as `motcua server` in its own process (its own GIL, as in
    production). `in_process=True` runs the server in this process instead (faster start,
    for the smoke test)."""

    def __init__(self, directory: Path, counters: int = 20, kiosks: int = 4, displays: int = 2, *,
                 site_path: Path | None = None, db: str | None = None, in_process: bool = False,
                 profile: str | None = None):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        # mosquitto started as root drops to its own user, which must reach its files here.
        os.chmod(self.dir, 0o755)
        self.site_path = site_path or write_bench_site(self.dir, counters, kiosks, displays)
        self.site = load_site(self.site_path)
        self.topics = Topics(self.site.id)
        self.port = free_port()
        self.http_port = free_port()
        self.db = db or str(self.dir / "motcua.db")
        self.in_process = in_process
        self.profile = profile
        self.proc: subprocess.Popen | None = None
        self.server = None
        self.broker: Mosquitto | None = None
        bdir = self.dir / "mosquitto"
        self.files = write_site_broker(self.site, bdir, self.port, credentials_path=self.dir / "credentials.json")
        self.creds = self.files.creds
        self.creds[BENCH_USER] = {"username": BENCH_USER, "password": "bench-" + os.urandom(8).hex()}
        password_file(self.creds, self.files.passwd)
        self.files.acl.write_text(acl_text(self.site, [(BENCH_USER, f"topic readwrite {self.topics.root}/#")]))

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start_broker(self) -> None:
        self.broker = Mosquitto(self.files.conf, self.port, self.dir / "mosquitto.log")
        self.broker.start()

    def start_server(self, timeout: float = 60.0) -> float:
        """Start the queue server; returns seconds from spawn until its retained status says online."""
        online = threading.Event()

        def on_msg(client, userdata, msg):
            try:
                if json.loads(msg.payload).get("online"):
                    online.set()
            except ValueError:
                pass
        # Clear a retained "online" left by an earlier run, so only this server's counts.
        watcher = raw_client(self.port, *self.bench_login(), name="ready")
        watcher.publish(self.topics.server_status, b"", qos=1, retain=True).wait_for_publish(5)
        watcher.on_message = on_msg
        watcher.subscribe(self.topics.server_status, 1)
        time.sleep(0.05)
        t0 = time.monotonic()
        cred = self.creds["server"]
        if self.in_process:
            from queue_server.site_server import ServerOptions, SiteServer
            self.server = SiteServer(self.site, ServerOptions(
                broker=self.url, db=self.db, http_port=self.http_port, username=cred["username"],
                password=cred["password"], data_dir=self.dir))
            self.server.start(timeout)
        else:
            cmd = ([sys.executable, str(ROOT / "bench" / "_profile_server.py"), str(Path(self.profile).resolve())]
                   if self.profile else [sys.executable, "-m", "motcua.cli", "server"])
            self.proc = subprocess.Popen(
                cmd + ["--site", str(self.site_path), "--broker", self.url,
                 "--db", self.db, "--credentials", str(self.files.credentials), "--data-dir", str(self.dir),
                 "--http-port", str(self.http_port), "--log-level", "WARNING"],
                cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=open(self.dir / "server.log", "ab"))
        ok = online.wait(timeout)
        elapsed = time.monotonic() - t0
        close_client(watcher)
        if not ok:
            raise RuntimeError(f"the queue server was not ready within {timeout} s; see {self.dir / 'server.log'}")
        return elapsed

    @property
    def server_pid(self) -> int:
        return self.proc.pid if self.proc else os.getpid()

    def stop_server(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None
        if self.server is not None:
            self.server.stop()
            self.server = None

    def bench_login(self) -> tuple[str, str]:
        return BENCH_USER, self.creds[BENCH_USER]["password"]

    def login(self, kind: str, device: str) -> tuple[str, str]:
        c = self.creds[kind][device]
        return c["username"], c["password"]

    def start(self) -> "BenchSite":
        self.start_broker()
        self.start_server()
        return self

    def stop(self) -> None:
        self.stop_server()
        if self.broker is not None:
            self.broker.stop()
            self.broker = None

    def __enter__(self) -> "BenchSite":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


# --- the physical reference ----------------------------------------------------------------

def reference_round_trip(port: int, login: tuple[str, str], topic_root: str, n: int = 1000) -> dict[str, dict]:
    """Bare paho pair through the same mosquitto, QoS 1, TCP_NODELAY, one message at a time:
    `one-way` = A publishes -> B receives; `round trip` = A publishes, B echoes, A receives
    (the shape of command -> reply)."""
    ping, pong = f"{topic_root}/bench/ping", f"{topic_root}/bench/pong"
    got = threading.Event()
    t_recv = [0.0]

    def on_b(client, userdata, msg):
        t_recv[0] = time.perf_counter()
        if msg.topic == ping and msg.payload[:1] == b"e":
            client.publish(pong, msg.payload, qos=1)
        else:
            got.set()

    def on_a(client, userdata, msg):
        t_recv[0] = time.perf_counter()
        got.set()

    b = raw_client(port, *login, name="ref-b", on_message=on_b, subscribe=[ping])
    a = raw_client(port, *login, name="ref-a", on_message=on_a, subscribe=[pong])
    try:
        out = {}
        for mode in ("one-way", "round trip"):
            samples = []
            prefix = b"e" if mode == "round trip" else b"o"
            for i in range(n):
                got.clear()
                t0 = time.perf_counter()
                a.publish(ping, prefix + str(i).encode(), qos=1)
                if not got.wait(2.0):
                    raise RuntimeError("reference: a message was lost")
                samples.append(t_recv[0] - t0)
            out[mode] = summary_ms(samples[n // 10:])  # the first ones warm up
            out[mode]["nagle"] = nagle_cluster(samples)
        return out
    finally:
        close_client(a)
        close_client(b)


def reference_throughput(port: int, login: tuple[str, str], topic: str, n: int = 20000) -> float:
    """mosquitto's own clients: `mosquitto_pub -l` streams n QoS 1 messages to a
    `mosquitto_sub -C n`; returns messages/s end to end."""
    pub, sub = shutil.which("mosquitto_pub"), shutil.which("mosquitto_sub")
    if not pub or not sub:
        return float("nan")
    user, pw = login
    s = subprocess.Popen([sub, "-h", "127.0.0.1", "-p", str(port), "-u", user, "-P", pw, "-t", topic, "-q", "1",
                          "-C", str(n)], stdout=subprocess.DEVNULL)
    time.sleep(0.3)
    lines = ("x" * 200 + "\n") * n
    t0 = time.perf_counter()
    subprocess.run([pub, "-h", "127.0.0.1", "-p", str(port), "-u", user, "-P", pw, "-t", topic, "-q", "1", "-l"],
                   input=lines.encode(), check=True)
    try:
        s.wait(60)
    except subprocess.TimeoutExpired:
        s.kill()
        return float("nan")
    return n / (time.perf_counter() - t0)


def print_reference(ref: dict[str, dict], extra: str = "") -> None:
    print_table("physical reference (same run): bare mosquitto with a paho pair, QoS 1, loopback; the disk",
                ["path", "n", "p50 ms", "p99 ms", "max ms", "~40 ms"],
                [[k, v["n"], v["p50"], v["p99"], v["max"], v["nagle"]] for k, v in ref.items()])
    if extra:
        print(extra)


# --- load: one connection speaking for every device, open loop, every command timed ------------

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


# --- the command loop alone, in this process ---------------------------------------------------

def command_loop_cpu(directory: Path, counters: int = 60, kiosks: int = 40, commands: int = 6000,
                     batch: int = 20, mqtt: "BenchSite | None" = None) -> dict[str, float]:
    """The server's command loop without MQTT: a fixed mixed stream (issue / call.next /
    serve.done) through `QueueService.process` in batches, the durable SQLite log on, every
    output serialised as the gateway would. CPU time of this thread per command (robust to other
    load on the machine) and wall time per batch (includes the fsync).

    With `mqtt` (a running BenchSite), the real `MqttGateway` publishes every output to its
    broker instead, and the CPU is the whole process's (command loop + paho's network thread
    reading the PUBACKs), measured until every publish is acknowledged: what one command costs
    the server process with MQTT, without the neighbours' load in the figure."""
    import json as _json

    from protocol.messages import dumps
    from queue_server.loop import Item as _Item
    from queue_server.service import QueueService
    from queue_server.store import EventStore
    site = load_site(write_bench_site(directory, counters, kiosks))
    store = EventStore(str(directory / "cpu.db"))
    svc = QueueService(site, store)
    svc.publish = lambda msgs: [dumps(m.payload) for m in msgs]
    gateway = None
    if mqtt is not None:
        from queue_server.mqtt.gateway import MqttGateway
        cred = mqtt.creds["server"]
        gateway = MqttGateway(svc, mqtt.url, username=cred["username"], password=cred["password"],
                              client_id=f"cpu-bench-{os.getpid()}")
        if not gateway.start():
            raise RuntimeError("the CPU benchmark's gateway could not connect")
    sectors = [s.id for s in site.sectors]
    cids = [c.id for c in site.counters]
    kids = list(site.devices.kiosks)
    n = [0]

    def item(kind: str, dev: str, ctype: str, **f) -> _Item:
        n[0] += 1
        return _Item(kind, dev, _json.dumps({"v": 1, "type": ctype, "ts": "2026-01-05T09:00:00+07:00",
                                             "req_id": f"r{n[0]}", **f}).encode())
    for i in range(30 * len(sectors)):          # a queue to call from, as in the MQTT benchmarks
        svc.process([item("kiosk", kids[i % len(kids)], "ticket.issue", sector=sectors[i % len(sectors)])])
    stream, nxt = [], {c: "call.next" for c in cids}
    for i in range(commands):
        if i % 3 == 0:
            stream.append(item("kiosk", kids[i % len(kids)], "ticket.issue", sector=sectors[(i // 3) % len(sectors)]))
        else:
            c = cids[(i // 3 * 2 + i % 3) % len(cids)]
            stream.append(item("counter", c, nxt[c]))
            nxt[c] = "serve.done" if nxt[c] == "call.next" else "call.next"
    svc.limiter.rate = svc.limiter.burst = 1e9   # one thread plays every device at once here
    clock = time.thread_time if gateway is None else time.process_time
    if gateway is not None:
        _wait_acked(gateway.client, 30)
    cpu0, wall0 = clock(), time.perf_counter()
    for i in range(0, len(stream), batch):
        svc.process(stream[i:i + batch])
    if getattr(svc, "_owed_counters", None):      # what the loop publishes when the state window ends
        svc.outbox.publish_due()
    if gateway is not None:
        _wait_acked(gateway.client, 60)
    cpu, wall = clock() - cpu0, time.perf_counter() - wall0
    if gateway is not None:
        import logging
        logging.getLogger("queue_server.mqtt.gateway").setLevel(logging.ERROR)   # "disconnected" is expected
        gateway.stop()
    store.close()
    return {"cpu_us_per_cmd": cpu / commands * 1e6, "wall_ms_per_batch": wall / (commands / batch) * 1e3,
            "cmds_per_cpu_s": commands / cpu}


def _wait_acked(client: mqtt.Client, timeout: float) -> None:
    """Until paho holds no unacknowledged or queued outgoing message (polls its own tables)."""
    deadline = time.monotonic() + timeout
    while (client._out_messages or client._out_packet) and time.monotonic() < deadline:
        time.sleep(0.002)


# --- who else uses the CPU ---------------------------------------------------------------------

def _proc_cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _busy_s() -> float:
    parts = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in parts[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


class CpuMeter:
    """CPU used during a run, in cores: by the server, by the bench (load generator, display,
    this process) and mosquitto, and by everything else on the machine (other people's work:
    a shared machine makes every figure worse, so the tables say how busy it was)."""

    def __init__(self, site: "BenchSite"):
        self.pids = {"server": site.server_pid, "bench": os.getpid(),
                     "broker": site.broker.proc.pid if site.broker and site.broker.proc else 0}
        # The server's publisher process (queue_server/mqtt/publisher.py), when it runs one.
        self.pids["publisher"] = (_children(site.server_pid) or [0])[0] if site.server_pid != os.getpid() else 0

    def __enter__(self) -> "CpuMeter":
        self.t0 = time.perf_counter()
        self.busy0 = _busy_s()
        self.p0 = {k: _proc_cpu_s(p) for k, p in self.pids.items() if p}
        return self

    def __exit__(self, *exc) -> None:
        dt = time.perf_counter() - self.t0
        self.cores = {k: (_proc_cpu_s(self.pids[k]) - v) / dt for k, v in self.p0.items()}
        self.cores.setdefault("publisher", 0.0)
        total = (_busy_s() - self.busy0) / dt
        # The server's own CPU counts once even when it runs in this process.
        ours = sum(v for k, v in self.cores.items() if not (k == "server" and self.pids["server"] == self.pids["bench"]))
        self.cores["others"] = max(0.0, total - ours)

    def __str__(self) -> str:
        return " ".join(f"{k} {v:.2f}" for k, v in self.cores.items())


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def reference_commit(directory: Path, n: int = 300) -> dict[str, float]:
    """The disk's part: one small SQLite transaction committed durably (WAL, synchronous=FULL,
    as the event store does), timed n times. Every batch of commands waits for one."""
    import sqlite3
    path = directory / "commit-reference.db"
    con = sqlite3.connect(str(path), isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, data TEXT)")
    samples = []
    for i in range(n):
        t0 = time.perf_counter()
        con.execute("BEGIN")
        con.execute("INSERT INTO t (data) VALUES (?)", ("x" * 300,))
        con.execute("COMMIT")
        samples.append(time.perf_counter() - t0)
    con.close()
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    out = summary_ms(samples)
    out["nagle"] = "-"
    return out
