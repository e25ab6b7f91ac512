"""Resident memory that must not grow with history.

    .venv/bin/python -m bench.memory                       # about 3-5 minutes
    .venv/bin/python -m bench.memory --days 3 --changes 500

- server: the real command loop (QueueService + SQLite log + MqttGateway publishing to a real
  mosquitto) through a simulated month at a busy centre (20 counters, 4 kiosks, 1,500 tickets a
  day, services of 4-12 minutes, ratings, no-shows, online guidance), on a simulated clock;
  RSS after each day (after gc). It must level off: only today's tickets live in memory.
- kiosk: the real Kivy kiosk app (kiosk.app.KioskApp over its view-model, Xvfb) through 10,000
  screen changes (home -> sector -> procedure -> back -> home -> priority ...), a ticket taken
  and printed (escpos Dummy) every 50 changes, against the real core (tests.support.site.RunningSite:
  mosquitto with users + ACL, the queue server, its web app) run in a process of its own so the
  kiosk's RSS stays the kiosk's.
- display: the real Kivy wall display (display.app.DisplayApp over BoardView, Xvfb) through
  10,000 calls: a new board and an events/call message each, shaped by the server's own views.

Each part runs in a fresh process (`--child NAME`) so RSS is that part's own.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from bench.harness import ROOT, print_machine, print_table, rss_kib


def _mib() -> float:
    gc.collect()
    return rss_kib() / 1024.0


# --- server: a simulated month --------------------------------------------------------------------

def child_server(args) -> dict:
    import heapq

    from bench.harness import BenchSite
    from queue_server.mqtt.gateway import MqttGateway
    from queue_server.loop import Item as _Item
    from queue_server.service import QueueService
    from queue_server.store import EventStore
    work = Path(args.dir)
    site_env = BenchSite(work, 20, 4)          # config + broker files; the server runs here, not as a child
    site_env.start_broker()
    site = site_env.site
    tz = site.site.tz
    now = [datetime(2026, 1, 5, 7, 0, tzinfo=tz)]
    store = EventStore(str(work / "month.db"))
    svc = QueueService(site, store, clock=lambda: now[0])
    svc.limiter.rate = svc.limiter.burst = 1e9   # a simulated day runs in seconds
    svc.start()     # snapshots beside the loop and the collector's freezes, as in a server; batches below
    gw = None
    if not args.no_mqtt:
        cred = site_env.creds["server"]
        gw = MqttGateway(svc, site_env.url, username=cred["username"], password=cred["password"])
        gw.start(10)
    rng = random.Random(11)
    sectors = [s.id for s in site.sectors]
    kiosks = list(site.devices.kiosks)
    counters = [c.id for c in site.counters]
    n = [0]

    def item(kind, dev, ctype, **f):
        n[0] += 1
        return _Item(kind, dev, json.dumps({"v": 1, "type": ctype, "ts": now[0].isoformat(),
                                            "req_id": f"m{n[0]}", **f}).encode())
    samples = []
    start_mib = _mib()
    t_start = time.perf_counter()
    for day in range(args.days):
        base = datetime(2026, 1, 5, 7, 30, tzinfo=tz) + timedelta(days=day)
        # (time, order, kind, device, command, fields) in simulated time order
        heap: list = []
        for i in range(args.tickets_per_day):
            t = rng.uniform(0, 9 * 3600)
            heapq.heappush(heap, (t, n[0] + i, "kiosk", rng.choice(kiosks), "ticket.issue",
                                  {"sector": rng.choice(sectors)}))
        for j, c in enumerate(counters):
            heapq.heappush(heap, (rng.uniform(0, 300), -1 - j, "counter", c, "call.next", {}))
        seqno = 10**9
        batch, batch_t = [], None
        while heap:
            t, _, kind, dev, ctype, fields = heapq.heappop(heap)
            if t > 9.5 * 3600:
                break
            if batch and t - batch_t > 60:            # one batch per simulated minute
                svc.process(batch)
                batch = []
            if not batch:
                batch_t = t
                now[0] = base + timedelta(seconds=t)
            if ctype == "rating.submit":        # the ticket this counter served last
                fields = {"ticket_id": svc.state.counters[dev].last_served or "none", "score": rng.randint(1, 4)}
            batch.append(item(kind, dev, ctype, **fields))
            if kind == "counter" and ctype == "call.next":
                seqno += 1
                finish = rng.choice(["serve.done"] * 18 + ["serve.no_show"])
                heapq.heappush(heap, (t + rng.uniform(240, 720), seqno, "counter", dev, finish, {}))
            elif kind == "counter" and ctype in ("serve.done", "serve.no_show"):
                seqno += 1
                if ctype == "serve.done" and rng.random() < 0.3:
                    heapq.heappush(heap, (t + 5, seqno, "counter", dev, "rating.submit", {}))
                heapq.heappush(heap, (t + rng.uniform(10, 60), seqno + 1, "counter", dev, "call.next", {}))
                seqno += 1
            if kind == "kiosk" and rng.random() < 0.04:
                batch.append(item("kiosk", dev, "guidance.online", procedure="khai-sinh"))
        if batch:
            svc.process(batch)
        samples.append({"day": day + 1, "rss_mib": _mib(), "events": svc.state.last_seq,
                        "tickets_in_memory": len(svc.state.tickets), "reply_cache": len(svc.replies)})
        print(json.dumps({"progress": samples[-1]}), file=sys.stderr, flush=True)
    if gw:
        gw.stop()
    svc.stop()
    store.close()
    site_env.stop()
    return {"start_mib": start_mib, "samples": samples, "seconds": time.perf_counter() - t_start}


# --- kiosk: 10,000 screen changes -------------------------------------------------------------------

def _pump(seconds: float = 0.0) -> None:
    from kivy.base import EventLoop
    end = time.monotonic() + seconds
    while True:
        EventLoop.idle()
        if time.monotonic() >= end:
            return
        time.sleep(0.002)


def child_kiosk(args, with_app: bool) -> dict:
    work = Path(args.dir)
    os.environ["KIVY_HOME"] = str(work / "kivy-home")
    os.environ["KIVY_NO_ARGS"] = "1"
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    from firmware_config.device_config import ScreenSettings, parse_device_config
    if with_app:
        from motcua.kivy_window import configure_screen
        configure_screen(ScreenSettings(width=800, height=480), windowed=True)
        from kivy.config import Config
        Config.set("graphics", "maxfps", "0")     # no frame pacing: as fast as the changes come
    import multiprocessing
    from queue_server.config import DEMO_SITE, load_site
    site = load_site(DEMO_SITE)
    ctx = multiprocessing.get_context("spawn")
    answer, done = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=_site_process, args=(str(work / "site"), answer, done), daemon=True)
    server.start()
    urls = answer.get(timeout=60)
    from kiosk.runtime import build_kiosk
    config = parse_device_config({"site": site.id, "id": "k1",
                                  "mqtt": {"url": urls["broker_url"], "username": urls["username"],
                                           "password": urls["password"]},
                                  "server_url": urls["http_url"], "printer": {"kind": "dummy"},
                                  "speech": {"enabled": False}}, "kiosk")
    app = None
    if with_app:
        from kivy.base import EventLoop
        from kiosk.app import KioskApp, ui_post
        kiosk = build_kiosk(config, cache_dir=work / "cache", post=ui_post, with_buttons=False)
        kiosk.start(wait=5)
        app = KioskApp(kiosk.vm)
        app._run_prepare()
        EventLoop.ensure_window()
        pump = _pump
    else:
        import queue as _queue
        posted: _queue.Queue = _queue.Queue()   # the view-model's "UI thread" is this loop
        kiosk = build_kiosk(config, cache_dir=work / "cache", post=posted.put, with_buttons=False)
        kiosk.start(wait=5)

        def pump(seconds: float = 0.0) -> None:
            end = time.monotonic() + seconds
            while True:
                try:
                    while True:
                        posted.get_nowait()()
                except _queue.Empty:
                    pass
                if time.monotonic() >= end:
                    return
                time.sleep(0.002)
    pump(0.5)
    vm = kiosk.vm
    sectors = [s for s in site.sectors if s.procedures]
    samples = [{"changes": 0, "rss_mib": _mib(), "screen": vm.screen}]
    tickets = 0
    changes = 0
    i = 0
    t0 = time.perf_counter()
    while changes < args.changes:
        s = sectors[i % len(sectors)]
        steps = [lambda: vm.go_home(), lambda: vm.open_sector(s.id),
                 lambda: vm.open_procedure(s.procedures[i % len(s.procedures)].id), lambda: vm.back(),
                 lambda: vm.go_home(), lambda: vm.open_priority(), lambda: vm.toggle_lang()]
        for step in steps:
            step()
            pump()
            changes += 1
            if changes % args.sample_every == 0:
                samples.append({"changes": changes, "rss_mib": _mib(), "screen": vm.screen})
        if i % 7 == 0:            # about one ticket per 50 screen changes: reply, slip drawn and printed
            vm.go_home()
            vm.take_ticket_for(s.id, None)
            deadline = time.monotonic() + 5
            while vm.screen != "ticket" and time.monotonic() < deadline:
                pump(0.005)
            tickets += vm.screen == "ticket"
            changes += 2
        i += 1
    elapsed = time.perf_counter() - t0
    if app is not None:
        app.stop()
    kiosk.stop()
    done.set()
    server.join(30)
    return {"samples": samples, "tickets": tickets, "seconds": elapsed}


def _site_process(directory: str, answer, done) -> None:
    """The real core for the kiosk part, in its own process: its memory is not the kiosk's."""
    from tests.support.site import RunningSite
    with RunningSite(Path(directory)) as site:
        user, password = site.credentials("kiosk", "k1")
        answer.put({"broker_url": site.broker_url, "http_url": site.http_url, "username": user,
                    "password": password})
        done.wait()


# --- display: 10,000 calls ------------------------------------------------------------------------

def child_display(args, with_app: bool) -> dict:
    work = Path(args.dir)
    os.environ["KIVY_HOME"] = str(work / "kivy-home")
    os.environ["KIVY_NO_ARGS"] = "1"
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    from display.board_model import BoardView
    from queue_server.config import DEMO_SITE, load_site
    from queue_server.domain import views
    from queue_server.domain.state import SiteState
    site = load_site(DEMO_SITE)
    now = datetime(2026, 1, 5, 9, 0, tzinfo=site.site.tz)
    state = SiteState.initial(site)
    state.day = "2026-01-05"
    board = views.board(state, site, now)
    view = BoardView()
    view.broker_up = True
    app = None
    if with_app:
        from kivy.config import Config
        Config.set("graphics", "width", str(args.display_width))
        Config.set("graphics", "height", str(args.display_width * 9 // 16))
        Config.set("graphics", "maxfps", "0")     # no frame pacing: as fast as the changes come
        from kivy.base import EventLoop
        from display.app import DisplayApp
        app = DisplayApp(view)
        app._run_prepare()
        EventLoop.ensure_window()
        pump = _pump
    else:
        def pump(seconds: float = 0.0) -> None:
            # what the screen reads on every change
            view.tiles(), view.recent(), view.sectors(), view.call_banner(), view.status_line()
    pump(0.5)
    samples = [{"calls": 0, "rss_mib": _mib()}]
    counters = board["counters"]
    recent: list = []
    t0 = time.perf_counter()
    for k in range(1, args.changes + 1):
        c = counters[k % len(counters)]
        sector = c["sectors"][0]
        prefix = site.sector_by_id[sector].prefix
        number = f"{prefix}{k % 10000:03d}"
        at = (now + timedelta(seconds=k)).isoformat()
        c["serving"] = {"number": number, "sector": sector, "called_at": at}
        recent.insert(0, {"number": number, "counter": c["id"], "counter_label": c["label"],
                          "counter_label_en": c["label_en"], "sector": sector, "at": at})
        del recent[10:]
        board = {**board, "seq": k, "ts": at, "recent_calls": list(recent)}
        view.apply_board(json.dumps(board).encode())
        view.apply_call(json.dumps({"v": 1, "type": "call", "ts": at, "seq": k, "number": number,
                                    "counter": c["id"], "counter_label": c["label"], "sector": sector,
                                    "recall": False}).encode())
        pump()
        if k % args.sample_every == 0:
            samples.append({"calls": k, "rss_mib": _mib()})
    elapsed = time.perf_counter() - t0
    if app is not None:
        app.stop()
    return {"samples": samples, "seconds": elapsed}


# --- the parent -----------------------------------------------------------------------------------

def run_child(name: str, args, work: Path, xvfb: bool) -> dict | None:
    changes = args.app_changes if name.endswith("-app") else args.changes
    sample_every = max(1, min(args.sample_every, changes // 5))
    cmd = [sys.executable, "-m", "bench.memory", "--child", name, "--dir", str(work / name),
           "--days", str(args.days), "--tickets-per-day", str(args.tickets_per_day),
           "--changes", str(changes), "--sample-every", str(sample_every),
           "--display-width", str(args.display_width)]
    if args.no_mqtt:
        cmd.append("--no-mqtt")
    if xvfb:
        if not shutil.which("xvfb-run"):
            print(f"{name}: xvfb-run is not installed; skipped")
            return None
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24"] + cmd
    (work / name).mkdir(parents=True, exist_ok=True)
    os.chmod(work / name, 0o755)
    proc = subprocess.run(cmd, cwd=str(ROOT), capture_output=True, text=True, timeout=3600)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"memory benchmark '{name}' failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--tickets-per-day", type=int, default=1500)
    ap.add_argument("--changes", type=int, default=10_000,
                    help="kiosk screen changes / display calls through the view-models")
    ap.add_argument("--app-changes", type=int, default=1000,
                    help="the same through the Kivy apps (slow: Xvfb draws every frame in software)")
    ap.add_argument("--sample-every", type=int, default=1000)
    ap.add_argument("--display-width", type=int, default=1280, help="display window width (16:9)")
    ap.add_argument("--parts", default="server,kiosk-vm,display-vm,kiosk-app,display-app")
    ap.add_argument("--no-mqtt", action="store_true", help="server part without the MQTT gateway")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--dir", help="work directory (default: a temporary one)")
    args = ap.parse_args(argv)

    if args.child:
        fn = {"server": child_server,
              "kiosk-vm": lambda a: child_kiosk(a, False), "kiosk-app": lambda a: child_kiosk(a, True),
              "display-vm": lambda a: child_display(a, False), "display-app": lambda a: child_display(a, True)}
        print(json.dumps(fn[args.child](args)), flush=True)
        return 0

    print_machine()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as tmp:
        work = Path(args.dir or tmp)
        os.chmod(work, 0o755)
        if "server" in parts:
            r = run_child("server", args, work, xvfb=False)
            s = r["samples"]
            show = sorted({0, min(6, len(s) - 1), len(s) // 2, len(s) - 1})
            rows = [[s[i]["day"], f"{s[i]['rss_mib']:.1f}", s[i]["events"], s[i]["tickets_in_memory"],
                     s[i]["reply_cache"]] for i in show]
            print_table(f"server: simulated month at a busy centre ({args.tickets_per_day} tickets/day, 20 counters, "
                        f"{'no MQTT' if args.no_mqtt else 'publishing to mosquitto'}; {r['seconds']:.0f} s)",
                        ["day", "RSS MiB", "events in log", "tickets in memory", "cached replies"], rows)
            mid = s[min(6, len(s) - 1)]["rss_mib"]
            print(f"RSS at start {r['start_mib']:.1f} MiB; growth from day {min(7, len(s))} to day {len(s)}: "
                  f"{s[-1]['rss_mib'] - mid:+.1f} MiB")
        for name, unit in (("kiosk-vm", "screen changes"), ("display-vm", "calls"),
                           ("kiosk-app", "screen changes"), ("display-app", "calls")):
            if name not in parts:
                continue
            app = name.endswith("-app")
            r = run_child(name, args, work, xvfb=app)
            if r is None:
                continue
            s = r["samples"]
            key = "changes" if name.startswith("kiosk") else "calls"
            rows = [[x[key], f"{x['rss_mib']:.1f}"] for x in s]
            extra = f", {r['tickets']} tickets taken and printed (escpos Dummy)" if name.startswith("kiosk") else ""
            what = "Kivy app under Xvfb" if app else "view-model, no window"
            n = s[-1][key]
            print_table(f"{name.split('-')[0]} ({what}): RSS after {unit}{extra}; "
                        f"{r['seconds']:.0f} s, {r['seconds'] / max(1, n) * 1000:.1f} ms per change",
                        [unit, "RSS MiB"], rows)
            first = s[1]["rss_mib"] if len(s) > 2 else s[0]["rss_mib"]
            print(f"growth from {s[1][key] if len(s) > 2 else 0} to {s[-1][key]} {unit}: "
                  f"{s[-1]['rss_mib'] - first:+.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
