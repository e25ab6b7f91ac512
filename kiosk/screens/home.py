from __future__ import annotations

from kivy.clock import Clock
from kivy.metrics import sp
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from kiosk.screens.base import KioskScreen, load_kv


class FitLabel(Label):
    """A label whose text stays inside its box, whatever its length and the box's size.

    It takes the largest font from `max_font` down to `min_font` at which the wrapped text
    fits; only if even `min_font` does not fit are the last lines dropped (Kivy draws
    nothing outside `text_size`). A tile's letter and a sector's long name each get
    their own box, so a long name can never push the letter out of its tile (issue #14).
    """
    max_font = NumericProperty(sp(19))
    min_font = NumericProperty(sp(12))

    def __init__(self, **kwargs):
        self._refit = Clock.create_trigger(self.fit, -1)
        super().__init__(**kwargs)
        self.bind(size=self._refit, text=self._refit, max_font=self._refit, min_font=self._refit)

    def fit(self, *_args) -> None:
        width, height = self.width, self.height
        if width <= 1 or height <= 1 or not self.text:
            return
        size = self.max_font
        self.valign = "middle"
        while True:
            self.font_size = size
            self.text_size = (width, None)
            self.texture_update()
            tw, th = self.texture_size
            if (tw <= width and th <= height) or size <= self.min_font:
                break
            size = max(self.min_font, size - sp(1))
        if self.texture_size[1] > height or self.texture_size[0] > width:
            # the first lines are kept: a name is recognised by how it starts
            self.valign = "top"
            self.text_size = (width, height)
            self.texture_update()


class HomeTile(ButtonBehavior, BoxLayout):
    """A tile of the home grid: the icon and letter on top, the name, the live wait."""
    head = StringProperty("")
    name = StringProperty("")
    wait = StringProperty("")


class SectorTile(HomeTile):
    sector_id = StringProperty("")


class SearchTile(HomeTile):
    pass


class HomeScreen(KioskScreen):
    prompt = StringProperty("")
    priority_text = StringProperty("")
    visit_text = StringProperty("")
    booking_text = StringProperty("")
    _shown: list | None = None

    def fill(self, vm) -> None:
        self.show_back = False
        self.title = vm.catalogue.site.name.get(vm.lang) if vm.catalogue else ""
        self.prompt = vm.t("Touch your field to take a ticket")
        self.priority_text = vm.t("Priority: elderly, disabled, pregnant, small children, veterans")
        self.booking_text = vm.t("I have a booking")
        self.visit_text = vm.t("Your list: {n} procedures", n=len(vm.visit_items)) if vm.visit_items else ""
        tiles = vm.sector_tiles()
        tiles.append({"id": "", "prefix": "", "icon": "⚲", "name": vm.t("Search by name"), "wait": ""})
        if tiles == self._shown:
            return
        grid = self.ids.grid
        same_tiles = self._shown is not None and [tile["id"] for tile in tiles] == [s["id"] for s in self._shown]
        self._shown = tiles
        if same_tiles:
            # live waits change often: update the texts in place, since removing a tile
            # between touch-down and touch-up would swallow the citizen's tap
            for widget, tile in zip(reversed(grid.children), tiles):
                self._show(widget, tile)
            return
        grid.clear_widgets()
        for tile in tiles:
            widget = SectorTile(sector_id=tile["id"]) if tile["id"] else SearchTile()
            self._show(widget, tile)
            grid.add_widget(widget)

    @staticmethod
    def _show(widget: HomeTile, tile: dict) -> None:
        widget.head = " ".join(part for part in (tile["icon"], tile["prefix"]) if part)
        widget.name = tile["name"]
        widget.wait = tile["wait"]


load_kv("widgets")
load_kv("home")
