"""The command loop's guards: a token bucket per device, a CPU budget for optional work, and
the pool of random bytes the ticket tokens are cut from."""
from __future__ import annotations

import base64
import secrets
import threading
import time


class TokenPool:
    """`secrets.token_urlsafe(16)`, drawing the random bytes 64 tokens at a time. os.urandom lets
    go of the interpreter lock, and under load paho's network thread then holds the command loop
    up for the rest of its turn: one release per ticket showed as 6 % of the loop's time (py-spy)."""

    _N = 64

    def __init__(self) -> None:
        self._bytes = b""
        self._at = 0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            if self._at >= len(self._bytes):
                self._bytes, self._at = secrets.token_bytes(16 * self._N), 0
            raw = self._bytes[self._at:self._at + 16]
            self._at += 16
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class RateLimiter:
    """A token bucket per device: a stuck button or a broken client cannot flood the site."""

    def __init__(self, rate: float, burst: float):
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str, now: float) -> bool:
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1.0, now)
        return True


class CpuBudget:
    """A share of the command loop's time for one optional piece of work (the forecast of the
    printed wait: about 1 ms a ticket, up to ~15 ms on a busy 60-counter site). A site issuing a
    ticket every few seconds always has it; a loop flooded with tickets spends at most `share`
    of its time on it and prints the cheaper stream estimate for the rest. (The loop also skips
    the forecast whenever another command is waiting: see QueueService.process.)"""

    def __init__(self, share: float = 0.02, burst_s: float = 0.05):
        self.share, self.burst_s = share, burst_s
        self._left, self._at = burst_s, time.monotonic()

    def left(self) -> float:
        """Seconds of work the budget allows now."""
        now = time.monotonic()
        self._left = min(self.burst_s, self._left + (now - self._at) * self.share)
        self._at = now
        return max(self._left, 0.0)

    def spend(self, seconds: float) -> None:
        self._left -= seconds
