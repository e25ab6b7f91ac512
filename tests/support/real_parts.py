"""What counts as starting a real part of the system (tests/unit/conftest.py refuses it in unit
tests): the fixtures that start one and the programs that are one."""
from __future__ import annotations

import os
import sys

# Fixtures that start a real part (tests/conftest.py, tests/ui/conftest.py).
REAL_PART_FIXTURES = frozenset({"mosquitto", "browser"})

# Programs that are the system's parts, or run them (a Python interpreter runs `motcua` and the
# benchmarks): a unit test never starts them. Their tools (mosquitto_passwd) are fine.
REAL_PART_PROGRAMS = frozenset({"mosquitto", "xvfb-run", "xvfb", "chromium", "chromium-browser", "chrome",
                                "motcua", "postgres", "pg_ctl", "pg_ctlcluster"})

MOVE_IT = "tests/unit is for tests without real parts: move this test to tests/integration or tests/ui"


def program(args) -> str:
    """The program `args` (as given to subprocess.Popen) runs: a path or the first word of a command line."""
    if isinstance(args, (str, bytes, os.PathLike)):
        words = os.fsdecode(args).split()
        first = words[0] if words else ""
    else:
        first = os.fsdecode(args[0]) if args else ""
    return first


def real_part(args) -> bool:
    """True when `args` starts one of the system's parts (the test interpreter counts as one)."""
    path = program(args)
    name = os.path.basename(path).lower()
    return path == sys.executable or name in REAL_PART_PROGRAMS or name.startswith("python")
