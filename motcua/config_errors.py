"""How a config file's validation error names the field: `counters[2].sectors` (pydantic's `loc`)."""
from __future__ import annotations

from typing import Any


def format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
