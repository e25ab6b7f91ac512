"""The counter terminal's view-model: keys in, commands out, what the screen says.

No Kivy and no gpiozero here (docs/architecture.md rule 5): the keypad, the rating pad and
the status screen all go through this object, and the unit tests drive it
with plain calls. It never talks to the broker; `CounterTerminal` sends the
actions it returns and hands the replies back. Every payload is read through its model in
protocol/messages.py (the one the server builds it through); a refused one is logged and ignored.

Choices without a mouse: a key that needs a choice opens a list on the screen; Next / Recall move
the choice down / up, Transfer (or Done) confirms, Pause (or No-show) cancels; the list closes by
itself after CHOICE_TIMEOUT_S. The lists (docs/counter.md): Transfer opens the sectors to transfer to,
then "Add a procedure…" and "Drop a procedure…" of the visit (each opens its own list); Pause opens
the break reasons; Done on a visit whose next procedure is in one of this counter's sectors asks
"send on" (first: the default) or "continue here". "Add a procedure…" lists the sectors, and a sector
then its procedures (from the site's catalogue, GET /api/v1/catalogue, which the terminal fetches:
`apply_catalogue`), the whole sector first, as the web console offers them; without a catalogue
(the server's web not reached yet) a sector is added as a whole.
"""
from __future__ import annotations

import logging
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable

from counter.texts import ERROR_TEXTS, KEY_NAMES, STATUS_NAMES, T
from motcua.board_texts import step_text
from motcua.clerk_texts import (ADD_PROCEDURE, BREAK_REASON_NAMES, CONSOLE_WORDS, CONTINUE_HERE, DROP_PROCEDURE,
                                PAUSED_FOR, RATING_NAMES, SEND_ON, break_reason, done_text)
from motcua.clerk_texts import T as CLERK_T
from protocol.catalogue import Catalogue
from protocol.messages import (BREAK_REASONS, Board, CounterServing, CounterState, ErrorBody, Reply, ReplyResult,
                               VisitStep, parse)
from protocol.ticket_number import number_of

log = logging.getLogger(__name__)

KEYS = ("next", "recall", "done", "no_show", "transfer", "pause")
CHOICE_TIMEOUT_S = 30.0
CONFIRM_KEYS = ("transfer", "done")
CANCEL_KEYS = ("pause", "no_show")


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


@dataclass(frozen=True)
class Option:
    """One line of a choice list: confirming it sends `action`, or opens the list `opens`."""
    key: str                      # a sector id, a break reason, "send_on" / "here", "add" / "drop"
    vi: str
    en: str
    action: Action | None = None
    opens: str | None = None


@dataclass
class Choice:
    """A list on the screen that the keys walk (see the module's docstring)."""
    kind: str                     # transfer | add | add:<sector> (its procedures) | drop | after | pause
    number: str | None            # the ticket it is about (None: a pause)
    options: list[Option]
    index: int
    opened_at: float

    @property
    def keys(self) -> list[str]:
        return [o.key for o in self.options]


def _nfc(v: Any) -> str:
    return unicodedata.normalize("NFC", str(v)) if v is not None else ""


@dataclass
class CounterView:
    counter_id: str
    clock: Callable[[], float] = time.monotonic
    state: CounterState | None = None
    sector_names: dict[str, dict[str, str]] = field(default_factory=dict)
    site_sectors: list[str] = field(default_factory=list)
    # sector -> its procedures (id, {"vi", "en"} name), from the site's catalogue (apply_catalogue)
    procedures: dict[str, list[tuple[str, dict[str, str]]]] = field(default_factory=dict)
    connected: bool = False
    busy: bool = False
    message: Message | None = None
    choice: Choice | None = None
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
            ch = self.choice
            if ch and ch.number is not None and (not self.serving or self.serving.number != ch.number):
                self.choice = None   # the ticket left (done elsewhere, e.g. the web console)
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

    def apply_catalogue(self, data: Any) -> bool:
        """The site's catalogue (GET /api/v1/catalogue): each sector's procedures, for "Add a
        procedure…". A document the contract refuses is logged and ignored (sectors only then)."""
        try:
            cat = data if isinstance(data, Catalogue) else Catalogue.model_validate(data)
        except ValueError as exc:
            log.warning("ignored a catalogue the contract refuses: %s", str(exc).splitlines()[0])
            return False
        procs = {s.id: [(p.id, {"vi": _nfc(p.name.vi), "en": _nfc(p.name.en or p.name.vi)}) for p in s.procedures]
                 for s in cat.sectors}
        with self._lock:
            self.procedures = procs
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

    def sector_names_of(self, sector: str | None) -> dict[str, str]:
        return {lang: self.sector_name(sector, lang) for lang in ("vi", "en")}

    def sectors_in_order(self, skip: str | None = None) -> list[str]:
        """The site's sectors: this counter's own first, then those it is trained for, then the rest."""
        st = self.state
        ordered: list[str] = []
        for group in (st.sectors if st else [], st.trained if st else [], self.site_sectors):
            for s in group:
                if s != skip and s not in ordered:
                    ordered.append(s)
        return ordered

    def transfer_options(self) -> list[str]:
        """Every other sector of the site, in `sectors_in_order`."""
        return self.sectors_in_order(skip=self.serving.sector if self.serving else None)

    def still_to_come(self) -> list[tuple[int, VisitStep]]:
        """The serving visit's procedures not yet served, after the current one: (1-based place, step)."""
        visit = self.serving.visit if self.serving else None
        if visit is None:
            return []
        return [(i, p) for i, p in enumerate(visit.procedures, 1) if p.status == "waiting"]

    # --- keys -----------------------------------------------------------------

    def press(self, key: str) -> Action | None:
        """A keypad key; returns the command to send, or None (the screen explains why)."""
        if key not in KEYS:
            return None
        with self._lock:
            self._expire_choice()
            if self.choice is not None:
                action = self._press_in_choice(key)
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
            if self.status in ("paused", "closed"):
                return Action("counter.open")
            return self._open("pause", None, self._reason_options())   # why: chosen, then sent
        if serving is None:
            self._say("error", ERROR_TEXTS["no_current_ticket"])
            return None
        if key == "recall":
            return Action("call.recall", number=number)
        if key == "done":
            return self._done(serving)
        if key == "no_show":
            return Action("serve.no_show", number=number)
        # transfer: the sectors to transfer to, then the visit's add / drop
        options = [self._sector_option(s, Action("serve.transfer", {"to_sector": s}, number=number,
                                                 sector_name=self.sector_name(s, "vi")))
                   for s in self.transfer_options()]
        options.append(Option("add", CLERK_T(ADD_PROCEDURE, "vi") + "…", CLERK_T(ADD_PROCEDURE, "en") + "…",
                              opens="add"))
        if self.still_to_come():
            options.append(Option("drop", CLERK_T(DROP_PROCEDURE, "vi") + "…", CLERK_T(DROP_PROCEDURE, "en") + "…",
                                  opens="drop"))
        return self._open("transfer", number, options)

    def _done(self, serving: CounterServing) -> Action | None:
        """serve.done; a visit whose next procedure is in a sector of this counter first asks
        whether the citizen is sent on (the default) or continues here."""
        number = serving.number
        to_come = self.still_to_come()
        nxt = to_come[0][1].sector if to_come else None
        if nxt is None or not self.state or nxt not in self.state.sectors:
            return Action("serve.done", number=number)
        names = self.sector_names_of(nxt)
        return self._open("after", number, [
            Option("send_on", *(CLERK_T(SEND_ON, lang, sector=names[lang]) for lang in ("vi", "en")),
                   action=Action("serve.done", {"continue_here": False}, number=number)),
            Option("here", CLERK_T(CONTINUE_HERE, "vi"), CLERK_T(CONTINUE_HERE, "en"),
                   action=Action("serve.done", {"continue_here": True}, number=number))])

    def _reason_options(self) -> list[Option]:
        return [Option(r, *(CLERK_T(BREAK_REASON_NAMES[r], lang) for lang in ("vi", "en")),
                       action=Action("counter.pause", {"reason": r})) for r in BREAK_REASONS]

    def _sector_option(self, sector: str, action: Action) -> Option:
        return Option(sector, self.sector_name(sector, "vi"), self.sector_name(sector, "en"), action=action)

    def _submenu(self, kind: str, number: str | None) -> list[Option]:
        if kind == "add":
            # a sector whose procedures are known opens them; else it is added as a whole
            return [Option(s, self.sector_name(s, "vi"), self.sector_name(s, "en"), opens=f"add:{s}")
                    if self.procedures.get(s) else self._add_option(s, None, number)
                    for s in self.sectors_in_order()]
        if kind.startswith("add:"):
            sector = kind[4:]     # "Đất đai (mọi thủ tục)", then each procedure, as on the console
            whole = Option(sector, *(f"{self.sector_name(sector, lang)} {CLERK_T(CONSOLE_WORDS['whole_sector'], lang)}"
                                     for lang in ("vi", "en")), action=self._add_option(sector, None, number).action)
            return [whole, *(Option(pid, name["vi"], name["en"], action=self._add_option(sector, pid, number).action)
                             for pid, name in self.procedures.get(sector, ()))]
        # drop: the procedures still to come, each as "3/3: Đất đai"
        steps = len(self.serving.visit.procedures) if self.serving and self.serving.visit else 0
        options = []
        for place, p in self.still_to_come():
            words = step_text(place, steps, self.sector_names_of(p.sector)) or self.sector_names_of(p.sector)
            options.append(Option(p.sector, words["vi"], words["en"],
                                  action=Action("visit.drop", {"sector": p.sector, "procedure": p.procedure},
                                                number=number, sector_name=self.sector_name(p.sector, "vi"))))
        return options

    def _add_option(self, sector: str, procedure: str | None, number: str | None) -> Option:
        """visit.add of `procedure` (None: the sector as a whole), the console's command."""
        fields = {"sector": sector} if procedure is None else {"sector": sector, "procedure": procedure}
        return self._sector_option(sector, Action("visit.add", fields, number=number,
                                                  sector_name=self.sector_name(sector, "vi")))

    def _open(self, kind: str, number: str | None, options: list[Option]) -> None:
        if not options:
            self._say("error", "No other sector to transfer to")
            return None
        self.choice = Choice(kind=kind, number=number, options=options, index=0, opened_at=self.clock())
        self.message = None
        return None

    def _press_in_choice(self, key: str) -> Action | None:
        ch = self.choice
        assert ch is not None
        ch.opened_at = self.clock()   # any key keeps the list open
        if key == "next":
            ch.index = (ch.index + 1) % len(ch.options)
            return None
        if key == "recall":
            ch.index = (ch.index - 1) % len(ch.options)
            return None
        if key in CANCEL_KEYS:
            self.choice = None
            if ch.kind == "transfer":
                self._say("info", "Transfer cancelled")
            else:
                self._say("info", "Cancelled")
            return None
        # a confirm key
        chosen = ch.options[ch.index]
        self.choice = None
        if chosen.opens:
            return self._open(chosen.opens, ch.number, self._submenu(chosen.opens, ch.number))
        if self.busy:
            self._say("info", "Please wait: the previous command is still being sent")
            return None
        return chosen.action

    def _expire_choice(self) -> None:
        if self.choice and self.clock() - self.choice.opened_at > CHOICE_TIMEOUT_S:
            self.choice = None

    def tick(self) -> None:
        """Called about once a second by the screen: closes a forgotten choice list."""
        with self._lock:
            had = self.choice is not None
            self._expire_choice()
            changed = had and self.choice is None
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
        ticket = result.ticket
        ticket_number = ticket.number if ticket else None
        if action.type in ("serve.no_show", "serve.transfer", "rating.submit"):
            number = action.number or ticket_number or ""
        else:
            number = ticket_number or action.number or ""
        sector = action.fields.get("to_sector") or action.fields.get("sector")
        # serve.done of a visit that goes on: the reply's ticket says where, and whether here
        goes_on = action.type == "serve.done" and ticket is not None and ticket.status in ("waiting", "called")
        text = done_text(action.type, number, self.sector_names_of(sector),
                         reason=action.fields.get("reason"),
                         next_sector=self.sector_names_of(ticket.sector) if goes_on else None,
                         continued=goes_on and ticket.status == "called")
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
            reason = break_reason(st.break_reason) if st and status == "paused" else None
            out: dict[str, Any] = {
                "label": label, "label_en": label_en,
                "status": status,
                "status_vi": CLERK_T(PAUSED_FOR, "vi", reason=reason["vi"]) if reason
                else T(STATUS_NAMES.get(status, "Closed"), "vi"),
                "status_en": CLERK_T(PAUSED_FOR, "en", reason=reason["en"]) if reason
                else T(STATUS_NAMES.get(status, "Closed"), "en"),
                "number": serving.number if serving else "",
                "serving_title": T("Now serving", "vi") if serving else T("Nobody is being served", "vi"),
                "sector_vi": self._where_vi(serving) if serving else "",
                "priority": bool(serving and serving.priority != "normal"),
                "waiting": [(self.sector_name(s, "vi"), n) for s, n in waiting.items()],
                "served_today": T("Served today: {n}", "vi", n=st.served_today if st else 0),
                "offline": not self.connected,
                "ready": self.state is not None,
                "busy": self.busy,
                "message": self.message,
                "keys": {k: T(KEY_NAMES[k], "vi") for k in KEYS},
                "choice": None,
            }
            if status in ("paused", "closed"):
                out["keys"]["pause"] = T("Open counter", "vi")
            if self.choice:
                ch = self.choice
                out["choice"] = {
                    "kind": ch.kind,
                    "title": self._choice_title(ch),
                    "hint": T("Next / Recall: choose · Done: confirm · Pause: cancel", "vi") if ch.kind in ("after", "pause")
                    else T("Next / Recall: choose · Transfer: confirm · Pause: cancel", "vi"),
                    "options": [o.vi for o in ch.options],
                    "index": ch.index,
                }
            return out

    def _where_vi(self, serving: CounterServing) -> str:
        """The sector being served, or where the visit stands ("2/3: Tư pháp → Đất đai")."""
        here = self.sector_names_of(serving.sector)
        words = step_text(serving.step, serving.steps, here)
        if words is None:
            return here["vi"]
        to_come = self.still_to_come()
        return words["vi"] + (f" → {self.sector_name(to_come[0][1].sector, 'vi')}" if to_come else "")

    def _choice_title(self, ch: Choice) -> str:
        if ch.kind == "pause":
            return T("Why is the counter pausing?", "vi")
        if ch.kind == "add":
            return T("Add which sector's procedure to the visit of {number}?", "vi", number=ch.number)
        if ch.kind.startswith("add:"):
            return T("Add which procedure of {sector} to the visit of {number}?", "vi",
                     sector=self.sector_name(ch.kind[4:], "vi"), number=ch.number)
        if ch.kind == "drop":
            return T("Drop which procedure from the visit of {number}?", "vi", number=ch.number)
        if ch.kind == "after":
            return T("{number} is done here. What next?", "vi", number=ch.number)
        return T("Transfer {number} to which sector?", "vi", number=ch.number)

