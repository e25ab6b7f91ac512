"""The key of the ID card hash (protocol/cccd.id_hash) as a file: one format for everyone who holds
it (docs/appointments.md, "The ID card key").

The file holds the key as hex digits (at least cccd.MIN_KEY_BYTES bytes) and a newline, readable by
its owner only. `motcua provision` makes it once (the province's when the inventory names a
province, so a number hashes the same at every centre of it, else the site's) and copies it to the
site server's data directory and to each kiosk; a site server started without one (`motcua up`,
a demo) makes its own at its first start. The key is never logged and never in the repository.
"""
from __future__ import annotations

import secrets
from pathlib import Path

from motcua.files import write_private
from protocol.cccd import MIN_KEY_BYTES


class IdKeyError(ValueError):
    """A key file that cannot be used; the message names the file, never the key."""


def key_text(key: bytes) -> str:
    """What the key file holds."""
    return key.hex() + "\n"


def new_key() -> bytes:
    return secrets.token_bytes(MIN_KEY_BYTES)


def read_id_key(path: str | Path) -> bytes:
    """The key in `path`; IdKeyError if it is missing, not hex or too short."""
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise IdKeyError(f"{path}: no ID hash key file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise IdKeyError(f"{path}: the ID hash key file cannot be read ({type(err).__name__})") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise IdKeyError(f"{path}: the ID hash key must be hex digits") from None
    if len(key) < MIN_KEY_BYTES:
        raise IdKeyError(f"{path}: the ID hash key must be at least {MIN_KEY_BYTES} bytes "
                         f"({2 * MIN_KEY_BYTES} hex digits)")
    return key


def load_or_create_id_key(path: str | Path) -> bytes:
    """The key in `path`, made there (owner-only) if there is no file yet; a file that is there
    but unusable is an IdKeyError, never replaced (a new key would orphan every booking's hash)."""
    path = Path(path)
    if not path.exists():
        write_private(path, key_text(new_key()))
    return read_id_key(path)
