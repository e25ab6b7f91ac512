"""The bridge from a site broker to the province broker, and the province broker's own files.

Out (site -> province): `events/log` at QoS 1. The local side of the bridge keeps a
persistent session (`cleansession false`), so while the uplink is down the site broker
queues every event for the province, up to `max_queued_messages`, and sends them when it
returns. `board` and `sector/+/stats` go out at QoS 1 too, queued the same way, but on a
second bridge connection with its own queue: the event log is the lossless part (the
province rebuilds the day from it), and a long outage's pile of superseded boards must
never crowd an event out of its queue.

In (province -> site): `motcua/v1/province/nearby/{site}/+`, so a kiosk reads the nearby
sites with shorter waits on its own site broker (additions to docs/protocol.md).

Booking at another centre (issue #16, docs/protocol.md): the province's booking commands come
in on `province/booking/{site}/cmd` and the replies go out on `.../reply`, on the event log's
connection, whose state the province reads as `{site}/bridge/state` (the bridge's notification,
sent to the province broker too, with a will of "0" there); `server/status` goes out with them,
so the province knows the server behind the bridge is up. The retained `bookings/offer` goes
out with the snapshots.
"""
from __future__ import annotations

import json
import secrets
from pathlib import Path

from firmware_config import broker
from motcua.files import write_private
from protocol.messages import BRIDGE_MAX_PACKET
from protocol.topics import ProvinceTopics, Topics

BRIDGE_LOCAL_USER = "bridge"          # the bridge's user on the site broker
PROVINCE_USER = "province"            # the provincial service's user on the province broker
# Enough for several days of one busy site's events while the uplink is down
# (a 30-counter site logs about 6,000 events a day); the broker default is 1,000.
BRIDGE_QUEUE = 100_000


def province_bridge_user(site: str) -> str:
    return f"bridge-{site}"


def bridge_local_acl(site: str) -> list[tuple[str, str]]:
    """ACL entries on the site broker: what the bridge may read/write, who may read `nearby`."""
    t, p = Topics(site), ProvinceTopics()
    rules = [(BRIDGE_LOCAL_USER, "\n".join([f"topic read {t.events_log}", f"topic read {t.board}",
                                            f"topic read {t.all_sector_stats}",
                                            f"topic write {p.nearby_site(site)}",
                                            f"topic read {t.server_status}", f"topic read {t.booking_offer}",
                                            # only the bridge writes the province's booking commands here
                                            f"topic write {p.booking_cmd(site)}",
                                            f"topic read {p.booking_reply(site)}"])),
             (broker.SERVER_USER, f"topic read {p.booking_cmd(site)}\ntopic write {p.booking_reply(site)}")]
    return rules


def nearby_readers_acl(site) -> list[tuple[str, str]]:
    """Kiosks, displays and the server read the province's nearby-sites advice for their site."""
    p = ProvinceTopics()
    users = [broker.SERVER_USER] + [broker.username("kiosk", k) for k in site.devices.kiosks] + \
            [broker.username("display", d) for d in site.devices.displays]
    return [(u, f"topic read {p.nearby_site(site.id)}") for u in users]


def bridge_conf(site: str, *, address: str, port: int, remote_password: str, local_password: str,
                tls_cafile: str | None = None, restart_timeout: tuple[int, int] = (2, 15)) -> str:
    """Two bridge connections, each a persistent session with its own queue on the site broker:
    the event log (the lossless part) and the snapshots (board, sector stats). A long outage that
    fills the snapshot queue can never push an event out of the event log's queue."""
    t, p = Topics(site), ProvinceTopics()

    def connection(name: str, client: str, topics: list[str], notify_remote: str | None = None) -> list[str]:
        lines = [
            f"connection {name}",
            f"address {address}:{port}",
            "bridge_protocol_version mqttv311",
            f"remote_clientid {client}",
            f"remote_username {province_bridge_user(site)}",
            f"remote_password {remote_password}",
            f"local_clientid {client}-local",
            f"local_username {BRIDGE_LOCAL_USER}",
            f"local_password {local_password}",
            # Persistent sessions on both sides: nothing is dropped while the link is down.
            "cleansession false",
            "local_cleansession false",
            "start_type automatic",
            f"restart_timeout {restart_timeout[0]} {restart_timeout[1]}",
            "keepalive_interval 30",
            "try_private true",
            "notifications true",
            *([f"notification_topic {notify_remote}", "notifications_local_only false"] if notify_remote
              else ["notifications_local_only true"]),
            f"bridge_max_packet_size {BRIDGE_MAX_PACKET}",
            *topics,
        ]
        if tls_cafile:
            lines += [f"bridge_cafile {tls_cafile}", "bridge_insecure false"]
        return lines

    lines = ["# Generated by motcua provision: bridge of this site to the province broker."]
    lines += connection(f"motcua-province-{site}", f"motcua-bridge-{site}", [
        "# out: the lossless event log (QoS 1, queued while the link is down)",
        f"topic {t.events_log} out 1",
        "# in: the province's advice for this site's kiosks",
        f"topic {p.nearby_site(site)} in 1",
        "# booking at another centre: the province's commands in, the replies and the server's status out",
        f"topic {p.booking_cmd(site)} in 1",
        f"topic {p.booking_reply(site)} out 1",
        f"topic {t.server_status} out 1",
    ], notify_remote=t.bridge_state)
    lines += [""] + connection(f"motcua-province-{site}-snapshots", f"motcua-bridge-{site}-snapshots", [
        "# out: snapshots (QoS 1, queued while the link is down, in their own queue)",
        f"topic {t.board} out 1",
        f"topic {t.all_sector_stats} out 1",
        f"topic {t.booking_offer} out 1",
    ])
    return "\n".join(lines) + "\n"


def load_or_create_province_credentials(path: Path, sites: list[str] = ()) -> dict:
    """`{"province": {username, password}, "bridges": {site: {username, password}}}`; keeps old ones."""
    creds = json.loads(path.read_text()) if path.exists() else {}
    creds.setdefault("province", {"username": PROVINCE_USER, "password": secrets.token_urlsafe(24)})
    bridges = creds.setdefault("bridges", {})
    for site in sites:
        bridges.setdefault(site, {"username": province_bridge_user(site), "password": secrets.token_urlsafe(24)})
    write_private(path, json.dumps(creds, indent=2) + "\n")
    return creds


def province_acl(creds: dict) -> str:
    p = ProvinceTopics()
    lines = ["# Generated by motcua provision: the province broker's ACL.", "",
             f"user {creds['province']['username']}",
             f"topic read {p.all_events_log}", f"topic read {p.all_boards}", f"topic read {p.all_sector_stats}",
             f"topic read {p.all_booking_offers}", f"topic read {p.all_server_status}",
             f"topic read {p.all_bridge_states}",
             f"topic readwrite {p.root}/#", ""]
    for site, user in sorted(creds.get("bridges", {}).items()):
        t = Topics(site)
        lines += [f"user {user['username']}", f"topic write {t.events_log}", f"topic write {t.board}",
                  f"topic write {t.all_sector_stats}", f"topic read {p.nearby_site(site)}",
                  f"topic write {t.server_status}", f"topic write {t.bridge_state}", f"topic write {t.booking_offer}",
                  f"topic read {p.booking_cmd(site)}", f"topic write {p.booking_reply(site)}", ""]
    return "\n".join(lines)


def province_password_file(creds: dict, path: Path) -> None:
    users = {"server": creds["province"]}   # broker.password_file takes the "server" entry first
    for site, user in sorted(creds.get("bridges", {}).items()):
        users[f"bridge:{site}"] = user
    broker.password_file(users, path)


def write_province_broker(directory: Path, creds: dict, *, port: int = 1883, bind: str = "0.0.0.0",
                          etc_dir: str | None = None, persistence_dir: str = "/var/lib/mosquitto",
                          tls: tuple[str, str, str] | None = None) -> dict[str, Path]:
    """mosquitto.conf, passwd and acl of the province broker. Paths inside the conf point at
    `etc_dir` (where the files will live on the province host; default: `directory` itself)."""
    directory.mkdir(parents=True, exist_ok=True)
    etc = Path(etc_dir) if etc_dir else directory
    passwd, acl = directory / "passwd", directory / "acl"
    province_password_file(creds, passwd)
    write_private(acl, province_acl(creds))
    listener = broker.Listener(port, bind, cafile=tls[0] if tls else None, certfile=tls[1] if tls else None,
                               keyfile=tls[2] if tls else None)
    conf = broker.mosquitto_conf(listeners=[listener], password_path=etc / "passwd", acl_path=etc / "acl",
                                 persistence_dir=Path(persistence_dir),
                                 # a day of 60 sites' events for a consumer that is down
                                 extra="max_queued_messages 1000000\nmax_inflight_messages 1000")
    path = directory / "mosquitto.conf"
    path.write_text(conf)
    (directory / ".gitignore").write_text("*\n")   # passwords inside: never committed
    return {"conf": path, "passwd": passwd, "acl": acl}
