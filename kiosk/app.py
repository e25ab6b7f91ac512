"""The Kivy application: a ScreenManager whose current screen follows the view-model.

Kivy is imported here and in kiosk/screens only; everything else runs without a window.
"""
from __future__ import annotations

import logging
from typing import Callable

from kivy.app import App
from kivy.clock import Clock
from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.core.window import Window
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.printing import FONT_BOLD, FONT_REGULAR
from kiosk.viewmodel import KioskViewModel

log = logging.getLogger(__name__)


def register_fonts() -> None:
    # DejaVu as Kivy's default font: full Vietnamese and the symbols used as icons (⚖ ☘ ♿ ♫ ☝)
    LabelBase.register(name=DEFAULT_FONT, fn_regular=str(FONT_REGULAR), fn_bold=str(FONT_BOLD))


def ui_post(fn: Callable[[], None]) -> None:
    """Run `fn` on the Kivy thread (safe to call from any thread)."""
    Clock.schedule_once(lambda dt: fn(), 0)


class KioskApp(App):
    title = "motcua kiosk"

    def __init__(self, vm: KioskViewModel, **kwargs):
        super().__init__(**kwargs)
        self.vm = vm
        self.screens: dict = {}
        self._sync_trigger = None
        self._tick_event = None
        self._scanner = None

    def build(self):
        register_fonts()
        # imported here: loading a .kv needs the fonts and the App in place
        from kiosk.screens.checkin import CheckinScreen
        from kiosk.screens.error import ErrorScreen
        from kiosk.screens.guidance import GuidanceScreen
        from kiosk.screens.home import HomeScreen
        from kiosk.screens.notice import NoticeScreen
        from kiosk.screens.priority import PriorityScreen
        from kiosk.screens.procedure import ProcedureScreen
        from kiosk.screens.procedures import ProceduresScreen
        from kiosk.screens.ticket import TicketScreen
        from kiosk.screens.visit import VisitScreen

        sm = ScreenManager(transition=NoTransition())
        for name, cls in (("home", HomeScreen), ("priority", PriorityScreen), ("procedures", ProceduresScreen),
                          ("procedure", ProcedureScreen), ("ticket", TicketScreen), ("guidance", GuidanceScreen),
                          ("error", ErrorScreen), ("visit", VisitScreen), ("notice", NoticeScreen),
                          ("checkin", CheckinScreen)):
            screen = cls(name=name, vm=self.vm)
            self.screens[name] = screen
            sm.add_widget(screen)
        self._sync_trigger = Clock.create_trigger(self.sync, 0)
        self.vm.bind(self._sync_trigger)
        self._tick_event = Clock.schedule_interval(lambda dt: self.vm.tick(), 1.0)
        Window.bind(on_touch_down=self._any_touch)
        # the USB barcode scanner types like a keyboard: whole scans (a booking's or an ID card's
        # QR) go to the check-in on any screen (kiosk/checkin.py); the kiosk has no text field
        from motcua.scanner import KivyScanner
        self._scanner = KivyScanner(lambda scan: self.vm.on_scan(scan.text),
                                    lambda typed: self.vm.typed_key(typed.key)).attach()
        Window.clearcolor = (0.04, 0.09, 0.18, 1)
        self.root = sm
        self.sync()
        return sm

    def _any_touch(self, *args) -> None:
        self.vm.touch()  # returns None so the touch goes on to the widgets

    def sync(self, *args) -> None:
        """Show the view-model's screen with fresh data."""
        screen = self.screens[self.vm.screen]
        screen.refresh()
        if self.root.current != self.vm.screen:
            self.root.current = self.vm.screen

    def on_stop(self) -> None:
        if self._tick_event is not None:
            self._tick_event.cancel()
        Window.unbind(on_touch_down=self._any_touch)
        if self._scanner is not None:
            self._scanner.detach()
