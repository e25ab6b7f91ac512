"""Ticket numbers: the sector's prefix letter, then the day's number in that sector.

One definition for everything that makes or reads a number: the domain issues them
(`queue_server/domain/core.py`), the contract validates them (`protocol/messages.py`,
`call.number`), the browser display checks the one it is asked to speak
(`queue_server/web/display_bp.py`).

The number restarts at 1 each day and is at least three digits ("A001", "A023");
a sector may issue up to MAX_PER_DAY tickets a day, so a busy day reaches four digits
("A1000" .. "A9999"). After that the sector issues no more tickets until tomorrow.
"""
from __future__ import annotations

import re

MAX_PER_DAY = 9999
MIN_DIGITS = 3
MAX_DIGITS = len(str(MAX_PER_DAY))
PREFIX_PATTERN = r"^[A-Z]$"      # a sector's prefix (site config): one capital letter
PATTERN = rf"^[A-Z][0-9]{{{MIN_DIGITS},{MAX_DIGITS}}}$"
_RE = re.compile(PATTERN)


def format_number(prefix: str, n: int) -> str:
    """("A", 23) -> "A023". ValueError for a prefix that is not one capital letter or n outside 1..MAX_PER_DAY."""
    if not (len(prefix) == 1 and "A" <= prefix <= "Z"):
        raise ValueError(f"a ticket prefix is one capital letter A-Z, not {prefix!r}")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_PER_DAY:
        raise ValueError(f"a ticket's number in its sector is 1..{MAX_PER_DAY}, not {n!r}")
    return f"{prefix}{n:0{MIN_DIGITS}d}"


def is_number(text: object) -> bool:
    """Whether `text` is written as a ticket number (the contract's pattern; no range check)."""
    return isinstance(text, str) and _RE.match(text) is not None


def parse_number(text: str) -> tuple[str, int]:
    """"A023" -> ("A", 23); ValueError for anything format_number cannot have made."""
    if not is_number(text) or (len(text) - 1 > MIN_DIGITS and text[1] == "0"):
        raise ValueError(f"not a ticket number: {str(text)[:20]!r}")
    prefix, n = text[0], int(text[1:])
    if n < 1:
        raise ValueError(f"not a ticket number: {text!r}")
    return prefix, n


def number_of(ticket_id: str | None) -> str:
    """"20261125-A023" -> "A023": a ticket's id is its day, a dash, then its number
    (queue_server/domain/core.py makes it); the keypad and the web console both read it so."""
    return str(ticket_id or "").rsplit("-", 1)[-1]
