"""Kiosk benchmarks (figures, not tests): `python -m kiosk.bench [--tickets 300]`.

1. touch to printed bytes: the view-model's "take a ticket" through the real
   queue server over a real mosquitto (generated users + ACL), then the ticket
   drawn with Pillow and encoded by python-escpos into a Dummy printer. p50/p95/p99.
2. cold start: a fresh Python process from exec to the kiosk's first drawn
   frame (Kivy window, catalogue over HTTP, MQTT connect), under Xvfb if there
   is no display.
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_SITE = ROOT / "queue_server" / "sites" / "demo-district.yaml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Site:
    """mosquitto + the real queue server in this process (what tests/support/site.py does)."""

    def __init__(self, directory: Path):
        from firmware_config.broker import write_site_broker
        from queue_server.config import load_site
        from queue_server.processes import Mosquitto
        self.dir = directory
        self.site = load_site(DEMO_SITE)
        self.mqtt_port, self.http_port = _free_port(), _free_port()
        self.files = write_site_broker(self.site, directory / "mosquitto", self.mqtt_port,
                                       credentials_path=directory / "credentials.json")
        self.broker = Mosquitto(self.files.conf, self.mqtt_port, directory / "mosquitto.log")
        self.server = None

    def start(self) -> "_Site":
        from queue_server.site_server import ServerOptions, SiteServer
        self.broker.start()
        cred = self.files.creds["server"]
        self.server = SiteServer(self.site, ServerOptions(
            broker=f"mqtt://127.0.0.1:{self.mqtt_port}", db=str(self.dir / "motcua.db"), http_port=self.http_port,
            username=cred["username"], password=cred["password"], data_dir=self.dir))
        assert self.server.start(10), "queue server did not start"
        return self

    def kiosk_config(self, kiosk: str = "k1", printer: str = "dummy") -> dict:
        c = self.files.creds["kiosk"][kiosk]
        return {"site": self.site.id, "id": kiosk, "server_url": f"http://127.0.0.1:{self.http_port}",
                "mqtt": {"url": f"mqtt://127.0.0.1:{self.mqtt_port}", "username": c["username"],
                         "password": c["password"]},
                "printer": {"kind": printer}, "speech": {"enabled": False}}

    def stop(self) -> None:
        if self.server:
            self.server.stop()
        self.broker.stop()


def bench_touch_to_print(site: _Site, n: int, tmp: Path) -> dict[str, float]:
    from firmware_config.device_config import parse_device_config
    from kiosk.runtime import build_kiosk
    kiosk = build_kiosk(parse_device_config(site.kiosk_config(), "kiosk"), cache_dir=tmp / "cache",
                        with_buttons=False)
    vm = kiosk.vm
    vm.run_async = lambda fn: fn()      # measure the whole chain synchronously
    kiosk.start(wait=5)
    sectors = [s.id for s in vm.catalogue.sectors]
    times = []
    try:
        for i in range(n):
            vm.go_home()
            t0 = time.perf_counter()
            vm.take_ticket_for(sectors[i % len(sectors)])
            assert vm.print_status == "ok", (vm.screen, vm.error)
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        kiosk.stop()
    times.sort()
    return {"n": n, "p50_ms": statistics.median(times), "p95_ms": times[int(0.95 * (n - 1))],
            "p99_ms": times[int(0.99 * (n - 1))], "max_ms": times[-1]}


def bench_cold_start(site: _Site, tmp: Path, runs: int) -> list[float]:
    import yaml
    conf = tmp / "kiosk.yaml"
    conf.write_text(yaml.safe_dump(site.kiosk_config("k2")), encoding="utf-8")
    env = {**os.environ, "KIVY_HOME": str(tmp / "kivy"), "KIVY_NO_CONSOLELOG": "1", "KIVY_NO_ARGS": "1"}
    cmd = [sys.executable, "-m", "kiosk.bench", "--child-cold-start", str(conf), str(tmp / "cache")]
    xvfb = None
    if not os.environ.get("DISPLAY") and shutil.which("Xvfb"):
        # one X server for every run, so its own start-up is not counted
        read_fd, write_fd = os.pipe()
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24",
                                 "-nolisten", "tcp"], pass_fds=(write_fd,), stderr=subprocess.DEVNULL)
        os.close(write_fd)
        env["DISPLAY"] = ":" + os.read(read_fd, 16).decode().strip()
        os.close(read_fd)
    out = []
    try:
        for _ in range(runs):
            t0 = time.time()
            res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, cwd=str(ROOT))
            line = [l for l in res.stdout.splitlines() if l.startswith("FIRST_FRAME ")]
            if not line:
                raise RuntimeError(f"cold start child failed:\n{res.stdout}\n{res.stderr[-2000:]}")
            out.append((float(line[-1].split()[1]) - t0) * 1000)
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait(5)
    return out


def _child_cold_start(conf: str, cache: str) -> int:
    """Start the kiosk as `motcua kiosk` would; print the wall time of the first drawn frame."""
    from firmware_config.device_config import load_device_config
    from motcua.kivy_window import configure_screen
    config = load_device_config(conf, "kiosk")
    configure_screen(config.screen, windowed=True)
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kiosk.app import KioskApp, ui_post
    from kiosk.runtime import build_kiosk
    kiosk = build_kiosk(config, cache_dir=cache, post=ui_post, with_buttons=False)
    kiosk.start()
    app = KioskApp(kiosk.vm)

    def first_flip(*_):
        print(f"FIRST_FRAME {time.time():.6f}", flush=True)
        Window.unbind(on_flip=first_flip)
        Clock.schedule_once(lambda dt: app.stop(), 0)

    Window.bind(on_flip=first_flip)
    app.run()
    kiosk.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tickets", type=int, default=300)
    ap.add_argument("--cold-runs", type=int, default=3)
    ap.add_argument("--child-cold-start", nargs=2, metavar=("CONFIG", "CACHE"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_cold_start:
        return _child_cold_start(*args.child_cold_start)
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as d:
        tmp = Path(d)
        site = _Site(tmp / "site").start()
        try:
            r = bench_touch_to_print(site, args.tickets, tmp)
            print(f"touch -> printed bytes (server round trip + render + escpos encode), {r['n']} tickets: "
                  f"p50 {r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
                  f"max {r['max_ms']:.1f} ms")
            cold = bench_cold_start(site, tmp, args.cold_runs)
            print(f"cold start to first frame ({len(cold)} runs): "
                  + ", ".join(f"{c:.0f} ms" for c in cold) + f"; median {statistics.median(cold):.0f} ms")
        finally:
            site.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
