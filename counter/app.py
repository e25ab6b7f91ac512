"""The counter's small Kivy status screen (status_screen.kv) observing a CounterView.

Import after the window size is configured (motcua/commands/counter.py does it).
"""
from __future__ import annotations

from pathlib import Path

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from counter.model import CounterView
from counter.texts import T
from motcua.kivy_app import RefreshingApp
from motcua.kivy_widgets import sync_children

# not "counter.kv": App would load a kv named after CounterApp a second time by itself
KV = Path(__file__).resolve().parent / "status_screen.kv"


class OptionRow(Label):
    """One line of a choice list (a sector, a break reason, …); the chosen one is drawn yellow (status_screen.kv)."""
    selected = BooleanProperty(False)


class StatusRoot(BoxLayout):
    title_text = StringProperty("")
    status = StringProperty("closed")
    status_text = StringProperty("")
    offline = BooleanProperty(False)
    serving_title = StringProperty("")
    number_text = StringProperty("")
    sector_text = StringProperty("")
    served_text = StringProperty("")
    waiting_title = StringProperty("")
    waiting_text = StringProperty("")
    message_text = StringProperty("")
    message_level = StringProperty("info")
    choice_active = BooleanProperty(False)
    choice_title = StringProperty("")
    choice_hint = StringProperty("")
    key_next = StringProperty("")
    key_recall = StringProperty("")
    key_done = StringProperty("")
    key_no_show = StringProperty("")
    key_transfer = StringProperty("")
    key_pause = StringProperty("")

    def __init__(self, view: CounterView, **kwargs):
        self.view = view
        super().__init__(**kwargs)
        self.refresh()

    def refresh(self, *_a) -> None:
        s = self.view.screen()
        self.title_text = s["label"] if s["label_en"] == s["label"] else f"{s['label']} · {s['label_en']}"
        self.status = s["status"]
        self.offline = s["offline"]
        if s["offline"]:
            self.status_text = f"{T('Connection lost', 'vi')} · {T('Connection lost', 'en')}"
        elif not s["ready"]:
            self.status_text = T("Waiting for the server", "vi")
        else:
            self.status_text = f"{s['status_vi']} · {s['status_en']}"
        self.serving_title = s["serving_title"]
        self.number_text = s["number"] or "—"
        self.sector_text = s["sector_vi"] + (f"  ★ {T('Priority', 'vi')}" if s["priority"] else "")
        self.served_text = s["served_today"]
        self.waiting_title = T("Waiting", "vi")
        self.waiting_text = "\n".join(f"{name}: [b][color=ffd600]{n}[/color][/b]" for name, n in s["waiting"])
        msg = s["message"]
        self.message_text = f"{msg.vi}" if msg else ""
        self.message_level = msg.level if msg else "info"
        for k, text in s["keys"].items():
            setattr(self, f"key_{k}", text)
        tr = s["choice"]
        self.choice_active = tr is not None
        rows = []
        if tr:
            self.choice_title, self.choice_hint = tr["title"], tr["hint"]
            # show a window of 5 options around the choice: the list may be longer than the screen
            start = max(0, min(tr["index"] - 2, len(tr["options"]) - 5))
            rows = [dict(text=name, selected=i == tr["index"])
                    for i, name in enumerate(tr["options"][start:start + 5], start)]
        # in place: refresh runs on every board the site publishes, and walking the list with
        # Next / Recall should only move the yellow bar, not rebuild the rows
        sync_children(self.ids.options, OptionRow, rows, keep_last=1)


class CounterApp(RefreshingApp):
    u = NumericProperty(1.0)

    def __init__(self, view: CounterView, press, screenshot: str | None = None, exit_after: float | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        self.view, self._press = view, press
        self.screenshot, self.exit_after = screenshot, exit_after
        self.title = "motcua counter"

    def build(self):
        Builder.load_file(str(KV))
        self.u = Window.height / 480.0
        Window.bind(size=lambda _w, size: setattr(self, "u", size[1] / 480.0))
        root = StatusRoot(self.view)
        self.view.listeners.append(self._changed)
        Clock.schedule_interval(lambda _dt: self.view.tick(), 1.0)
        if self.exit_after is not None:
            Clock.schedule_once(self._finish, self.exit_after)
        return root

    def press(self, key: str) -> None:
        """On-screen keys do exactly what the keypad does."""
        self._press(key)
