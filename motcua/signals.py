"""How every long-running `motcua` command learns it should stop."""
from __future__ import annotations

import signal
import threading


def stop_on_signals() -> threading.Event:
    """An Event set by SIGTERM (systemd stopping the unit) or SIGINT (Ctrl-C), so the command can
    close its connections and flush its log instead of dying mid-write. Main thread only."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    return stop
