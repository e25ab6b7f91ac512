"""Polling for something another thread or process will make true (a message arrived, a state
changed): the one helper the integration tests share."""
from __future__ import annotations

import time
from typing import Callable


def until(pred: Callable[[], object], timeout: float = 5.0, interval: float = 0.02) -> bool:
    """True as soon as `pred()` is; after `timeout` seconds, its last answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return bool(pred())


def wait_for(pred: Callable[[], object], timeout: float = 8.0, what: str = "condition") -> None:
    """`until`, failing the test with `what` when the time is up."""
    if not until(pred, timeout):
        raise AssertionError(f"timed out waiting for {what}")
