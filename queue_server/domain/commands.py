"""Commands that do not arrive over MQTT: managers' and citizens' actions from the web or the CLI.

MQTT commands are the protocol's own models (`protocol.messages`).
"""
from __future__ import annotations

from dataclasses import dataclass

# A manager's reason for an override (a counter serving a sector it is not trained for): it goes
# into the event log and every report that shows the change. The web API refuses a longer one and
# the dashboard's reason field takes its maxlength from here.
OVERRIDE_REASON_MAX_CHARS = 200


@dataclass(frozen=True)
class SetCounterSectors:
    counter: str
    sectors: tuple[str, ...]
    override: bool = False      # beyond the counter's `trained` list, with a reason
    reason: str | None = None
    by: str | None = None
    type: str = "counter.set_sectors"


@dataclass(frozen=True)
class SetCounterStatus:
    counter: str
    status: str                 # open | paused | closed
    by: str | None = None
    reason: str | None = None   # paused: one of protocol.messages.BREAK_REASONS ("other" when none)
    type: str = "counter.set_status"


@dataclass(frozen=True)
class SetAutoMode:
    on: bool
    by: str | None = None
    type: str = "site.set_auto"


@dataclass(frozen=True)
class CancelTicket:
    token: str
    type: str = "ticket.cancel"


@dataclass(frozen=True)
class HelpRequest:
    device: str
    kind: str = "kiosk"
    type: str = "device.help"
