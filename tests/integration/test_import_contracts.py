"""The architecture contracts of pyproject.toml ([tool.importlinter]) hold: the domain imports no
adapter or I/O library, no device package imports another or the server, and only motcua.cli
imports the entry points (docs/architecture.md, "The map"). `lint-imports` reads the source; a
broken contract prints the import chain that breaks it."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_import_contract_is_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout
