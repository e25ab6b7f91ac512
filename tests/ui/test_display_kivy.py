"""The Kivy wall display under Xvfb, fed by a real site (mosquitto + queue server): a board and a call.

Runs `motcua display` as a subprocess (a Kivy app owns its process), lets a
counter call a ticket while it runs, and reads the screenshot back.
Set MOTCUA_SCREENSHOTS=1 to refresh docs/screenshots/display-*.png.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from display.feed import FIRST_BOARD
from tests.support.output import Output
from tests.support.site import RunningSite

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "screenshots"

pytestmark = [pytest.mark.slow,      # Kivy apps under Xvfb, one process each
              pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed")]


def display_config(tmp_path: Path, site: RunningSite | None, port: int | None = None) -> Path:
    if site is not None:
        user, password = site.credentials("display", "d1")
        url = site.broker_url
    else:
        user, password, url = None, None, f"mqtt://127.0.0.1:{port}"
    cfg = tmp_path / "display.yaml"
    lines = ["role: display", "site: demo-district", "id: d1", "mqtt:", f"  url: \"{url}\""]
    if user:
        lines += [f"  username: \"{user}\"", f"  password: \"{password}\""]
    lines += ["screen: {width: 1920, height: 1080, fullscreen: false}", "announcer: {enabled: false}"]
    cfg.write_text("\n".join(lines) + "\n")
    return cfg


def run_display(tmp_path: Path, cfg: Path, size: str, shot: Path, exit_after: float) -> subprocess.Popen:
    env = {**os.environ, "KIVY_HOME": str(tmp_path / "kivy"), "KIVY_NO_ARGS": "1"}
    return subprocess.Popen(
        ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", sys.executable, "-m", "motcua", "display",
         "--config", str(cfg), "--windowed", "--size", size, "--screenshot", str(shot),
         "--exit-after", str(exit_after)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def colour_share(img: Image.Image, test) -> float:
    small = img.convert("RGB").resize((192, 108))
    px = [small.getpixel((x, y)) for y in range(small.height) for x in range(small.width)]
    return sum(1 for p in px if test(p)) / len(px)


def is_yellow(p) -> bool:
    return p[0] > 200 and p[1] > 130 and p[2] < 60


def is_red(p) -> bool:
    return p[0] > 170 and p[1] < 50 and p[2] < 50


@pytest.mark.parametrize("size,name", [("1920x1080", "display-board.png"), ("1280x720", "display-board-720p.png")])
def test_board_and_call_on_screen(tmp_path, size, name):
    with RunningSite(tmp_path / "site") as site:
        kiosk = site.device("kiosk", "k1")
        for sector in ("tu-phap-ho-tich", "tu-phap-ho-tich", "dat-dai", "kinh-doanh", "ly-lich-tu-phap",
                       "tu-phap-ho-tich", "tra-ket-qua"):
            assert kiosk.request("ticket.issue", {"sector": sector})["ok"]
        for cid in ("q1", "q4", "q6"):
            assert site.device("counter", cid).request("call.next")["ok"]
        shot = tmp_path / name
        # the screenshot is taken this long after the app is built: time for the board, then the call
        proc = run_display(tmp_path, display_config(tmp_path, site), size, shot, exit_after=6.0)
        output = Output(proc)
        output.wait_for_line(FIRST_BOARD)   # subscribed and has the retained board: now a new call
        reply = site.device("counter", "q2").request("call.next")
        assert reply["ok"], reply
        called = reply["result"]["ticket"]["number"]
        out = output.wait_closed(60)
        assert proc.wait(10) == 0, out[-3000:]
    img = Image.open(shot)
    w, h = (int(x) for x in size.split("x"))
    assert img.size == (w, h)
    # the newest call blinks yellow (its tile and the banner), the rest is dark with white text
    assert colour_share(img, is_yellow) > 0.03, "no highlighted call on screen"
    assert colour_share(img, is_red) < 0.01, "the screen says connection lost while connected"
    assert colour_share(img, lambda p: sum(p) < 150) > 0.3, "not a dark, high-contrast screen"
    assert called.startswith("A")
    if os.environ.get("MOTCUA_SCREENSHOTS"):
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, DOCS / name)


def test_connection_lost_banner(tmp_path):
    """No broker: the red "Mất kết nối" banner (recovery is in tests/integration/test_display_feed.py)."""
    from tests.support.broker import free_port
    port = free_port()
    cfg = display_config(tmp_path, None, port=port)
    shot = tmp_path / "offline.png"
    proc = run_display(tmp_path, cfg, "1280x720", shot, exit_after=2.0)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out.decode(errors="replace")[-3000:]
    assert colour_share(Image.open(shot), is_red) > 0.05, "no connection-lost banner"
