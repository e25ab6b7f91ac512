"""The counter terminal's view-model: keys in, commands out, what the screen says.

No Kivy and no gpiozero here (docs/architecture.md rule 5): the keypad, the rating pad and
the status screen all go through this object, and the unit tests drive it
with plain calls. It never talks to the broker; `CounterTerminal` sends the
actions it returns and hands the replies back. Every payload is read through its model in
protocol/messages.py (the one the server builds it through); a refused one is logged and ignored.

Transfer without a mouse: Transfer opens a list of sectors on the screen;
Next / Recall move the choice down / up, Transfer (or Done) confirms, Pause
(or No-show) cancels; the list closes by itself after TRANSFER_TIMEOUT_S.
"""
from __future__ import annotations

import logging
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable

from counter.texts import ERROR_TEXTS, KEY_NAMES, STATUS_NAMES, T
from motcua.clerk_texts import RATING_NAMES, done_text
from protocol.messages import Board, CounterServing, CounterState, ErrorBody, Reply, ReplyResult, parse
from protocol.ticket_number import number_of

log = logging.getLogger(__name__)

KEYS = ("next", "recall", "done", "no_show", "transfer", "pause")
TRANSFER_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Action:
    """One command to send: `type` and `fields` of docs/protocol.md, plus what the reply message needs."""
    type: str
    fields: dict[str, Any] = field(default_factory=dict)
    number: str | None = None        # the ticket concerned, for the message after the reply
    sector_name: str | None = None   # for a transfer's message


@dataclass(frozen=True)
class Message:
    level: str       # info | ok | error
    vi: str
    en: str


@dataclass
class TransferChoice:
    number: str
    options: list[str]       # sector ids
    index: int
    opened_at: float


def _nfc(v: Any) -> str:
    return unicodedata.normalize("NFC", str(v)) if v is not None else ""


@dataclass
class CounterView:
    counter_id: str
    clock: Callable[[], float] = time.monotonic
    state: CounterState | None = None
    sector_names: dict[str, dict[str, str]] = field(default_factory=dict)
    site_sectors: list[str] = field(default_factory=list)
    connected: bool = False
    busy: bool = False
    message: Message | None = None
    transfer: TransferChoice | None = None
    rated: set[str] = field(default_factory=set)
    listeners: list[Callable[[], None]] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    # --- inputs from the broker ----------------------------------------------

    def apply_state(self, payload: bytes | str | dict) -> bool:
        data = parse(CounterState, payload)
        if data is None:
            return False
        if data.counter != self.counter_id:
            log.warning("ignored another counter's state")
            return False
        with self._lock:
            self.state = data
            if self.transfer and not self.serving:
                self.transfer = None   # the ticket left (done elsewhere, e.g. the web console)
        self._changed()
        return True

    def apply_board(self, payload: bytes | str | dict) -> bool:
        """The board only gives sector names and the site's sector list (for transfers)."""
        data = parse(Board, payload)
        if data is None:
            return False
        names, order = {}, []
        for s in data.sectors:
            n = s.name
            names[s.id] = {"vi": _nfc((n and n.vi) or s.id), "en": _nfc((n and (n.en or n.vi)) or s.id)}
            order.append(s.id)
        with self._lock:
            self.sector_names, self.site_sectors = names, order
        self._changed()
        return True

    def set_connected(self, up: bool) -> None:
        with self._lock:
            self.connected = up
        self._changed()

    # --- derived ---------------------------------------------------------------

    @property
    def status(self) -> str:
        return self.state.status if self.state else "closed"

    @property
    def serving(self) -> CounterServing | None:
        s = self.state.serving if self.state else None
        return s if s and s.number else None

    def sector_name(self, sector: str | None, lang: str = "vi") -> str:
        return self.sector_names.get(sector or "", {}).get(lang) or _nfc(sector or "")

    def transfer_options(self) -> list[str]:
        """Every other sector of the site: this counter's own first, then those it is trained for, then the rest."""
        st = self.state
        current = self.serving.sector if self.serving else None
        ordered: list[str] = []
        for group in (st.sectors if st else [], st.trained if st else [], self.site_sectors):
            for s in group:
                if s != current and s not in ordered:
                    ordered.append(s)
        return ordered

    # --- keys -----------------------------------------------------------------

    def press(self, key: str) -> Action | None:
        """A keypad key; returns the command to send, or None (the screen explains why)."""
        if key not in KEYS:
            return None
        with self._lock:
            self._expire_transfer()
            if self.transfer is not None:
                action = self._press_in_transfer(key)
            elif self.busy:
                self._say("info", "Please wait: the previous command is still being sent")
                action = None
            else:
                action = self._press_normal(key)
        self._changed()
        return action

    def _press_normal(self, key: str) -> Action | None:
        serving = self.serving
        number = serving.number if serving else None
        if key == "next":
            return Action("call.next")
        if key == "pause":
            return Action("counter.open") if self.status in ("paused", "closed") else Action("counter.pause")
        if serving is None:
            self._say("error", ERROR_TEXTS["no_current_ticket"])
            return None
        if key == "recall":
            return Action("call.recall", number=number)
        if key == "done":
            return Action("serve.done", number=number)
        if key == "no_show":
            return Action("serve.no_show", number=number)
        # transfer: open the sector list
        options = self.transfer_options()
        if not options:
            self._say("error", "No other sector to transfer to")
            return None
        self.transfer = TransferChoice(number=number, options=options, index=0, opened_at=self.clock())
        self.message = None
        return None

    def _press_in_transfer(self, key: str) -> Action | None:
        tr = self.transfer
        assert tr is not None
        tr.opened_at = self.clock()   # any key keeps the list open
        if key == "next":
            tr.index = (tr.index + 1) % len(tr.options)
            return None
        if key == "recall":
            tr.index = (tr.index - 1) % len(tr.options)
            return None
        if key in ("pause", "no_show"):
            self.transfer = None
            self._say("info", "Transfer cancelled")
            return None
        # transfer or done: confirm
        sector = tr.options[tr.index]
        self.transfer = None
        if self.busy:
            self._say("info", "Please wait: the previous command is still being sent")
            return None
        return Action("serve.transfer", {"to_sector": sector}, number=tr.number,
                      sector_name=self.sector_name(sector, "vi"))

    def _expire_transfer(self) -> None:
        if self.transfer and self.clock() - self.transfer.opened_at > TRANSFER_TIMEOUT_S:
            self.transfer = None

    def tick(self) -> None:
        """Called about once a second by the screen: closes a forgotten transfer list."""
        with self._lock:
            had = self.transfer is not None
            self._expire_transfer()
            changed = had and self.transfer is None
        if changed:
            self._changed()

    # --- rating pad -------------------------------------------------------------

    def rate(self, score: int) -> Action | None:
        """A satisfaction button: rates the ticket served last at this counter, once per ticket."""
        if score not in RATING_NAMES:
            return None
        with self._lock:
            ticket = self.state.last_served if self.state else None
            if not ticket:
                self._say("info", "Nothing to rate yet")
                action = None
            elif ticket in self.rated:
                self._say("info", "This ticket has already been rated")
                action = None
            else:
                self.rated.add(ticket)
                action = Action("rating.submit", {"ticket_id": ticket, "score": score}, number=number_of(ticket))
        self._changed()
        return action

    # --- sending and replies ------------------------------------------------------

    def sending(self, action: Action) -> None:
        if action.type == "rating.submit":
            return   # the citizen's pad never blocks the clerk's keys
        with self._lock:
            self.busy = True
            self._say("info", "Sending…")
        self._changed()

    def on_reply(self, action: Action, reply: bytes | str | dict[str, Any] | None) -> None:
        """`reply` None means no answer before the deadline (server or network down)."""
        parsed = None if reply is None else parse(Reply, reply)
        with self._lock:
            if action.type != "rating.submit":
                self.busy = False
            if parsed is None:
                # no answer, or one the contract refuses (logged by parse): either way the command's
                # outcome is unknown, so the citizen may rate again
                if action.type == "rating.submit":
                    self.rated.discard(action.fields.get("ticket_id"))   # let the citizen try again
                self._say("error", ERROR_TEXTS["timeout" if reply is None else "internal"])
            elif parsed.ok:
                self._say_ok(action, parsed.result or ReplyResult())
            else:
                self._say_error(action, parsed.error or ErrorBody(code="internal", message="internal"))
        self._changed()

    def _say_ok(self, action: Action, result: ReplyResult) -> None:
        ticket_number = result.ticket.number if result.ticket else None
        if action.type in ("serve.no_show", "serve.transfer", "rating.submit"):
            number = action.number or ticket_number or ""
        else:
            number = ticket_number or action.number or ""
        to = action.fields.get("to_sector")
        text = done_text(action.type, number, {lang: self.sector_name(to, lang) for lang in ("vi", "en")})
        if text is not None:
            self.message = Message("ok", text["vi"], text["en"])

    def _say_error(self, action: Action, error: ErrorBody) -> None:
        code = error.code or "internal"
        text = error.message or code
        if action.type == "rating.submit" and (code == "not_allowed" and "already" in text.lower()):
            self._say("error", "This ticket has already been rated")
        elif code in ERROR_TEXTS:
            self._say("error", ERROR_TEXTS[code])
        else:
            vi = error.message_vi or text
            self.message = Message("error", T("Error: {message}", "vi", message=vi),
                                   T("Error: {message}", "en", message=text))

    def _say(self, level: str, msgid: str, **params: Any) -> None:
        self.message = Message(level, T(msgid, "vi", **params), T(msgid, "en", **params))

    def _changed(self) -> None:
        for fn in list(self.listeners):
            try:
                fn()
            except Exception:
                log.exception("counter view listener failed")

    # --- what the screen shows ----------------------------------------------------

    def screen(self) -> dict[str, Any]:
        """Everything the status screen draws, as strings (Vietnamese first)."""
        with self._lock:
            st = self.state
            label = _nfc((st and st.label) or self.counter_id)
            label_en = _nfc((st and st.label_i18n and st.label_i18n.en) or label)
            status = self.status
            serving = self.serving
            waiting = st.waiting if st else {}
            out: dict[str, Any] = {
                "label": label, "label_en": label_en,
                "status": status,
                "status_vi": T(STATUS_NAMES.get(status, "Closed"), "vi"),
                "status_en": T(STATUS_NAMES.get(status, "Closed"), "en"),
                "number": serving.number if serving else "",
                "serving_title": T("Now serving", "vi") if serving else T("Nobody is being served", "vi"),
                "sector_vi": self.sector_name(serving.sector, "vi") if serving else "",
                "priority": bool(serving and serving.priority != "normal"),
                "waiting": [(self.sector_name(s, "vi"), n) for s, n in waiting.items()],
                "served_today": T("Served today: {n}", "vi", n=st.served_today if st else 0),
                "offline": not self.connected,
                "ready": self.state is not None,
                "busy": self.busy,
                "message": self.message,
                "keys": {k: T(KEY_NAMES[k], "vi") for k in KEYS},
                "transfer": None,
            }
            if status in ("paused", "closed"):
                out["keys"]["pause"] = T("Open counter", "vi")
            if self.transfer:
                tr = self.transfer
                out["transfer"] = {
                    "title": T("Transfer {number} to which sector?", "vi", number=tr.number),
                    "hint": T("Next / Recall: choose · Transfer: confirm · Pause: cancel", "vi"),
                    "options": [self.sector_name(s, "vi") for s in tr.options],
                    "index": tr.index,
                }
            return out

