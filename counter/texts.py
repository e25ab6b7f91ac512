"""Every word the counter terminal shows the clerk, Vietnamese first (catalogue in locale/vi)."""
from __future__ import annotations

from motcua.i18n import LANGS, Catalogue

T = Catalogue(__file__)

KEY_NAMES = {"next": "Next", "recall": "Recall", "done": "Done", "no_show": "No-show",
             "transfer": "Transfer", "pause": "Pause"}
STATUS_NAMES = {"open": "Open", "serving": "Serving", "paused": "Paused", "closed": "Closed"}
RATING_NAMES = {4: "Very satisfied", 3: "Satisfied", 2: "Neutral", 1: "Unsatisfied"}
RATING_QUESTION = "How satisfied are you with our service?"
RATING_THANKS = "Thank you for your rating"
# What the clerk is told when a command of docs/protocol.md succeeded: the keypad's screen and the web
# console both say it from here, so a no-show never reads like a service done.
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
# error codes of docs/protocol.md in the clerk's words
ERROR_TEXTS = {
    "queue_empty": "No one is waiting for this counter",
    "no_current_ticket": "No ticket is being served",
    "counter_closed": "The counter is closed: press Pause to open it",
    "not_allowed": "Not allowed here",
    "unknown_sector": "Unknown sector",
    "not_found": "Ticket not found",
    "bad_request": "The server refused the command",
    "rate_limited": "Too many presses: wait a moment",
    "internal": "Server error: try again",
    "timeout": "The server does not answer: check the network and try again",
}
MSGIDS = [*KEY_NAMES.values(), *STATUS_NAMES.values(), *RATING_NAMES.values(), *ERROR_TEXTS.values(),
          "Open counter", "Now serving", "Nobody is being served", "Waiting", "Served today: {n}",
          "Transfer {number} to which sector?", "Next / Recall: choose · Transfer: confirm · Pause: cancel",
          *DONE_TEXTS.values(), RATING_QUESTION, "Transfer cancelled",
          "Sending…", "Please wait: the previous command is still being sent", "Connection lost",
          RATING_THANKS, "This ticket has already been rated", "Nothing to rate yet", "Error: {message}",
          "Waiting for the server",
          "No other sector to transfer to", "Priority"]


def done_text(command: str, number: str = "", sector: dict[str, str] | None = None) -> dict[str, str] | None:
    """{"vi": ..., "en": ...} saying what `command` did to ticket `number` (a transfer: to `sector`,
    its name per language); None for a command without such a text."""
    msgid = DONE_TEXTS.get(command)
    if msgid is None:
        return None
    return {lang: T(msgid, lang, number=number, sector=(sector or {}).get(lang, "")) for lang in LANGS}
