"""Headless Chromium for the page tests (Playwright driving the distribution's browser)."""
from __future__ import annotations

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
