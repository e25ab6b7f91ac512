"""motcua/scanner.py's KivyScanner in a real Kivy window under Xvfb: a scanner's keystrokes are
injected as the window's own keyboard events (on_key_down, on_textinput) and come out as scans,
a person's keys come out one by one, and the keys it takes reach no other handler."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow,      # a Kivy window under Xvfb, in its own process
              pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed")]

CHILD = r'''
import json, os, sys
from motcua.kivy_window import configure_window
configure_window(320, 240, False, 0)
from kivy.core.window import Window, Keyboard
from motcua.scanner import KivyScanner

now = [50.0]
out = {"scans": [], "typed": [], "reached_others": []}
# another handler bound before the scanner, as a screen's would be
Window.bind(on_textinput=lambda w, text: out["reached_others"].append(text),
            on_key_down=lambda w, key, *a: out["reached_others"].append(key))
sc = KivyScanner(lambda s: out["scans"].append([s.text, s.ended_by]),
                 lambda t: out["typed"].append(t.key), clock=lambda: now[0]).attach()
ENTER = Keyboard.keycodes["enter"]

def text(chars, step):
    for c in chars:
        # SDL sends a key down, then the text it typed
        Window.dispatch("on_key_down", ord(c.lower()) if c.isascii() else 0, 0, c, [])
        Window.dispatch("on_textinput", c)
        now[0] += step

def enter():
    Window.dispatch("on_key_down", ENTER, 40, None, [])

text("001085012345||Nguyễn Văn A|01011985|Nam|Hà Nội|10102021", 0.003)
enter()
now[0] += 1
text("K7Q4MZ2X", 0.002)          # no Enter: ended by the quiet time
now[0] += 0.2
sc.tick()
now[0] += 1
text("12", 0.4)                  # a person
now[0] += 0.5
sc.tick()
enter()
out["pending_tick"] = sc._tick_event is not None
out["enter_keycode"] = ENTER
sc.detach()
Window.dispatch("on_textinput", "z")   # after detach the scanner takes nothing
print("RESULT " + json.dumps(out, ensure_ascii=False))
'''


def test_kivy_window_keys_become_scans(tmp_path):
    env = {**os.environ, "KIVY_HOME": str(tmp_path / "kivy"), "KIVY_NO_ARGS": "1"}
    proc = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 640x480x24", sys.executable, "-c", CHILD],
                          cwd=ROOT, env=env, capture_output=True, timeout=120)
    stdout = proc.stdout.decode("utf-8", errors="replace")
    assert proc.returncode == 0, (stdout + proc.stderr.decode(errors="replace"))[-3000:]
    result = json.loads(next(line for line in stdout.splitlines() if line.startswith("RESULT "))[7:])
    assert result["scans"] == [["001085012345||Nguyễn Văn A|01011985|Nam|Hà Nội|10102021", "enter"],
                               ["K7Q4MZ2X", "gap"]]
    assert result["typed"] == ["1", "2", "enter"]
    # the scanner took every character and Enter; the other handler saw only the key downs of
    # characters (which come through on_textinput) and what came after detach
    assert result["enter_keycode"] not in result["reached_others"] and result["reached_others"][-1] == "z"
    assert not any(isinstance(x, str) and x != "z" for x in result["reached_others"])
    assert result["pending_tick"] is False
