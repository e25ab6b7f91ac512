from __future__ import annotations

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty

from kiosk.screens.base import KioskScreen, load_kv, nearby_markup
from kiosk.screens.guidance import qr_texture


class ProcedureScreen(KioskScreen):
    sector = StringProperty("")
    documents_title = StringProperty("")
    documents = StringProperty("")
    facts = StringProperty("")
    hint = StringProperty("")
    nearby_title = StringProperty("")
    nearby = StringProperty("")
    booking_text = StringProperty("")
    booking_qr = ObjectProperty(None, allownone=True)
    booking_url = ""
    take_text = StringProperty("")
    online_text = StringProperty("")
    can_file_online = BooleanProperty(False)
    add_text = StringProperty("")
    can_add = BooleanProperty(False)

    def fill(self, vm) -> None:
        card = vm.card()
        if card is None:
            return
        t = vm.t
        self.title = card["name"]
        self.sector = card["sector"]
        self.documents_title = t("Documents to bring")
        self.documents = "\n".join(f"•  {d}" for d in card["documents"])
        self.facts = "\n".join([
            f"[b]{t('Fee')}:[/b] {card['fee']}",
            f"[b]{t('Processing time')}:[/b] {card['days']}",
            f"[b]{t('Online')}:[/b] {card['online']}",
            f"[b]{t('Waiting now')}:[/b] {t('{n} people', n=card['waiting'])} · {card['wait']}",
        ])
        self.hint = card["long_wait_hint"]
        near = card["nearby"]
        self.nearby_title = near["title"] if near else ""
        # one line per centre: name, address, distance, wait; then that this is only advice
        self.nearby = nearby_markup(near)
        book = near.get("booking") if near else None
        self.booking_text = f"{book['text']}\n{book['scan']}" if book else ""
        url = book["url"] if book else ""
        if url != self.booking_url:          # drawn once per page, not on every refresh
            self.booking_url, self.booking_qr = url, qr_texture(url) if url else None
        self.take_text = vm.take_text()
        self.add_text = t("+ Add another procedure")
        self.can_add = vm.can_add_another()
        self.online_text = t("File online")
        self.can_file_online = card["can_file_online"]


load_kv("widgets")
load_kv("procedure")
