"""The physical reference, measured in the same run: bare mosquitto with a paho pair and with
its own clients, and one durable SQLite commit (the disk's part of every batch)."""
from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

from .site import close_client, raw_client
from .stats import nagle_cluster, print_table, summary_ms


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
