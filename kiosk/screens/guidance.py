from __future__ import annotations

import io

import qrcode
from kivy.core.image import Image as CoreImage
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty

from kiosk.screens.base import KioskScreen, load_kv


def qr_texture(data: str):
    """A QR code as a Kivy texture, scaled without smoothing so a phone camera reads it."""
    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    buf = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").get_image().convert("RGB").save(buf, "png")
    buf.seek(0)
    texture = CoreImage(buf, ext="png").texture
    texture.mag_filter = "nearest"
    return texture


class GuidanceScreen(KioskScreen):
    qr_texture = ObjectProperty(None, allownone=True)
    portal_url = StringProperty("")
    status = StringProperty("")
    steps = StringProperty("")
    print_status = StringProperty("")
    print_text = StringProperty("")
    take_text = StringProperty("")
    ready = BooleanProperty(False)

    def fill(self, vm) -> None:
        v = vm.guidance_view()
        self.title = vm.t("File online: {name}", name=v["procedure"])
        self.status = v["status"]
        self.steps = "\n".join(f"{i}. {s}" for i, s in enumerate(v["steps"], 1))
        self.print_status = v["print_status"]
        self.print_text = vm.t("Print the guide")
        self.take_text = vm.t("Take a ticket instead")
        self.ready = bool(v["portal_url"])
        if v["portal_url"] != self.portal_url:
            self.portal_url = v["portal_url"]
            self.qr_texture = qr_texture(v["portal_url"]) if v["portal_url"] else None


load_kv("widgets")
load_kv("guidance")
