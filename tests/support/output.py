"""A child process's output read as it comes, so a test can wait for the line that says
something happened (a process ready, a display that has its board) instead of sleeping."""
from __future__ import annotations

import subprocess
import threading

from tests.support.wait import wait_for


class Output:
    """Reads `proc.stdout` (text or bytes) on a thread until it closes."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.lines: list[str] = []
        self.closed = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.decode(errors="replace") if isinstance(line, bytes) else line)
        self.closed.set()

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for_line(self, needle: str, timeout: float = 60.0) -> str:
        """The first line containing `needle`; fails the test, with the output so far, if the
        process ends or the time is up first."""
        def seen():
            return any(needle in line for line in self.lines) or self.closed.is_set()
        wait_for(seen, timeout, what=f"a line with {needle!r}")
        for line in self.lines:
            if needle in line:
                return line
        raise AssertionError(f"the process ended without printing {needle!r}:\n{self.text[-3000:]}")

    def wait_closed(self, timeout: float = 60.0) -> str:
        """Everything it printed, once the process has closed its output."""
        if not self.closed.wait(timeout):
            raise AssertionError(f"the process still runs after {timeout} s:\n{self.text[-3000:]}")
        return self.text
