"""Every word the counter terminal shows the clerk, Vietnamese first (catalogue in locale/vi).
What a command did and the rating levels are shared with the web console: motcua/clerk_texts."""
from __future__ import annotations

from motcua.i18n import Catalogue

T = Catalogue(__file__)

KEY_NAMES = {"next": "Next", "recall": "Recall", "done": "Done", "no_show": "No-show",
             "transfer": "Transfer", "pause": "Pause"}
STATUS_NAMES = {"open": "Open", "serving": "Serving", "paused": "Paused", "closed": "Closed"}
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
MSGIDS = [*KEY_NAMES.values(), *STATUS_NAMES.values(), *ERROR_TEXTS.values(),
          "Open counter", "Now serving", "Nobody is being served", "Waiting", "Served today: {n}",
          "Transfer {number} to which sector?", "Next / Recall: choose · Transfer: confirm · Pause: cancel",
          "Transfer cancelled",
          "Sending…", "Please wait: the previous command is still being sent", "Connection lost",
          "This ticket has already been rated", "Nothing to rate yet", "Error: {message}",
          "Waiting for the server",
          "No other sector to transfer to", "Priority",
          # choice lists of a visit and a break (counter/model.py)
          "Next / Recall: choose · Done: confirm · Pause: cancel", "Cancelled", "Why is the counter pausing?",
          "Add which sector's procedure to the visit of {number}?", "Drop which procedure from the visit of {number}?",
          "Add which procedure of {sector} to the visit of {number}?",
          "{number} is done here. What next?"]

