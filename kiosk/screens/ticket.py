from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from kiosk.screens.base import KioskScreen, load_kv


class TicketScreen(KioskScreen):
    your_number = StringProperty("")
    number = StringProperty("")
    priority = StringProperty("")
    sector = StringProperty("")
    procedure = StringProperty("")
    visit = StringProperty("")
    visit_end = StringProperty("")
    ahead = StringProperty("")
    wait = StringProperty("")
    status = StringProperty("")
    trouble = BooleanProperty(False)
    can_reprint = BooleanProperty(False)
    reprint_text = StringProperty("")
    done_text = StringProperty("")

    def fill(self, vm) -> None:
        v = vm.ticket_view()
        self.show_back = False
        self.title = vm.t("Your ticket")
        self.your_number = vm.t("YOUR NUMBER")
        for key in ("number", "sector", "procedure", "visit", "visit_end", "ahead", "wait", "status"):
            setattr(self, key, v[key])
        self.priority = v.get("priority", "")
        self.trouble = v["trouble"]
        self.can_reprint = v["can_reprint"]
        self.reprint_text = vm.t("Print again")
        self.done_text = vm.t("Done")


load_kv("widgets")
load_kv("ticket")
