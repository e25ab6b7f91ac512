"""Headless Chromium for the page tests (Playwright driving the distribution's browser)."""
from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE = Path(__file__).resolve().parents[2] / ".cache" / "node" / "node_modules" / "axe-core" / "axe.min.js"


def axe_check(page) -> list[dict]:
    """Serious and critical axe-core violations of the current page."""
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run ./setup.sh (it installs the pinned axe-core from requirements/npm)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]
