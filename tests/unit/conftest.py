"""Keeps tests/unit unit tests: a test here that asks for a real part (the broker, a browser) or
starts one as a process fails at once, pointing to tests/integration or tests/ui.

Short tool runs stay allowed (git, a shell syntax check, systemd-analyze, a generated shell
script): they read files and exit; what is refused is what starts the system's own parts.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

# Fixtures that start a real part (tests/conftest.py, tests/ui/conftest.py).
REAL_PART_FIXTURES = frozenset({"mosquitto", "browser"})

# Programs that are the system's parts, or run them (a Python interpreter runs `motcua` and the
# benchmarks): a unit test never starts them. Their tools (mosquitto_passwd) are fine.
REAL_PART_PROGRAMS = frozenset({"mosquitto", "xvfb-run", "xvfb", "chromium", "chromium-browser", "chrome",
                                "motcua", "postgres", "pg_ctl", "pg_ctlcluster"})

_MOVE = "tests/unit is for tests without real parts: move this test to tests/integration or tests/ui"


def _program(args) -> str:
    """The program `args` (as given to subprocess.Popen) runs: a path or the first word of a command line."""
    if isinstance(args, (str, bytes, os.PathLike)):
        words = os.fsdecode(args).split()
        first = words[0] if words else ""
    else:
        first = os.fsdecode(args[0]) if args else ""
    return first


def real_part(args) -> bool:
    """True when `args` starts one of the system's parts (the test interpreter counts as one)."""
    program = _program(args)
    name = os.path.basename(program).lower()
    return program == sys.executable or name in REAL_PART_PROGRAMS or name.startswith("python")


@pytest.fixture(autouse=True)
def _no_real_parts(request, monkeypatch):
    used = REAL_PART_FIXTURES.intersection(request.fixturenames)
    if used:
        pytest.fail(f"{_MOVE} (it uses the fixture {', '.join(sorted(used))})", pytrace=False)
    popen_init = subprocess.Popen.__init__

    def guarded(self, args, *a, **kw):
        if not isinstance(args, (str, bytes, os.PathLike)):
            args = list(args)       # an iterator is read once: here, then by Popen
        if real_part(args):
            raise AssertionError(f"{_MOVE} (it starts {os.path.basename(_program(args))!r})")
        popen_init(self, args, *a, **kw)

    monkeypatch.setattr(subprocess.Popen, "__init__", guarded)
