"""What a clerk is told after a counter command, and the citizen's four rating levels (Decision 766),
Vietnamese first (catalogue in locale/vi).

Shared by the counter's keypad screen (counter/) and the web counter console
(queue_server/web/console_bp.py), so both say the same words; it lives here because neither may
import the other (the import-linter contracts in pyproject.toml).
"""
from __future__ import annotations

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
}
MSGIDS = [*RATING_NAMES.values(), RATING_QUESTION, RATING_THANKS, *DONE_TEXTS.values()]


def done_text(command: str, number: str = "", sector: dict[str, str] | None = None) -> dict[str, str] | None:
    """{"vi": ..., "en": ...} saying what `command` did to ticket `number` (a transfer: to `sector`,
    its name per language); None for a command without such a text."""
    msgid = DONE_TEXTS.get(command)
    if msgid is None:
        return None
    return {lang: T(msgid, lang, number=number, sector=(sector or {}).get(lang, "")) for lang in LANGS}
