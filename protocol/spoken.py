"""How a counter is named aloud: the one rule the server's announcement text and the displays'
voice (motcua/speech.py, the browser display's announce.wav) both follow, so what a citizen
reads on the board and hears in the hall name the same counter.

A counter named with a number ("Quầy 05", "Counter 12", "q7") is called by that number, read
as a number: "Quầy 05" is "quầy số 5" (năm), not "không năm". A counter whose name has no
number ("Bàn A") is called by its name.
"""
from __future__ import annotations

import re

_TRAILING = re.compile(r"(\d+)\s*$")
_ANY = re.compile(r"(\d+)")


def counter_number(label: str | None, counter_id: str | None = None) -> str | None:
    """"Quầy 05" -> "5"; "Quầy 12" -> "12"; no number in the label: the id's ("q7" -> "7"); else None.

    The label's trailing number wins ("Quầy 5" ), then its first ("Quầy 5 (tầng 2)" -> "5")."""
    for text in (label, counter_id):
        if text:
            m = _TRAILING.search(str(text)) or _ANY.search(str(text))
            if m:
                return str(int(m.group(1)))
    return None
