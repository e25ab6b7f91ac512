"""A USB barcode scanner, which types what it reads like a keyboard, turned into whole scans.

Three parts, one rule:

- `ScanAssembler` (pure: keys and their times in, scans out) decides what is a scan. A scanner
  types a whole code in one burst, every key within BURST_GAP_S of the one before (a few ms on
  a real one); a person types a key every 100 ms or more. So keys that come in a burst of at least
  MIN_SCAN_KEYS keys are a scan, ended by Enter (a scanner's usual suffix) or by END_GAP_S with
  no key (a scanner set up without a suffix; an established scan also tolerates a pause up to
  END_GAP_S, such as a busy frame of the kiosk's screen). Anything else was a person typing and
  comes out key by key as `Typed`, at most BURST_GAP_S late.
- `EvdevReader` reads a scanner's input device on the Pi (`/dev/input/by-id/...-event-kbd`) and
  grabs it, so its keystrokes reach no other program (not the kiosk's window, not a console).
  It reads the kernel's `struct input_event` itself: python-evdev has no wheel for a Pi (aarch64)
  on PyPI, and the locks install only wheels (README, "Quick start"), so it cannot be a
  dependency; what is needed here is one struct and one ioctl.
- `KivyScanner` feeds the same assembler from a Kivy window's keyboard events (a desk, a test,
  a kiosk whose scanner is not grabbed).

A scanner in keyboard mode types the US layout: it cannot type the Vietnamese letters of the name
and address in a CCCD's QR. motcua reads only the number and dates from it (protocol/cccd.py), so
a letter typed as a stand-in (U+FFFD here for an Alt+keypad code) does no harm. A scan is personal
data (a card's QR holds a name): `Scan`'s repr shows its length only, and nothing here logs it.
"""
from __future__ import annotations

import errno
import fcntl
import logging
import os
import select
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

BURST_GAP_S = 0.030      # keys closer than this come from a scanner
END_GAP_S = 0.100        # a scan with no Enter ends after this long without a key
MIN_SCAN_KEYS = 4        # a shorter burst is a person's two quick keys, not a scan
MAX_SCAN_CHARS = 2000    # longer than any code motcua reads; the rest of a longer burst is dropped
ENTER = "enter"
TERMINATORS = frozenset({ENTER})
REPLACEMENT = "\ufffd"   # what stands for a character typed as an Alt+keypad code


@dataclass(frozen=True)
class Scan:
    """One whole scan. `ended_by` is "enter" or "gap"; `cut` when it was longer than MAX_SCAN_CHARS."""

    text: str = field(repr=False)
    ended_by: str
    cut: bool = False

    def __repr__(self) -> str:   # a scan may be a citizen's ID card: its length only
        return f"Scan({len(self.text)} chars, ended by {self.ended_by}{', cut' if self.cut else ''})"


@dataclass(frozen=True)
class Typed:
    """A key a person typed: a character, or a key name such as "enter"."""

    key: str


class ScanAssembler:
    """Keys (a character, or a key name: "enter") with the time they came, in seconds on any
    monotonic clock -> `Scan`s and `Typed` keys. Call `tick(now)` when `deadline()` has passed
    (nothing else comes when the keys stop)."""

    def __init__(self, burst_gap_s: float = BURST_GAP_S, end_gap_s: float = END_GAP_S,
                 min_keys: int = MIN_SCAN_KEYS, terminators: frozenset[str] = TERMINATORS):
        self.burst_gap_s = burst_gap_s
        self.end_gap_s = end_gap_s
        self.min_keys = min_keys
        self.terminators = terminators
        self._keys: list[str] = []     # the current burst, not yet known to be a scan
        self._last: float | None = None

    @property
    def scanning(self) -> bool:
        """Whether the keys so far are already a scan (at least min_keys in a burst)."""
        return len(self._keys) >= self.min_keys

    def deadline(self) -> float | None:
        """When `tick` must be called if no key comes first (None: nothing is held)."""
        if self._last is None:
            return None
        return self._last + (self.end_gap_s if self.scanning else self.burst_gap_s)

    def key(self, key: str, now: float) -> list[Scan | Typed]:
        out = self.tick(now)       # a gap before this key ends what came before it
        if key in self.terminators:
            if self.scanning:
                out.append(self._scan(ENTER))
            else:
                out += self._release() + [Typed(key)]
            return out
        self._keys.append(key)
        self._last = now
        return out

    def reset(self) -> None:
        """Drop the keys held (a scan cut off when its device went away is no scan)."""
        self._keys, self._last = [], None

    def tick(self, now: float) -> list[Scan | Typed]:
        """End what the quiet time since the last key has ended."""
        deadline = self.deadline()
        if deadline is None or now < deadline:
            return []
        return [self._scan("gap")] if self.scanning else self._release()

    def _scan(self, ended_by: str) -> Scan:
        chars = [k for k in self._keys if len(k) == 1]   # key names inside a scan (tab, arrows) are not text
        text = "".join(chars)
        self.reset()
        return Scan(text[:MAX_SCAN_CHARS], ended_by, cut=len(text) > MAX_SCAN_CHARS)

    def _release(self) -> list[Scan | Typed]:
        out: list[Scan | Typed] = [Typed(k) for k in self._keys]
        self.reset()
        return out


# --- the Linux input device (evdev) ------------------------------------------------------------

# struct input_event on 64-bit Linux: struct timeval (two longs), __u16 type, __u16 code, __s32 value
INPUT_EVENT = struct.Struct("llHHi")
EV_KEY = 0x01
KEY_UP, KEY_DOWN, KEY_REPEAT = 0, 1, 2
EVIOCGRAB = 0x40044590   # _IOW('E', 0x90, int) in linux/input.h: 1 grabs, 0 releases

# linux/input-event-codes.h -> (unshifted, shifted) on the US layout a scanner types in
_ROWS = {2: "1234567890-=", 16: "qwertyuiop[]", 30: "asdfghjkl;'`", 44: "zxcvbnm,./"}
_SHIFTED = {2: "!@#$%^&*()_+", 16: "QWERTYUIOP{}", 30: 'ASDFGHJKL:"~', 44: "ZXCVBNM<>?"}
KEYMAP: dict[int, tuple[str, str]] = {
    start + i: (plain, _SHIFTED[start][i]) for start, row in _ROWS.items() for i, plain in enumerate(row)}
KEYMAP |= {43: ("\\", "|"), 57: (" ", " "), 86: ("\\", "|"),        # 86: the ISO key beside left shift
           55: ("*", "*"), 74: ("-", "-"), 78: ("+", "+"), 83: (".", "."), 98: ("/", "/")}   # keypad
KEYMAP |= {code: (d, d) for code, d in zip((82, 79, 80, 81, 75, 76, 77, 71, 72, 73), "0123456789")}
KEY_NAMES = {28: ENTER, 96: ENTER, 15: "tab", 14: "backspace", 1: "escape"}   # 96: the keypad's Enter
MODIFIERS = {42: "shift", 54: "shift", 56: "alt", 100: "alt", 29: "ctrl", 97: "ctrl"}
CAPSLOCK = 58


class KeyTranslator:
    """Kernel key events (type, code, value) -> characters and key names, as a US keyboard types
    them; keeps the modifiers' state between events."""

    def __init__(self) -> None:
        self.held: dict[str, set[int]] = {"shift": set(), "alt": set(), "ctrl": set()}
        self.caps = False
        self._alt_typed = False

    def event(self, type_: int, code: int, value: int) -> str | None:
        if type_ != EV_KEY:
            return None          # EV_SYN, EV_MSC (scan codes), EV_LED
        if code in MODIFIERS:
            held = self.held[MODIFIERS[code]]
            if value != KEY_UP:
                held.add(code)
                return None
            held.discard(code)
            if MODIFIERS[code] == "alt" and not held and self._alt_typed:
                self._alt_typed = False
                return REPLACEMENT
            return None
        if value == KEY_UP:
            return None
        if code == CAPSLOCK:
            self.caps = not self.caps
            return None
        if self.held["alt"]:     # an Alt+keypad code: one stand-in character when Alt is let go
            self._alt_typed = self._alt_typed or code in KEYMAP
            return None
        if self.held["ctrl"]:
            return None
        if code in KEY_NAMES:
            return KEY_NAMES[code]
        if code not in KEYMAP:
            return None
        plain, shifted = KEYMAP[code]
        upper = bool(self.held["shift"]) != (self.caps and plain.isalpha())
        return shifted if upper else plain


class ScannerError(OSError):
    """The scanner's device cannot be used (not an input device, held by another program)."""


class _Hands:
    """What a reader does with the assembler's output: scans to `on_scan`, a person's keys to
    `on_typed` (when set). Shared by the evdev reader and the Kivy adapter."""

    on_scan: Callable[[Scan], None]
    on_typed: Callable[[Typed], None] | None

    def _deliver(self, items: list[Scan | Typed]) -> None:
        for item in items:
            if isinstance(item, Scan):
                self.on_scan(item)
            elif self.on_typed is not None:
                self.on_typed(item)


class EvdevReader(_Hands):
    """Reads one scanner's input device and calls `on_scan(Scan)` (and `on_typed(Typed)` for keys
    a person typed on it, if given) from its own thread (`start`), until `stop()`; a Kivy app
    hands them on to its main thread (Clock.schedule_once).

    The device is grabbed (EVIOCGRAB) unless `grab=False`. When it vanishes (unplugged: the read
    fails with ENODEV, or ends), a half-read scan is dropped, `on_status("gone")` is called, and
    the reader opens the path again every `reopen_s` until it is back (`on_status("connected")`).
    `clock` gives the keys' times (time.monotonic)."""

    def __init__(self, path: str, on_scan: Callable[[Scan], None], *, grab: bool = True,
                 on_typed: Callable[[Typed], None] | None = None,
                 on_status: Callable[[str], None] | None = None, reopen_s: float = 2.0,
                 clock: Callable[[], float] = time.monotonic, assembler: ScanAssembler | None = None):
        self.path = path
        self.on_scan = on_scan
        self.on_typed = on_typed
        self.on_status = on_status or (lambda status: None)
        self.grab = grab
        self.reopen_s = reopen_s
        self.clock = clock
        self.assembler = assembler or ScanAssembler()
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None
        self.status = "starting"

    def start(self) -> EvdevReader:
        self._thread = threading.Thread(target=self.run, name="scanner", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        os.write(self._wake_w, b"x")
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                fd = self.open()
            except FileNotFoundError:
                self._status("gone", "is not plugged in; waiting for it")
                self._stop.wait(self.reopen_s)
                continue
            except ScannerError as err:
                self._status("error", str(err))
                self._stop.wait(self.reopen_s)
                continue
            self._status("connected", "connected")
            try:
                self._read(fd)
            finally:
                os.close(fd)          # closing also releases the grab
            if not self._stop.is_set():
                self._status("gone", "is gone; waiting for it to come back")

    def _status(self, status: str, words: str) -> None:
        """Tell (and log) a change of status once, not at every retry."""
        if status != self.status:
            self.status = status
            (log.info if status == "connected" else log.warning)("barcode scanner %s %s", self.path, words)
            self.on_status(status)

    def open(self) -> int:
        """The device opened (non-blocking) and grabbed; ScannerError if it cannot be read, is
        no input device or another program holds it; FileNotFoundError while it is not plugged in."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        except PermissionError:
            raise ScannerError(errno.EACCES, "no permission to read the scanner's device: the kiosk's "
                                             "user must be in the 'input' group") from None
        except FileNotFoundError:
            raise
        except OSError as err:
            raise ScannerError(err.errno, f"cannot open the scanner's device ({errno.errorcode.get(err.errno)})") \
                from None
        if self.grab:
            try:
                fcntl.ioctl(fd, EVIOCGRAB, 1)
            except OSError as err:
                os.close(fd)
                if err.errno == errno.EBUSY:
                    raise ScannerError(err.errno, "another program has grabbed the scanner") from None
                raise ScannerError(err.errno, "not an input device (EVIOCGRAB refused)") from None
        return fd

    def _read(self, fd: int) -> None:
        translator = KeyTranslator()
        pending = b""
        while not self._stop.is_set():
            deadline = self.assembler.deadline()
            timeout = None if deadline is None else max(0.0, deadline - self.clock())
            ready, _, _ = select.select([fd, self._wake_r], [], [], timeout)
            if not ready:
                self._deliver(self.assembler.tick(self.clock()))
                continue
            if fd not in ready:
                return        # woken by stop()
            try:
                data = os.read(fd, INPUT_EVENT.size * 64)
            except BlockingIOError:
                continue
            except OSError as err:     # ENODEV when unplugged; whatever it is, the device is lost
                log.debug("barcode scanner %s: read failed (%s)", self.path, errno.errorcode.get(err.errno))
                self.assembler.reset()
                return
            if not data:      # end of file: the device went away
                self.assembler.reset()
                return
            pending += data
            whole = len(pending) - len(pending) % INPUT_EVENT.size
            now = self.clock()
            for _sec, _usec, type_, code, value in INPUT_EVENT.iter_unpack(pending[:whole]):
                key = translator.event(type_, code, value)
                if key is not None:
                    self._deliver(self.assembler.key(key, now))
            pending = pending[whole:]


# --- Kivy ------------------------------------------------------------------------------------

class KivyScanner(_Hands):
    """Feeds a ScanAssembler from a Kivy Window: characters from `on_textinput`, Enter from
    `on_key_down`. Keys it takes do not reach the window's other handlers (it returns True);
    keys that turn out to be a person's typing go to `on_typed`. `clock` gives the keys' times
    (Kivy's own clock by default); `attach()` binds, `detach()` unbinds."""

    def __init__(self, on_scan: Callable[[Scan], None], on_typed: Callable[[Typed], None] | None = None,
                 *, window=None, clock: Callable[[], float] | None = None,
                 assembler: ScanAssembler | None = None):
        from kivy.clock import Clock
        from kivy.core.window import Keyboard
        self._clock_api = Clock
        self._names = {code: name for name, code in Keyboard.keycodes.items()}
        self.window = window
        self.on_scan = on_scan
        self.on_typed = on_typed
        self.clock = clock or Clock.get_boottime
        self.assembler = assembler or ScanAssembler()
        self._tick_event = None

    def attach(self) -> KivyScanner:
        if self.window is None:
            from kivy.core.window import Window
            self.window = Window
        self.window.bind(on_key_down=self._key_down, on_textinput=self._text)
        return self

    def detach(self) -> None:
        self.window.unbind(on_key_down=self._key_down, on_textinput=self._text)
        if self._tick_event is not None:
            self._tick_event.cancel()

    def _key_down(self, _window, keycode, _scancode, _codepoint, modifiers) -> bool:
        name = self._names.get(keycode)
        if name in ("enter", "numpadenter"):
            self._feed(ENTER)
            return True
        return False      # characters come through on_textinput; other keys are not the scanner's

    def _text(self, _window, text: str) -> bool:
        for char in text:
            self._feed(char)
        return True

    def _feed(self, key: str) -> None:
        self._deliver(self.assembler.key(key, self.clock()))
        self._schedule()

    def tick(self, *_dt) -> None:
        """End a scan or release a person's keys once the quiet time has passed (Kivy's clock
        calls this; a test may too)."""
        self._tick_event = None
        self._deliver(self.assembler.tick(self.clock()))
        self._schedule()

    def _schedule(self) -> None:
        deadline = self.assembler.deadline()
        if self._tick_event is not None:
            self._tick_event.cancel()
            self._tick_event = None
        if deadline is not None:
            self._tick_event = self._clock_api.schedule_once(self.tick, max(0.0, deadline - self.clock()))
