from __future__ import annotations

from kivy.properties import StringProperty
from kivy.uix.button import Button

from kiosk.screens.base import KioskScreen, load_kv


class SectorTile(Button):
    sector_id = StringProperty("")


class SearchTile(Button):
    pass


class HomeScreen(KioskScreen):
    prompt = StringProperty("")
    priority_text = StringProperty("")
    _shown: list | None = None

    def fill(self, vm) -> None:
        self.show_back = False
        self.title = vm.catalogue.site.name.get(vm.lang) if vm.catalogue else ""
        self.prompt = vm.t("Touch your field to take a ticket")
        self.priority_text = vm.t("Priority: elderly, disabled, pregnant, small children, veterans")
        tiles = vm.sector_tiles()
        tiles.append({"id": "", "prefix": "", "icon": "⚲", "name": vm.t("Search by name"), "wait": ""})
        if tiles == self._shown:
            return
        grid = self.ids.grid
        same_tiles = self._shown is not None and [t["id"] for t in tiles] == [t["id"] for t in self._shown]
        self._shown = tiles
        if same_tiles:
            # live waits change often: update the text in place, since removing a tile
            # between touch-down and touch-up would swallow the citizen's tap
            for widget, t in zip(reversed(grid.children), tiles):
                widget.text = self._label(t)
            return
        grid.clear_widgets()
        for t in tiles:
            tile = SectorTile(sector_id=t["id"]) if t["id"] else SearchTile()
            tile.text = self._label(t)
            grid.add_widget(tile)

    @staticmethod
    def _label(t: dict) -> str:
        head = f"[size=36sp][b]{t['icon']} {t['prefix']}[/b][/size]" if t["prefix"] else \
            f"[size=36sp][b]{t['icon']}[/b][/size]"
        return f"{head}\n[b]{t['name']}[/b]" + (f"\n[size=16sp]{t['wait']}[/size]" if t["wait"] else "")


load_kv("widgets")
load_kv("home")
