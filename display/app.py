"""The Kivy wall display: one screen (board_screen.kv) observing a BoardView.

Import this module only after the window size is configured (motcua/commands/display.py
does it): creating any Kivy widget creates the window.
"""
from __future__ import annotations

import math
from pathlib import Path

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from display.board_model import BoardView, clock_text
from motcua.kivy_app import RefreshingApp
from motcua.kivy_widgets import sync_children
from motcua.board_texts import T

# not "display.kv": App would load a kv named after DisplayApp a second time by itself
KV = Path(__file__).resolve().parent / "board_screen.kv"


class CounterTile(BoxLayout):
    label_text = StringProperty("")
    number_text = StringProperty("")
    detail_text = StringProperty("")      # "2/3: Đất đai", or a break's reason
    status = StringProperty("open")
    highlight = BooleanProperty(False)
    blink_on = BooleanProperty(True)


class RecentRow(BoxLayout):
    number_text = StringProperty("")
    label_text = StringProperty("")
    detail_text = StringProperty("")      # "2/3: Đất đai" for a visit's procedure, else empty


class SectorCard(BoxLayout):
    name_vi = StringProperty("")
    name_en = StringProperty("")
    numbers_text = StringProperty("")
    over_target = BooleanProperty(False)


def tile_columns(n: int) -> int:
    """Columns for n counter tiles on a 16:9 body: 2 up to 4, then about sqrt(1.6 n)."""
    if n <= 4:
        return max(1, min(n, 2))
    return min(6, math.ceil(math.sqrt(n * 1.6)))


class DisplayRoot(BoxLayout):
    site_vi = StringProperty("")
    site_en = StringProperty("")
    clock_time = StringProperty("")
    clock_date = StringProperty("")
    banner_kind = StringProperty("title")     # title | call | offline
    banner_vi = StringProperty("")
    banner_en = StringProperty("")
    recent_title = StringProperty("")
    tile_cols = NumericProperty(3)
    sector_cols = NumericProperty(4)
    blink_on = BooleanProperty(True)

    def __init__(self, view: BoardView, **kwargs):
        self.view = view
        super().__init__(**kwargs)
        rt = T.both("Recent calls")
        self.recent_title = f"{rt['vi']} / {rt['en']}"
        self._was_highlight = False
        self.refresh()

    def tick(self, _dt: float = 0) -> None:
        """Twice a second: blink, clock, and drop the highlight once its time is over."""
        self.blink_on = not self.blink_on
        for tile in self.ids.tiles.children:
            tile.blink_on = self.blink_on
        self.clock_time, self.clock_date = clock_text(zone=self.view.site_zone())
        if self._was_highlight and not self.view.highlight_active:
            self.refresh()

    def refresh(self, *_args) -> None:
        v = self.view
        self.site_vi, self.site_en = v.site_name("vi"), v.site_name("en")
        self.clock_time, self.clock_date = clock_text(zone=self.view.site_zone())
        status, banner = v.status_line(), v.call_banner()
        if status and v.offline:
            self.banner_kind, self.banner_vi, self.banner_en = "offline", status["vi"], status["en"]
        elif banner:
            self.banner_kind, self.banner_vi, self.banner_en = "call", banner["vi"], banner["en"]
        elif status:
            self.banner_kind, self.banner_vi, self.banner_en = "title", status["vi"], status["en"]
        else:
            title = T.both("Now serving")
            self.banner_kind, self.banner_vi, self.banner_en = "title", title["vi"], title["en"]
        self._was_highlight = v.highlight_active

        tiles = v.tiles()
        self.tile_cols = tile_columns(len(tiles))
        paused = T.both("On break")
        tile_props = [dict(label_text=f"{t.label_vi} · {t.label_en}" if t.label_en != t.label_vi else t.label_vi,
                           number_text=t.number or ("—" if t.status != "paused" else f"{paused['vi']}"),
                           detail_text=t.detail_vi, status=t.status, highlight=t.highlight, blink_on=self.blink_on)
                      for t in tiles]
        if not tiles and v.board is not None:
            none = T.both("No open counter")
            tile_props.append(dict(label_text=none["en"], number_text=none["vi"], detail_text="", status="paused",
                                   highlight=False, blink_on=True))
        sync_children(self.ids.tiles, CounterTile, tile_props)

        sync_children(self.ids.recent, RecentRow,
                      [dict(number_text=r.number, label_text=r.label_vi, detail_text=r.detail_vi)
                       for r in v.recent()], keep_last=1)

        rows = v.sectors()
        self.sector_cols = max(1, min(4, math.ceil(len(rows) / 2))) if len(rows) > 4 else max(1, len(rows))
        sync_children(self.ids.sectors, SectorCard, [
            dict(name_vi=f"{s.prefix} · {s.name_vi}" if s.prefix else s.name_vi, name_en=s.name_en,
                 over_target=s.over_target,
                 numbers_text=f"{T('{n} waiting', 'vi', n=s.waiting)}  [color=ffffff]{s.wait_vi}[/color]")
            for s in rows])


class DisplayApp(RefreshingApp):
    u = NumericProperty(1.0)

    def __init__(self, view: BoardView, screenshot: str | None = None, exit_after: float | None = None,
                 on_started=None, **kwargs):
        super().__init__(**kwargs)
        self.view = view
        self.screenshot, self.exit_after = screenshot, exit_after
        self.on_started = on_started
        self.title = "motcua display"

    def build(self):
        Builder.load_file(str(KV))
        self.u = Window.height / 1080.0
        Window.bind(size=lambda _w, size: setattr(self, "u", size[1] / 1080.0))
        root = DisplayRoot(self.view)
        self.view.listeners.append(self._changed)
        Clock.schedule_interval(root.tick, 0.5)
        if self.exit_after is not None:
            Clock.schedule_once(self._finish, self.exit_after)
        return root

    def on_start(self):
        if self.on_started:
            self.on_started()
