"""The Kivy wall display's cost per change: time per board update, per call, and RSS after many calls.

    .venv/bin/python -m bench.display_updates                      # both sizes, about 1-2 minutes
    .venv/bin/python -m bench.display_updates --sizes 1280x720 --boards 100 --calls 100 --memory-calls 1000

The real DisplayApp (display/app.py) over a BoardView, under Xvfb (started here when there is
no $DISPLAY), fed the demo site's board as the server's own views build it. Each size runs in
its own process. Three phases:

- redraw: one frame of the unchanged screen (canvas.ask_update): the drawing floor that the
  0.5 s blink pays anyway; under Xvfb it is software GL, on a Pi the GPU draws.
- boards: a new board (one counter serves a new number) with no call; one frame per board.
- calls: what a call brings: the new board, a frame, the events/call message, a frame
  (the two messages arrive separately over MQTT, so the screen refreshes twice).
- memory: RSS (after gc) after a 200-call warm-up and after --memory-calls calls.

"refresh" is the Python time in DisplayRoot.refresh() (building or updating widgets); the rest
of a frame is Kivy laying out, rendering label textures and drawing (software GL under Xvfb).
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from bench.harness import print_machine, print_table, rss_kib, summary_ms


def _mib() -> float:
    gc.collect()
    return rss_kib() / 1024.0


def child(args) -> dict:
    os.environ["KIVY_NO_ARGS"] = "1"
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    width, height = (int(x) for x in args.size.split("x"))
    from kivy.config import Config
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "maxfps", "0")     # no frame pacing: measure the work, not the vsync wait
    from kivy.base import EventLoop

    from display.app import DisplayApp, DisplayRoot
    from display.board_model import BoardView
    from queue_server.config import DEMO_SITE, load_site
    from queue_server.domain import views
    from queue_server.domain.state import SiteState

    refresh_s = [0.0]
    original = DisplayRoot.refresh

    def timed_refresh(self, *a):
        t = time.perf_counter()
        try:
            return original(self, *a)
        finally:
            refresh_s[0] += time.perf_counter() - t
    DisplayRoot.refresh = timed_refresh

    site = load_site(DEMO_SITE)
    now = datetime(2026, 1, 5, 9, 0, tzinfo=site.site.tz)
    state = SiteState.initial(site)
    state.day = "2026-01-05"
    board = views.board(state, site, now)
    for c in board["counters"]:
        c["status"] = "open"           # every counter on the screen, as in a busy morning
    view = BoardView()
    view.broker_up = True
    app = DisplayApp(view)
    app._run_prepare()
    EventLoop.ensure_window()

    def frame() -> None:
        EventLoop.idle()

    for _ in range(20):
        frame()
    counters = board["counters"]
    recent: list = []
    k = [0]

    def next_board() -> tuple[bytes, bytes]:
        k[0] += 1
        n = k[0]
        c = counters[n % len(counters)]
        sector = c["sectors"][0]
        number = f"{site.sector_by_id[sector].prefix}{n % 1000:03d}"
        at = (now + timedelta(seconds=n)).isoformat()
        c["serving"] = {"number": number, "sector": sector, "called_at": at}
        c["status"] = "serving"
        recent.insert(0, {"number": number, "counter": c["id"], "counter_label": c["label"],
                          "counter_label_en": c["label_en"], "sector": sector, "at": at})
        del recent[10:]
        for s in board["sectors"]:       # the waiting counts move too
            s["waiting"] = (n * 7 + len(s["id"])) % 23
            s["est_wait_s"] = s["waiting"] * 300
        b = {**board, "seq": n, "ts": at, "recent_calls": list(recent)}
        call = {"v": 1, "type": "call", "ts": at, "seq": n, "number": number, "counter": c["id"],
                "counter_label": c["label"], "counter_label_en": c["label_en"], "sector": sector, "recall": False}
        return json.dumps(b).encode(), json.dumps(call).encode()

    # the floor: redrawing the unchanged screen (what the 0.5 s blink costs anyway); no refresh()
    times, refresh_s[0] = [], 0.0
    t_all = time.perf_counter()
    for _ in range(args.boards):
        t = time.perf_counter()
        app.root.canvas.ask_update()
        frame()
        times.append(time.perf_counter() - t)
    redraw = {"per": summary_ms(times), "mean_ms": 1000 * (time.perf_counter() - t_all) / args.boards,
              "refresh_ms": 0.0}

    # boards only: no highlight (no call yet)
    times, refresh_s[0] = [], 0.0
    t_all = time.perf_counter()
    for _ in range(args.boards):
        b, _call = next_board()
        t = time.perf_counter()
        view.apply_board(b)
        frame()
        times.append(time.perf_counter() - t)
    boards = {"per": summary_ms(times), "mean_ms": 1000 * (time.perf_counter() - t_all) / args.boards,
              "refresh_ms": 1000 * refresh_s[0] / args.boards}

    times, refresh_s[0] = [], 0.0
    t_all = time.perf_counter()
    for _ in range(args.calls):
        b, call = next_board()
        t = time.perf_counter()
        view.apply_board(b)
        frame()
        view.apply_call(call)
        frame()
        times.append(time.perf_counter() - t)
    calls = {"per": summary_ms(times), "mean_ms": 1000 * (time.perf_counter() - t_all) / args.calls,
             "refresh_ms": 1000 * refresh_s[0] / args.calls}

    root = app.root
    widgets = sum(1 for _ in root.walk())
    for _ in range(200):
        b, call = next_board()
        view.apply_board(b)
        frame()
        view.apply_call(call)
        frame()
    start_mib = _mib()
    t0 = time.perf_counter()
    for _ in range(args.memory_calls):
        b, call = next_board()
        view.apply_board(b)
        frame()
        view.apply_call(call)
        frame()
    memory = {"calls": args.memory_calls, "start_mib": start_mib, "end_mib": _mib(),
              "seconds": time.perf_counter() - t0}
    app.stop()
    return {"size": args.size, "redraw": redraw, "boards": boards, "calls": calls, "memory": memory, "widgets": widgets,
            "counters": len(counters), "sectors": len(board["sectors"])}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1920x1080,1280x720", help="window sizes, comma separated")
    ap.add_argument("--boards", type=int, default=200, help="board updates timed (default 200)")
    ap.add_argument("--calls", type=int, default=200, help="calls timed (default 200)")
    ap.add_argument("--memory-calls", type=int, default=10_000, help="calls before the second RSS sample")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--size", default="1920x1080", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print("RESULT " + json.dumps(child(args)), flush=True)
        return 0

    print_machine()
    results = []
    for size in args.sizes.split(","):
        cmd = [sys.executable, "-m", "bench.display_updates", "--child", "--size", size, "--boards", str(args.boards),
               "--calls", str(args.calls), "--memory-calls", str(args.memory_calls)]
        if not os.environ.get("DISPLAY"):
            if shutil.which("xvfb-run") is None:
                print("no $DISPLAY and no xvfb-run", file=sys.stderr)
                return 2
            cmd = ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24"] + cmd
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "KIVY_HOME": home}
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                                  cwd=Path(__file__).resolve().parents[1])
        line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
        if proc.returncode != 0 or line is None:
            print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
            return 1
        results.append(json.loads(line[7:]))
    r0 = results[0]
    print(f"\ndemo site: {r0['counters']} counters on screen, {r0['sectors']} sector cards, "
          f"{r0['widgets']} widgets in the tree")
    print_table("time per change (ms; one frame per MQTT message)",
                ["size", "what", "n", "p50", "p99", "max", "mean", "of which refresh()"],
                [[r["size"], what, r[what]["per"]["n"], r[what]["per"]["p50"], r[what]["per"]["p99"],
                  r[what]["per"]["max"], r[what]["mean_ms"], r[what]["refresh_ms"]]
                 for r in results for what in ("redraw", "boards", "calls")])
    print_table("memory (RSS after gc)",
                ["size", "calls", "after warm-up MiB", "at end MiB", "growth MiB", "seconds"],
                [[r["size"], r["memory"]["calls"], r["memory"]["start_mib"], r["memory"]["end_mib"],
                  r["memory"]["end_mib"] - r["memory"]["start_mib"], r["memory"]["seconds"]] for r in results])
    return 0


if __name__ == "__main__":
    sys.exit(main())
