"""The counter's 800x480 status screen under Xvfb, on a real site, keypad on gpiozero's mock pins.
Set MOTCUA_SCREENSHOTS=1 to refresh docs/screenshots/counter-status.png."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.support.site import RunningSite

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow,      # Kivy apps under Xvfb, one process each
              pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed")]


def test_status_screen_shows_the_ticket_and_the_queue(tmp_path):
    with RunningSite(tmp_path / "site") as site:
        kiosk = site.device("kiosk", "k1")
        for sector in ("tu-phap-ho-tich", "tu-phap-ho-tich", "tu-phap-ho-tich", "tra-ket-qua"):
            assert kiosk.request("ticket.issue", {"sector": sector})["ok"]
        # another client of the same counter account calls first, so the retained state shows a ticket
        desk = site.device("counter", "q1", client_id="test-desk-q1")
        assert desk.request("call.next")["ok"]
        desk.stop()
        user, password = site.credentials("counter", "q1")
        cfg = tmp_path / "counter.yaml"
        cfg.write_text(f"""role: counter
site: demo-district
id: q1
mqtt: {{url: "{site.broker_url}", username: "{user}", password: "{password}"}}
screen: {{width: 800, height: 480, fullscreen: false}}
""")
        shot = tmp_path / "counter-status.png"
        env = {**os.environ, "KIVY_HOME": str(tmp_path / "kivy"), "GPIOZERO_PIN_FACTORY": "mock"}
        proc = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1024x768x24", sys.executable, "-m", "motcua",
                               "counter", "--config", str(cfg), "--windowed", "--screenshot", str(shot),
                               "--exit-after", "2.5"], cwd=ROOT, env=env, capture_output=True, timeout=90)
        assert proc.returncode == 0, proc.stdout.decode(errors="replace")[-3000:]
    img = Image.open(shot).convert("RGB")
    assert img.size == (800, 480)
    small = img.resize((160, 96))
    px = [small.getpixel((x, y)) for y in range(96) for x in range(160)]
    yellow = sum(1 for p in px if p[0] > 200 and p[1] > 150 and p[2] < 80) / len(px)
    red = sum(1 for p in px if p[0] > 170 and p[1] < 50 and p[2] < 50) / len(px)
    assert yellow > 0.01, "the serving number is not on screen"
    assert red < 0.02, "the screen says connection lost while connected"
    if os.environ.get("MOTCUA_SCREENSHOTS"):
        shutil.copy(shot, ROOT / "docs" / "screenshots" / "counter-status.png")


def test_bad_config_is_a_clear_error(tmp_path):
    cfg = tmp_path / "counter.yaml"
    cfg.write_text("role: counter\nsite: Demo District\nid: q1\nkeypad: {next: 99}\n")
    proc = subprocess.run([sys.executable, "-m", "motcua", "counter", "--config", str(cfg)], cwd=ROOT,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2
    assert "site" in proc.stderr and "keypad.next" in proc.stderr


TRANSFER_SCRIPT = r'''
import sys
from motcua.kivy_window import configure_window
configure_window(800, 480, False, 0)
from counter.model import CounterView
from counter.app import CounterApp
view = CounterView("q1")
view.apply_board({"counters": [], "sectors": [
    {"id": "tu-phap-ho-tich", "name": {"vi": "Tư pháp – Hộ tịch", "en": "Justice"}},
    {"id": "ly-lich-tu-phap", "name": {"vi": "Lý lịch tư pháp", "en": "Judicial record"}},
    {"id": "dat-dai", "name": {"vi": "Đất đai", "en": "Land"}},
    {"id": "tra-ket-qua", "name": {"vi": "Trả kết quả", "en": "Results"}}]})
view.apply_state({"counter": "q1", "label": "Quầy 1", "status": "serving",
                  "sectors": ["tu-phap-ho-tich", "tra-ket-qua"], "trained": ["ly-lich-tu-phap"],
                  "serving": {"number": "A007", "sector": "tu-phap-ho-tich", "ticket_id": "20261125-A007"}, "waiting": {"tu-phap-ho-tich": 4}})
view.set_connected(True)
view.press("transfer"); view.press("next")
CounterApp(view, view.press, screenshot=sys.argv[1], exit_after=1.0).run()
'''


def test_transfer_list_screen(tmp_path):
    """Transfer opens a list the clerk walks with Next / Recall: the screen shows the choice in yellow."""
    shot = tmp_path / "counter-transfer.png"
    env = {**os.environ, "KIVY_HOME": str(tmp_path / "kivy"), "KIVY_NO_ARGS": "1"}
    proc = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1024x768x24", sys.executable, "-c", TRANSFER_SCRIPT,
                           str(shot)], cwd=ROOT, env=env, capture_output=True, timeout=90)
    assert proc.returncode == 0, (proc.stdout + proc.stderr).decode(errors="replace")[-3000:]
    img = Image.open(shot).convert("RGB")
    assert img.size == (800, 480)
    if os.environ.get("MOTCUA_SCREENSHOTS"):
        shutil.copy(shot, ROOT / "docs" / "screenshots" / "counter-transfer.png")


VISIT_SCRIPT = TRANSFER_SCRIPT.replace(
    '"serving": {"number": "A007", "sector": "tu-phap-ho-tich", "ticket_id": "20261125-A007"}',
    '"serving": {"number": "A007", "sector": "tu-phap-ho-tich", "ticket_id": "20261125-A007", "step": 1, "steps": 3, '
    '"visit": {"step": 1, "steps": 3, "procedures": [{"sector": "tu-phap-ho-tich", "status": "current"}, '
    '{"sector": "tra-ket-qua", "status": "waiting"}, {"sector": "dat-dai", "status": "waiting"}]}}').replace(
    'view.press("transfer"); view.press("next")', 'view.press("done"); view.press("next")')


def test_visit_choice_screen(tmp_path):
    """Done on a visit whose next procedure is served here: the screen says where the visit stands and
    offers send on / continue here (issue #18); the drawn screen shows the yellow choice."""
    assert VISIT_SCRIPT.count('"visit"') == 1 and 'view.press("done")' in VISIT_SCRIPT
    shot = tmp_path / "counter-visit.png"
    env = {**os.environ, "KIVY_HOME": str(tmp_path / "kivy"), "KIVY_NO_ARGS": "1"}
    proc = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1024x768x24", sys.executable, "-c", VISIT_SCRIPT,
                           str(shot)], cwd=ROOT, env=env, capture_output=True, timeout=90)
    assert proc.returncode == 0, (proc.stdout + proc.stderr).decode(errors="replace")[-3000:]
    img = Image.open(shot).convert("RGB")
    assert img.size == (800, 480)
    yellow = sum(1 for px in img.get_flattened_data() if px[0] > 230 and px[1] > 190 and px[2] < 60)
    assert yellow > 2000, "no yellow choice bar drawn"
    if os.environ.get("MOTCUA_SCREENSHOTS"):
        shutil.copy(shot, ROOT / "docs" / "screenshots" / "counter-visit.png")


IN_PLACE_SCRIPT = r'''
import json, sys
from motcua.kivy_window import configure_window
configure_window(800, 480, False, 0)
from kivy.base import EventLoop
from kivy.clock import Clock
from kivy.core.window import Window
from PIL import Image, ImageChops
from counter.model import CounterView
from counter.app import CounterApp, StatusRoot
board = {"counters": [], "sectors": [{"id": f"s{i}", "name": {"vi": f"Lĩnh vực {i}", "en": f"Sector {i}"}} for i in range(8)]}
view = CounterView("q1")
view.apply_board(board)
view.apply_state({"counter": "q1", "label": "Quầy 1", "status": "serving", "sectors": ["s0"],
                  "serving": {"number": "A007", "sector": "s0", "ticket_id": "20261125-A007"}, "waiting": {"s0": 4}})
view.set_connected(True)
app = CounterApp(view, view.press)
app._run_prepare()
EventLoop.ensure_window()
root = app.root
def frames(n=3):
    for _ in range(n):
        EventLoop.idle()
def rows():
    return [(id(w), getattr(w, "text", None), getattr(w, "selected", None)) for w in reversed(root.ids.options.children)]
out = {"closed": rows()}
view.press("transfer"); frames()
out["open"] = rows()
view.press("next"); view.apply_board(board); frames()
out["moved"] = rows()
view.press("next"); view.press("next"); view.press("next"); frames()
out["scrolled"] = rows()
Clock.unschedule(root.refresh)
frames(4)
root.export_to_png(sys.argv[1] + "/updated.png")
Window.remove_widget(root)
root = StatusRoot(view)
Window.add_widget(root)
frames(6)
out["fresh"] = rows()
root.export_to_png(sys.argv[1] + "/fresh.png")
a = Image.open(sys.argv[1] + "/updated.png").convert("RGB")
b = Image.open(sys.argv[1] + "/fresh.png").convert("RGB")
out["pixel_diff"] = ImageChops.difference(a, b).getbbox()
# the ticket leaves (done elsewhere): the list closes, its rows go, the spacer stays
view.apply_state({"counter": "q1", "label": "Quầy 1", "status": "open", "sectors": ["s0"], "serving": None})
root.refresh()
out["left"] = rows()
print("RESULT " + json.dumps(out))
app.stop()
'''


def test_transfer_list_rows_are_updated_in_place(tmp_path):
    """Walking the transfer list (and boards arriving meanwhile) moves the yellow bar on the same row
    widgets; the screen draws like a fresh build of the same state."""
    env = {**os.environ, "KIVY_HOME": str(tmp_path / "kivy"), "KIVY_NO_ARGS": "1", "KIVY_NO_CONSOLELOG": "1"}
    proc = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1024x768x24", sys.executable, "-c", IN_PLACE_SCRIPT,
                           str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert proc.returncode == 0 and line, (proc.stdout + proc.stderr)[-3000:]
    import json
    out = json.loads(line[7:])
    assert [r[1] for r in out["closed"]] == [None]           # only the spacer while no list is open
    opened, moved, scrolled = out["open"], out["moved"], out["scrolled"]
    assert len(opened) == 6 and opened[-1][1] is None        # 5 options + the spacer, last
    assert [r[0] for r in moved] == [r[0] for r in opened] == [r[0] for r in scrolled]
    assert [r[2] for r in opened[:5]] != [r[2] for r in moved[:5]], "the choice did not move"
    assert [r[1] for r in scrolled[:5]] != [r[1] for r in opened[:5]], "the window did not scroll"
    assert [r[1:] for r in out["fresh"]] == [r[1:] for r in scrolled]
    assert out["pixel_diff"] is None, f"the updated screen differs from a fresh build in {out['pixel_diff']}"
    assert [r[1] for r in out["left"]] == [None]
