"""Texts the server sends to people: announcements and error messages (the online-filing steps,
shared with the kiosk, are protocol.guidance).

The msgids are English; Vietnamese comes from locale/vi/LC_MESSAGES/messages.po.
"""
from __future__ import annotations

from motcua.i18n import Catalogue

T = Catalogue(__file__)


def announce(number: str, counter_number: str | None, counter_label: dict[str, str], *, step: int | None = None,
             steps: int | None = None, sector_name: dict[str, str] | None = None) -> dict[str, str]:
    """What a call says, in words: the counter by its spoken number (Counter.spoken_number, the
    rule the displays' voice follows), or by its name when it has none; for a later procedure of
    a visit, where it stands, as the board and the voice say it (docs/visits.md)."""
    if counter_number is not None:
        said = T.both("Ticket number {number}, please come to counter {counter}", number=number, counter=counter_number)
    else:
        said = {lang: T("Ticket number {number}, please come to {counter_name}", lang, number=number,
                        counter_name=counter_label[lang]) for lang in ("vi", "en")}
    if step and steps and steps > 1:
        for lang in said:
            said[lang] += T(", procedure {step} of {steps}", lang, step=step, steps=steps)
            if sector_name and sector_name.get(lang):
                said[lang] += ", " + sector_name[lang]
    return said


def error_message(msgid: str, lang: str = "vi") -> str:
    return T(msgid, lang)
