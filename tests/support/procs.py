"""Real processes for fault tests: `motcua server` / `motcua up` as subprocesses we can SIGKILL,
a site broker with the generated users and ACL, and kiosk workers that retry like a real kiosk.

    site_path = site_with_kiosks(tmp_path, 8)
    broker = site_broker(tmp_path / "mosquitto", load_site(site_path))   # tests.support.broker.Mosquitto
    server = ServerProcess(tmp_path, site_path, broker.url, creds).start()
    server.kill()            # SIGKILL: no clean-up, no goodbye
    server.start()           # same database, same client id, same port
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from firmware_config.broker import write_site_broker
from protocol.client import DeviceClient, ReplyTimeout
from queue_server.config import DEMO_SITE
from queue_server.domain.site import SiteConfig
from queue_server.domain.stats import percentile_nearest_rank
from tests.support.broker import Mosquitto, free_port, wait_port

ROOT = Path(__file__).resolve().parents[2]


def site_with_kiosks(directory: Path, kiosks: int, *, counters: int | None = None,
                     displays: int | None = None) -> Path:
    """The demo site with `kiosks` kiosks (k1..kN): the demo has two, the fault tests need eight."""
    data = yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8"))
    data["devices"]["kiosks"] = [f"k{i}" for i in range(1, kiosks + 1)]
    if displays is not None:
        data["devices"]["displays"] = [f"d{i}" for i in range(1, displays + 1)]
    if counters is not None:
        data["counters"] = data["counters"][:counters]
    path = Path(directory) / "site.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def site_broker(directory: Path, site: SiteConfig, *, port: int | None = None, **kwargs) -> tuple[Mosquitto, Any]:
    """A started mosquitto with the site's generated users + ACL (the files `motcua up` writes).

    Returns (broker, SiteBrokerFiles). The broker is the test helper, so `.restart()` works."""
    port = port or free_port()
    files = write_site_broker(site, Path(directory), port, credentials_path=Path(directory) / "credentials.json",
                              **kwargs)
    broker = Mosquitto(Path(directory), port=port, conf=files.conf.read_text())
    broker.start()
    return broker, files


def sigkill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)


class ServerProcess:
    """`motcua server` as a child process: start, SIGKILL, start again on the same database."""

    def __init__(self, directory: Path, site_path: Path, broker_url: str, credentials: Path, *,
                 db: Path | None = None, http_port: int | None = None, extra: list[str] | None = None,
                 log_level: str = "WARNING"):
        self.dir = Path(directory)
        self.site_path = Path(site_path)
        self.broker_url = broker_url
        self.credentials = Path(credentials)
        self.db = Path(db or self.dir / "motcua.db")
        self.http_port = http_port or free_port()
        self.extra = list(extra or [])
        self.log_level = log_level
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.log_path = self.dir / "server.log"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def argv(self) -> list[str]:
        return [sys.executable, "-m", "motcua", "server", "--site", str(self.site_path), "--broker", self.broker_url,
                "--db", str(self.db), "--credentials", str(self.credentials), "--http-port", str(self.http_port),
                "--data-dir", str(self.dir / "data"), "--log-level", self.log_level, *self.extra]

    def start(self, wait: float = 20.0) -> "ServerProcess":
        self.dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        log.write(f"\n--- start #{self.starts + 1} ---\n".encode())
        log.flush()
        self.proc = subprocess.Popen(self.argv(), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        log.close()
        self.starts += 1
        wait_port(self.http_port, wait)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:        # the web answers once the command loop has recovered
            if self.proc.poll() is not None:
                raise RuntimeError(f"motcua server exited with {self.proc.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.http_url + "/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"motcua server not healthy after {wait} s; see {self.log_path}")

    def kill(self) -> None:
        """SIGKILL: what a crash or an OOM kill does; no atexit, no last words but the broker's LWT."""
        if self.proc is not None:
            sigkill(self.proc)

    def stop(self) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(10)
        except subprocess.TimeoutExpired:
            sigkill(self.proc)
            return None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def get_json(self, path: str, token: str | None = None) -> Any:
        req = urllib.request.Request(self.http_url + path)
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())


READY_RE = re.compile(r"motcua up: site (\S+) ready .* MQTT mqtt://127\.0\.0\.1:(\d+) · web (\S+) · credentials (\S+) ·")


class UpProcess:
    """`motcua up` as a child process; `.start()` waits for its ready line and parses it."""

    def __init__(self, data_dir: Path, *, mqtt_port: int | None = None, http_port: int | None = None,
                 site: Path | None = None):
        self.data_dir = Path(data_dir)
        self.mqtt_port = mqtt_port or free_port()
        self.http_port = http_port or free_port()
        self.site = site
        self.proc: subprocess.Popen | None = None
        self.lines: list[str] = []
        self.ready: re.Match | None = None
        self._ready = threading.Event()

    def start(self, wait: float = 30.0) -> "UpProcess":
        argv = [sys.executable, "-m", "motcua", "up", "--data-dir", str(self.data_dir),
                "--mqtt-port", str(self.mqtt_port), "--http-port", str(self.http_port)]
        if self.site:
            argv += ["--site", str(self.site)]
        self.proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(wait):
            self.stop()
            raise TimeoutError("motcua up printed no ready line:\n" + "".join(self.lines))
        if self.ready is None:
            raise RuntimeError("motcua up exited:\n" + "".join(self.lines))
        return self

    def _read(self) -> None:
        assert self.proc and self.proc.stdout
        for line in self.proc.stdout:
            self.lines.append(line)
            m = READY_RE.search(line)
            if m:
                self.ready = m
                self._ready.set()
        self._ready.set()

    @property
    def credentials_path(self) -> Path:
        assert self.ready
        return Path(self.ready.group(4))

    @property
    def broker_url(self) -> str:
        assert self.ready
        return f"mqtt://127.0.0.1:{self.ready.group(2)}"

    @property
    def site_id(self) -> str:
        assert self.ready
        return self.ready.group(1)

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                sigkill(self.proc)
        return self.proc.returncode


# --- devices that behave like real ones -----------------------------------------------------------

def connect(broker_url: str, site: str, kind: str, device: str, creds: dict, **kwargs) -> DeviceClient:
    c = creds[kind][device]
    client = DeviceClient(broker_url, site, kind, device, username=c["username"], password=c["password"], **kwargs)
    if not client.start(10):
        raise TimeoutError(f"{kind} {device} could not connect to {broker_url}")
    return client


@dataclass
class KioskRun:
    """What one kiosk worker saw: every request id it sent and the reply it finally got."""
    device: str
    replies: dict[str, dict] = field(default_factory=dict)   # req_id -> reply (ok or final error)
    attempts: int = 0
    timeouts: int = 0
    rate_limited: int = 0
    latencies: list[float] = field(default_factory=list)
    error: str | None = None


def kiosk_worker(client: DeviceClient, count: int, sectors: list[str], run: KioskRun, *, deadline: float,
                 progress: list[int] | None = None, retry_every: float = 0.4, pace: float = 0.0) -> None:
    """Issue `count` tickets one after another, as a kiosk does: a request is retried with the SAME
    req_id until it is answered (server down, broker down, reply lost), and a `rate_limited`
    answer is retried after a short pause. Never gives up before `deadline` (monotonic)."""
    try:
        for i in range(count):
            req_id = f"{run.device}-{i:05d}"
            sector = sectors[i % len(sectors)]
            t0 = time.monotonic()
            while True:
                if time.monotonic() > deadline:
                    run.error = f"deadline passed at request {i}"
                    return
                run.attempts += 1
                try:
                    reply = client.request("ticket.issue", {"sector": sector}, req_id=req_id, timeout=2.0,
                                           retry_every=retry_every)
                except ReplyTimeout:
                    run.timeouts += 1
                    continue
                if not reply.get("ok") and reply.get("error", {}).get("code") == "rate_limited":
                    run.rate_limited += 1
                    time.sleep(0.05)
                    continue
                break
            run.latencies.append(time.monotonic() - t0)
            run.replies[req_id] = reply
            if progress is not None:
                progress[0] += 1   # a racy counter is fine: it only decides when to pull the plug
            if pace:
                time.sleep(pace)
    except Exception as exc:  # pragma: no cover - reported by the test
        run.error = repr(exc)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (queue_server/domain/stats.py, as the reports); 0 when empty."""
    v = percentile_nearest_rank(values, p)
    return 0.0 if v is None else v


# --- the crash scenario (guarantee 1), shared by the CI test and the soak run -----------------------

@dataclass
class CrashRun:
    site: SiteConfig
    db: Path
    runs: list[KioskRun]
    kills: list[dict]                 # {"at_replies": n, "down_s": s, "restart_s": s}
    elapsed_s: float
    board_http: dict
    board_retained: dict | None
    server_log: Path
    server_status: list[bool] = field(default_factory=list)      # online flags seen on server/status
    upstream_seqs: set[int] = field(default_factory=set)         # seqs seen on events/log


def crash_scenario(directory: Path, *, kiosks: int = 8, tickets: int = 2000, kills: int = 2,
                   down_s: float = 0.2, budget_s: float = 150.0) -> CrashRun:
    """`kiosks` kiosk clients issue `tickets` tickets in all, against a real `motcua server`
    subprocess on a real mosquitto with auth + ACL, while the server is SIGKILLed `kills` times
    (evenly spread over the run) and started again after `down_s`."""
    from queue_server.config import load_site
    directory = Path(directory)
    site_path = site_with_kiosks(directory, kiosks)
    site = load_site(site_path)
    broker, files = site_broker(directory / "mosquitto", site)
    server = ServerProcess(directory / "server", site_path, broker.url, files.credentials)
    clients: list[DeviceClient] = []
    try:
        server.start()
        clients = [connect(broker.url, site.id, "kiosk", f"k{i}", files.creds) for i in range(1, kiosks + 1)]
        display = connect(broker.url, site.id, "display", site.devices.displays[0], files.creds)
        clients.append(display)
        boards: list[dict] = []
        display.subscribe(display.topics.board, lambda _t, p: boards.append(json.loads(p)))
        server_status: list[bool] = []
        display.subscribe(display.topics.server_status, lambda _t, p: server_status.append(json.loads(p)["online"]))
        # what an upstream consumer (the province bridge) sees: events/log, readable by the server user only
        upstream = DeviceClient(broker.url, site.id, "display", "upstream", username=files.creds["server"]["username"],
                                password=files.creds["server"]["password"], client_id="upstream-observer")
        upstream_seqs: set[int] = set()
        upstream.subscribe(upstream.topics.events_log, lambda _t, p: upstream_seqs.add(json.loads(p)["seq"]))
        if not upstream.start(10):
            raise TimeoutError("the upstream observer could not connect")
        clients.append(upstream)
        sectors = [s.id for s in site.sectors]
        runs = [KioskRun(f"k{i}") for i in range(1, kiosks + 1)]
        progress = [0]
        t0 = time.monotonic()
        deadline = t0 + budget_s
        per = [tickets // kiosks + (1 if i < tickets % kiosks else 0) for i in range(kiosks)]
        threads = [threading.Thread(target=kiosk_worker, args=(clients[i], per[i], sectors[i % len(sectors):] +
                                                               sectors[:i % len(sectors)], runs[i]),
                                    kwargs={"deadline": deadline, "progress": progress}, daemon=True)
                   for i in range(kiosks)]
        for t in threads:
            t.start()
        kill_log: list[dict] = []
        for j in range(kills):
            target = tickets * (j + 1) // (kills + 1)
            while progress[0] < target and any(t.is_alive() for t in threads) and time.monotonic() < deadline:
                time.sleep(0.002)
            at = progress[0]
            k0 = time.monotonic()
            server.kill()
            time.sleep(down_s)
            s0 = time.monotonic()
            server.start()
            kill_log.append({"at_replies": at, "down_s": round(time.monotonic() - k0, 3),
                             "restart_s": round(time.monotonic() - s0, 3)})
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()) + 5)
        elapsed = time.monotonic() - t0
        board_http = server.get_json("/api/v1/board")
        settle = time.monotonic() + 5          # the board of the last batch may still be on its way
        while time.monotonic() < settle and not (boards and boards[-1]["seq"] >= board_http["seq"]):
            time.sleep(0.02)
        board_retained = boards[-1] if boards else None
        return CrashRun(site, server.db, runs, kill_log, elapsed, board_http, board_retained, server.log_path,
                        server_status, upstream_seqs)
    finally:
        stop_clients(clients)
        server.stop()
        broker.stop()


def stop_clients(clients, timeout: float = 10.0) -> None:
    """Stop every device client at once (each may wait for a broker that is gone); a client that
    fails to stop does not keep the others, or the test's own clean-up, from running."""
    def stop(c) -> None:
        try:
            c.stop()
        except Exception:
            pass
    threads = [threading.Thread(target=stop, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)


# --- a site CA for TLS tests (openssl CLI; the `cryptography` package is not a dependency) ----------

def make_test_ca(directory: Path, name: str = "motcua test site CA", hosts: tuple[str, ...] = ("127.0.0.1",
                                                                                              "localhost")) -> dict:
    """A self-signed CA and a server certificate it signs for `hosts`; returns their paths.
    The same commands, for a real site, are in docs/security.md."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    san = ",".join(f"IP:{h}" if re.fullmatch(r"[\d.]+|[0-9a-f:]+", h) else f"DNS:{h}" for h in hosts)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={hosts[0]}")
    (d / "server.ext").write_text(f"subjectAltName={san}\nextendedKeyUsage=serverAuth\n"
                                  "basicConstraints=CA:FALSE\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.crt", "-days", "2", "-extfile", "server.ext")
    return {"ca": d / "ca.crt", "ca_key": d / "ca.key", "cert": d / "server.crt", "key": d / "server.key"}
