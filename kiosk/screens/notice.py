"""The word before printing (kiosk/visits.py): today's numbers are gone, or the wait runs past
closing; what the citizen can do instead (nearby centres, filing online) and, past closing only,
"Take it anyway"; on a cap notice, the earliest booking slot and its booking page's QR."""
from __future__ import annotations

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty

from kiosk.screens.base import KioskScreen, load_kv, nearby_markup
from kiosk.screens.guidance import qr_texture


class NoticeScreen(KioskScreen):
    headline = StringProperty("")
    message = StringProperty("")
    nearby_title = StringProperty("")
    nearby = StringProperty("")
    booking = StringProperty("")
    booking_scan = StringProperty("")
    booking_qr = ObjectProperty(None, allownone=True)
    booking_url = ""
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
        book = v["booking"]
        self.booking, self.booking_scan = (book["text"], book["scan"]) if book else ("", "")
        url = book["url"] if book else ""
        if url != self.booking_url:          # drawn once per page, not on every refresh
            self.booking_url, self.booking_qr = url, qr_texture(url) if url else None
        near = v["nearby"]
        self.nearby_title = near["title"] if near else ""
        self.nearby = nearby_markup(near)
        self.insist_text, self.drop_text = v["insist"], v["drop"]
        self.online_text, self.home_text = v["online"], v["home"]
        self.can_insist, self.can_drop, self.can_file_online = v["can_insist"], v["can_drop"], v["can_file_online"]


load_kv("widgets")
load_kv("notice")
