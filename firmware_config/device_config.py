"""One config schema per device kind (docs/architecture.md rule 7), validated at start into typed objects.

A device's YAML names its role, site and id, how to reach the broker and the
server, and its hardware (printer, GPIO pins, screen). Provisioning writes
these files; `motcua kiosk|counter|display --config FILE` reads them.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator
from motcua.yamlfile import read_yaml
from motcua.zones import DEFAULT_TIMEZONE, known_zone

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,40}$")]
Pin = Annotated[int, Field(ge=0, le=27)]  # BCM numbering on the 40-pin header


class DeviceConfigError(ValueError):
    """A device config that cannot be used; the message names every bad field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MqttSettings(_Model):
    url: str = "mqtt://127.0.0.1:1883"     # mqtts:// for TLS
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None


class ScreenSettings(_Model):
    width: int = Field(default=800, ge=320, le=7680)
    height: int = Field(default=480, ge=240, le=4320)
    rotation: Literal[0, 90, 180, 270] = 0
    fullscreen: bool = False
    # Who turns the picture: "app" (the app rotates its window) or "os" (provisioning already
    # rotated the output and the touch panel in config.txt/cmdline.txt; the app must not rotate again).
    rotation_by: Literal["app", "os"] = "app"


    @property
    def app_rotation(self) -> int:
        """The rotation the app applies: none when the OS already turned the output and the touch
        panel (provisioning writes `rotation_by: os`); turning it again would put it 90° off."""
        return self.rotation if self.rotation_by == "app" else 0

class PrinterSettings(_Model):
    kind: Literal["usb", "serial", "network", "file", "dummy"] = "dummy"
    usb_vendor: int | None = None          # e.g. 0x04b8 for Epson
    usb_product: int | None = None
    serial_port: str = "/dev/ttyUSB0"
    baudrate: int = 19200
    host: str | None = None
    port: int = 9100
    path: str = "/dev/usb/lp0"
    width_px: int = Field(default=576, ge=128, le=1024)   # 576 = 80 mm, 384 = 58 mm
    profile: str | None = "TM-T20II"


class KioskButtons(_Model):
    ticket: Pin | None = None     # big physical button: a ticket for the sector on screen
    priority: Pin | None = None
    help: Pin | None = None       # calls staff to the kiosk
    speak: Pin | None = None      # reads the screen aloud
    help_led: Pin | None = None


class SpeechSettings(_Model):
    enabled: bool = True
    voice: str = "vi"
    audio_device: str | None = None  # ALSA device for aplay, e.g. "plughw:1,0"


class KioskConfig(_Model):
    role: Literal["kiosk"] = "kiosk"
    site: Slug
    id: Slug
    mqtt: MqttSettings = MqttSettings()
    server_url: str = "http://127.0.0.1:8080"
    printer: PrinterSettings = PrinterSettings()
    buttons: KioskButtons = KioskButtons()
    screen: ScreenSettings = ScreenSettings()
    speech: SpeechSettings = SpeechSettings()
    lang: Literal["vi", "en"] = "vi"
    idle_timeout_s: int = Field(default=45, ge=5, le=600)
    long_wait_min: int = Field(default=30, ge=1, le=600)   # offer online filing past this wait
    # Check-in by ID card (issue #16): the site server's <data dir>/id-hash.key copied here at
    # set-up (hex, owner-only); without it a card cannot be hashed and the kiosk offers the code.
    id_hash_key_file: str | None = None
    # The USB barcode scanner's input device on the Pi (/dev/input/by-id/usb-...-event-kbd), read
    # and grabbed by motcua/scanner.EvdevReader; omitted, scans come through the window's keys.
    scanner_device: str | None = None
    # The site's zone if the server's catalogue does not name it (an older server): the times a
    # citizen reads are the site's, never the device's own OS zone.
    timezone: str = DEFAULT_TIMEZONE

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)


class KeypadPins(_Model):
    next: Pin | None = 5
    recall: Pin | None = 6
    done: Pin | None = 13
    no_show: Pin | None = 19
    transfer: Pin | None = 26
    pause: Pin | None = 21


class RatingPins(_Model):
    very_satisfied: Pin | None = 17   # 4
    satisfied: Pin | None = 27        # 3
    neutral: Pin | None = 22          # 2
    unsatisfied: Pin | None = 23      # 1
    led: Pin | None = 24              # thank-you light


class CounterConfig(_Model):
    role: Literal["counter"] = "counter"
    site: Slug
    id: Slug
    mqtt: MqttSettings = MqttSettings()
    server_url: str = "http://127.0.0.1:8080"
    keypad: KeypadPins = KeypadPins()
    rating: RatingPins = RatingPins()
    screen: ScreenSettings = ScreenSettings()
    lang: Literal["vi", "en"] = "vi"
    show_screen: bool = True


class AnnouncerSettings(_Model):
    enabled: bool = True
    voice: str = "vi"
    english: bool = False
    audio_device: str | None = None
    chime: bool = True
    cache_dir: str | None = None


class DisplayConfig(_Model):
    role: Literal["display"] = "display"
    site: Slug
    id: Slug
    mqtt: MqttSettings = MqttSettings()
    server_url: str = "http://127.0.0.1:8080"
    screen: ScreenSettings = ScreenSettings(width=1920, height=1080, fullscreen=True)
    announcer: AnnouncerSettings = AnnouncerSettings()


SCHEMAS: dict[str, type[_Model]] = {"kiosk": KioskConfig, "counter": CounterConfig, "display": DisplayConfig}


def parse_device_config(data: Any, role: str | None = None, source: str = "device config"):
    if not isinstance(data, dict):
        raise DeviceConfigError(f"{source}: expected a mapping")
    role = role or data.get("role")
    if role not in SCHEMAS:
        raise DeviceConfigError(f"{source}: role must be one of {', '.join(SCHEMAS)} (got {role!r})")
    if data.get("role", role) != role:
        raise DeviceConfigError(f"{source}: role is {data.get('role')!r}, expected {role!r}")
    try:
        return SCHEMAS[role].model_validate(data)
    except ValidationError as exc:
        lines = [f"  {'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()]
        raise DeviceConfigError(f"{source} is not valid:\n" + "\n".join(lines)) from None


def load_device_config(path: str | Path, role: str | None = None):
    return parse_device_config(read_yaml(path, DeviceConfigError), role, str(path))


def json_schemas() -> dict[str, dict]:
    return {role: model.model_json_schema() for role, model in SCHEMAS.items()}
