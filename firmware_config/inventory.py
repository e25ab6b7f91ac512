"""A site inventory: the site config plus an `inventory:` section naming the machines.

The site part is `queue_server.domain.site` unchanged (it forbids extra keys, so the
`inventory:` section is split off before `parse_site`). The inventory says which Pi
is which device, how its printer is connected, which GPIO pins differ from the
defaults, its screen, where the site broker listens and where the province is.
Every error names the bad field, e.g. `inventory.hosts[2].id: kiosk 'k9' is not in devices.kiosks`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from firmware_config.device_config import PrinterSettings
from motcua.config_errors import format_loc
from queue_server.domain.site import SiteConfig, SiteConfigError, parse_site
from motcua.yamlfile import read_yaml

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,40}$")]
Hostname = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
Host = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9.:\[\]-]{1,253}$")]
UnixUser = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_-]{0,31}$")]
Port = Annotated[int, Field(ge=1, le=65535)]

ROLES = ("server", "kiosk", "counter", "display")
RESERVED_SITE_IDS = ("province",)   # `motcua/v1/province/...` is the province's own root


class InventoryError(ValueError):
    """An inventory that cannot be provisioned; the message names every bad field."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScreenSpec(_Model):
    width: int = Field(default=800, ge=320, le=7680)
    height: int = Field(default=480, ge=240, le=4320)
    rotation: Literal[0, 90, 180, 270] = 0
    # hdmi: a TV or monitor; dsi-7inch: the official 7" touch display; usb-touch: HDMI panel with USB touch
    output: Literal["hdmi", "dsi-7inch", "usb-touch"] = "hdmi"
    touch: bool = False


class HostSpec(_Model):
    hostname: Hostname
    role: Literal["server", "kiosk", "counter", "display"]
    id: Slug | None = None                    # device id; none for the server
    address: Host | None = None               # how the admin machine reaches it (defaults to hostname.local)
    printer: PrinterSettings | None = None    # kiosks only
    gpio: dict[str, dict[str, int | None] | int | None] = {}   # role-specific pin overrides, see docs
    screen: ScreenSpec | None = None
    headless: bool = False                    # a counter without a status screen
    config: dict[str, Any] = {}               # any other device-config field, merged last

    @model_validator(mode="after")
    def _role_fields(self) -> "HostSpec":
        if self.role == "server":
            if self.id is not None:
                raise ValueError("id: a server host has no device id")
        elif self.id is None:
            raise ValueError(f"id: a {self.role} host needs the device id it runs")
        if self.printer is not None and self.role != "kiosk":
            raise ValueError("printer: only a kiosk has a ticket printer")
        return self


class BrokerSpec(_Model):
    host: Host                                # address devices use to reach the site broker
    port: Port = 1883
    ws_port: Port | None = 9001               # WebSocket listener for browsers (web console, display)
    bind: Host = "0.0.0.0"


class ProvinceSpec(_Model):
    host: Host
    port: Port = 1883
    tls: bool = False
    cafile: str | None = None                 # path on the site server, when tls
    # On the province host, when tls: the province broker's certificate and key, and the CA that
    # signed them (docs/province.md shows how to make them). The broker then listens with TLS only.
    broker_cafile: str = "/etc/mosquitto/ca_certificates/motcua-province-ca.crt"
    broker_certfile: str = "/etc/mosquitto/certs/motcua-province.crt"
    broker_keyfile: str = "/etc/mosquitto/certs/motcua-province.key"
    restart_timeout: tuple[int, int] = (2, 15)   # bridge reconnect back-off, seconds (base, cap)

    @model_validator(mode="after")
    def _tls(self) -> "ProvinceSpec":
        if self.tls and not self.cafile:
            raise ValueError("cafile: tls needs the province CA file path")
        return self


class ReleaseSpec(_Model):
    version: str = Field(default="main", pattern=r"^[A-Za-z0-9._/-]{1,80}$")
    source: str | None = None                 # git URL (a LAN mirror is best); None: use the bundled tarball


class InventorySpec(_Model):
    user: UnixUser = "motcua"                 # the account every motcua service runs as
    prefix: str = Field(default="/opt/motcua", pattern=r"^/[A-Za-z0-9._/-]+$")
    server_url: str | None = None             # default http://<server host>:8080
    http_port: Port = 8080
    broker: BrokerSpec
    province: ProvinceSpec | None = None
    release: ReleaseSpec = ReleaseSpec()
    hosts: tuple[HostSpec, ...] = Field(min_length=1)


@dataclass(frozen=True)
class Inventory:
    site: SiteConfig
    spec: InventorySpec
    source: str

    @property
    def hosts(self) -> tuple[HostSpec, ...]:
        return self.spec.hosts

    @property
    def server_host(self) -> HostSpec:
        return next(h for h in self.hosts if h.role == "server")

    @property
    def server_url(self) -> str:
        if self.spec.server_url:
            return self.spec.server_url
        h = self.server_host
        return f"http://{h.address or self.spec.broker.host}:{self.spec.http_port}"

    @property
    def broker_url(self) -> str:
        return f"mqtt://{self.spec.broker.host}:{self.spec.broker.port}"

    def unassigned(self) -> list[str]:
        """Kiosks and displays of the site config with no host (warned, not refused)."""
        taken = {(h.role, h.id) for h in self.hosts}
        out = [f"kiosk {k}" for k in self.site.devices.kiosks if ("kiosk", k) not in taken]
        out += [f"display {d}" for d in self.site.devices.displays if ("display", d) not in taken]
        return out


def _pydantic_lines(exc: ValidationError, prefix: str) -> list[str]:
    return [f"  {prefix}{('.' + format_loc(e['loc'])) if e['loc'] else ''}: {e['msg']}" for e in exc.errors()]


def _cross_check(site: SiteConfig, spec: InventorySpec) -> list[str]:
    problems = []
    known = {"kiosk": set(site.devices.kiosks), "counter": set(site.counter_by_id),
             "display": set(site.devices.displays)}
    lists = {"kiosk": "devices.kiosks", "counter": "counters", "display": "devices.displays"}
    seen_hosts: dict[str, int] = {}
    seen_dev: dict[tuple[str, str], int] = {}
    servers = [i for i, h in enumerate(spec.hosts) if h.role == "server"]
    if len(servers) != 1:
        problems.append(f"  inventory.hosts: exactly one host must have role server (found {len(servers)})")
    for i, h in enumerate(spec.hosts):
        where = f"inventory.hosts[{i}]"
        if h.hostname in seen_hosts:
            problems.append(f"  {where}.hostname: {h.hostname!r} already used by hosts[{seen_hosts[h.hostname]}]")
        seen_hosts[h.hostname] = i
        if h.role == "server":
            continue
        if h.id not in known[h.role]:
            problems.append(f"  {where}.id: {h.role} {h.id!r} is not in {lists[h.role]} of the site config")
        if (h.role, h.id) in seen_dev:
            problems.append(f"  {where}.id: {h.role} {h.id!r} already runs on hosts[{seen_dev[(h.role, h.id)]}]")
        seen_dev[(h.role, h.id)] = i
        problems += [f"  {where}.gpio.{p}" for p in _gpio_problems(h)]
    if site.id in RESERVED_SITE_IDS:
        problems.append(f"  site.id: {site.id!r} is reserved for the province topics")
    return problems


GPIO_SECTIONS = {"kiosk": ("buttons",), "counter": ("keypad", "rating")}


def _gpio_problems(h: HostSpec) -> list[str]:
    """gpio is flat for a kiosk (`{help: 16}`) and two sections for a counter (`{keypad: {next: 5}}`)."""
    from firmware_config.device_config import CounterConfig, KioskConfig
    if not h.gpio:
        return []
    if h.role == "display":
        return ["(all): a display has no GPIO pins"]
    out = []
    if h.role == "kiosk":
        fields = KioskConfig.model_fields["buttons"].annotation.model_fields
        for name, pin in h.gpio.items():
            if name not in fields:
                out.append(f"{name}: unknown kiosk pin (known: {', '.join(fields)})")
            elif pin is not None and not (isinstance(pin, int) and 0 <= pin <= 27):
                out.append(f"{name}: BCM pin must be 0..27 (got {pin!r})")
    else:
        for section, pins in h.gpio.items():
            if section not in GPIO_SECTIONS["counter"]:
                out.append(f"{section}: unknown counter section (known: keypad, rating)")
                continue
            if not isinstance(pins, dict):
                out.append(f"{section}: expected a mapping of pin names to BCM numbers")
                continue
            fields = CounterConfig.model_fields[section].annotation.model_fields
            for name, pin in pins.items():
                if name not in fields:
                    out.append(f"{section}.{name}: unknown {section} pin (known: {', '.join(fields)})")
                elif pin is not None and not (isinstance(pin, int) and 0 <= pin <= 27):
                    out.append(f"{section}.{name}: BCM pin must be 0..27 (got {pin!r})")
    used: dict[int, str] = {}
    flat = h.gpio.items() if h.role == "kiosk" else [
        (f"{s}.{n}", p) for s, pins in h.gpio.items() if isinstance(pins, dict) for n, p in pins.items()]
    for name, pin in flat:
        if isinstance(pin, int) and pin in used:
            out.append(f"{name}: pin {pin} is also {used[pin]}")
        if isinstance(pin, int):
            used[pin] = name
    return out


def parse_inventory(data: Any, source: str = "site inventory") -> Inventory:
    if not isinstance(data, dict):
        raise InventoryError(f"{source}: expected a mapping with site, sectors, counters and inventory")
    data = dict(data)
    inv_data = data.pop("inventory", None)
    problems: list[str] = []
    site = None
    try:
        site = parse_site(data, source)
    except SiteConfigError as exc:
        problems += str(exc).splitlines()[1:] or [str(exc)]
    spec = None
    if inv_data is None:
        problems.append("  inventory: missing (hosts, broker, optional province)")
    else:
        try:
            spec = InventorySpec.model_validate(inv_data)
        except ValidationError as exc:
            problems += _pydantic_lines(exc, "inventory")
    if site is not None and spec is not None:
        problems += _cross_check(site, spec)
    if problems:
        raise InventoryError(f"{source} is not valid:\n" + "\n".join(problems))
    return Inventory(site, spec, source)


def load_inventory(path: str | Path) -> Inventory:
    return parse_inventory(read_yaml(path, InventoryError), str(path))
