"""Issue #16 in the real Kivy kiosk under Xvfb: a USB scanner's keystrokes (a booking's QR, typed
as the window's own keyboard events) on the home screen check the booking in at the real queue
server over a real mosquitto, and the ticket printed (python-escpos Dummy, read back from its
bytes) carries the 'Đặt lịch / Booked HH:MM' line. Then home's 'I have a booking' opens the
keypad, whose keys are tapped. The kiosk runs in its own process (one Kivy window per process)."""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from kiosk.printing import TicketSlip, render_ticket
from protocol import booking_code
from queue_server.domain.commands import CreateBooking
from tests.support.escpos_raster import decode_raster
from tests.support.open_site import open_now
from tests.support.site import RunningSite

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "queue_server" / "sites" / "demo-district.yaml"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(180),
              pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed")]

CHILD = r'''
import base64, json, sys, time
from motcua.kivy_window import configure_window
configure_window(800, 480, False, 0)
from kivy.base import EventLoop
from kivy.core.window import Window, Keyboard
from kivy.tests.common import UnitTestTouch
from firmware_config.device_config import parse_device_config
from kiosk.app import KioskApp, ui_post
from kiosk.runtime import build_kiosk

args = json.loads(sys.argv[1])
config = parse_device_config(args["config"], "kiosk")
kiosk = build_kiosk(config, cache_dir=args["cache"], post=ui_post, with_buttons=False)
kiosk.start(wait=5)
app = KioskApp(kiosk.vm)
app._run_prepare()
EventLoop.ensure_window()
vm = kiosk.vm

def pump(seconds=0.05):
    end = time.monotonic() + seconds
    while True:
        EventLoop.idle()
        if time.monotonic() >= end:
            return
        time.sleep(0.01)

def wait(pred, what, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        pump(0.02)
        if pred():
            return
    print(f"FAILED: timed out waiting for {what}; screen={vm.screen} online={vm.server_online} "
          f"error={vm.error!r} checkin={vm.checkin_error!r}", flush=True)
    sys.exit(1)

def tap(widget):
    x, y = widget.to_window(*widget.center)
    t = UnitTestTouch(x, y)
    t.touch_down(); pump(0.03); t.touch_up(); pump(0.05)

wait(lambda: vm.server_online is True and app.root.current == "home", "home, server online")
out = {"home_button": app.screens["home"].ids.booking.text}
# the scanner types the booking's QR as fast as it can, then Enter
for c in args["scan"]:
    Window.dispatch("on_key_down", ord(c.lower()) if c.isascii() else 0, 0, c, [])
    Window.dispatch("on_textinput", c)
Window.dispatch("on_key_down", Keyboard.keycodes["enter"], 40, None, [])
wait(lambda: vm.print_status == "ok", "the booking's ticket printed")
pump(0.1)
slip = vm._ticket_slip()
out.update(screen=app.root.current, number=vm.ticket.number, shown=app.screens["ticket"].number,
           priority_line=app.screens["ticket"].priority, slip=slip.__dict__,
           printed=base64.b64encode(kiosk.printer._printer().output).decode())
# home's "I have a booking", then the keypad's keys tapped: a code typed shows in its groups
vm.go_home()
wait(lambda: app.root.current == "home", "home again")
pump(0.2)                      # laid out before the touch lands
tap(app.screens["home"].ids.booking)
wait(lambda: app.root.current == "checkin", "the check-in screen")
keys = {w.text: w for w in app.screens["checkin"].ids.keypad.children}
for c in args["typed"]:
    tap(keys[c])
out["typed_shown"] = app.screens["checkin"].ids.code.text
out["ok_enabled"] = not app.screens["checkin"].ids.ok.disabled
app.root.export_to_png(args["shot"])
app.dispatch("on_stop")
kiosk.stop()
print("RESULT " + json.dumps(out, ensure_ascii=False))
'''


def test_a_scanned_booking_qr_prints_a_booked_ticket_in_the_kivy_kiosk(tmp_path):
    with RunningSite(tmp_path / "site", open_now(DEMO, tmp_path)) as running:
        service, tz = running.service, running.site.site.tz
        real = datetime.now(tz)
        slot = (real + timedelta(hours=1)).replace(second=0, microsecond=0)
        slot += timedelta(minutes=(30 - slot.minute % 30) % 30)
        made = service.execute("web", "web", CreateBooking(procedure="khai-sinh", slot=slot.strftime("%Y-%m-%dT%H:%M"),
                                                           id_hash="ab" * 32))
        assert made["ok"], made
        code = made["result"]["booking"]["code"]
        service.clock = lambda: slot + timedelta(minutes=1)          # in the slot: on time
        user, password = running.credentials("kiosk", "k2")
        args = {"config": {"site": running.site.id, "id": "k2",
                           "mqtt": {"url": running.broker_url, "username": user, "password": password},
                           "server_url": running.http_url, "printer": {"kind": "dummy"},
                           "speech": {"enabled": False},
                           # as provisioned: the check-in screen (and its screenshot) invites a card
                           "id_hash_key_file": str(running.dir / "id-hash.key")},
                "cache": str(tmp_path / "cache"), "shot": str(tmp_path / "kiosk-checkin.png"),
                "scan": booking_code.qr_payload("https://datlich.example.vn", running.site.id, code),
                "typed": code[:5]}
        env = {**os.environ, "KIVY_HOME": str(tmp_path / "kivy"), "KIVY_NO_ARGS": "1"}
        proc = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1280x800x24", sys.executable, "-c", CHILD,
                               json.dumps(args)], cwd=ROOT, env=env, capture_output=True, timeout=150)
        stdout = proc.stdout.decode("utf-8", errors="replace")
        assert proc.returncode == 0, (stdout + proc.stderr.decode(errors="replace"))[-3000:]
        out = json.loads(next(line for line in stdout.splitlines() if line.startswith("RESULT "))[7:])
        [checked] = [e.data for e in running.events("booking.checked_in")]
        assert checked["code"] == code and checked["outcome"] == "on_time"

    assert out["home_button"].endswith("Tôi đã đặt lịch")
    assert out["screen"] == "ticket" and out["shown"] == out["number"]
    booked = slot.strftime("%H:%M")
    assert out["slip"]["booked_at"] == booked and out["priority_line"] == f"Đặt lịch {booked}"
    slip = TicketSlip(**{**out["slip"], "visit": tuple(out["slip"]["visit"])})
    printed = np.array(decode_raster(base64.b64decode(out["printed"]))) < 128
    assert np.array_equal(printed, np.array(render_ticket(slip, 576).convert("L")) < 128)
    unbooked = np.array(render_ticket(TicketSlip(**{**slip.__dict__, "booked_at": None}), 576).convert("L")) < 128
    assert printed.shape[0] > unbooked.shape[0]                       # the booked line is on the paper
    assert out["typed_shown"] == f"{code[:4]}-{code[4]}___" and out["ok_enabled"] is False
    if os.environ.get("MOTCUA_SCREENSHOTS"):
        shutil.copy(tmp_path / "kiosk-checkin.png", ROOT / "docs" / "screenshots" / "kiosk-checkin.png")
