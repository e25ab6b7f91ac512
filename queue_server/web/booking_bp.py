"""The booking pages (issue #16): a citizen books a time, sees, moves or cancels it at the QR's
address `/b/<site>/<CODE>`, or joins today's queue from a phone; a manager sees the day's
bookings and closes a slot, a sector's day or the whole day.

Public, mobile first, one thing per step, Vietnamese first with English under it (the web
catalogue; the domain's refusals in protocol/booking_texts.py, written once for the pages, the
kiosk and the messages). Server-rendered forms without a line of script, so an old phone works.

Adapter only (docs/architecture.md, rule 1): every decision (capacity, limits, a slot taken
meanwhile, closing) is a command the site's command loop decides; these pages read the state
under the service's lock and word the replies. The CCCD number is hashed here with the site's
key (protocol/cccd.py) and dropped: it is never stored, logged or sent to the loop.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable

from flask import (Blueprint, Flask, Response, abort, current_app, make_response, redirect, render_template, request,
                   session, url_for)

from protocol import booking_code, booking_texts, cccd
from protocol.booking_texts import both as told    # the contract's words for a refusal or a notice, by key
from queue_server.domain import bookings
from queue_server.domain.commands import CancelBooking, CloseSlots, CreateBooking, MoveBooking, RemoteTicket
from queue_server.users import LoginThrottle
from queue_server.web import pages
from queue_server.web.pages import both, login_required
from queue_server.web.reports_bp import make_report
from queue_server.web.track_bp import leave_times

bp = Blueprint("booking", __name__)


def _(msgid: str) -> str:
    """Marks a msgid for the catalogue (tests/integration/test_web_catalogue.py); worded with both()."""
    return msgid


WEEKDAYS = (_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday"))
SEARCH_MAX = 80           # characters of a search, as the field's maxlength
PHONE_DIGITS = (9, 11)    # a Vietnamese phone: 0 + 9 digits, or +84 + 9 digits (10 or 11 digits with 84)
# the slots page shows the earliest free times, at most this many over at most this many days
# ("Later times" for more): a long list of buttons is hard to read on a small phone
SLOTS_SHOWN = 12
DAYS_SHOWN = 3


# ---- words ----------------------------------------------------------------------------------

def fold(text: str) -> str:
    """For searching: lower case without the Vietnamese marks ("Đăng ký" -> "dang ky"), so a
    citizen typing on a phone without a Vietnamese keyboard finds the procedure."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).lower().split())


def day_label(day: date, today: date) -> dict[str, str]:
    """"Thứ Năm 03/12" / "Thursday 03/12"; "Hôm nay"/"Ngày mai" in front for the next two days."""
    weekday = both(WEEKDAYS[day.weekday()])
    label = {lang: f"{weekday[lang]} {day:%d/%m}" for lang in ("vi", "en")}
    near = {0: both("Today"), 1: both("Tomorrow")}.get((day - today).days)
    return {lang: f"{near[lang]}, {label[lang]}" for lang in label} if near else label


def when_text(start: datetime, end: datetime, today: date) -> dict[str, str]:
    day = day_label(start.date(), today)
    return {lang: f"{start:%H:%M}–{end:%H:%M}, {day[lang]}" for lang in day}


def refusal(error: dict[str, Any]) -> dict[str, str]:
    """A domain refusal in the citizen's words: the contract's text for a booking code
    (protocol/booking_texts.py), else the reply's own message."""
    code = error.get("code", "")
    if code == "not_found":
        # a code with another card's number: said the same as an unknown code (docs/appointments.md)
        return both("This booking code and this ID card number do not go together. Please check the number.")
    if code in booking_texts.ERRORS:
        params = error.get("detail") or {}
        try:
            return told(code, **params)
        except (KeyError, IndexError):
            pass
    if code == "not_allowed":
        return told("bookings_off")
    if code == "bad_request":       # a slot that has begun meanwhile, or past the days open for booking
        return both("This time can no longer be booked. Please choose another time.")
    if error.get("message_vi"):
        return {"vi": error["message_vi"], "en": error.get("message", "")}
    # a refusal the domain words in English only: never shown to a citizen as if it were Vietnamese
    return both("This could not be done now. Please try again, or ask at the centre.")


def slot_text(slot: str) -> str:
    """"2026-12-03T08:30" -> "08:30 03/12/2026", as protocol/booking_texts.py words a slot."""
    start = datetime.fromisoformat(slot)
    return f"{start:%H:%M %d/%m/%Y}"


# ---- what a citizen types ---------------------------------------------------------------------

class Refused(Exception):
    """Input a page refuses before anything is sent to the loop: `words` are what the citizen reads,
    `field` the form field to mark."""

    def __init__(self, words: dict[str, str], field: str | None = None):
        super().__init__(words["en"])
        self.words, self.field = words, field


def id_hash_of(typed: str | None) -> str:
    """The keyed hash of a typed CCCD number (protocol/cccd.py checks it); the number itself goes
    no further than this function."""
    key = _id_key()
    try:
        return cccd.check_number(typed or "", _today()).leaving(key, _today()).id_hash
    except cccd.CccdError as err:
        raise Refused({lang: err.text(lang) for lang in ("vi", "en")}, "cccd") from None


def _id_key() -> bytes:
    """The site's key of the ID card hash: the site server's (SiteServer.id_hash_key, from the file
    bookings.id_key_file it makes at its first start), given to the app as MOTCUA_ID_HASH_KEY."""
    key = current_app.config.get("MOTCUA_ID_HASH_KEY")
    if not key:
        raise Refused(both("Booking is not set up at this centre yet. Please come and take a ticket at the centre."))
    return key


# The idempotency key of a booking form (queue_server/idempotency.py): a fresh one in each form
# drawn, so the same form sent again (a phone that lost the answer, the server restarted in
# between) is applied once and gets the first answer, while the next form (say, the next free time
# offered) is a new request. The command's req_id is a digest of the session, that key and every
# field sent: a key seen elsewhere names nobody's answer, and the same form sent with a corrected
# number is a new request, not the first refusal again.
_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_request_id() -> str:
    return secrets.token_urlsafe(16)


def sent_request_id() -> str | None:
    """The form's key as the command loop's req_id; None from a form without one (no retry safety,
    as before)."""
    sent = request.form.get("request_id") or ""
    if not _REQUEST_ID.fullmatch(sent):
        return None
    digest = hashlib.sha256(f"{session.get('csrf', '')}|{request.path}".encode())
    for name, value in sorted(request.form.items(multi=True)):
        digest.update(f"\0{name}\0{value}".encode())
    return "form:" + digest.hexdigest()[:40]


def phone_of(typed: str | None) -> str | None:
    """A Vietnamese phone number as E.164 ("0912 345 678" -> "+84912345678"); None when left empty."""
    text = "".join(c for c in (typed or "") if c not in " .-()")
    if not text:
        return None
    if text.startswith("+84"):
        digits = text[3:]
    elif text.startswith("84") and len(text) == 11:
        digits = text[2:]
    elif text.startswith("0"):
        digits = text[1:]
    else:
        digits = ""
    if not (digits.isascii() and digits.isdigit() and len(digits) == 9 and digits[0] in "35789"):
        raise Refused(both("This phone number is not right. Type it like 0912 345 678, or leave it empty."), "phone")
    return "+84" + digits


# ---- reading the site ---------------------------------------------------------------------------

def _config():
    return pages.service().config


def _today() -> date:
    svc = pages.service()
    return svc.clock().astimezone(svc.config.site.tz).date()


def _site_name() -> dict[str, str]:
    return _config().site.name.model_dump()


def _render(template: str, status: int = 200, **ctx: Any):
    return render_template(f"app/booking/{template}", site_name=_site_name(), **ctx), status


def procedure_model(procedure_id: str) -> dict[str, Any]:
    """A procedure as the pages show it (404 for an unknown one)."""
    found = _config().procedure_by_id.get(procedure_id)
    if found is None:
        abort(404)
    sector, p = found
    fee = None
    if p.fee_vnd:
        amount = f"{p.fee_vnd:,}".replace(",", ".")
        fee = both("Fee: {amount} đồng", amount=amount)
        if p.fee_note:
            fee = {lang: f"{fee[lang]} ({p.fee_note.get(lang)})" for lang in fee}
    elif p.fee_vnd == 0:
        fee = both("No fee.")
    return {"id": p.id, "name": p.name.model_dump(), "sector": sector.id, "sector_name": sector.name.model_dump(),
            "documents": [d.model_dump() for d in p.documents], "fee": fee}


def sectors_model() -> list[dict[str, Any]]:
    return [{"id": s.id, "name": s.name.model_dump(),
             "procedures": [{"id": p.id, "name": p.name.model_dump()} for p in s.procedures]}
            for s in _config().sectors if s.procedures]


def matching(q: str, procedures: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The procedures ({name, sector_name}: {vi, en} each) whose name (either language) or field
    holds every word of `q`, marks ignored: this page's search and the province portal's."""
    words = fold(q).split()
    if not words:
        return []
    return [p for p in procedures
            if all(w in fold(" ".join((p["name"]["vi"], p["name"]["en"], p["sector_name"]["vi"], p["sector_name"]["en"])))
                   for w in words)]


def search(q: str) -> list[dict[str, Any]]:
    """This site's procedures that match `q` (matching)."""
    return matching(q, ({"id": p.id, "name": p.name.model_dump(), "sector_name": s.name.model_dump()}
                        for s in _config().sectors for p in s.procedures))


def _bookings_off():
    """A site without a `bookings` section takes none: every citizen page says so."""
    if _config().bookings is None:
        return _render("closed.html", 404, nav=None, title=_("Book a time"), reason=told("bookings_off"))
    return None


# ---- 1. booking: procedure, time, ID card --------------------------------------------------------

@bp.get("/book")
def start():
    off = _bookings_off()
    if off:
        return off
    q = (request.args.get("q") or "").strip()[:SEARCH_MAX]
    return _render("start.html", nav="book", q=q, found=search(q) if q else [], sectors=sectors_model(),
                   target="booking.slots", queue_open=queue_open() is None)


def free_days(procedure: str, after: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """The earliest free slots of `procedure` after the slot id `after` (from now by default), at
    most SLOTS_SHOWN over at most DAYS_SHOWN days, grouped by day ({day, label, slots}); and the
    last slot shown when later ones may follow (the "Later times" link starts after it)."""
    svc = pages.service()
    today = _today()
    last = today + timedelta(days=svc.config.bookings.days_ahead)
    start = parse_slot(after)
    day = max(start[0].date(), today) if start else today
    out: list[dict[str, Any]] = []
    shown: list[str] = []
    with svc.lock:
        while day <= last and len(out) < DAYS_SHOWN and len(shown) < SLOTS_SHOWN:
            free = [s for s in _free_slots(svc, procedure, day)
                    if _get(s, "free") > 0 and (after is None or _get(s, "slot") > after)][:SLOTS_SHOWN - len(shown)]
            if free:
                out.append({"day": day.isoformat(), "label": day_label(day, today), "slots": free})
                shown += [_get(s, "slot") for s in free]
            day += timedelta(days=1)
    return out, (shown[-1] if shown and day <= last + timedelta(days=1) else None)


def _get(item: Any, name: str) -> Any:
    return item[name] if isinstance(item, dict) else getattr(item, name)


def _free_slots(svc, procedure: str, day: date) -> list[Any]:
    return bookings.free_slots(svc.state, svc.config, procedure, day, svc.clock())


def slot_links(days: list[dict[str, Any]], href) -> list[dict[str, Any]]:
    """Each free slot as a link: its local time and where choosing it leads (`href(slot)`)."""
    for d in days:
        d["slots"] = [{"start": _get(s, "slot"), "time": _get(s, "slot")[11:16], "href": href(_get(s, "slot"))}
                      for s in d["slots"]]
    return days


def parse_slot(text: str | None) -> tuple[datetime, datetime] | None:
    """A slot's local start "YYYY-MM-DDTHH:MM" -> (start, end) in the site's zone; None if not one."""
    cfg = _config()
    if not text or len(text) != 16:
        return None
    try:
        start = datetime.fromisoformat(text).replace(tzinfo=cfg.site.tz)
    except ValueError:
        return None
    return start, start + timedelta(minutes=cfg.bookings.slot_min)


def parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text and len(text) == 10 else None
    except ValueError:
        return None


@bp.get("/book/<procedure>")
def slots(procedure: str):
    off = _bookings_off()
    if off:
        return off
    p = procedure_model(procedure)
    days, later = free_days(procedure, request.args.get("from"))
    slot_links(days, lambda slot: url_for("booking.confirm", procedure=procedure, slot=slot))
    return _render("slots.html", nav="book", p=p, days=days, horizon=_config().bookings.days_ahead,
                   later_href=later and url_for("booking.slots", procedure=procedure, **{"from": later}))


def _when(slot: str) -> dict[str, str]:
    start, end = parse_slot(slot)
    return when_text(start, end, _today())


@bp.route("/book/<procedure>/confirm", methods=["GET", "POST"])
def confirm(procedure: str):
    """The chosen slot, the ID card number and a phone; POST books it (booking.create)."""
    off = _bookings_off()
    if off:
        return off
    p = procedure_model(procedure)
    slot = request.values.get("slot")
    if parse_slot(slot) is None:
        return redirect(url_for("booking.slots", procedure=procedure))
    ctx = {"nav": "book", "p": p, "slot": slot, "when": _when(slot), "ask_phone": True,
           "form_action": url_for("booking.confirm", procedure=procedure), "submit_label": _("Book this time"),
           "back_href": url_for("booking.slots", procedure=procedure), "cccd": "", "phone": "",
           "request_id": new_request_id()}
    if request.method == "GET":
        return _render("confirm.html", **ctx)
    ctx.update(cccd=(request.form.get("cccd") or "")[:20], phone=(request.form.get("phone") or "")[:20])
    if not pages.csrf_ok():
        return _render("confirm.html", 400, error=both("The page was open too long. Please press the button again."), **ctx)
    try:
        id_hash, phone = id_hash_of(ctx["cccd"]), phone_of(ctx["phone"])
    except Refused as r:
        return _render("confirm.html", 400, error=r.words, error_field=r.field, **ctx)
    reply = pages.service().execute("citizen", "web", CreateBooking(procedure=procedure, slot=slot, id_hash=id_hash,
                                                                      phone=phone, lang="vi"),
                                    req_id=sent_request_id())
    if reply.get("ok"):
        b = reply["result"]["booking"]
        return redirect(url_for("booking.booking_page", site=b["site"], booking=b["code"], done="booked"))
    return _refused_page(reply["error"], ctx)


def _refused_page(error: dict[str, Any], ctx: dict[str, Any]):
    """A refused booking or move, in plain words; a slot taken meanwhile offers the next free one
    (the same form, that slot chosen, the number kept in the field)."""
    code = error.get("code")
    if code == "booking_full":
        nxt = (error.get("detail") or {}).get("next_free")
        if nxt:
            ctx.update(slot=nxt, when=_when(nxt))
            return _render("confirm.html", 409, error=told("booking_full", slot=slot_text(nxt)),
                           offer={"text": both("Press the button below to book {time} instead.", time=slot_text(nxt))}, **ctx)
        return _render("confirm.html", 409, error=told("booking_full_none"), **ctx)
    status = {"booking_limit": 409, "slot_closed": 409, "not_found": 403, "booking_used": 409,
              "booking_cancelled": 409}.get(code, 400)
    return _render("confirm.html", status, error=refusal(error),
                   error_field="cccd" if code in ("booking_limit", "not_found") else None, **ctx)


# ---- 2. a booking's page: see, move, cancel ------------------------------------------------------

STATUS_WORDS = {"booked": _("Booked"), "checked_in": _("Checked in"), "late": _("Checked in late: served as a walk-in"),
                "cancelled": _("Cancelled"), "no_show": _("Not used: you did not come"), "lapsed": _("Lapsed")}
DONE_WORDS = {"booked": _("Your time is booked. Keep this page, or write down the code."),
              "moved": _("Your booking now has the new time. The code stays the same."),
              "cancelled": _("Your booking is cancelled.")}
CANCEL_WORDS = {"closed": _("The centre is closed at that time."), "manager": _("The centre cancelled it.")}


def _booking_view(code: str) -> dict[str, Any] | None:
    """The booking of `code` (canonical) at this site as protocol.messages.BookingView's fields
    (with `token`: a remote ticket's tracking link), or None."""
    svc = pages.service()
    with svc.lock:
        b = svc.state.bookings.get(code)
        if b is None:
            return None
        ticket = svc.state.tickets.get(b.ticket_id or "")
        return {**bookings.view(svc.config, b), "token": ticket.token if ticket is not None else None}


def find_booking(site: str, typed: str) -> dict[str, Any]:
    """The booking a /b/<site>/<CODE> address names, or a 404 page: another centre, a code that
    is not one, a code of no booking are all 'not found' (a code is its booking's key)."""
    key = (request.remote_addr or "?", "lookup")
    if _lookups().blocked(key):
        abort(make_response(*_render("missing.html", 429, nav="find", slow=True)))
    b = None
    if site == _config().id:
        try:
            b = _booking_view(booking_code.normalise(typed))
        except booking_code.BookingCodeError:
            pass
    if b is None:
        _lookups().failed(key)
        abort(make_response(*_render("missing.html", 404, nav="find")))
    return b


def _lookups() -> LoginThrottle:
    """Codes that find no booking, per address: a code cannot be guessed (booking_code: 3.4e10
    codes), and trying many is slowed down all the same."""
    return current_app.extensions["motcua_booking_lookups"]


def booking_model(b: dict[str, Any]) -> dict[str, Any]:
    """What the booking's page shows of BookingView `b`, worded in both languages."""
    today, cfg = _today(), _config()
    active = b["status"] == "booked"
    out = {"code": b["code"], "code_shown": booking_code.display(b["code"]), "site": b["site"], "active": active,
           "kind": b["kind"], "token": b.get("token")}
    words = both(STATUS_WORDS.get(b["status"], "Booked"))
    if b["status"] == "cancelled" and b.get("cancel_reason") in CANCEL_WORDS:
        reason = both(CANCEL_WORDS[b["cancel_reason"]])
        words = {lang: f"{words[lang]}. {reason[lang]}" for lang in words}
    out["status_text"] = words
    if b["kind"] == "slot" and b.get("slot"):
        start, end = parse_slot(b["slot"])
        out["when"] = when_text(start, end, today)
        opens = (start - timedelta(minutes=cfg.bookings.early_min)).strftime("%H:%M")
        late = (start + timedelta(minutes=cfg.bookings.late_min)).strftime("%H:%M")
        out["arrive"] = both("Come between {opens} and {start}, and check in at the kiosk. After {late} your booking is served as a walk-in.",
                             opens=opens, start=start.strftime("%H:%M"), late=late)
        if active and start > pages.service().clock():
            out["leave"] = leave_times(start, today)     # to be at the kiosk by the slot's start
    else:
        arrive_by = datetime.fromisoformat(b["arrive_by"]).astimezone(cfg.site.tz) if b.get("arrive_by") else None
        out["when"] = both("Today") if arrive_by is None else told("remote_arrive_by", time=f"{arrive_by:%H:%M}")
        out["arrive"] = out["when"]
        if active and arrive_by is not None and arrive_by > pages.service().clock():
            out["leave"] = leave_times(arrive_by, today)
    if b.get("offer") and b["status"] == "cancelled":     # a closure's offer: one press to book it
        out["offer"] = both("The next free time is {time}.", time=slot_text(b["offer"]))
        out["offer_href"] = url_for("booking.confirm", procedure=b["procedure"], slot=b["offer"])
    return out


@bp.get("/b/<site>/<booking>")
def booking_page(site: str, booking: str):
    b = find_booking(site, booking)
    if b["code"] != booking:           # a typed form ("k7q4-mz20") goes to the canonical address
        return redirect(url_for("booking.booking_page", site=site, booking=b["code"]))
    done = request.args.get("done")
    return _render("booking.html", nav="find", b=booking_model(b), p=procedure_model(b["procedure"]),
                   done=both(DONE_WORDS[done]) if done in DONE_WORDS else None)


@bp.get("/b/<site>/<booking>/qr.svg")
def qr(site: str, booking: str):
    b = find_booking(site, booking)
    svc = pages.service()
    svg = booking_code.qr_svg(booking_code.qr_payload(svc.public_url, b["site"], b["code"]))
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "private, max-age=3600"})


def _ics_line(line: str) -> str:
    """One content line folded at 75 octets (RFC 5545 3.1), never inside a UTF-8 character."""
    out, cur = [], ""
    for ch in line:
        if len((cur + ch).encode("utf-8")) > (75 if not out else 74):
            out.append(cur)
            cur = ""
        cur += ch
    out.append(cur)
    return "\r\n ".join(out)


def _ics_text(t: str) -> str:
    return t.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def ics_text(b: dict[str, Any], p: dict[str, Any], url: str) -> str:
    """The booking as an iCalendar event (RFC 5545), with a reminder an hour before."""
    start, end = parse_slot(b["slot"])
    stamp = lambda d: d.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    summary = both("Appointment: {procedure}", procedure=p["name"]["vi"])["vi"]
    code = both("Booking code {code}", code=booking_code.display(b["code"]))
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//motcua//booking//VI", "CALSCALE:GREGORIAN", "BEGIN:VEVENT",
             f"UID:{b['code']}-{b['site']}@motcua", f"DTSTAMP:{stamp(pages.service().clock())}",
             f"DTSTART:{stamp(start)}", f"DTEND:{stamp(end)}", f"SUMMARY:{_ics_text(summary)}",
             f"LOCATION:{_ics_text(_site_name()['vi'])}",
             f"DESCRIPTION:{_ics_text(code['vi'] + ' / ' + code['en'] + ' ' + url)}", f"URL:{url}",
             "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT1H", f"DESCRIPTION:{_ics_text(summary)}", "END:VALARM",
             "END:VEVENT", "END:VCALENDAR"]
    return "".join(_ics_line(line) + "\r\n" for line in lines)


@bp.get("/b/<site>/<booking>/booking.ics")
def ics(site: str, booking: str):
    b = find_booking(site, booking)
    if b["kind"] != "slot" or not b.get("slot"):
        abort(404)
    url = booking_code.qr_payload(pages.service().public_url, b["site"], b["code"])
    return Response(ics_text(b, procedure_model(b["procedure"]), url), mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="lich-hen-{b["code"]}.ics"'})


def _throttle() -> LoginThrottle:
    return current_app.extensions["motcua_booking_throttle"]


def _act(b: dict[str, Any], command) -> tuple[dict[str, Any] | None, dict[str, str] | None, str | None]:
    """Run a citizen's move or cancel of booking `b` with the number they typed:
    (reply, error words, field). Wrong numbers for one code from one address are slowed down
    (5, then 30 s), as logins are: the number must not be guessable by trying."""
    key = (request.remote_addr or "?", b["code"])
    if not pages.csrf_ok():
        return None, both("The page was open too long. Please press the button again."), None
    if _throttle().blocked(key):
        return None, both("Too many wrong numbers. Please wait 30 seconds and try again."), "cccd"
    try:
        id_hash = id_hash_of(request.form.get("cccd"))
    except Refused as r:
        return None, r.words, r.field
    reply = pages.service().execute("citizen", "web", command(id_hash), req_id=sent_request_id())
    if reply.get("ok"):
        _throttle().succeeded(key)
        return reply, None, None
    if reply["error"].get("code") == "not_found":
        _throttle().failed(key)
    return reply, None, None


@bp.route("/b/<site>/<booking>/move", methods=["GET", "POST"])
def move(site: str, booking: str):
    """Another time for the same procedure: choose it (the slots page), then the ID card number."""
    b = find_booking(site, booking)
    base = {"site": b["site"], "booking": b["code"]}
    if b["status"] != "booked" or b["kind"] != "slot":
        return redirect(url_for("booking.booking_page", **base))
    p = procedure_model(b["procedure"])
    slot = request.values.get("slot")
    if parse_slot(slot) is None:
        days, later = free_days(b["procedure"], request.args.get("from"))
        slot_links(days, lambda s: url_for("booking.move", slot=s, **base))
        return _render("slots.html", nav="find", p=p, days=days, horizon=_config().bookings.days_ahead,
                       later_href=later and url_for("booking.move", **base, **{"from": later}))
    ctx = {"nav": "find", "p": p, "slot": slot, "when": _when(slot), "ask_phone": False,
           "form_action": url_for("booking.move", **base), "submit_label": _("Move my booking to this time"),
           "back_href": url_for("booking.move", **base), "cccd": "", "request_id": new_request_id()}
    if request.method == "GET":
        return _render("confirm.html", **ctx)
    reply, words, field = _act(b, lambda h: MoveBooking(code=b["code"], id_hash=h, slot=slot))
    if words:
        return _render("confirm.html", 400 if field != "cccd" else 403, error=words, error_field=field, **ctx)
    if reply["ok"]:
        return redirect(url_for("booking.booking_page", done="moved", **base))
    return _refused_page(reply["error"], ctx)


@bp.route("/b/<site>/<booking>/cancel", methods=["GET", "POST"])
def cancel(site: str, booking: str):
    b = find_booking(site, booking)
    base = {"site": b["site"], "booking": b["code"]}
    if b["status"] != "booked":
        return redirect(url_for("booking.booking_page", **base))
    ctx = {"nav": "find", "code_shown": booking_code.display(b["code"]), **base, "code": b["code"],
           "request_id": new_request_id()}
    if request.method == "GET":
        return _render("cancel.html", **ctx)
    reply, words, field = _act(b, lambda h: CancelBooking(code=b["code"], id_hash=h))
    if words:
        return _render("cancel.html", 400 if field != "cccd" else 403, error=words, **ctx)
    if reply["ok"]:
        return redirect(url_for("booking.booking_page", done="cancelled", **base))
    return _render("cancel.html", 403 if reply["error"].get("code") == "not_found" else 409,
                   error=refusal(reply["error"]), **ctx)


@bp.route("/b", methods=["GET", "POST"])
def find():
    """Typing a booking's code (a citizen without the QR at hand) -> its page."""
    ctx = {"nav": "find", "example": booking_code.EXAMPLE, "typed": ""}
    if request.method == "GET":
        return _render("find.html", **ctx)
    ctx["typed"] = (request.form.get("code") or "")[:20]
    try:
        code = booking_code.normalise(ctx["typed"])
    except booking_code.BookingCodeError as err:
        return _render("find.html", 400, error={lang: err.text(lang) for lang in ("vi", "en")}, **ctx)
    key = (request.remote_addr or "?", "lookup")
    if _lookups().blocked(key):
        return _render("find.html", 429, error=both("Too many codes tried. Please wait a minute and try again."), **ctx)
    if _booking_view(code) is None:
        _lookups().failed(key)
        return _render("find.html", 404, error=both("No booking of this centre has this code. Check the code, or book a new time."), **ctx)
    return redirect(url_for("booking.booking_page", site=_config().id, booking=code))


# ---- 3. today's queue from a phone ---------------------------------------------------------------

def remote_arrive_by(procedure: str) -> datetime | None:
    """By when a remote ticket taken now must be checked in (the domain's bookings.remote_offer),
    or None while the centre is not open (the domain's rule, QueueCore.is_open)."""
    svc = pages.service()
    now = svc.clock()
    with svc.lock:
        return bookings.remote_offer(svc.config, now) if svc.core.is_open(now) else None


def queue_open() -> dict[str, str] | None:
    """None when today's queue can be joined from a phone now, else why not, in both languages."""
    cfg = _config()
    if cfg.bookings is None or not cfg.bookings.remote:
        return told("bookings_off")
    first = next((p.id for s in cfg.sectors for p in s.procedures), None)
    if first is None or remote_arrive_by(first) is None:
        return told("centre_closed")
    return None


@bp.get("/queue")
def queue_start():
    closed = queue_open()
    if closed:
        return _render("closed.html", nav="queue", title=_("Join today's queue"), reason=closed, offer_booking=True)
    q = (request.args.get("q") or "").strip()[:SEARCH_MAX]
    return _render("start.html", nav="queue", q=q, found=search(q) if q else [], sectors=sectors_model(),
                   target="booking.queue_confirm", queue_open=False, remote=True)


@bp.route("/queue/<procedure>", methods=["GET", "POST"])
def queue_confirm(procedure: str):
    """Says by when to arrive before the ticket is taken; POST takes it (ticket.remote) and goes
    to the ticket's live tracking page."""
    p = procedure_model(procedure)
    closed = queue_open()
    arrive_by = None if closed else remote_arrive_by(procedure)
    if closed or arrive_by is None:
        return _render("closed.html", nav="queue", title=_("Join today's queue"),
                       reason=closed or told("centre_closed"), offer_booking=True)
    local = arrive_by.astimezone(_config().site.tz)
    ctx = {"nav": "queue", "p": p, "cccd": "", "phone": "", "arrive": told("remote_arrive_by", time=f"{local:%H:%M}"),
           "request_id": new_request_id()}
    if request.method == "GET":
        return _render("queue_confirm.html", **ctx)
    ctx.update(cccd=(request.form.get("cccd") or "")[:20], phone=(request.form.get("phone") or "")[:20])
    if not pages.csrf_ok():
        return _render("queue_confirm.html", 400, error=both("The page was open too long. Please press the button again."), **ctx)
    try:
        id_hash, phone = id_hash_of(ctx["cccd"]), phone_of(ctx["phone"])
    except Refused as r:
        return _render("queue_confirm.html", 400, error=r.words, error_field=r.field, **ctx)
    reply = pages.service().execute("citizen", "web", RemoteTicket(procedure=procedure, id_hash=id_hash, phone=phone,
                                                                     lang="vi"), req_id=sent_request_id())
    if not reply.get("ok"):
        return _render("queue_confirm.html", 409, error=refusal(reply["error"]), error_field="cccd", **ctx)
    return redirect(url_for("track.ticket", token=reply["result"]["ticket"]["token"]))


# ---- 4. the manager's day -------------------------------------------------------------------------

def _day_bookings(svc, day: date) -> list[dict[str, Any]]:
    """Every booking (kind slot) of `day`, as BookingView's fields (under the service's lock)."""
    return [bookings.view(svc.config, b) for b in svc.state.bookings.values()
            if b.kind == "slot" and b.day == day.isoformat()]


def day_model(day: date) -> dict[str, Any]:
    """The manager's table: per slot and sector, booked/capacity, checked in, no-shows; closed cells;
    the day's figures."""
    svc = pages.service()
    cfg = svc.config
    sectors = [s for s in cfg.sectors if s.procedures]
    slots = bookings.slots_of_day(cfg, day)
    with svc.lock:
        booked = _day_bookings(svc, day)
        # room left for the sector's mean service (a procedure's own differs): what the table can say per sector
        free = {(sid, s.id): bookings.room(svc.state, cfg, s.id, sid, (end - start).total_seconds(),
                                            bookings.service_s(svc.state, cfg, s.id, None))
                for sid, start, end in slots for s in sectors}
        closed = {(sid, s.id) for sid, _s, _e in slots for s in sectors if bookings.is_closed(svc.state, s.id, sid)}
    cells: dict[tuple[str, str], dict[str, int]] = {}
    for b in booked:
        c = cells.setdefault((b["slot"], b["sector"]), {"booked": 0, "checked_in": 0, "late": 0, "no_show": 0})
        if b["status"] != "cancelled":
            c["booked"] += 1
        if b["status"] in ("checked_in", "late", "no_show"):
            c[b["status"]] += 1
    rows = []
    now = svc.clock()
    for slot, start, _end in slots:
        row = {"start": slot, "time": f"{start:%H:%M}", "cells": [], "started": start <= now}
        for s in sectors:
            c = cells.get((slot, s.id), {"booked": 0, "checked_in": 0, "late": 0, "no_show": 0})
            row["cells"].append({"sector": s.id, "sector_name": s.name.get(pages.current_lang()), "closed": (slot, s.id) in closed,
                                 "booked": c["booked"], "capacity": c["booked"] + free[(slot, s.id)],
                                 "checked_in": c["checked_in"] + c["late"], "no_show": c["no_show"]})
        rows.append(row)
    active = [b for b in booked if b["status"] != "cancelled"]
    arrived = [b for b in active if b["status"] in ("checked_in", "late")]
    # The day's punctuality, no-shows per sector and waits: the report's booking figures
    # (reports/bookings.py, from the event log), so this page and the reports say the same
    figured = make_report(day.isoformat(), day.isoformat()).bookings
    late_pct = figured["total"]["late_pct"]
    figures = {"booked": len(active), "checked_in": len(arrived),
               "no_show": sum(b["status"] == "no_show" for b in active),
               "cancelled": sum(b["status"] == "cancelled" for b in booked),
               "on_time": None if late_pct is None else 100.0 - late_pct,
               "late": sum(b["status"] == "late" for b in arrived),
               "punctuality_min": figured["total"]["mean_punctuality_min"]}
    return {"sectors": [{"id": s.id, "name": s.name.model_dump()} for s in sectors], "rows": rows, "figures": figures,
            "bk": figured, "names": {s.id: s.name.model_dump() for s in cfg.sectors}}


@bp.get("/bookings")
@login_required("manager")
def manage():
    if _config().bookings is None:
        abort(404)
    today = _today()
    day = parse_day(request.args.get("day")) or today
    return render_template("app/booking/manage.html", day=day.isoformat(), day_label=f"{day:%d/%m/%Y}",
                           past=day < today, told=request.args.get("told", type=int), **day_model(day))


def _scope(values) -> tuple[date, str | None, str | None]:
    """A closure's day, sector and slot from a form or a link; 400 for anything not the site's."""
    cfg = _config()
    day = parse_day(values.get("day"))
    sector = values.get("sector") or None
    slot = values.get("slot") or None
    if day is None or (sector is not None and sector not in cfg.sector_by_id):
        abort(400)
    if slot is not None and (parse_slot(slot) is None or not slot.startswith(day.isoformat())):
        abort(400)
    return day, sector, slot


def _scope_words(day: date, sector: str | None, slot: str | None) -> str:
    cfg = _config()
    name = cfg.sector_by_id[sector].name.get(pages.current_lang()) if sector else None
    shown = f"{day:%d/%m/%Y}"
    if slot and name:
        return pages.gettext("Close {sector} at {time} on {day}.", sector=name, time=slot[11:16], day=shown)
    if slot:
        return pages.gettext("Close every sector at {time} on {day}.", time=slot[11:16], day=shown)
    if name:
        return pages.gettext("Close {sector} for the whole of {day}.", sector=name, day=shown)
    return pages.gettext("Close the whole centre on {day} (a holiday): no bookings that day.", day=shown)


@bp.route("/bookings/close", methods=["GET", "POST"])
@login_required("manager")
def close():
    """A manager closes a slot, a sector's day or the whole day; the confirmation says how many
    booked citizens will be told (each is offered the next free time by the domain)."""
    if _config().bookings is None:
        abort(404)
    if request.method == "GET" and not request.args.get("day"):    # nothing chosen yet: the day's table
        return redirect(url_for("booking.manage"))
    day, sector, slot = _scope(request.values)
    if request.method == "POST":
        if not pages.csrf_ok():
            abort(400)
        reply = pages.service().execute("manager", "web", CloseSlots(day=day.isoformat(), sector=sector, slot=slot,
                                                                     by=session.get("user")))
        if not reply.get("ok"):
            return render_template("app/booking/close.html", what=_scope_words(day, sector, slot), affected=0,
                                   day=day.isoformat(), sector=sector, slot=slot,
                                   error=reply["error"].get("message_vi" if pages.current_lang() == "vi" else "message")), 409
        return redirect(url_for("booking.manage", day=day.isoformat(), told=len(reply["result"].get("cancelled") or [])))
    svc = pages.service()
    with svc.lock:
        affected = sum(1 for b in _day_bookings(svc, day) if b["status"] == "booked"
                       and (sector is None or b["sector"] == sector) and (slot is None or b["slot"] == slot))
    return render_template("app/booking/close.html", what=_scope_words(day, sector, slot), affected=affected,
                           day=day.isoformat(), sector=sector, slot=slot)


def init_app(app: Flask) -> None:
    pages.install(app)
    # the menus link the booking pages only where the site takes bookings
    app.jinja_env.globals["bookings_on"] = lambda: pages.service().config.bookings is not None
    app.extensions.setdefault("motcua_booking_throttle", LoginThrottle())          # wrong numbers for a code
    app.extensions.setdefault("motcua_booking_lookups", LoginThrottle(limit=20, lock_s=60))   # codes of no booking
    app.register_blueprint(bp)
