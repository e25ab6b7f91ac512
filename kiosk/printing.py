"""Tickets and guidance slips: drawn with Pillow, sent with python-escpos.

`p.text()` with Vietnamese depends on the printer's code pages (docs/kiosk.md);
drawing the slip as a 1-bit image at the printer's width prints the same on
any ESC/POS printer. The printer is queried for paper and cover where it can
answer (USB, serial, network); trouble never un-issues a ticket: the caller
gets a status to show, publish and offer a reprint for.
"""
from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import qrcode
from escpos import printer as escpos_printer
from escpos.constants import RT_STATUS
from escpos.exceptions import DeviceNotFoundError, Error as EscposError
from PIL import Image, ImageDraw, ImageFont

from kiosk.texts import T, PRIORITY_LABELS, minutes_text

log = logging.getLogger(__name__)

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

# What `print_*` returns; the same words go into the kiosk's device status.
OK, PAPER_OUT, COVER_OPEN, OFFLINE = "ok", "paper_out", "cover_open", "offline"
RT_STATUS_OFFLINE_CAUSE = RT_STATUS + b"\x02"   # DLE EOT 2: why the printer is offline
COVER_OPEN_BIT, PAPER_STOP_BIT = 0x04, 0x20


@dataclass(frozen=True)
class TicketSlip:
    site_name: str
    number: str
    sector_name: str
    procedure_name: str | None
    issued_at: str            # already formatted for people: "08:15 25/11/2026"
    ahead: int
    est_wait_s: int
    track_url: str | None
    priority: str = "normal"
    lang: str = "vi"
    # a visit of several procedures (issue #18): each named as the screens name it, in the order
    # they will be served, and the estimated end of the whole visit (seconds after issue)
    visit: tuple[str, ...] = ()
    visit_end_s: int | None = None
    # a booking checked in (issue #16): its slot's start, "HH:MM"
    booked_at: str | None = None


@dataclass(frozen=True)
class GuidanceSlip:
    site_name: str
    procedure_name: str
    portal_url: str
    steps: tuple[str, ...]
    lang: str = "vi"


# -- drawing -------------------------------------------------------------------

class _Canvas:
    """A growing white strip; text is wrapped to the width and centred or left-aligned."""

    def __init__(self, width: int):
        self.width = width
        self.scale = width / 576.0
        self.margin = int(16 * self.scale)
        self.img = Image.new("L", (width, 4000), 255)
        self.draw = ImageDraw.Draw(self.img)
        self.y = int(10 * self.scale)
        self._fonts: dict[tuple[bool, int], ImageFont.FreeTypeFont] = {}

    def font(self, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
        px = max(10, int(size * self.scale))
        key = (bold, px)
        if key not in self._fonts:
            self._fonts[key] = ImageFont.truetype(str(FONT_BOLD if bold else FONT_REGULAR), px)
        return self._fonts[key]

    def _wrap(self, text: str, font, max_w: int) -> list[str]:
        lines: list[str] = []
        for para in text.split("\n"):
            line = ""
            for word in para.split():
                trial = f"{line} {word}".strip()
                if self.draw.textlength(trial, font=font) <= max_w or not line:
                    line = trial
                else:
                    lines.append(line)
                    line = word
            lines.append(line)
        return lines

    def text(self, text: str, size: int, bold: bool = False, center: bool = True, gap: int = 6,
             indent: int = 0) -> None:
        font = self.font(size, bold)
        max_w = self.width - 2 * self.margin - indent
        for line in self._wrap(text, font, max_w):
            box = self.draw.textbbox((0, 0), line, font=font)
            w = box[2] - box[0]
            x = (self.width - w) // 2 - box[0] if center else self.margin + indent
            self.draw.text((x, self.y), line, font=font, fill=0)
            # line height from the font's metrics so accents above capitals are never clipped
            ascent, descent = font.getmetrics()
            self.y += ascent + descent + int(2 * self.scale)
        self.y += int(gap * self.scale)

    def rule(self, thick: int = 3) -> None:
        px = max(1, int(thick * self.scale))
        self.draw.rectangle((self.margin, self.y, self.width - self.margin, self.y + px), fill=0)
        self.y += px + int(10 * self.scale)

    def qr(self, data: str, size: int) -> None:
        code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
        code.add_data(data)
        code.make(fit=True)
        img = code.make_image(fill_color="black", back_color="white").get_image().convert("L")
        side = int(size * self.scale)
        # nearest-neighbour keeps modules crisp; whole-module scaling keeps them square
        modules = img.size[0]
        side = max(modules, (side // modules) * modules)
        img = img.resize((side, side), Image.NEAREST)
        self.img.paste(img, ((self.width - side) // 2, self.y))
        self.y += side + int(6 * self.scale)

    def finish(self) -> Image.Image:
        bottom = self.y + int(24 * self.scale)
        strip = self.img.crop((0, 0, self.width, bottom))
        # hard threshold, no dithering: thermal heads print clean black or nothing
        return strip.point(lambda v: 0 if v < 128 else 255).convert("1", dither=Image.Dither.NONE)


def render_ticket(slip: TicketSlip, width: int = 576) -> Image.Image:
    lang = slip.lang
    c = _Canvas(width)
    c.text(slip.site_name, 24, bold=True)
    c.rule()
    c.text(T("YOUR NUMBER", lang), 22)
    c.text(slip.number, 150, bold=True, gap=0)
    if slip.visit:
        # one number for the whole visit: where to go first is the first line
        c.text(T("Your procedures, in the order they will be served:", lang), 22, bold=True, center=False)
        for i, line in enumerate(slip.visit, 1):
            c.text(f"{i}. {line}", 24, bold=(i == 1), center=False, gap=2, indent=int(8 * c.scale))
        c.y += int(6 * c.scale)
    else:
        c.text(slip.sector_name, 30, bold=True)
        if slip.procedure_name:
            c.text(slip.procedure_name, 24)
    if slip.booked_at:
        c.text(T("Booked {time}", lang, time=slip.booked_at), 26, bold=True)
    if slip.priority != "normal":
        c.text(T("Priority: {group}", lang, group=T(PRIORITY_LABELS.get(slip.priority, slip.priority), lang)),
               24, bold=True)
    c.rule(2)
    ahead = (T("You are next", lang) if slip.ahead <= 0
             else T("People ahead of you: {n}", lang, n=slip.ahead))
    c.text(ahead, 26, bold=True, center=False)
    c.text(T("Estimated wait: {wait}", lang, wait=minutes_text(slip.est_wait_s, lang)), 24, center=False)
    if slip.visit_end_s is not None:
        c.text(T("Estimated end of your visit: {wait}", lang, wait=minutes_text(slip.visit_end_s, lang)), 24,
               bold=True, center=False)
    c.text(T("Issued at: {when}", lang, when=slip.issued_at), 22, center=False)
    if slip.track_url:
        c.rule(2)
        c.qr(slip.track_url, 230)
        c.text(T("Scan to follow your turn on your phone", lang), 20)
    c.rule(2)
    c.text(T("Please watch the screen and listen for your number.", lang), 20)
    return c.finish()


def render_guidance(slip: GuidanceSlip, width: int = 576) -> Image.Image:
    lang = slip.lang
    c = _Canvas(width)
    c.text(slip.site_name, 24, bold=True)
    c.rule()
    c.text(T("FILE ONLINE", lang), 34, bold=True)
    c.text(slip.procedure_name, 26)
    c.qr(slip.portal_url, 260)
    c.text(slip.portal_url, 20)
    c.rule(2)
    for i, step in enumerate(slip.steps, 1):
        c.text(f"{i}. {step}", 22, center=False, gap=4)
    c.rule(2)
    c.text(T("Need help? Ask the staff at the reception desk.", lang), 20)
    return c.finish()


# -- printers ------------------------------------------------------------------

def open_printer(settings) -> escpos_printer.Escpos:
    """An escpos printer object for `PrinterSettings` (not yet connected: escpos opens lazily)."""
    kind, profile = settings.kind, settings.profile
    if kind == "dummy":
        return escpos_printer.Dummy(profile=profile)
    if kind == "file":
        return escpos_printer.File(devfile=settings.path, profile=profile)
    if kind == "network":
        return escpos_printer.Network(host=settings.host or "127.0.0.1", port=settings.port, timeout=5,
                                      profile=profile)
    if kind in ("usb", "serial"):
        cls = escpos_printer.Usb if kind == "usb" else escpos_printer.Serial
        if not cls.is_usable():
            # checked before building: escpos's own check fires again in __del__ and cannot be caught
            extra = "pyusb" if kind == "usb" else "pyserial"
            raise RuntimeError(f"{kind} printing needs {extra} (pip install python-escpos[{kind}])")
    if kind == "serial":
        return escpos_printer.Serial(devfile=settings.serial_port, baudrate=settings.baudrate, timeout=2,
                                     profile=profile)
    if kind == "usb":
        return escpos_printer.Usb(settings.usb_vendor, settings.usb_product, timeout=5000, profile=profile)
    raise ValueError(f"unknown printer kind {kind!r}")


def print_width(p: escpos_printer.Escpos, configured: int) -> int:
    """The configured width, capped by the profile's (escpos refuses wider images)."""
    try:
        return min(configured, int(p.profile.profile_data["media"]["width"]["pixels"]))
    except (KeyError, TypeError, ValueError):
        return configured


@dataclass
class PrintOutcome:
    status: str                    # ok | paper_out | cover_open | offline
    detail: str = ""
    paper_low: bool = False


class TicketPrinter:
    """Owns one printer connection; every call is serialised and never raises."""

    # kinds whose link can answer a status query
    QUERYABLE = ("usb", "serial", "network")

    def __init__(self, settings, factory: Callable = open_printer):
        self.settings = settings
        self.factory = factory
        self._p: escpos_printer.Escpos | None = None
        self._lock = threading.Lock()
        self.last: PrintOutcome = PrintOutcome(OK)

    def _printer(self) -> escpos_printer.Escpos:
        if self._p is None:
            self._p = self.factory(self.settings)
        return self._p

    @property
    def width(self) -> int:
        try:
            return print_width(self._printer(), self.settings.width_px)
        except Exception:  # a printer we cannot even build still gets a slip width
            return self.settings.width_px

    def _drop(self) -> None:
        # after any failure reopen next time: a replugged USB printer gets a new handle
        if self._p is not None:
            try:
                self._p.close()
            except Exception:
                pass
        self._p = None

    def _query(self, p) -> PrintOutcome:
        if self.settings.kind not in self.QUERYABLE and not getattr(p, "answers_status", False):
            return PrintOutcome(OK)
        try:
            if not p.is_online():
                cause = p.query_status(RT_STATUS_OFFLINE_CAUSE)
                if cause and cause[0] & COVER_OPEN_BIT:
                    return PrintOutcome(COVER_OPEN, "cover open")
                if cause and cause[0] & PAPER_STOP_BIT:
                    return PrintOutcome(PAPER_OUT, "stopped: paper end")
                return PrintOutcome(OFFLINE, "printer reports offline")
            paper = p.paper_status()
            if paper == 0:
                return PrintOutcome(PAPER_OUT, "no paper")
            return PrintOutcome(OK, paper_low=(paper == 1))
        except (socket.timeout, TimeoutError, NotImplementedError):
            # many printers never answer DLE EOT over the network: print anyway
            return PrintOutcome(OK, "status not reported")

    def print_image(self, img: Image.Image) -> PrintOutcome:
        with self._lock:
            try:
                p = self._printer()
                state = self._query(p)
                if state.status != OK:
                    self.last = state
                    return state
                p.image(img, impl="bitImageRaster")
                p.cut()
                self.last = state
                return state
            except (DeviceNotFoundError, RuntimeError, OSError, EscposError, AssertionError, ValueError) as exc:
                # RuntimeError: the USB/serial extra is not installed; AssertionError: escpos
                # asserts an open device; OSError: unplugged, refused, broken pipe
                log.warning("printer failed: %s: %s", exc.__class__.__name__, exc)
                self._drop()
                self.last = PrintOutcome(OFFLINE, f"{exc.__class__.__name__}: {exc}"[:200])
                return self.last

    def check(self) -> PrintOutcome:
        """Status without printing: lets a refilled or replugged printer clear its fault by itself."""
        with self._lock:
            try:
                p = self._printer()
                if self.settings.kind in ("file", *self.QUERYABLE):
                    _ = p.device          # escpos opens lazily: this raises if the device is gone
                state = self._query(p)
            except (DeviceNotFoundError, RuntimeError, OSError, EscposError, AssertionError, ValueError,
                    AttributeError) as exc:
                self._drop()
                state = PrintOutcome(OFFLINE, f"{exc.__class__.__name__}: {exc}"[:200])
            self.last = state
            return state

    def print_ticket(self, slip: TicketSlip) -> PrintOutcome:
        return self.print_image(render_ticket(slip, self.width))

    def print_guidance(self, slip: GuidanceSlip) -> PrintOutcome:
        return self.print_image(render_guidance(slip, self.width))
