"""The arm64 side of bench/pi_arm64.sh: runs INSIDE the arm64 root (through qemu-user), never on its own.

    python bench/pi_arm64.py kiosk --config kiosk.yaml --out DIR   the Kivy kiosk under its own Xvfb:
        start it, wait for the home screen with the server's catalogue, touch a field tile and
        "Lấy số" (2 taps, as a citizen), wait for the printed ticket, decode the Dummy printer's
        raster back and check it is the ticket the server issued, save a screenshot.
    python bench/pi_arm64.py gpio                                   which pin factory gpiozero picks here

Prints one line `RESULT {json}` (timings in seconds) and exits non-zero on any failure. Only the
kiosk's own code is used: the same config file, `build_kiosk`, `KioskApp` and touches as
tests/ui/test_kiosk_ui.py (without kivy.tests, which needs pytest), so what runs on arm64 is what runs on a Pi.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import traceback
import warnings
from pathlib import Path

T_PROCESS = time.monotonic()      # the kiosk start is counted from here (the interpreter is already up)

# Generous: under qemu-user an arm64 Kivy frame drawn by llvmpipe takes hundreds of milliseconds.
START_TIMEOUT_S = 300
TICKET_TIMEOUT_S = 120
FIELD = "tu-phap-ho-tich"         # a field of the demo site (queue_server/sites/demo-district.yaml)


def start_xvfb(width: int, height: int) -> subprocess.Popen:
    """An Xvfb of our own; -displayfd tells us its display number once it accepts clients."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24",
                             "-nolisten", "tcp"], pass_fds=(write_fd,), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    os.close(write_fd)
    number = b""
    with os.fdopen(read_fd, "rb", buffering=0) as pipe:
        while not number.endswith(b"\n"):
            chunk = pipe.read(16)
            if not chunk:
                raise RuntimeError(f"Xvfb exited before giving a display (code {proc.wait()})")
            number += chunk
    os.environ["DISPLAY"] = f":{number.decode().strip()}"
    return proc


def decode_raster(data: bytes):
    """Every ESC/POS `GS v 0` raster block in `data`, stacked: the picture the printer would print."""
    from PIL import Image
    parts, i = [], 0
    while (i := data.find(b"\x1dv0", i)) >= 0:
        wbytes, height = data[i + 4] | data[i + 5] << 8, data[i + 6] | data[i + 7] << 8
        raw = data[i + 8:i + 8 + wbytes * height]
        if len(raw) != wbytes * height:
            raise RuntimeError("truncated raster in the printer bytes")
        parts.append(Image.frombytes("1", (wbytes * 8, height), raw, "raw", "1;I"))   # 1 = a burnt dot
        i += 8 + len(raw)
    if not parts:
        raise RuntimeError("no raster image in the printer bytes")
    out = Image.new("1", (parts[0].width, sum(p.height for p in parts)), 1)
    y = 0
    for part in parts:
        out.paste(part, (0, y))
        y += part.height
    return out


class Driver:
    """Touches the running app the way tests/ui/test_kiosk_ui.py does (Kivy's UnitTestTouch)."""

    def __init__(self, app, vm):
        self.app, self.vm = app, vm

    def pump(self, seconds: float = 0.05) -> None:
        from kivy.base import EventLoop
        end = time.monotonic() + seconds
        while True:
            EventLoop.idle()
            if time.monotonic() >= end:
                return

    def wait(self, pred, timeout: float, what: str) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump(0.02)
            if pred():
                return
        raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what} (screen {self.vm.screen}, "
                           f"connected {self.vm.connected}, print {self.vm.print_status}, error {self.vm.error})")

    def find(self, cls_name: str, **attrs):
        for w in self.app.screens[self.vm.screen].walk():
            if type(w).__name__ == cls_name and all(getattr(w, k, None) == v for k, v in attrs.items()):
                return w
        raise RuntimeError(f"no {cls_name} {attrs} on screen {self.vm.screen}")

    def tap(self, widget) -> None:
        from kivy.base import EventLoop
        from kivy.input.motionevent import MotionEvent

        class Touch(MotionEvent):
            # kivy.tests.common.UnitTestTouch, which imports pytest (not in a kiosk's venv)
            def depack(self, args):
                self.sx, self.sy = args["x"], args["y"]
                super().depack(args)

        win = EventLoop.window
        x, y = widget.to_window(*widget.center)
        touch = Touch("bench", 99, {"x": x / (win.width - 1.0), "y": y / (win.height - 1.0)},
                      is_touch=True, type_id="touch")
        touch.profile = ["pos"]
        EventLoop.post_dispatch_input("begin", touch)
        self.pump(0.05)
        EventLoop.post_dispatch_input("end", touch)
        self.pump(0.1)


def run_kiosk(config_path: str, out: Path) -> dict:
    from firmware_config.device_config import load_device_config
    from motcua.kivy_window import configure_screen
    config = load_device_config(config_path, "kiosk")
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KIVY_HOME", str(out / "kivy-home"))
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    xvfb = start_xvfb(config.screen.width, config.screen.height)
    kiosk = app = None
    try:
        configure_screen(config.screen, windowed=True)
        from kivy.base import EventLoop
        from kiosk.app import KioskApp, ui_post
        from kiosk.printing import TicketSlip, render_ticket
        from kiosk.runtime import build_kiosk
        kiosk = build_kiosk(config, cache_dir=out / "cache", post=ui_post, with_buttons=False)
        kiosk.start()
        app = KioskApp(kiosk.vm)
        app._run_prepare()
        EventLoop.ensure_window()
        ui = Driver(app, kiosk.vm)
        vm = kiosk.vm
        ui.wait(lambda: vm.catalogue is not None and vm.connected and vm.server_online is True
                and app.root.current == "home" and FIELD in vm.stats, START_TIMEOUT_S,
                "the home screen with the catalogue, the broker and the server's stats")
        ui.pump(0.3)
        kiosk_start_s = time.monotonic() - T_PROCESS

        # under qemu a frame takes a while: keep the ticket screen until it is photographed
        # (a frame-by-frame run is slower than the ticket screen's 12 s and the 45 s idle timeout)
        vm.settings.ticket_home_s = vm.settings.idle_timeout_s = 3600
        t0 = time.monotonic()
        ui.tap(ui.find("SectorTile", sector_id=FIELD))                              # tap 1: the field
        ui.wait(lambda: app.root.current == "procedures", 60, "the procedures screen")
        ui.tap(app.screens["procedures"].ids.take)                                  # tap 2: "Lấy số"
        ui.wait(lambda: vm.print_status == "ok", TICKET_TIMEOUT_S, "the printed ticket")
        ticket_s = time.monotonic() - t0
        number, slip = str(vm.ticket["number"]), vm._ticket_slip()
        ui.wait(lambda: app.root.current == "ticket", 60, "the ticket screen")
        ui.pump(0.5)
        shot = out / "kiosk-arm64.png"
        app.root.export_to_png(str(shot))

        if app.screens["ticket"].number != number:
            raise RuntimeError(f"the screen shows {app.screens['ticket'].number!r}, the server issued {number!r}")
        printed = kiosk.printer._printer().output
        back = decode_raster(printed)
        back.save(out / "printed-ticket.png")
        width = kiosk.printer.width
        if back.tobytes() != render_ticket(slip, width).tobytes():
            raise RuntimeError("the printed raster is not the ticket drawn for the issued number")
        # the number is in the print: the same slip with another number draws another picture
        other = TicketSlip(**{**slip.__dict__, "number": number[:-1] + ("1" if number[-1] != "1" else "2")})
        if back.tobytes() == render_ticket(other, width).tobytes():
            raise RuntimeError("the printed raster does not depend on the ticket number")
        return {"ok": True, "number": number, "sector": vm.ticket.get("sector"), "printed_bytes": len(printed),
                "printed_px": list(back.size), "kiosk_start_s": round(kiosk_start_s, 1),
                "ticket_s": round(ticket_s, 1), "screenshot": str(shot), "printed": str(out / "printed-ticket.png")}
    finally:
        if app is not None:
            app.dispatch("on_stop")
        if kiosk is not None:
            kiosk.stop()
        xvfb.terminate()
        xvfb.wait(10)


def probe_gpio() -> dict:
    """What gpiozero does on this machine with no pin factory asked for (a Pi picks lgpio)."""
    result: dict = {"machine": os.uname().machine}
    try:
        import lgpio
        result["lgpio"] = getattr(lgpio, "LGPIO_PY_VERSION", "imported")
    except Exception as exc:              # reported, not fatal: this is what we came to see
        result["lgpio"] = f"{type(exc).__name__}: {exc}"
    from gpiozero import Device
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            factory = Device._default_pin_factory()
            result["pin_factory"] = type(factory).__name__
        except Exception as exc:
            result["pin_factory"] = None
            result["error"] = f"{type(exc).__name__}: {exc}"
    result["fallbacks"] = [str(w.message) for w in caught]
    # what the kiosk itself does at start (motcua/gpio.py: lgpio, rpigpio or pigpio, never 'native')
    try:
        from motcua.gpio import NoPinFactory, choose_pin_factory
        Device.pin_factory = None
        result["motcua_gpio"] = type(choose_pin_factory("kiosk")).__name__
    except NoPinFactory as exc:
        result["motcua_gpio"] = exc.lines
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    k = sub.add_parser("kiosk", help="start the kiosk, take a ticket, screenshot")
    k.add_argument("--config", required=True)
    k.add_argument("--out", required=True, type=Path)
    sub.add_parser("gpio", help="which pin factory gpiozero picks")
    args = parser.parse_args(argv)
    try:
        result = run_kiosk(args.config, args.out) if args.what == "kiosk" else probe_gpio()
    except Exception as exc:
        traceback.print_exc()
        print("RESULT " + json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}, ensure_ascii=False),
              flush=True)
        return 1
    print("RESULT " + json.dumps(result, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
