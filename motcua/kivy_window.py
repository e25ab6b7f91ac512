"""Kivy window settings of the screen apps (kiosk, wall display, counter status screen).

Kivy reads them when `kivy.core.window` is first imported: call this before anything imports it.
"""
from __future__ import annotations

import os


def configure_window(width: int, height: int, fullscreen: bool, rotation: int) -> None:
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    from kivy.config import Config
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("graphics", "rotation", str(rotation))
    # A device in its case: no cursor, and Escape must not close the app; at a desk, both are handy.
    Config.set("graphics", "show_cursor", "0" if fullscreen else "1")
    Config.set("kivy", "exit_on_escape", "0" if fullscreen else "1")
    Config.set("input", "mouse", "mouse,disable_multitouch")


def configure_screen(screen, windowed: bool = False) -> None:
    """`configure_window` from a device config's `screen:` (firmware_config ScreenSettings);
    `windowed` ignores its `fullscreen` (a desk, a test, a bench)."""
    configure_window(screen.width, screen.height, screen.fullscreen and not windowed, screen.app_rotation)
