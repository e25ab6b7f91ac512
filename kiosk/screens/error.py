from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from kiosk.screens.base import KioskScreen, load_kv


class ErrorScreen(KioskScreen):
    headline = StringProperty("")
    message = StringProperty("")
    can_retry = BooleanProperty(False)
    retry_text = StringProperty("")
    home_text = StringProperty("")

    def fill(self, vm) -> None:
        v = vm.error_view()
        self.show_back = False
        self.title = vm.catalogue.site.name.get(vm.lang) if vm.catalogue else ""
        self.headline = v["title"]
        self.message = v["message"]
        self.can_retry = v["can_retry"]
        self.retry_text = vm.t("Try again")
        self.home_text = vm.t("Start again")


load_kv("widgets")
load_kv("error")
