from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.button import Button
from kivy.uix.widget import Widget

from kiosk.screens.base import KioskScreen, load_kv

# A plain Latin keyboard is enough: search ignores diacritics ("khai sinh" finds "Đăng ký khai sinh").
KEY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm ")


class ProcedureRow(Button):
    procedure_id = StringProperty("")


class KeyButton(Button):
    key = StringProperty("")


class ProceduresScreen(KioskScreen):
    query = StringProperty("")
    search_hint = StringProperty("")
    keyboard_text = StringProperty("")
    take_text = StringProperty("")
    can_take = BooleanProperty(False)
    add_text = StringProperty("")
    can_add = BooleanProperty(False)
    keyboard_open = BooleanProperty(False)
    _shown: list | None = None

    def on_kv_post(self, base_widget) -> None:
        for row in KEY_ROWS:
            for ch in row:
                self.ids.keypad.add_widget(KeyButton(key=ch, text="␣" if ch == " " else ch.upper()))
            for _ in range(10 - len(row)):   # keep each row of letters on its own line
                self.ids.keypad.add_widget(Widget())

    def on_pre_enter(self, *args) -> None:
        # searching from home opens the keyboard at once; a sector's short list does not need it
        self.keyboard_open = self.vm is not None and self.vm.sector_id is None

    def fill(self, vm) -> None:
        self.title = vm.procedures_title()
        self.query = vm.query
        self.search_hint = vm.t("Type a few letters, e.g. khai sinh")
        self.keyboard_text = vm.t("Hide keys") if self.keyboard_open else vm.t("Type to search")
        self.can_take = vm.sector_id is not None
        # with a list of procedures started, the button takes one ticket for them all
        self.take_text = (vm.take_text() if vm.visit_items
                          else vm.t("Take a ticket for {sector}", sector=vm.procedures_title()))
        self.add_text = vm.t("+ Add another procedure")
        self.can_add = vm.can_add_another()
        rows = vm.procedure_rows()
        if not rows:
            rows = [{"id": "", "name": vm.t("Nothing found. Try fewer letters."), "sector": "", "badge": ""}]
        if rows == self._shown:
            return
        self._shown = rows
        box = self.ids.rows
        box.clear_widgets()
        for r in rows:
            extra = " · ".join(x for x in (r["sector"] if vm.sector_id is None else "", r["badge"]) if x)
            text = f"[b]{r['name']}[/b]" + (f"\n[size=16sp]{extra}[/size]" if extra else "")
            box.add_widget(ProcedureRow(procedure_id=r["id"], text=text, disabled=not r["id"]))

    def on_keyboard_open(self, *args) -> None:
        if self.vm is not None:
            self.keyboard_text = self.vm.t("Hide keys") if self.keyboard_open else self.vm.t("Type to search")


load_kv("widgets")
load_kv("procedures")
