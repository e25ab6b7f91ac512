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


def page_errors(page) -> list[str]:
    """The list that collects every console error and page error `page` meets from now on."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def shows(page, selector: str, text: str) -> None:
    """Wait until the element `selector` contains `text`."""
    page.wait_for_function("([s, t]) => { const e = document.querySelector(s); return e && e.textContent.indexOf(t) >= 0; }",
                           arg=[selector, text])


def logged_in_page(browser, site, user: tuple[str, str], *, viewport: tuple[int, int] = (1366, 900),
                   **context_args):
    """A new page of a new browser context, logged in at the site's /login as `user` (name,
    password), and the list that collects every console error and page error it meets."""
    ctx = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, **context_args)
    page = ctx.new_page()
    page.set_default_timeout(10_000)
    errors = page_errors(page)
    page.goto(site.http_url + "/login")
    page.fill("#username", user[0])
    page.fill("#password", user[1])
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page, errors
