"""What the wall display and the counter status screen share as Kivy apps: redraw on the UI
thread when the view-model changes, and an optional screenshot before quitting (tests, docs)."""
from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock, mainthread
from kivy.core.window import Window


class RefreshingApp(App):
    """Subclasses set `self.screenshot` (a PNG path or None); their root has `refresh()`."""

    screenshot: str | None = None

    @mainthread
    def _changed(self) -> None:
        # MQTT thread -> UI thread: the view only says "something changed"; the screen re-reads it
        if self.root is not None:
            self.root.refresh()

    def _finish(self, _dt) -> None:
        if self.screenshot:
            self.root.refresh()
            # label textures are redrawn on the next frames: shoot a little later
            Clock.schedule_once(self._shoot, 0.4)
        else:
            self.stop()

    def _shoot(self, _dt) -> None:
        # Window.screenshot() from a Clock callback gives black frames under Xvfb
        # (docs/display.md): read the frame buffer right after the next flip instead.
        def flipped(*_a):
            Window.unbind(on_flip=flipped)
            self.root.export_to_png(self.screenshot)
            self.stop()
        Window.bind(on_flip=flipped)
        self.root.canvas.ask_update()
