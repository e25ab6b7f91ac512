"""The check-in screen (kiosk/checkin.py): "I have a booking", the code typed on big keys of
Crockford's letters and digits and shown in its printed groups, the words of a refusal; a scan
of a booking's or an ID card's QR works here as on any screen."""
from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from kiosk.screens.base import KioskScreen, load_kv


class CheckinScreen(KioskScreen):
    prompt = StringProperty("")
    code = StringProperty("")
    error = StringProperty("")
    ok_text = StringProperty("")
    clear_text = StringProperty("")
    ready = BooleanProperty(False)
    _keys_made = False

    def fill(self, vm) -> None:
        v = vm.checkin_view()
        self.title = v["title"]
        self.prompt, self.code, self.error = v["prompt"], v["code"], v["error"]
        self.ok_text, self.clear_text, self.ready = v["ok"], v["clear"], v["ready"]
        if not self._keys_made:
            from kivy.factory import Factory
            for key in v["keys"]:
                self.ids.keypad.add_widget(Factory.CodeKey(text=key))
            self._keys_made = True


load_kv("widgets")
load_kv("checkin")
