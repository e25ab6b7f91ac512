"""`motcua provision SITE.yaml --out DIR`: every file of every device of a site, from its inventory."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inventory", type=Path, help="site inventory YAML (site config + inventory: section)")
    parser.add_argument("--out", type=Path, required=True,
                        help="output folder (holds passwords: keep it out of git, e.g. outside the checkout)")
    parser.add_argument("--province-dir", type=Path, default=None,
                        help="province broker files shared by all sites (default OUT/province)")
    parser.add_argument("--release", type=Path, default=None,
                        help="a motcua source tarball to bundle for first boot (else release.source is cloned)")
    parser.add_argument("--ssh-user", default="pi", help="user update.sh/rollback.sh log in as (default pi)")


def run(args: argparse.Namespace) -> int:
    from firmware_config.device_config import DeviceConfigError
    from firmware_config.inventory import InventoryError, load_inventory
    from firmware_config.provision import provision
    from motcua.id_key import IdKeyError
    try:
        inv = load_inventory(args.inventory)
        if args.release and not args.release.is_file():
            raise InventoryError(f"--release {args.release}: no such file")
        bundle = provision(inv, args.out, province_dir=args.province_dir, release_tarball=args.release,
                           ssh_user=args.ssh_user)
    except (InventoryError, DeviceConfigError, IdKeyError) as exc:
        print(f"motcua provision: {exc}", file=sys.stderr)
        return 2
    for w in bundle.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"site {inv.site.id}: {len(bundle.hosts)} hosts in {bundle.directory}")
    for b in bundle.hosts:
        what = b.host.role + (f" {b.host.id}" if b.host.id else "")
        print(f"  {b.host.hostname:<20} {what:<14} copy {b.directory} to the SD card's boot partition as motcua/")
    if bundle.province_dir:
        print(f"province broker files: {bundle.province_dir}")
    print(f"passwords: {bundle.credentials} (mode 0600; never commit {args.out})")
    return 0
