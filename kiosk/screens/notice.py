"""The word before printing (kiosk/visits.py): today's numbers are gone, or the wait runs past
closing; what the citizen can do instead (nearby centres, filing online) and, past closing only,
"Take it anyway"."""
from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from kiosk.screens.base import KioskScreen, load_kv, nearby_markup


class NoticeScreen(KioskScreen):
    headline = StringProperty("")
    message = StringProperty("")
    nearby_title = StringProperty("")
    nearby = StringProperty("")
    insist_text = StringProperty("")
    drop_text = StringProperty("")
    online_text = StringProperty("")
    home_text = StringProperty("")
    can_insist = BooleanProperty(False)
    can_drop = BooleanProperty(False)
    can_file_online = BooleanProperty(False)

    def fill(self, vm) -> None:
        v = vm.notice_view()
        if v is None:
            return
        self.title = vm.catalogue.site.name.get(vm.lang) if vm.catalogue else ""
        self.headline, self.message = v["title"], v["message"]
        near = v["nearby"]
        self.nearby_title = near["title"] if near else ""
        self.nearby = nearby_markup(near)
        self.insist_text, self.drop_text = v["insist"], v["drop"]
        self.online_text, self.home_text = v["online"], v["home"]
        self.can_insist, self.can_drop, self.can_file_online = v["can_insist"], v["can_drop"], v["can_file_online"]


load_kv("widgets")
load_kv("notice")
