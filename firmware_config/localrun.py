"""Run generated broker files on this machine, unchanged but for where they live.

A host bundle holds its files at their place under `files/` (e.g. `files/etc/mosquitto/...`).
`relocate_conf` rewrites the absolute paths in a generated mosquitto.conf to point into a
folder, so tests and the scale bench run the very config a site server would run.
"""
from __future__ import annotations

import os
import pwd
import re
from pathlib import Path

PATH_OPTIONS = ("password_file", "acl_file", "persistence_location", "include_dir", "cafile", "certfile",
                "keyfile", "bridge_cafile")


def relocate_conf(text: str, root: Path, persistence: Path | None = None) -> str:
    """Every absolute path option in `text` -> the same path under `root`.

    Run as root, mosquitto would drop to the `mosquitto` user and could not read the 0600 files
    of a temp dir; here it keeps the user that starts it (on a site server the files are owned
    by mosquitto, see the manifest)."""
    out = [f"user {pwd.getpwuid(os.geteuid()).pw_name}"]
    for line in text.splitlines():
        m = re.match(r"^(\w+)\s+(/\S*)$", line)
        if m and m.group(1) in PATH_OPTIONS:
            key, path = m.groups()
            if key == "persistence_location" and persistence is not None:
                persistence.mkdir(parents=True, exist_ok=True)
                line = f"{key} {persistence}/"
            else:
                line = f"{key} {root}{path}"
        out.append(line)
    return "\n".join(out) + "\n"


def site_broker_conf(host_dir: Path, persistence: Path | None = None) -> str:
    """The generated site mosquitto.conf of a server host bundle, relocated into the bundle."""
    files = host_dir / "files"
    conf = (files / "etc/mosquitto/mosquitto.conf").read_text()
    return relocate_conf(conf, files, persistence or host_dir / "persist")


def province_broker_conf(province_dir: Path, etc_dir: str = "/etc/mosquitto/motcua",
                         persistence: Path | None = None) -> str:
    """The generated province mosquitto.conf with its files read from `province_dir`."""
    persistence = persistence or province_dir / "persist"
    persistence.mkdir(parents=True, exist_ok=True)
    text = (province_dir / "mosquitto.conf").read_text().replace(etc_dir + "/", str(province_dir) + "/")
    text = f"user {pwd.getpwuid(os.geteuid()).pw_name}\n" + text
    return re.sub(r"(?m)^persistence_location .*$", f"persistence_location {persistence}/", text)


def local_inventory_data(data: dict, *, broker_port: int, province_port: int | None, site_id: str | None = None,
                         prefix: str | None = None) -> dict:
    """A copy of an inventory (dict) re-pointed at loopback ports, for tests and the bench."""
    import copy
    d = copy.deepcopy(data)
    if site_id:
        d["site"]["id"] = site_id
    inv = d["inventory"]
    inv["broker"] = {"host": "127.0.0.1", "port": broker_port, "ws_port": None, "bind": "127.0.0.1"}
    if province_port is None:
        inv.pop("province", None)
    else:
        inv["province"] = {"host": "127.0.0.1", "port": province_port, "tls": False, "restart_timeout": [1, 5]}
    if prefix:
        inv["prefix"] = prefix
    return d
