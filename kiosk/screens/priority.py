from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.button import Button

from kiosk.screens.base import KioskScreen, load_kv


class GroupButton(Button):
    group = StringProperty("")
    selected = BooleanProperty(False)


class PrioritySectorButton(Button):
    sector_id = StringProperty("")


class PriorityScreen(KioskScreen):
    step1 = StringProperty("")
    step2 = StringProperty("")
    group_chosen = BooleanProperty(False)
    _shown: tuple | None = None

    def fill(self, vm) -> None:
        self.title = vm.t("Priority ticket")
        self.step1 = vm.t("1. Touch your group")
        self.step2 = vm.t("2. Touch your field: your priority ticket prints at once")
        self.group_chosen = vm.priority != "normal"
        groups = vm.priority_groups()
        tiles = [(tile["id"], tile["prefix"], tile["icon"], tile["name"]) for tile in vm.sector_tiles()]
        key = (tuple((g["id"], g["label"], g["selected"]) for g in groups), tuple(tiles))
        if key == self._shown:
            return
        self._shown = key
        self.ids.groups.clear_widgets()
        for g in groups:
            self.ids.groups.add_widget(GroupButton(group=g["id"], text=g["label"], selected=g["selected"]))
        self.ids.sectors.clear_widgets()
        for sid, prefix, icon, name in tiles:
            self.ids.sectors.add_widget(PrioritySectorButton(sector_id=sid, text=f"{icon} {prefix}\n{name}",
                                                             disabled=not self.group_chosen))


load_kv("widgets")
load_kv("priority")
