"""The Kivy wall display updates its widgets in place (display/app.py `sync_children`).

A board update with the same counters keeps the same tile, recent-call row and sector card
objects; only a change in the set of counters / sectors creates or removes widgets; and after
any sequence of updates the screen is what a fresh build of the same state draws, pixel for
pixel. The Kivy part runs in a subprocess under Xvfb (a Kivy window owns its process).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow,      # Kivy apps under Xvfb, one process each
              pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed")]

SCRIPT = r'''
import copy, json, sys
from motcua.kivy_window import configure_window
configure_window(1280, 720, False, 0)
from kivy.base import EventLoop
from PIL import Image, ImageChops
from display.app import DisplayApp, DisplayRoot
from display.board_model import BoardView

out = {}
board = {"v": 1, "type": "board", "seq": 1, "day": "2026-11-25",
         "site": {"id": "s", "name": {"vi": "Trung tâm mẫu", "en": "Sample centre"}},
         "counters": [{"id": f"q{i}", "label": f"Quầy {i}", "label_en": f"Counter {i}", "status": "open",
                       "sectors": ["a"], "serving": None} for i in range(1, 7)],
         "recent_calls": [{"number": f"A{n:03d}", "counter": "q1", "counter_label": "Quầy 1"} for n in range(8)],
         "sectors": [{"id": s, "name": {"vi": f"Lĩnh vực {s}", "en": f"Sector {s}"}, "prefix": s.upper(),
                      "waiting": 3, "est_wait_s": 600, "target_wait_s": 900} for s in "abcde"]}
view = BoardView()
view.broker_up = True
app = DisplayApp(view)
app._run_prepare()
EventLoop.ensure_window()
root = app.root

def frames(n=3):
    for _ in range(n):
        EventLoop.idle()

def ids():
    return {"tiles": [id(w) for w in reversed(root.ids.tiles.children)],
            "recent": [id(w) for w in reversed(root.ids.recent.children)],
            "sectors": [id(w) for w in reversed(root.ids.sectors.children)]}

def props(r):
    return {"tiles": [(w.label_text, w.number_text, w.status, w.highlight) for w in reversed(r.ids.tiles.children)],
            "recent": [(getattr(w, "number_text", None), getattr(w, "label_text", None))
                       for w in reversed(r.ids.recent.children)],
            "sectors": [(w.name_vi, w.name_en, w.numbers_text, w.over_target) for w in reversed(r.ids.sectors.children)],
            "banner": (r.banner_kind, r.banner_vi, r.banner_en), "cols": (r.tile_cols, r.sector_cols)}

def push(b, seq):
    b = copy.deepcopy(b)
    b["seq"] = seq
    view.apply_board(b)
    frames()
    return b

board = push(board, 1)
first = ids()
out["first"] = first
# a call: same counters, new numbers, new recent calls, new waiting counts
b2 = copy.deepcopy(board)
b2["counters"][2].update(status="serving", serving={"number": "A123", "sector": "a"})
b2["recent_calls"].insert(0, {"number": "A123", "counter": "q3", "counter_label": "Quầy 3"})
b2["sectors"][0].update(waiting=9, est_wait_s=2000)
push(b2, 2)
view.apply_call({"number": "A123", "counter": "q3", "counter_label": "Quầy 3", "counter_label_en": "Counter 3"})
frames()
out["after_call"] = ids()
out["props_after_call"] = props(root)
out["fresh_after_call"] = props(DisplayRoot(view))

# the set changes: one counter closes, two sectors go, fewer recent calls
b3 = copy.deepcopy(b2)
b3["counters"][4]["status"] = "closed"
b3["sectors"] = b3["sectors"][:3]
b3["recent_calls"] = b3["recent_calls"][:2]
push(b3, 3)
out["after_close"] = ids()
out["props_after_close"] = props(root)
out["fresh_after_close"] = props(DisplayRoot(view))

# and back: more counters than before
b4 = copy.deepcopy(b2)
b4["counters"].append({"id": "q7", "label": "Quầy 7", "status": "paused", "sectors": ["a"], "serving": None})
push(b4, 4)
out["after_grow"] = ids()
out["props_after_grow"] = props(root)
out["fresh_after_grow"] = props(DisplayRoot(view))

# pixels: the updated screen against a fresh build of the same state, in the same window
def shot(path):
    root.blink_on = True
    for t in root.ids.tiles.children:
        t.blink_on = True
    root.clock_time, root.clock_date = "08:00", "Thứ Tư, 25/11/2026"
    frames(4)
    root.export_to_png(path)

from kivy.core.window import Window
from kivy.clock import Clock
Clock.unschedule(root.tick)
shot(sys.argv[1] + "/updated.png")
Window.remove_widget(root)
root = DisplayRoot(view)
Window.add_widget(root)
frames(4)
shot(sys.argv[1] + "/fresh.png")
a = Image.open(sys.argv[1] + "/updated.png").convert("RGB")
b = Image.open(sys.argv[1] + "/fresh.png").convert("RGB")
out["size"] = list(a.size)
out["pixel_diff"] = ImageChops.difference(a, b).getbbox()
print("RESULT " + json.dumps(out))
app.stop()
'''


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("in_place")
    env = {**os.environ, "KIVY_HOME": str(tmp / "kivy"), "KIVY_NO_ARGS": "1", "KIVY_NO_CONSOLELOG": "1"}
    proc = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", sys.executable, "-c", SCRIPT, str(tmp)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert proc.returncode == 0 and line, (proc.stdout + proc.stderr)[-3000:]
    return json.loads(line[7:])


def test_board_update_with_the_same_counters_reuses_the_widgets(result):
    first, after = result["first"], result["after_call"]
    assert len(first["tiles"]) == 6 and len(first["sectors"]) == 5 and len(first["recent"]) == 7  # 6 rows + spacer
    assert after == first, "a board update with the same counters replaced widgets"
    tiles = result["props_after_call"]["tiles"]
    assert tiles[2] == ["Quầy 3 · Counter 3", "A123", "serving", True]
    assert not any(t[3] for i, t in enumerate(tiles) if i != 2)
    assert result["props_after_call"]["recent"][0] == ["A123", "Quầy 3"]
    assert result["props_after_call"]["banner"][0] == "call"


def test_in_place_state_equals_a_fresh_build(result):
    for step in ("after_call", "after_close", "after_grow"):
        assert result[f"props_{step}"] == result[f"fresh_{step}"], step


def test_widgets_are_created_or_removed_only_when_the_set_changes(result):
    first, closed, grown = result["first"], result["after_close"], result["after_grow"]
    assert len(closed["tiles"]) == 5 and closed["tiles"] == first["tiles"][:5]
    assert len(closed["sectors"]) == 3 and closed["sectors"] == first["sectors"][:3]
    assert len(closed["recent"]) == 3 and closed["recent"][-1] == first["recent"][-1]   # the spacer stays last
    assert len(grown["tiles"]) == 7 and grown["tiles"][:5] == first["tiles"][:5]
    assert result["props_after_grow"]["tiles"][-1][1:3] == ["Tạm nghỉ", "paused"]


def test_updated_screen_draws_like_a_fresh_build(result):
    assert result["size"] == [1280, 720]
    assert result["pixel_diff"] is None, f"the updated screen differs from a fresh build in {result['pixel_diff']}"
