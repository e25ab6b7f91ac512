"""Payload models of the contract (docs/protocol.md), as pydantic models.

Commands are parsed strictly (wrong types are a `bad_request`, never coerced)
but unknown fields are ignored, because the contract allows additions.
"""
from __future__ import annotations

import json
import logging
import os
import re
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar, Union, get_args

import orjson
from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError, field_validator,
                      model_validator)

from protocol import ticket_number
from protocol.errors import ErrorCode
from protocol.version import MAX_PAYLOAD_BYTES, PROTOCOL_VERSION

log = logging.getLogger(__name__)

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,40}$")]
ReqId = Annotated[str, StringConstraints(min_length=1, max_length=128)]
TicketNumber = Annotated[str, StringConstraints(pattern=ticket_number.PATTERN)]
Lang = Literal["vi", "en"]
Priority = Literal["normal", "elderly", "disabled", "pregnant", "child_under_6", "veteran"]
PRIORITY_GROUPS: tuple[str, ...] = ("elderly", "disabled", "pregnant", "child_under_6", "veteran")
Outcome = Literal["completed", "received_dossier", "guided_online", "returned_result"]
# A visit: one number for up to this many procedures (any sectors), served one after another
# (docs/visits.md). The domain orders them; the kiosk lets a citizen pick at most this many.
MAX_VISIT_PROCEDURES = 5
# Why a counter is on a break (counter.pause `reason`): the one list, shown to clerks and in the
# reports through motcua/clerk_texts (Vietnamese first). "other": an older device that sends none.
BreakReason = Literal["lunch", "meeting", "files", "system_down", "other"]
BREAK_REASONS: tuple[str, ...] = get_args(BreakReason)


class _Command(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)

    v: Literal[1]
    req_id: ReqId
    ts: str | None = None

    @field_validator("v", mode="before")
    @classmethod
    def _v_is_the_integer_1(cls, value: Any) -> Any:
        # Literal[1] alone lets `true` and `1.0` through (they equal 1 in Python).
        if type(value) is not int:
            raise ValueError("v must be the integer 1")
        return value


# Kiosk commands -----------------------------------------------------------

class VisitItem(BaseModel):
    """One procedure a citizen asks for (`ticket.issue` `procedures`, `visit.add`)."""
    model_config = ConfigDict(extra="ignore", strict=True, frozen=True)
    sector: Slug
    procedure: Slug | None = None


class TicketIssue(_Command):
    type: Literal["ticket.issue"]
    # One procedure: `sector` (+ `procedure`). A visit: `procedures`, 1..MAX_VISIT_PROCEDURES of
    # them (then `sector`/`procedure` are ignored); the domain chooses their order.
    sector: Slug | None = None
    procedure: Slug | None = None
    procedures: Annotated[list[VisitItem], Field(min_length=1, max_length=MAX_VISIT_PROCEDURES)] | None = None
    priority: Priority = "normal"
    lang: Lang = "vi"
    # The predicted wait runs past closing: None (an older kiosk) prints as before and the reply
    # says `past_closing`; false refuses with `past_closing`; true ("I still want it") prints.
    accept_past_closing: bool | None = None

    @model_validator(mode="after")
    def _something_to_queue_for(self) -> "TicketIssue":
        if self.sector is None and not self.procedures:
            raise ValueError("give `sector` or `procedures`")
        return self

    def items(self) -> list[VisitItem]:
        """What the citizen asked for, in their order."""
        if self.procedures:
            return list(self.procedures)
        return [VisitItem(sector=self.sector, procedure=self.procedure)]


class GuidanceOnline(_Command):
    type: Literal["guidance.online"]
    procedure: Slug
    lang: Lang = "vi"


# Counter commands ---------------------------------------------------------

class CallNext(_Command):
    type: Literal["call.next"]


class CallRecall(_Command):
    type: Literal["call.recall"]


class CallNumber(_Command):
    type: Literal["call.number"]
    number: TicketNumber


class ServeDone(_Command):
    type: Literal["serve.done"]
    outcome: Outcome = "completed"
    # A visit with a next procedure in a sector this counter serves: true keeps the citizen here
    # and calls them at once for it ("continue here"); false: they join that sector's queue in
    # the place their ticket gave them. Ignored for a ticket with no next procedure.
    continue_here: bool = False


class VisitAdd(_Command):
    """Add a procedure to the visit of the citizen this counter is serving (after the others)."""
    type: Literal["visit.add"]
    sector: Slug
    procedure: Slug | None = None


class VisitDrop(_Command):
    """Drop a procedure not yet served from the visit of the citizen this counter is serving."""
    type: Literal["visit.drop"]
    sector: Slug
    procedure: Slug | None = None


class ServeNoShow(_Command):
    type: Literal["serve.no_show"]


class ServeTransfer(_Command):
    type: Literal["serve.transfer"]
    to_sector: Slug
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


class CounterOpen(_Command):
    type: Literal["counter.open"]


class CounterPause(_Command):
    type: Literal["counter.pause"]
    reason: BreakReason = "other"


class CounterClose(_Command):
    type: Literal["counter.close"]


class RatingSubmit(_Command):
    type: Literal["rating.submit"]
    ticket_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    score: Annotated[int, Field(ge=1, le=4)]


class BookingCheckIn(_Command):
    """A citizen checks in at the kiosk (issue #16): a booking, or a ticket taken from a phone
    (`ticket.remote`), found by its code (typed, or read from the booking's QR: then `site` is the
    centre the QR names) or by the keyed hash of the citizen's ID card (`protocol/cccd.py`: only
    the hash and the age band ever leave the kiosk). Exactly one of `code` and `id_hash`."""
    type: Literal["booking.check_in"]
    # What the citizen typed or the scanner read, as given (a code, or the booking QR's URL: the
    # server reads it with booking_code.parse_qr / normalise: case, dashes, O for 0, I/L for 1);
    # a wrong one is `not_found`.
    code: Annotated[str, StringConstraints(min_length=1, max_length=300)] | None = None
    site: Slug | None = None
    id_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None
    age_band: Literal["<60", "60-79", "80+"] | None = None
    lang: Lang = "vi"

    @model_validator(mode="after")
    def _one_key(self) -> "BookingCheckIn":
        if (self.code is None) == (self.id_hash is None):
            raise ValueError("give one of `code` and `id_hash`")
        return self


KioskCommand = Annotated[Union[TicketIssue, GuidanceOnline, BookingCheckIn], Field(discriminator="type")]
CounterCommand = Annotated[
    Union[CallNext, CallRecall, CallNumber, ServeDone, ServeNoShow, ServeTransfer, VisitAdd, VisitDrop,
          CounterOpen, CounterPause, CounterClose, RatingSubmit],
    Field(discriminator="type"),
]
COMMAND_TYPES: dict[str, tuple[str, ...]] = {
    "kiosk": ("ticket.issue", "guidance.online", "booking.check_in"),
    "counter": ("call.next", "call.recall", "call.number", "serve.done", "serve.no_show",
                "serve.transfer", "visit.add", "visit.drop", "counter.open", "counter.pause", "counter.close",
                "rating.submit"),
}
_ADAPTERS = {"kiosk": TypeAdapter(KioskCommand), "counter": TypeAdapter(CounterCommand)}


class ProtocolError(Exception):
    """A payload the contract refuses; carries what the reply needs."""

    def __init__(self, code: ErrorCode, message: str, req_id: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.req_id = req_id


def _json_object(raw: bytes) -> dict[str, Any]:
    """A device's payload bytes -> the JSON object in them, or ProtocolError (size, encoding, shape)."""
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise ProtocolError(ErrorCode.TOO_LARGE, f"payload is {len(raw)} bytes; the limit is {MAX_PAYLOAD_BYTES}")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(ErrorCode.BAD_REQUEST, f"payload is not UTF-8 JSON: {exc.__class__.__name__}") from None
    if not isinstance(data, dict):
        raise ProtocolError(ErrorCode.BAD_REQUEST, "payload must be a JSON object")
    return data


def parse_command(kind: str, payload: bytes | str) -> _Command:
    """Bytes from `{kind}/{id}/cmd` -> a command model, or ProtocolError."""
    data = _json_object(payload.encode("utf-8") if isinstance(payload, str) else payload)
    req_id = data.get("req_id") if isinstance(data.get("req_id"), str) and len(data.get("req_id")) <= 128 else None
    if data.get("type") not in COMMAND_TYPES.get(kind, ()):
        raise ProtocolError(ErrorCode.BAD_REQUEST,
                            f"unknown command type {str(data.get('type'))[:60]!r} for a {kind}", req_id)
    try:
        return _ADAPTERS[kind].validate_python(data)
    except ValidationError as exc:
        raise ProtocolError(ErrorCode.BAD_REQUEST, describe_validation_error(exc), req_id) from None
    except RecursionError:
        raise ProtocolError(ErrorCode.BAD_REQUEST, "payload nested too deeply", req_id) from None


# The province's booking commands for a site (issue #16, docs/protocol.md "Booking at another
# centre"): on `province/booking/{site}/cmd`, bridged in to the site broker. The site server runs
# them as its own booking page's commands (`by: "province"`), remembered by req_id, and answers on
# `province/booking/{site}/reply` with the same Reply a kiosk gets. The ID card number never
# travels: only its keyed hash (protocol/cccd.id_hash, with the province's key).
SlotId = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")]
IdHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
BookingCodeText = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class _ProvinceBooking(_Command):
    id_hash: IdHash
    # The relay stops waiting for the reply then: a copy the broker delivers later (the bridge
    # was down) is refused, unapplied and unremembered, so a citizen told "offline" has no
    # booking they do not know of; a retry with the same req_id and a new deadline books once.
    expires_at: str | None = None


class ProvinceBookingCreate(_ProvinceBooking):
    type: Literal["booking.create"]
    procedure: Slug
    slot: SlotId
    phone: Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")] | None = None
    lang: Lang = "vi"


class ProvinceBookingCancel(_ProvinceBooking):
    type: Literal["booking.cancel"]
    code: BookingCodeText


class ProvinceBookingMove(_ProvinceBooking):
    type: Literal["booking.move"]
    code: BookingCodeText
    slot: SlotId


ProvinceBookingCommand = Annotated[Union[ProvinceBookingCreate, ProvinceBookingCancel, ProvinceBookingMove],
                                   Field(discriminator="type")]
_PROVINCE_BOOKING = TypeAdapter(ProvinceBookingCommand)


def parse_province_booking(payload: bytes | str) -> _ProvinceBooking:
    """Bytes from `province/booking/{site}/cmd` -> a command model, or ProtocolError."""
    data = _json_object(payload.encode("utf-8") if isinstance(payload, str) else payload)
    req_id = data.get("req_id") if isinstance(data.get("req_id"), str) and len(data.get("req_id")) <= 128 else None
    if data.get("type") not in ("booking.create", "booking.cancel", "booking.move"):
        raise ProtocolError(ErrorCode.BAD_REQUEST, f"unknown command type {str(data.get('type'))[:60]!r} for the province",
                            req_id)
    try:
        return _PROVINCE_BOOKING.validate_python(data)
    except ValidationError as exc:
        raise ProtocolError(ErrorCode.BAD_REQUEST, describe_validation_error(exc), req_id) from None
    except RecursionError:
        raise ProtocolError(ErrorCode.BAD_REQUEST, "payload nested too deeply", req_id) from None


def describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith(("ticket.", "call.", "serve.", "counter.", "rating.", "guidance.", "visit.", "booking.")))
        parts.append(f"{loc or 'payload'}: {err['msg']}")
    return "; ".join(parts)


# Outgoing payloads --------------------------------------------------------

def reply_ok(req_id: str | None, result: dict[str, Any], ts: datetime | str) -> dict[str, Any]:
    return Reply.build(ts=ts if isinstance(ts, str) else ts.isoformat(), req_id=req_id, ok=True, result=result)


def reply_error(req_id: str | None, code: ErrorCode | str, message: str, ts: datetime | str,
                message_vi: str | None = None, detail: dict[str, Any] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code.value if isinstance(code, ErrorCode) else code, "message": message}
    if message_vi:
        error["message_vi"] = message_vi
    if detail:
        error["detail"] = detail
    return Reply.build(ts=ts if isinstance(ts, str) else ts.isoformat(), req_id=req_id, ok=False,
                       error=ErrorBody.build(**error))


def dumps(payload: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON. orjson gives the same bytes as the standard library for these payloads
    at about a tenth of the cost (the server serialises several messages per command)."""
    try:
        return orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:   # orjson.JSONEncodeError, e.g. a lone surrogate: the standard library decides
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# The three waits (docs/protocol.md, "Waits"): different figures, so different names.
# - printed_wait_s: the forecast printed on a ticket (ticket.issue's reply), fixed at issue;
# - shown_wait_s: a sector's wait for a ticket taken now (board, sector.stats, the kiosk's
#   catalogue): what the board and the kiosk's buttons show;
# - live_wait_s: one waiting ticket's wait from now (the tracking page, /api/v1/tickets/<token>).
# Each message also repeats its figure as `est_wait_s`, the one name all three had before:
# deprecated, kept for one version so older devices and pages keep working.
PRINTED_WAIT, SHOWN_WAIT, LIVE_WAIT = "printed_wait_s", "shown_wait_s", "live_wait_s"
DEPRECATED_WAIT = "est_wait_s"


def wait_fields(name: str, seconds: int) -> dict[str, int]:
    """{name: seconds} and its deprecated alias, for a payload (`name` is one of the three)."""
    return {name: seconds, DEPRECATED_WAIT: seconds}


def read_wait(payload: dict[str, Any], name: str, default: Any = None) -> Any:
    """A wait from a payload: its own name, else the deprecated `est_wait_s` (an older server)."""
    if name in payload:
        return payload[name]
    return payload.get(DEPRECATED_WAIT, default)


# Models of the outgoing payloads: the server builds every message through its model
# (`Model.build(...)`) and the devices read every message through it (`parse(Model, payload)`).
# `build` returns the plain dict that orjson writes (no pydantic object on the hot path): it
# refuses a field the model does not declare at once, and checks the values too when
# CHECK_BUILDS is on (tests; MOTCUA_CHECK_MESSAGES=1). tests/integration/test_message_models.py
# validates every message of a scripted day on a real broker against its model.
# Clients parse with extra fields allowed, because the contract allows additions.

CHECK_BUILDS = os.environ.get("MOTCUA_CHECK_MESSAGES") == "1"
_DECLARED: dict[type, frozenset[str]] = {}
_TYPE_OF: dict[type, str] = {}


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    @classmethod
    def _declared(cls) -> frozenset[str]:
        names = _DECLARED.get(cls)
        if names is None:
            names = _DECLARED[cls] = frozenset(cls.model_fields)
        return names

    @classmethod
    def build(cls, **fields: Any) -> dict[str, Any]:
        """The payload (or part) as a dict, in the order given: the bytes on the wire stay as they were."""
        unknown = fields.keys() - cls._declared()
        if unknown:
            raise TypeError(f"{cls.__name__} does not declare {sorted(unknown)}")
        payload = cls._head(fields)
        if CHECK_BUILDS:
            check(cls, payload)
        return payload

    @classmethod
    def _head(cls, fields: dict[str, Any]) -> dict[str, Any]:
        return fields


class _Out(_Part):
    v: Literal[1] = 1
    # Fields a device can do without are optional, so a reader stays as tolerant as the contract
    # lets it be (a board without `ts` still shows); check() holds the server to sending `ts`.
    ts: str | None = None

    @classmethod
    def _head(cls, fields: dict[str, Any]) -> dict[str, Any]:
        kind = _TYPE_OF.get(cls)
        if kind is None:    # pydantic's model_fields is dear to read per message: once per class
            kind = _TYPE_OF[cls] = cls.model_fields["type"].default
        return {"v": PROTOCOL_VERSION, "type": kind, **fields}


def undeclared(model: BaseModel, where: str = "") -> list[str]:
    """Every field of a parsed message, at any depth, that its model does not declare."""
    out = [f"{where}{k}" for k in (model.model_extra or {})]
    for name in type(model).model_fields:
        value = getattr(model, name)
        items = value if isinstance(value, (list, tuple)) else \
            value.values() if isinstance(value, dict) else [value]
        for item in items:
            if isinstance(item, BaseModel):
                out += undeclared(item, f"{where}{name}.")
    return out


def check(model: type[BaseModel], payload: dict[str, Any]) -> BaseModel:
    """Full validation of a payload the server built: its values, and no undeclared field."""
    parsed = model.model_validate(payload)
    if isinstance(parsed, _Out) and not isinstance(payload.get("ts"), str):
        raise ValueError(f"{model.__name__}: no `ts`")
    extra = undeclared(parsed)
    if extra:
        raise ValueError(f"{model.__name__}: fields not in the model: {extra}")
    return parsed


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], payload: bytes | str | dict[str, Any] | None) -> M | None:
    """A received payload through its model; None (logged) for one the contract refuses, which
    the devices ignore. The payload's content is not logged: it may name a citizen's ticket."""
    try:
        if isinstance(payload, (bytes, bytearray, memoryview, str)):
            payload = orjson.loads(payload)
        return model.model_validate(payload)
    except (ValueError, TypeError, RecursionError) as exc:   # ValidationError is a ValueError
        reason = describe_validation_error(exc) if isinstance(exc, ValidationError) else exc.__class__.__name__
        log.warning("ignored a %s payload the contract refuses: %s", model.__name__, reason[:300])
        return None


class I18nText(_Part):
    vi: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


class VisitStep(_Part):
    """One procedure of a visit, in the order it is served."""
    sector: str
    procedure: str | None = None
    status: Literal["waiting", "current", "done", "no_show", "dropped"] = "waiting"


class VisitView(_Part):
    """Where a visit stands: procedure `step` of `steps` ("2/3"), all of them in order, and the
    estimated end of the whole visit (seconds after issue, printed like the printed wait)."""
    step: int
    steps: int
    procedures: list[VisitStep] = []
    end_s: int | None = None


class TicketResult(_Part):
    id: str
    number: str
    sector: str
    procedure: str | None
    priority: Priority
    issued_at: str
    status: str | None = None
    counter: str | None = None
    called_at: str | None = None
    position: int | None = None
    ahead: int | None = None
    printed_wait_s: int | None = None
    est_wait_s: int | None = Field(None, description="deprecated: the same as printed_wait_s, for one version")
    token: str | None = None
    track_url: str | None = None
    visit: VisitView | None = None          # a ticket of more than one procedure
    past_closing: bool | None = None        # ticket.issue: the predicted wait runs past closing
    # issue #16: a booking's ticket ("slot": printed as a booking), a phone's ("remote") or a late
    # booking's walk-in ticket ("late"), with its code; `due_at`: a booking's slot start (ISO)
    booking: str | None = None
    booking_kind: Literal["slot", "remote", "late"] | None = None
    due_at: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _older_server(cls, data: Any) -> Any:
        # an older server sends only est_wait_s: it is the printed wait
        if isinstance(data, dict) and PRINTED_WAIT not in data and DEPRECATED_WAIT in data:
            return {**data, PRINTED_WAIT: data[DEPRECATED_WAIT]}
        return data


class Guidance(_Part):
    """The reply to guidance.online: where and how to file online (the steps: protocol/guidance.py)."""
    procedure: str
    sector: str
    portal_url: str
    online: Literal["full", "partial", "none"]
    steps: list[str] = []
    procedure_name: I18nText | None = None


class Rating(_Part):
    ticket_id: str
    score: int


class CounterResult(_Part):
    id: str
    status: Literal["open", "serving", "paused", "closed"] | None = None
    sectors: list[str] | None = None
    break_reason: BreakReason | None = None


class BookingView(_Part):
    """A booking or a remote ticket, as a reply, a page and the kiosk show it (issue #16).
    Times: `slot` is the local start "YYYY-MM-DDTHH:MM" in the site's zone (its id);
    `slot_start`/`slot_end`/`arrive_by` are ISO times with the offset."""
    code: str                                     # canonical, 8 characters; shown as booking_code.display
    kind: Literal["slot", "remote"]
    site: str
    sector: str
    procedure: str | None = None
    day: str                                      # YYYY-MM-DD, local
    slot: str | None = None                       # kind slot
    slot_start: str | None = None
    slot_end: str | None = None
    arrive_by: str | None = None                  # kind remote: check in before this, or it lapses
    status: Literal["booked", "checked_in", "late", "cancelled", "no_show", "lapsed"]
    ticket_id: str | None = None                  # once checked in (a remote ticket: at once)
    reminders: bool = False                       # a phone number was given for reminders
    cancel_reason: Literal["citizen", "closed", "manager"] | None = None
    offer: str | None = None                      # closed: the next free slot offered instead


class FreeSlot(_Part):
    """One slot a procedure can be booked in, with how many bookings it still takes."""
    slot: str                                     # local "YYYY-MM-DDTHH:MM"
    slot_start: str
    slot_end: str
    free: int


class OfferedProcedure(_Part):
    """One bookable procedure in a site's BookingOffer."""
    procedure: str
    sector: str
    name: I18nText
    # the earliest free slots over the booking window, at most OFFER_SLOTS, each with its free
    # count (none: the procedure is fully booked for the whole window)
    slots: list[FreeSlot]
    remote: bool                                  # a ticket can be taken from a phone now
    arrive_by: str | None = None                  # remote: such a ticket must be checked in by then
    # The centre takes it from a citizen of anywhere in the province (its site config's
    # `bookings.any_residence`); an offer from before the field: true, as the portal read it then.
    any_residence: bool = True
    # What to bring (the site config's `documents`), as the centre's own booking page lists it;
    # None: not in this offer (a centre older than the field, or an offer trimmed to pass the
    # bridge), so the portal says to ask the centre rather than list nothing.
    documents: list[I18nText] | None = None


# How many of a procedure's earliest free slots an offer lists (the portal shows a few, then
# books one of them; the site decides, so a slot taken meanwhile is a clear booking_full).
OFFER_SLOTS = 8
# The largest message a site's bridge forwards to the province (mosquitto's bridge_max_packet_size,
# firmware_config/bridge.py); a larger one is dropped there, so the site keeps its offer under it.
BRIDGE_MAX_PACKET = 262_144


class BookingOffer(_Out):
    """Retained on `{site}/bookings/offer`, bridged out: what the province's booking portal lists
    for this site (issue #16). Sent again when a booking changes and every OFFER_REFRESH_S."""
    type: Literal["bookings.offer"] = "bookings.offer"
    site: str
    name: I18nText
    days_ahead: int
    slot_min: int
    procedures: list[OfferedProcedure]


class CheckInResult(_Part):
    """What a check-in did: `on_time` (called from now), `early` (called from its slot: `due_at`),
    `late` (later than the grace: a walk-in's ticket from now), `remote` (a phone's ticket, in
    its kept place). `notice`: what the kiosk says, Vietnamese and English (booking_texts.NOTICES)."""
    outcome: Literal["on_time", "early", "late", "remote"]
    due_at: str | None = None
    notice: I18nText | None = None      # the service always sends it (booking_texts.check_in_notice)


class ReplyResult(_Part):
    """What a command's reply carries: one of these, by command (the domain builds them)."""
    ticket: TicketResult | None = None            # ticket.issue, call.*, serve.*, a citizen's cancel
    guidance: Guidance | None = None              # guidance.online
    rating: Rating | None = None                  # rating.submit
    counter: CounterResult | None = None          # counter.open/pause/close, a manager's rebalancing
    auto_mode: bool | None = None                 # a manager's auto mode
    help: bool | None = None                      # a kiosk's call for help
    booking: BookingView | None = None            # booking.*, ticket.remote (issue #16)
    check_in: CheckInResult | None = None         # booking.check_in (with `ticket` and `booking`)
    cancelled: list[BookingView] | None = None    # slot.close: the bookings it cancelled, each with its offer


class ErrorBody(_Part):
    code: str
    message: str
    message_vi: str | None = None
    # Facts a client may act on (issue #16): booking_full -> {"next_free": slot or null},
    # booking_wrong_day -> {"day"}, booking_too_early -> {"check_in_from": ISO time}.
    detail: dict[str, Any] | None = None


class Reply(_Out):
    type: Literal["reply"] = "reply"
    req_id: str | None
    ok: bool
    result: ReplyResult | None = None
    error: ErrorBody | None = None


class Serving(_Part):
    number: str
    sector: str | None = None
    called_at: str | None = None
    # a visit of more than one procedure: this is procedure `step` of `steps` ("2/3: Đất đai")
    step: int | None = None
    steps: int | None = None


class CounterServing(Serving):
    ticket_id: str
    procedure: str | None = None
    priority: Priority = "normal"
    # a visit of more than one procedure, on the counter's own state (not the board): the keypad
    # offers "continue here" and drops a procedure from it
    visit: VisitView | None = None


def _drop_unreadable(item_model: type[BaseModel]):
    """A list field that keeps the items its model reads and drops the others (logged): one bad
    counter on a board must not blank the whole board, as the devices always behaved."""
    def keep(value: Any) -> Any:
        if not isinstance(value, list):
            return value
        out = []
        for item in value:
            try:
                out.append(item_model.model_validate(item))
            except ValidationError:
                log.warning("dropped an unreadable %s", item_model.__name__)
        return out
    return BeforeValidator(keep)


def _none_if_unreadable(item_model: type[BaseModel]):
    def read(value: Any) -> Any:
        try:
            return None if value is None else item_model.model_validate(value)
        except ValidationError:
            log.warning("read an unreadable %s as none", item_model.__name__)
            return None
    return BeforeValidator(read)


class BoardCounter(_Part):
    id: str
    label: str | None = None
    label_en: str | None = None
    status: Literal["open", "serving", "paused", "closed"] = "open"
    sectors: list[str] = []
    serving: Annotated[Serving | None, _none_if_unreadable(Serving)] = None
    break_reason: BreakReason | None = None     # status paused: why ("Tạm nghỉ")


class RecentCall(_Part):
    number: str
    counter: str
    counter_label: str | None = None
    counter_label_en: str | None = None
    sector: str | None = None
    at: str | None = None
    step: int | None = None
    steps: int | None = None


def _shown_from_deprecated(data: Any) -> Any:
    # an older server sends only est_wait_s: it is the shown wait
    if isinstance(data, dict) and SHOWN_WAIT not in data and DEPRECATED_WAIT in data:
        return {**data, SHOWN_WAIT: data[DEPRECATED_WAIT]}
    return data


class BoardSector(_Part):
    id: str
    name: I18nText | None = None
    prefix: str = ""
    waiting: int = 0
    shown_wait_s: int = 0
    est_wait_s: int | None = Field(None, description="deprecated: the same as shown_wait_s, for one version")
    target_wait_s: int | None = None
    remaining_today: int | None = None      # numbers left under the sector's daily cap (none: no cap)
    past_closing: bool | None = None        # a ticket taken now is predicted to be called after closing

    @model_validator(mode="before")
    @classmethod
    def _older_server(cls, data: Any) -> Any:
        return _shown_from_deprecated(data)


class BoardSite(_Part):
    id: str | None = None
    name: I18nText | None = None
    timezone: str | None = None


class Board(_Out):
    type: Literal["board"] = "board"
    seq: int | None = None
    site: BoardSite | None = None
    day: str | None = None
    auto_mode: bool | None = None
    counters: Annotated[list[BoardCounter], _drop_unreadable(BoardCounter)]
    recent_calls: Annotated[list[RecentCall], _drop_unreadable(RecentCall)] = []
    sectors: Annotated[list[BoardSector], _drop_unreadable(BoardSector)] = []


class Call(_Out):
    type: Literal["call"] = "call"
    seq: int | None = None
    number: str
    counter: str
    counter_label: str | None = None
    counter_label_en: str | None = None
    counter_number: str | None = None
    sector: str | None = None
    recall: bool = False
    step: int | None = None
    steps: int | None = None
    announce: I18nText | None = None


class SectorStats(_Out):
    type: Literal["sector.stats"] = "sector.stats"
    seq: int | None = None
    sector: str | None = None          # also in the topic
    waiting: int = 0
    shown_wait_s: int = 0
    est_wait_s: int | None = Field(None, description="deprecated: the same as shown_wait_s, for one version")
    served_today: int = 0
    issued_today: int | None = None
    no_show_today: int | None = None
    oldest_wait_s: int | None = None
    target_wait_s: int | None = None
    mean_service_s: int | None = None
    counters: list[str] = []
    remaining_today: int | None = None      # numbers left under the sector's daily cap (none: no cap)
    procedures_remaining: dict[str, int] | None = None   # procedure -> left under its own daily cap
    past_closing: bool | None = None        # a ticket taken now is predicted to be called after closing
    # procedure -> the start (ISO, with the site's offset) of its first free booking slot, for the
    # procedures under a daily cap of a site that takes bookings: the kiosk's cap notice offers it
    # (issue #18). Here, not in the catalogue, because the catalogue is fetched once at start.
    procedures_next_booking: dict[str, str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _older_server(cls, data: Any) -> Any:
        return _shown_from_deprecated(data)


class CounterState(_Out):
    type: Literal["counter.state"] = "counter.state"
    seq: int | None = None
    counter: str
    label: str | None = None
    # An unreadable label or serving reads as none (the rest of the state still shows), as the
    # counter terminal always read it.
    label_i18n: Annotated[I18nText | None, _none_if_unreadable(I18nText)] = None
    status: Literal["open", "serving", "paused", "closed"]
    sectors: list[str]
    trained: list[str] = []
    serving: Annotated[CounterServing | None, _none_if_unreadable(CounterServing)]
    served_today: int = 0
    last_served: str | None = None
    waiting: dict[str, int] = {}
    break_reason: BreakReason | None = None     # status paused: why


class LogEvent(_Out):
    type: Literal["event"] = "event"
    seq: int
    event: str
    data: dict[str, Any]
    site: str | None = None
    device: str | None = None


# Device status ------------------------------------------------------------
# What a kiosk or a counter keeps retained on `device/{kind}/{id}/status` (a display publishes
# nothing: the ACL forbids it). The devices build it through DeviceStatus (protocol/client.py),
# the server parses it through parse_device_status and the dashboard's alert rule reads its
# fields: one model, so a state a device can report cannot fail to reach a manager.

PrinterState = Literal["ok", "paper_out", "cover_open", "offline", "error"]
PRINTER_STATES: tuple[str, ...] = get_args(PrinterState)
STATUS_KINDS: tuple[str, ...] = ("kiosk", "counter")


class DeviceStatus(_Out):
    # strict: `"online": "no"` is refused, not read as true
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    type: Literal["device.status"] = "device.status"
    ts: str | None = None
    kind: Literal["kiosk", "counter"]
    id: Annotated[str, StringConstraints(max_length=40)]
    online: bool
    printer: PrinterState | None = None        # kiosks; None: the device has no printer
    printer_detail: Annotated[str, StringConstraints(max_length=200)] | None = None
    paper_low: bool = False                    # still prints; worth a manager's look
    # kiosks: no ID hash key (docs/appointments.md "The ID card key"), so a scanned ID card cannot
    # be matched to a booking; the booking code still works. Told so provisioning is run again.
    id_key_missing: bool = False
    help_requested: bool = False
    help_requested_at: str | None = None

    @field_validator("printer", mode="before")
    @classmethod
    def _unknown_printer_word_is_an_error(cls, value: Any) -> Any:
        # A device older or newer than this contract may say another word: a manager must still
        # hear that something is wrong with the printer, so the status is kept and reads "error".
        if isinstance(value, str) and value not in PRINTER_STATES:
            return "error"
        return value

    @field_validator("printer_detail", mode="before")
    @classmethod
    def _detail_cut(cls, value: Any) -> Any:
        return value[:200] if isinstance(value, str) else value

    def payload(self) -> dict[str, Any]:
        """The JSON a device publishes (unset optional fields left out)."""
        return self.model_dump(mode="json", exclude_none=True)


def parse_device_status(kind: str, device: str, payload: bytes | str) -> DeviceStatus | None:
    """Bytes from `device/{kind}/{device}/status` -> DeviceStatus; None for an empty payload (the
    retained status was cleared); ProtocolError for anything the contract refuses. `kind` and `id`
    come from the topic, which the broker's ACL vouches for, not from the payload."""
    raw = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    if not raw:
        return None
    data = _json_object(raw)
    try:
        return DeviceStatus.model_validate({**data, "type": "device.status", "v": 1, "kind": kind, "id": device})
    except ValidationError as exc:
        raise ProtocolError(ErrorCode.BAD_REQUEST, describe_validation_error(exc)) from None
    except RecursionError:
        raise ProtocolError(ErrorCode.BAD_REQUEST, "payload nested too deeply") from None


class ServerStatus(_Out):
    type: Literal["server.status"] = "server.status"
    online: bool
    site: str | None = None
    seq: int | None = None


# The province's advice (province/nearby.py builds it, the kiosk reads it): nearby centres with a
# shorter wait for the same sector. Each wait is that centre's shown wait (its sector.stats).

class NearbyWait(_Part):
    waiting: Annotated[int, Field(ge=0)] = 0
    shown_wait_s: Annotated[int, Field(ge=0)]
    est_wait_s: int | None = Field(None, description="deprecated: the same as shown_wait_s, for one version")

    @model_validator(mode="before")
    @classmethod
    def _older_province(cls, data: Any) -> Any:
        return _shown_from_deprecated(data)


def _aware_iso(text: Any) -> bool:
    """An ISO-8601 time with its offset (a time without one is read in no zone: refused)."""
    if not isinstance(text, str) or len(text) > 40:
        return False
    try:
        return datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False


def _booking_pair(slot: Any, url: Any) -> tuple[str | None, str | None]:
    """(slot, url) of a nearby centre's booking as read: no slot without its offset, no URL but an
    http(s) one."""
    if not _aware_iso(slot):
        return None, None
    return slot, url if isinstance(url, str) and re.fullmatch(r"https?://\S{1,300}", url) else None


class NearbyOption(NearbyWait):
    site: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    name: I18nText | str | None = None
    address: I18nText | str | None = None
    distance_km: Annotated[float, Field(ge=0, lt=10_000, allow_inf_nan=False)]
    # issue #16: the centre's earliest free booking slot for the sector (ISO start with its offset;
    # procedures it takes from anywhere in the province) and the province portal's page to book it
    # (that centre and procedure); None when it has none, is offline, or the portal has no address
    next_booking: str | None = None
    book_url: str | None = None
    # the same per procedure of the sector that centre takes from anywhere in the province
    # ({procedure: {"slot": ISO start, "url": portal page | None}}): the kiosk's card for a
    # procedure offers that procedure's, and a centre not listing it offers none for it
    bookings: dict[str, dict[str, str | None]] | None = None

    @model_validator(mode="before")
    @classmethod
    def _without_what_it_can_do_without(cls, data: Any) -> Any:
        # a bad name, address or count is read as none, as the kiosk always did: the option still helps
        if isinstance(data, dict):
            data = dict(data)
            for key in ("name", "address"):
                if not isinstance(data.get(key), (str, dict)):
                    data[key] = None
            # a booking offer the kiosk cannot read is no offer (never a wrong one)
            data["next_booking"], data["book_url"] = _booking_pair(data.get("next_booking"), data.get("book_url"))
            raw = data.get("bookings")
            pairs = {k: _booking_pair(v.get("slot"), v.get("url")) for k, v in raw.items()
                     if isinstance(k, str) and isinstance(v, dict)} if isinstance(raw, dict) else {}
            data["bookings"] = {k: {"slot": slot, "url": url} for k, (slot, url) in list(pairs.items())[:50]
                                if slot is not None} or None
            if not isinstance(data.get("waiting"), int) or data["waiting"] < 0:
                data["waiting"] = 0
        return data


class ProvinceNearby(_Out):
    type: Literal["province.nearby"] = "province.nearby"
    site: str | None = None
    sector: str | None = None
    own: NearbyWait | None = None
    # an empty list clears the advice; one bad option is dropped, the others kept
    nearby: Annotated[list[NearbyOption], _drop_unreadable(NearbyOption)]
    title: I18nText | None = None
