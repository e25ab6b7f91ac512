"""The steps to file a procedure online, written once: the server sends them in the reply to
guidance.online (queue_server.texts) and the kiosk shows the same ones when the server does not
answer (kiosk/online_filing.py), so a citizen reads one wording whichever way the steps came.

msgids are English; Vietnamese lives in protocol/locale/vi/LC_MESSAGES/messages.po.
"""
from __future__ import annotations

from motcua.i18n import Catalogue

T = Catalogue(__file__)

STEPS = (
    "Open {portal} on your phone or computer, or scan the QR code.",
    "Log in with your VNeID account (level 2) or your National Public Service Portal account.",
    "Search for the procedure \"{procedure}\" and choose \"Submit online\".",
    "Fill in the form and attach clear photos or scans of your documents.",
    "Pay the fee online if there is one, then follow your dossier on the portal; you will get a message when the result is ready.",
)
# only for a procedure the portal takes in part (online == "partial")
IN_PERSON_STEP = "Part of this procedure must be done in person: bring your original documents when the centre asks."
MSGIDS = (*STEPS, IN_PERSON_STEP)


def steps(portal_url: str, procedure_name: str, online: str, lang: str) -> list[str]:
    """The steps in `lang`, for a procedure whose portal support is `online` (full/partial/none)."""
    msgids = STEPS + ((IN_PERSON_STEP,) if online == "partial" else ())
    return [T(m, lang, portal=portal_url, procedure=procedure_name) for m in msgids]
