"""Guarantee 5: the server never waits for a device. While a wall display process is frozen
(SIGSTOP: its socket stays open but nobody reads it), a browser holds the live stream open without
reading, and a kiosk died (SIGKILL) with a request in flight and replies piling up for it, a working
kiosk still gets every ticket quickly, and the web still answers.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request

import pytest

from tests.support.procs import ROOT, percentile, site_with_kiosks
from tests.support.site import RunningSite

pytestmark = pytest.mark.slow     # device processes frozen and killed under load

DEVICE_SCRIPT = textwrap.dedent("""
    import sys, time, json
    from protocol.client import DeviceClient
    url, site, kind, dev, user, pw = sys.argv[1:7]
    c = DeviceClient(url, site, kind, dev, username=user, password=pw, client_id="proc-" + dev)
    c.subscribe(c.topics.board, lambda t, p: None)
    c.subscribe(c.topics.events_call, lambda t, p: None)
    assert c.start(10)
    if kind == "kiosk":
        c.publish(c.topics.kiosk_cmd(dev), {"v": 1, "type": "ticket.issue", "req_id": "last-words",
                                             "sector": "dat-dai"}).wait_for_publish(5)
        time.sleep(0.3)             # the server has it; the process dies before it reads the reply
    print("ready", flush=True)
    while True:
        time.sleep(1)
""")


def device_process(site: RunningSite, kind: str, dev: str) -> subprocess.Popen:
    user, pw = site.credentials(kind, dev)
    proc = subprocess.Popen([sys.executable, "-c", DEVICE_SCRIPT, site.broker_url, site.site.id, kind, dev, user, pw],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_frozen_and_dead_devices_do_not_slow_the_server(tmp_path):
    site_path = site_with_kiosks(tmp_path, 3)
    with RunningSite(tmp_path / "site", site_path) as site:
        frozen = device_process(site, "display", "d1")
        dead = device_process(site, "kiosk", "k3")
        stalled_sse = socket.create_connection(("127.0.0.1", site.http_port))
        stalled_sse.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled_sse.sendall(b"GET /api/v1/stream?kinds=board,call,stats,counter HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            os.kill(frozen.pid, signal.SIGSTOP)
            os.kill(dead.pid, signal.SIGKILL)
            dead.wait(5)
            kiosk = site.device("kiosk", "k1")
            counter = site.device("counter", "q4")
            latencies = []
            for i in range(300):
                t0 = time.monotonic()
                reply = kiosk.request("ticket.issue", {"sector": "dat-dai" if i % 2 else "xay-dung"}, timeout=5)
                latencies.append(time.monotonic() - t0)
                assert reply["ok"] or reply["error"]["code"] == "rate_limited", reply
                if i % 3 == 0:
                    assert counter.request("call.next", timeout=5)["ok"]
            t0 = time.monotonic()
            with urllib.request.urlopen(site.http_url + "/api/v1/board", timeout=5) as r:
                assert r.status == 200
            web_s = time.monotonic() - t0
            # the dead kiosk's last request was applied once; its replies wait at the broker, not in the server
            assert any(e.req_id == "last-words" for e in site.service.store.read())
            p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
            print(f"with a frozen display, a stalled SSE reader and a dead kiosk: p50 {p50 * 1000:.1f} ms, "
                  f"p99 {p99 * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms, web {web_s * 1000:.1f} ms")
            assert p99 < 0.5 and max(latencies) < 2.0
            assert web_s < 1.0
        finally:
            stalled_sse.close()
            for p in (frozen, dead):
                if p.poll() is None:
                    os.kill(p.pid, signal.SIGKILL)
                    p.wait(5)
