"""What a clerk is told after a counter command, the citizen's four rating levels (Decision 766), the
reasons of a break and the words of a visit (several procedures on one ticket, docs/visits.md),
Vietnamese first (catalogue in locale/vi).

Shared by the counter's keypad screen (counter/) and the web counter console
(queue_server/web/console_bp.py), so both say the same words; it lives here because neither may
import the other (the import-linter contracts in pyproject.toml).
"""
from __future__ import annotations

from protocol.messages import BREAK_REASONS

from motcua.i18n import LANGS, Catalogue

T = Catalogue(__file__)

RATING_NAMES = {4: "Very satisfied", 3: "Satisfied", 2: "Neutral", 1: "Unsatisfied"}
RATING_QUESTION = "How satisfied are you with our service?"
RATING_THANKS = "Thank you for your rating"
# What the clerk is told when a command of docs/protocol.md succeeded, so a no-show never reads
# like a service done.
DONE_TEXTS = {
    "call.next": "Called {number}",
    "call.recall": "Called {number} again",
    "serve.done": "Finished {number}",
    "serve.no_show": "{number} did not come",
    "serve.transfer": "{number} transferred to {sector}",
    "counter.pause": "Counter paused",
    "counter.open": "Counter open",
    "rating.submit": "Rating saved for {number}",
    "visit.add": "{sector} added to the visit of {number}",
    "visit.drop": "{sector} dropped from the visit of {number}",
}
# serve.done of a visit with a procedure still to come: where the citizen goes next.
SENT_ON = "Finished {number}: sent on to the queue of {sector}"
CONTINUED = "Finished {number}: continuing here with {sector}"
# counter.pause: the break's reason (`reason` in docs/protocol.md)
PAUSED_FOR = "On break: {reason}"
# The one list of break reasons (protocol.messages.BREAK_REASONS) in words; the counter, the console,
# the board and the reports name a reason through this table.
BREAK_REASON_NAMES = {"lunch": "Lunch", "meeting": "Meeting", "files": "Fetching files",
                      "system_down": "System down", "other": "Other reason"}
assert set(BREAK_REASON_NAMES) == set(BREAK_REASONS), "a break reason without words"
# The clerk's choices of a visit (keypad menu and console)
CONTINUE_HERE = "Continue here"
SEND_ON = "Send on to {sector}"
ADD_PROCEDURE = "Add a procedure"
DROP_PROCEDURE = "Drop a procedure"
VISIT_TITLE = "Procedures of this visit"
# A visit's procedure, by its status (protocol VisitStep.status; a dropped one is not listed)
STEP_STATUS_NAMES = {"done": "Served", "current": "Being served", "waiting": "Still to come", "no_show": "Did not come"}
# The console's other words of issue #18 (the page's language; the keypad has its own screen texts)
CONSOLE_WORDS = {"reason": "Reason for the break", "add": "Add", "drop": "Drop", "what": "Procedure to add",
                 "whole_sector": "(any procedure)"}
MSGIDS = [*RATING_NAMES.values(), RATING_QUESTION, RATING_THANKS, *DONE_TEXTS.values(), SENT_ON, CONTINUED,
          PAUSED_FOR, *BREAK_REASON_NAMES.values(), CONTINUE_HERE, SEND_ON, ADD_PROCEDURE, DROP_PROCEDURE,
          VISIT_TITLE, *STEP_STATUS_NAMES.values(), *CONSOLE_WORDS.values()]


def break_reason(reason: str | None) -> dict[str, str] | None:
    """{"vi", "en"} naming a break's reason; None for none (an open counter)."""
    if not reason:
        return None
    return T.both(BREAK_REASON_NAMES.get(reason, BREAK_REASON_NAMES["other"]))


def done_text(command: str, number: str = "", sector: dict[str, str] | None = None, *,
              reason: str | None = None, next_sector: dict[str, str] | None = None,
              continued: bool = False) -> dict[str, str] | None:
    """{"vi": ..., "en": ...} saying what `command` did to ticket `number` (a transfer: to `sector`;
    visit.add/visit.drop: `sector` added or dropped; names per language); a pause with its `reason`;
    serve.done of a visit that goes on: to `next_sector`, here when `continued`. None for a command
    without such a text."""
    msgid = DONE_TEXTS.get(command)
    if msgid is None:
        return None
    if command == "counter.pause" and reason:
        names = break_reason(reason) or {}
        return {lang: T(PAUSED_FOR, lang, reason=names[lang]) for lang in LANGS}
    if command == "serve.done" and next_sector:
        msgid, sector = (CONTINUED if continued else SENT_ON), next_sector
    return {lang: T(msgid, lang, number=number, sector=(sector or {}).get(lang, "")) for lang in LANGS}
