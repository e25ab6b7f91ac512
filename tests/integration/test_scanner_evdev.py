"""motcua/scanner.py's EvdevReader on real file descriptors: the kernel's `struct input_event`
records written into a FIFO stand in for the scanner's /dev/input device.

/dev/uinput is not usable here (no /dev/input either), so no virtual keyboard can be made: the
read loop, the struct, the modifiers, the device going away and coming back and stop() run for
real; the EVIOCGRAB ioctl is checked to refuse cleanly what is not an input device."""
from __future__ import annotations

import os
import queue

import pytest

from motcua import scanner
from tests.support.scanner_records import records

CARD_QR = "001085012345||Nguyen Van A|01011985|Nam|Ha Noi|10102021"
class FakeClock:
    """The keys' times: every read 2 ms after the one before (a scanner's pace)."""

    def __init__(self):
        self.t = 100.0

    def __call__(self):
        self.t += 0.002
        return self.t


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "event-kbd"
    os.mkfifo(path)
    return path


def test_scans_are_read_and_a_vanished_device_is_reopened(fifo):
    scans, statuses = queue.Queue(), queue.Queue()
    # a writer that is already there, as the device is when it is plugged in (O_RDWR: no blocking)
    device = os.open(fifo, os.O_RDWR)
    reader = scanner.EvdevReader(str(fifo), scans.put, grab=False, on_status=statuses.put, reopen_s=0.05,
                                 clock=FakeClock()).start()
    try:
        assert statuses.get(timeout=10) == "connected"
        data = records(CARD_QR) + records("K7Q4MZ2X")
        # split mid-record: the reader keeps the partial record for the next read
        os.write(device, data[:37])
        os.write(device, data[37:])
        assert scans.get(timeout=10) == scanner.Scan(CARD_QR, "enter")
        assert scans.get(timeout=10) == scanner.Scan("K7Q4MZ2X", "enter")
        # half a scan, then the device goes away: the half is dropped
        os.write(device, records("0010850", enter=False))
        os.close(device)
        device = None
        assert statuses.get(timeout=10) == "gone"
        # it comes back (the reader opens the path again) and works as before
        device = os.open(fifo, os.O_RDWR)
        assert statuses.get(timeout=10) == "connected"
        os.write(device, records("B00KING1"))
        assert scans.get(timeout=10) == scanner.Scan("B00KING1", "enter")
    finally:
        reader.stop()
        if device is not None:
            os.close(device)
    assert scans.empty()
    assert not reader._thread.is_alive()


def test_a_scan_without_enter_ends_by_the_quiet_time(fifo):
    scans = queue.Queue()
    device = os.open(fifo, os.O_RDWR)
    # a real clock here: the reader must end the scan itself when the keys stop
    reader = scanner.EvdevReader(str(fifo), scans.put, grab=False).start()
    try:
        os.write(device, records("K7Q4MZ2X", enter=False))
        assert scans.get(timeout=10) == scanner.Scan("K7Q4MZ2X", "gap")
    finally:
        reader.stop()
        os.close(device)


def test_what_is_no_input_device_is_refused_clearly(fifo, tmp_path):
    device = os.open(fifo, os.O_RDWR)
    try:
        with pytest.raises(scanner.ScannerError, match="not an input device"):
            scanner.EvdevReader(str(fifo), print).open()
    finally:
        os.close(device)
    with pytest.raises(FileNotFoundError):
        scanner.EvdevReader(str(tmp_path / "unplugged"), print).open()


def test_a_missing_device_is_waited_for(tmp_path):
    statuses = queue.Queue()
    path = tmp_path / "event-kbd"
    reader = scanner.EvdevReader(str(path), print, grab=False, on_status=statuses.put, reopen_s=0.02).start()
    try:
        assert statuses.get(timeout=10) == "gone"
        os.mkfifo(path)
        device = os.open(path, os.O_RDWR)
        assert statuses.get(timeout=10) == "connected"
    finally:
        reader.stop()
    os.close(device)


def test_a_device_it_may_not_read_is_a_clear_error(fifo, monkeypatch):
    """The kiosk's user outside the 'input' group (the tests run as root, who reads everything:
    the refusal is the kernel's EACCES, raised here as os.open raises it)."""
    def refused(path, flags):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(scanner.os, "open", refused)
    with pytest.raises(scanner.ScannerError, match="'input' group"):
        scanner.EvdevReader(str(fifo), print).open()
