"""The citizen's list of procedures for one visit (kiosk/visits.py): each can be removed, one more
added (up to 5), and one ticket taken for them all."""
from __future__ import annotations

from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.utils import escape_markup

from kiosk.screens.base import KioskScreen, load_kv


class VisitRow(BoxLayout):
    text = StringProperty("")
    remove_text = StringProperty("")
    index = NumericProperty(0)


class VisitScreen(KioskScreen):
    note = StringProperty("")
    take_text = StringProperty("")
    add_text = StringProperty("")
    can_add = BooleanProperty(True)
    _shown: tuple | None = None

    def fill(self, vm) -> None:
        v = vm.visit_view()
        self.title = v["title"]
        self.note = v["note"]
        self.take_text = v["take"]
        self.add_text = v["add"]
        self.can_add = v["can_add"]
        shown = (tuple(v["rows"]), v["remove"])
        if shown == self._shown:
            return
        self._shown = shown
        box = self.ids.rows
        box.clear_widgets()
        for i, name in enumerate(v["rows"]):
            box.add_widget(VisitRow(text=f"[b]{i + 1}.[/b] {escape_markup(name)}", remove_text=v["remove"], index=i))


load_kv("widgets")
load_kv("visit")
