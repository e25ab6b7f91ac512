"""`motcua protocol schema [--out DIR]`: JSON Schemas of every command and outgoing message."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from protocol.schema import all_schemas


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("what", choices=["schema"], help="what to print")
    p.add_argument("--out", help="write one <name>.schema.json per message into this directory")


def run(args: argparse.Namespace) -> int:
    schemas = all_schemas()
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name, schema in schemas.items():
            (out / f"{name}.schema.json").write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {len(schemas)} schemas to {out}")
    else:
        print(json.dumps(schemas, indent=2, ensure_ascii=False))
    return 0
