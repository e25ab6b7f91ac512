"""Site inventory -> every file a site needs, per host, ready to copy to each Pi.

Layout of the output (`OUT`):

    OUT/province/                       the province broker (shared by every site provisioned into OUT)
        credentials.json (0600)         its users: the provincial service and one bridge user per site
        id-hash.key (0600)              the key of the ID card hash of every site of the province
        mosquitto.conf passwd acl
    OUT/sites/<site>/
        credentials.json (0600)         every broker password of the site (never commit OUT)
        id-hash.key (0600)              the site's own key of the ID card hash (no province in the inventory)
        update.sh rollback.sh           rolling update / rollback of all hosts, from the admin machine
        hosts/<hostname>/               copy this folder to the Pi's boot partition as `motcua/`
            firstboot.sh                run once: sudo bash /boot/firmware/motcua/firstboot.sh
            manifest.txt                "mode owner:group /path" of every file under files/
            files/...                   the files, at their place under /
            boot/config.txt boot/cmdline.txt   Raspberry Pi OS settings merged at first boot

Everything is generated from templates in `templates/` and validated before it is written:
device configs through `device_config.parse_device_config`, the broker through `broker.py`.
"""
from __future__ import annotations

import json
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from firmware_config import bridge, broker
from firmware_config.device_config import parse_device_config
from firmware_config.inventory import HostSpec, Inventory
from motcua.files import write_private
from motcua.id_key import key_text, load_or_create_id_key

TEMPLATES = Path(__file__).resolve().parent / "templates"
ETC_MOSQ = "/etc/mosquitto"
DEVICE_GROUPS = {"kiosk": ["video", "render", "input", "audio", "gpio", "lp", "dialout", "plugdev"],
                 "counter": ["video", "render", "input", "gpio"],
                 "display": ["video", "render", "input", "audio"],
                 "server": []}
PACKAGES = {"server": ["git", "python3-venv", "python3-dev", "mosquitto", "mosquitto-clients"],
            "kiosk": ["git", "python3-venv", "cage", "wlr-randr", "espeak-ng", "libmtdev1", "fonts-dejavu-core"],
            "counter": ["git", "python3-venv", "cage", "wlr-randr", "libmtdev1", "fonts-dejavu-core"],
            "display": ["git", "python3-venv", "cage", "wlr-randr", "espeak-ng", "alsa-utils", "libmtdev1",
                        "fonts-dejavu-core"]}
CONNECTOR = {"hdmi": "HDMI-A-1", "usb-touch": "HDMI-A-1", "dsi-7inch": "DSI-1"}
SERVER_DATA_DIR = "/var/lib/motcua"          # the site server's --data-dir (server.service.j2)
KIOSK_ID_KEY = "/etc/motcua/id-hash.key"     # where a kiosk keeps the key of the ID card hash
ID_KEY_FILE = "id-hash.key"                  # the key's file in OUT/province/ or OUT/sites/<site>/


def _env():
    import jinja2   # comes with Flask (the server role); provisioning runs on an admin machine
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True, comment_start_string="<#--",
                              comment_end_string="--#>",  # bash uses {# (${#array[@]})
                              undefined=jinja2.StrictUndefined)


@dataclass
class HostBundle:
    """Files of one host: path on the Pi -> (text, mode, owner)."""
    host: HostSpec
    directory: Path
    files: dict[str, tuple[str, int, str]] = field(default_factory=dict)
    boot_config: str = ""
    boot_cmdline: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)

    def add(self, path: str, text: str, mode: int = 0o644, owner: str = "root:root") -> None:
        self.files[path] = (text, mode, owner)


@dataclass
class SiteBundle:
    directory: Path
    hosts: list[HostBundle]
    credentials: Path
    province_dir: Path | None
    warnings: list[str]


# --- pieces ------------------------------------------------------------------------------

def device_config(inv: Inventory, h: HostSpec, creds: dict, id_key: bytes | None = None) -> dict:
    """The device's YAML as a dict, validated against its schema (raises DeviceConfigError).
    `id_key`: the site takes bookings, and a kiosk gets the key of the ID card hash (its file)."""
    user = creds[h.role][h.id]
    data: dict = {"role": h.role, "site": inv.site.id, "id": h.id,
                  "mqtt": {"url": inv.broker_url, "username": user["username"], "password": user["password"]},
                  "server_url": inv.server_url}
    if h.screen:
        data["screen"] = {"width": h.screen.width, "height": h.screen.height, "rotation": h.screen.rotation,
                          "fullscreen": True, "rotation_by": "os"}
    if h.role == "kiosk":
        if h.printer:
            data["printer"] = h.printer.model_dump(exclude_defaults=True) | {"kind": h.printer.kind}
        if h.gpio:
            data["buttons"] = dict(h.gpio)
        if id_key is not None:
            data["id_hash_key_file"] = KIOSK_ID_KEY
    elif h.role == "counter":
        for section, pins in h.gpio.items():
            data[section] = dict(pins)
        if h.headless:
            data["show_screen"] = False
    _merge(data, dict(h.config))
    parse_device_config(data, h.role, f"{inv.source}: device config of {h.hostname}")
    return data


def _merge(base: dict, over: dict) -> None:
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _merge(base[k], v)
        else:
            base[k] = v


def printer_udev_rule(h: HostSpec, user: str) -> str | None:
    """A stable /dev/motcua-printer and group access for the ticket printer (USB, USB-lp or serial)."""
    p = h.printer
    if p is None or p.kind in ("network", "dummy"):
        return None
    head = [f"# Generated by motcua provision for {h.hostname}: the ticket printer of kiosk {h.id}.",
            "# The kiosk user (group lp/dialout) may use it without root; /dev/motcua-printer never moves."]
    if p.kind == "serial":
        dev = PurePosixPath(p.serial_port).name
        return "\n".join(head + [f'SUBSYSTEM=="tty", KERNEL=="{dev}", MODE="0660", GROUP="dialout", '
                                 f'SYMLINK+="motcua-printer"']) + "\n"
    if p.usb_vendor is not None and p.usb_product is not None:
        match = f'ATTRS{{idVendor}}=="{p.usb_vendor:04x}", ATTRS{{idProduct}}=="{p.usb_product:04x}"'
        usb = f'ATTR{{idVendor}}=="{p.usb_vendor:04x}", ATTR{{idProduct}}=="{p.usb_product:04x}"'
    else:   # any USB printer-class device (interface class 07)
        match = 'ATTRS{bInterfaceClass}=="07"'
        usb = 'ENV{ID_USB_INTERFACES}=="*:0701*:*"'
    return "\n".join(head + [
        f'SUBSYSTEM=="usb", ENV{{DEVTYPE}}=="usb_device", {usb}, MODE="0660", GROUP="lp", SYMLINK+="motcua-printer"',
        f'SUBSYSTEM=="usbmisc", KERNEL=="lp[0-9]*", {match}, MODE="0660", GROUP="lp", SYMLINK+="motcua-printer-lp"',
    ]) + "\n"


def boot_settings(h: HostSpec) -> tuple[str, list[str]]:
    """config.txt block and cmdline.txt parameters: KMS graphics, rotation, touch, no blanking."""
    lines = ["# >>> motcua >>>", f"# Generated by motcua provision for {h.hostname} ({h.role}).",
             "dtoverlay=vc4-kms-v3d", "max_framebuffers=2", "disable_splash=1"]
    cmdline = ["consoleblank=0"]   # the text console never blanks either
    s = h.screen
    if h.role == "server" or s is None or h.headless:
        lines.append("# no screen in use")
    else:
        conn = CONNECTOR[s.output]
        if s.output == "dsi-7inch":
            # the official 7" panel and its touch controller; the touch follows the panel's rotation
            touch = {0: "", 90: ",swapxy,invx", 180: ",invx,invy", 270: ",swapxy,invy"}[s.rotation]
            lines.append(f"dtoverlay=vc4-kms-dsi-7inch{touch}")
        else:
            lines += ["hdmi_force_hotplug=1   # keep HDMI on even if the TV is switched on after the Pi"]
        if s.touch and s.output == "usb-touch":
            lines.append("# USB touch panel: cage maps it to the output, so it turns with the picture")
        # KMS rotation: the console now; the app's output is turned by wlr-randr in motcua-session
        lines.append(f"# screen {s.width}x{s.height} on {conn}, rotation {s.rotation}: cmdline.txt video=... "
                     f"turns the console, motcua-session turns the app and its touch input (wlr-randr)")
        cmdline.append(f"video={conn}:{s.width}x{s.height}@60,rotate={s.rotation}" if s.rotation
                       else f"video={conn}:{s.width}x{s.height}@60")
    lines.append("# <<< motcua <<<")
    return "\n".join(lines) + "\n", cmdline


# --- the site ----------------------------------------------------------------------------

def provision(inv: Inventory, out: Path, *, province_dir: Path | None = None,
              release_tarball: Path | None = None, ssh_user: str = "pi") -> SiteBundle:
    env = _env()
    site, spec = inv.site, inv.spec
    site_dir = out / "sites" / site.id
    site_dir.mkdir(parents=True, exist_ok=True)
    cred_path = site_dir / "credentials.json"
    creds = broker.load_or_create_credentials(site, cred_path)
    creds.setdefault("bridge", {"username": bridge.BRIDGE_LOCAL_USER,
                                "password": secrets.token_urlsafe(24)})
    write_private(cred_path, _json(creds))

    warnings = [f"{d} has no host in the inventory (its credentials are in credentials.json)"
                for d in inv.unassigned()]
    id_key = id_hash_key(inv, site_dir, province_dir or out / "province")
    bundles = []
    for h in inv.hosts:
        b = HostBundle(h, site_dir / "hosts" / h.hostname)
        if h.role == "server":
            _server_files(env, inv, b, creds, province_dir or out / "province", cred_path, id_key)
        else:
            _device_files(env, inv, b, creds, id_key)
        b.boot_config, b.boot_cmdline = boot_settings(h)
        _common_files(env, inv, b)
        _write_host(env, inv, b, release_tarball)
        bundles.append(b)

    order = {"server": 0, "display": 1, "counter": 2, "kiosk": 3}
    addresses = [h.address or f"{h.hostname}.local" for h in sorted(inv.hosts, key=lambda h: order[h.role])]
    for name in ("update.sh", "rollback.sh"):
        text = env.get_template(name + ".j2").render(site=site.id, hosts=addresses, prefix=spec.prefix,
                                                     ssh_user=ssh_user)
        (site_dir / name).write_text(text)
        (site_dir / name).chmod(0o755)
    (site_dir / ".gitignore").write_text("*\n")   # secrets inside: never committed
    return SiteBundle(site_dir, bundles, cred_path, (province_dir or out / "province") if spec.province else None,
                      warnings)


def id_hash_key(inv: Inventory, site_dir: Path, province_dir: Path) -> bytes | None:
    """The key of the ID card hash for this site (docs/appointments.md, "The ID card key"), made
    once and then read: the province's (OUT/province/id-hash.key) when the inventory names a
    province, so a number hashes the same at each of its centres and the limits per card span
    them; else the site's own. None for a site that takes no bookings. A key file that is there but
    unusable is an IdKeyError (never replaced: a new key would orphan every booking's hash)."""
    if inv.site.bookings is None:
        return None
    return load_or_create_id_key((province_dir if inv.spec.province else site_dir) / ID_KEY_FILE)


def _json(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _device_files(env, inv: Inventory, b: HostBundle, creds: dict, id_key: bytes | None) -> None:
    h, spec = b.host, inv.spec
    owner = f"{spec.user}:{spec.user}"
    conf = device_config(inv, h, creds, id_key if h.role == "kiosk" else None)
    b.add(f"/etc/motcua/{h.role}.yaml",
          f"# Generated by motcua provision for {h.hostname}. Holds a password: mode 0600.\n"
          + yaml.safe_dump(conf, sort_keys=False, allow_unicode=True), 0o600, owner)
    if h.role == "kiosk" and id_key is not None:
        # a scanned ID card is hashed with the same key as the server's and the province's
        b.add(KIOSK_ID_KEY, key_text(id_key), 0o600, owner)
    session = not h.headless and h.screen is not None
    unit = f"motcua-{h.role}.service"
    groups = DEVICE_GROUPS[h.role]
    b.add(f"/etc/systemd/system/{unit}", env.get_template("device.service.j2").render(
        hostname=h.hostname, role=h.role, device_id=h.id, site=inv.site.id, prefix=spec.prefix, user=spec.user,
        groups=" ".join(groups), session=session, rotation=h.screen.rotation if h.screen else 0,
        after="network-online.target time-sync.target" + (" systemd-user-sessions.service getty@tty1.service"
                                                           if session else ""),
        wanted_by="graphical.target" if session else "multi-user.target"))
    b.units.append(unit)
    if session:
        b.add(f"{spec.prefix}/bin/motcua-session", env.get_template("motcua-session.sh.j2").render(
            role=h.role, prefix=spec.prefix), 0o755)
    rule = printer_udev_rule(h, spec.user)
    if rule:
        b.add("/etc/udev/rules.d/60-motcua-printer.rules", rule)


def _server_files(env, inv: Inventory, b: HostBundle, creds: dict, province_dir: Path, cred_path: Path,
                  id_key: bytes | None) -> None:
    h, spec, site = b.host, inv.spec, inv.site
    owner = f"{spec.user}:{spec.user}"
    b.add("/etc/motcua/site.yaml", yaml.safe_dump(site.model_dump(mode="json"), sort_keys=False,
                                                  allow_unicode=True))
    b.add("/etc/motcua/credentials.json", _json(creds), 0o600, owner)
    if id_key is not None:
        # where the server reads it (bookings.id_key_file in its data dir) instead of making its own
        b.add(str(PurePosixPath(SERVER_DATA_DIR) / site.bookings.id_key_file), key_text(id_key), 0o600, owner)
    unit = "motcua-server.service"
    b.add(f"/etc/systemd/system/{unit}", env.get_template("server.service.j2").render(
        hostname=h.hostname, site=site.id, prefix=spec.prefix, user=spec.user,
        broker_port=spec.broker.port, http_port=spec.http_port, data_dir=SERVER_DATA_DIR))
    b.units.append(unit)

    # the site broker: the whole mosquitto.conf (replaces Debian's), users, ACL, bridge
    mosq = "mosquitto:mosquitto"
    acl_extra = bridge.bridge_local_acl(site.id) + bridge.nearby_readers_acl(site)
    acl = broker.acl_text(site, acl_extra)
    listeners = [broker.Listener(spec.broker.port, spec.broker.bind)]
    if spec.broker.ws_port:
        listeners.append(broker.Listener(spec.broker.ws_port, spec.broker.bind, "websockets"))
    conf = broker.mosquitto_conf(listeners=listeners, password_path=Path(f"{ETC_MOSQ}/motcua/passwd"),
                                 acl_path=Path(f"{ETC_MOSQ}/motcua/acl"),
                                 persistence_dir=Path("/var/lib/mosquitto"),
                                 extra=f"max_queued_messages {bridge.BRIDGE_QUEUE}\n"
                                       f"include_dir {ETC_MOSQ}/conf.d")
    b.add(f"{ETC_MOSQ}/mosquitto.conf", conf)
    b.add(f"{ETC_MOSQ}/motcua/acl", acl, 0o600, mosq)
    # hashed by mosquitto_passwd into a scratch file, then carried as text
    tmp = b.directory.parent.parent / ".passwd.tmp"
    broker.password_file(creds, tmp)
    b.add(f"{ETC_MOSQ}/motcua/passwd", tmp.read_text(), 0o600, mosq)
    tmp.unlink()
    if spec.province:
        pcreds = bridge.load_or_create_province_credentials(province_dir / "credentials.json", [site.id])
        ps = spec.province
        bridge.write_province_broker(province_dir, pcreds, port=ps.port, etc_dir=f"{ETC_MOSQ}/motcua",
                                     tls=(ps.broker_cafile, ps.broker_certfile, ps.broker_keyfile) if ps.tls else None)
        b.add(f"{ETC_MOSQ}/conf.d/motcua-bridge.conf", bridge.bridge_conf(
            site.id, address=spec.province.host, port=spec.province.port,
            remote_password=pcreds["bridges"][site.id]["password"], local_password=creds["bridge"]["password"],
            tls_cafile=spec.province.cafile if spec.province.tls else None,
            restart_timeout=spec.province.restart_timeout), 0o600, mosq)
    else:
        b.add(f"{ETC_MOSQ}/conf.d/README", "No province bridge for this site (no inventory.province).\n")


def _common_files(env, inv: Inventory, b: HostBundle) -> None:
    h, spec = b.host, inv.spec
    setup_role = h.role
    b.add(f"{spec.prefix}/bin/motcua-release", env.get_template("motcua-release.sh.j2").render(
        hostname=h.hostname, role=h.role, device_id=h.id, site=inv.site.id, prefix=spec.prefix,
        setup_role=setup_role, source=spec.release.source or "", units=b.units, user=spec.user), 0o755)


def _write_host(env, inv: Inventory, b: HostBundle, release_tarball: Path | None) -> None:
    h, spec = b.host, inv.spec
    if b.directory.exists():
        shutil.rmtree(b.directory)
    files = b.directory / "files"
    manifest = ["# mode owner:group path (installed by firstboot.sh)"]
    for path, (text, mode, owner) in sorted(b.files.items()):
        dest = files / path.lstrip("/")
        if mode & 0o077 == 0:
            write_private(dest, text)
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text, encoding="utf-8")
        dest.chmod(mode)
        manifest.append(f"{mode:04o} {owner} {path}")
    (b.directory / "manifest.txt").write_text("\n".join(manifest) + "\n")
    boot = b.directory / "boot"
    boot.mkdir()
    (boot / "config.txt").write_text(b.boot_config)
    (boot / "cmdline.txt").write_text(" ".join(b.boot_cmdline) + "\n")
    session = h.role != "server" and not h.headless and h.screen is not None
    text = env.get_template("firstboot.sh.j2").render(
        hostname=h.hostname, role=h.role, device_id=h.id, site=inv.site.id, user=spec.user, prefix=spec.prefix,
        version=spec.release.version, setup_role=h.role, packages=PACKAGES[h.role],
        groups_list=DEVICE_GROUPS[h.role], enable=b.units, session=session)
    (b.directory / "firstboot.sh").write_text(text)
    (b.directory / "firstboot.sh").chmod(0o755)
    if release_tarball:
        shutil.copyfile(release_tarball, b.directory / "release.tar.gz")
