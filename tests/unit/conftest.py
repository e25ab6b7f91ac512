"""Keeps tests/unit unit tests: a test here that asks for a real part (the broker, a browser) or
starts one as a process fails at once, pointing to tests/integration or tests/ui.

Short tool runs stay allowed (git, a shell syntax check, systemd-analyze, a generated shell
script): they read files and exit; what is refused is what starts the system's own parts.
"""
from __future__ import annotations

import os
import subprocess

import pytest

from tests.support.real_parts import MOVE_IT, REAL_PART_FIXTURES, program, real_part


@pytest.fixture(autouse=True)
def _no_real_parts(request, monkeypatch):
    used = REAL_PART_FIXTURES.intersection(request.fixturenames)
    if used:
        pytest.fail(f"{MOVE_IT} (it uses the fixture {', '.join(sorted(used))})", pytrace=False)
    popen_init = subprocess.Popen.__init__

    def guarded(self, args, *a, **kw):
        if not isinstance(args, (str, bytes, os.PathLike)):
            args = list(args)       # an iterator is read once: here, then by Popen
        if real_part(args):
            raise AssertionError(f"{MOVE_IT} (it starts {os.path.basename(program(args))!r})")
        popen_init(self, args, *a, **kw)

    monkeypatch.setattr(subprocess.Popen, "__init__", guarded)
