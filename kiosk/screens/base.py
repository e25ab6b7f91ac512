"""The parts every kiosk screen shares: the view-model reference, the top bar texts, the banner."""
from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen
from kivy.utils import escape_markup

HERE = Path(__file__).resolve().parent
_loaded: set[str] = set()


def load_kv(name: str) -> None:
    """Load `<name>.kv` from this folder once (path built from __file__, docs/architecture.md rule 5)."""
    if name not in _loaded:
        Builder.load_file(str(HERE / f"{name}.kv"))
        _loaded.add(name)


def nearby_markup(near: dict | None) -> str:
    """The nearby-centres panel (kiosk/presenters.py) as label markup: one line per centre (name,
    address, distance, wait, earliest booking), then its note. Shown on the procedure card and the notice."""
    if not near:
        return ""
    return "\n".join(
        [f"•  [b][color=#ffffff]{escape_markup(r['name'])}[/color][/b]"
         + (f", {escape_markup(r['address'])}" if r["address"] else "")
         + f" — {r['distance']}, {r['wait']}" + (f", {r['booking']}" if r.get("booking") else "") for r in near["rows"]]
        + ([near["note"]] if near["note"] else []))


class TopBar(BoxLayout):
    title = StringProperty("")
    back_text = StringProperty("")
    speak_text = StringProperty("")
    help_text = StringProperty("")
    lang_text = StringProperty("")
    show_back = BooleanProperty(True)


class Banners(BoxLayout):
    banner = StringProperty("")
    help_banner = StringProperty("")


class KioskScreen(Screen):
    vm = ObjectProperty(None, allownone=True)
    title = StringProperty("")
    banner = StringProperty("")
    help_banner = StringProperty("")
    back_text = StringProperty("")
    speak_text = StringProperty("")
    help_text = StringProperty("")
    lang_text = StringProperty("")
    show_back = BooleanProperty(True)

    def refresh(self) -> None:
        vm = self.vm
        t = vm.t
        self.banner = vm.banner()
        self.help_banner = (t("Staff have been called and will come to you. Touch here to cancel.")
                            if vm.help_requested else "")
        self.back_text = t("Back")
        self.speak_text = t("Listen")
        self.help_text = t("Help")
        self.lang_text = "English" if vm.lang == "vi" else "Tiếng Việt"
        self.fill(vm)
        bar, banners = self.ids.get("topbar"), self.ids.get("banners")
        if bar is not None:
            for key in ("title", "back_text", "speak_text", "help_text", "lang_text", "show_back"):
                setattr(bar, key, getattr(self, key))
        if banners is not None:
            banners.banner, banners.help_banner = self.banner, self.help_banner

    def fill(self, vm) -> None:  # each screen copies its own data
        pass
