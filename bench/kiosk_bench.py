"""Kiosk benchmarks (figures, not tests): `.venv/bin/python -m bench.kiosk_bench [--tickets 300]`.

The site is the real core in this process (tests.support.site.RunningSite: mosquitto with the
generated users + ACL, the queue server on SQLite, its web app); this is a desk tool, never
part of the kiosk package.

1. touch to printed bytes: the view-model's "take a ticket" through the real
   queue server over a real mosquitto, then the ticket
   drawn with Pillow and encoded by python-escpos into a Dummy printer. p50/p95/p99.
2. cold start: a fresh Python process from exec to the kiosk's first drawn
   frame (Kivy window, catalogue over HTTP, MQTT connect), under Xvfb if there
   is no display.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEMO_SITE = ROOT / "queue_server" / "sites" / "demo-district.yaml"


def kiosk_config(site, kiosk: str = "k1", printer: str = "dummy") -> dict:
    """The device config of one kiosk of a running site (its generated MQTT user)."""
    user, password = site.credentials("kiosk", kiosk)
    return {"site": site.site.id, "id": kiosk, "server_url": site.http_url,
            "mqtt": {"url": site.broker_url, "username": user, "password": password},
            "printer": {"kind": printer}, "speech": {"enabled": False}}


def bench_touch_to_print(site, n: int, tmp: Path) -> dict[str, float]:
    from firmware_config.device_config import parse_device_config
    from kiosk.runtime import build_kiosk
    kiosk = build_kiosk(parse_device_config(kiosk_config(site), "kiosk"), cache_dir=tmp / "cache",
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


def bench_cold_start(site, tmp: Path, runs: int) -> list[float]:
    import yaml
    conf = tmp / "kiosk.yaml"
    conf.write_text(yaml.safe_dump(kiosk_config(site, "k2")), encoding="utf-8")
    env = {**os.environ, "KIVY_HOME": str(tmp / "kivy"), "KIVY_NO_CONSOLELOG": "1", "KIVY_NO_ARGS": "1"}
    cmd = [sys.executable, "-m", "bench.kiosk_bench", "--child-cold-start", str(conf), str(tmp / "cache")]
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
        from tests.support.open_site import open_now
        from tests.support.site import RunningSite
        # open now, whatever the hour: else the kiosk rightly says "past closing" instead of printing
        site = RunningSite(tmp / "site", open_now(DEMO_SITE, tmp)).start()
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
