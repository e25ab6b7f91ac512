"""Texts the server sends to people: announcements, online-filing steps, error messages.

The msgids are English; Vietnamese comes from locale/vi/LC_MESSAGES/messages.po.
"""
from __future__ import annotations

from motcua.i18n import Catalogue

T = Catalogue(__file__)


def announce(number: str, counter_number: str | None, counter_label: dict[str, str]) -> dict[str, str]:
    """What a call says, in words: the counter by its spoken number (Counter.spoken_number, the
    rule the displays' voice follows), or by its name when it has none."""
    if counter_number is not None:
        return T.both("Ticket number {number}, please come to counter {counter}", number=number, counter=counter_number)
    return {lang: T("Ticket number {number}, please come to {counter_name}", lang, number=number,
                    counter_name=counter_label[lang]) for lang in ("vi", "en")}


def guidance_steps(portal_url: str, procedure_name: str, online: str, lang: str) -> list[str]:
    steps = [
        T("Open {portal} on your phone or computer, or scan the QR code.", lang, portal=portal_url),
        T("Log in with your VNeID account (level 2) or your National Public Service Portal account.", lang),
        T("Search for the procedure \"{procedure}\" and choose \"Submit online\".", lang, procedure=procedure_name),
        T("Fill in the form and attach clear photos or scans of your documents.", lang),
        T("Pay the fee online if there is one, then follow your dossier on the portal; you will get a message when the result is ready.", lang),
    ]
    if online == "partial":
        steps.append(T("Part of this procedure must be done in person: bring your original documents when the centre asks.", lang))
    return steps


def error_message(msgid: str, lang: str = "vi") -> str:
    return T(msgid, lang)
