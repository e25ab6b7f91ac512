"""The province's public booking portal (issue #16, "Across a province"): a citizen picks a
procedure, sees the centres of the province that take it (earliest free time, live wait, an
offline centre shown as such), picks a time, types the ID card number, and gets the booking's
code, QR and page; the page cancels it too.

Mobile first, one question per page, Vietnamese first with English under it, no script: the
site's own booking pages' look (citizen_base.html, site.css, booking.css, served from the site's
package) and, where the words are the same, their texts (the web catalogue through `bi`/`both`);
the portal's own words are the province catalogue's (province/texts.py, `pbi`); a centre's
refusals are the contract's (protocol/booking_texts.py), as the centre's own pages say them.

Adapter only: each booking is a command that centre's queue server decides, carried by the
relay (province/booking_relay.py); the offers come from the same relay (the centres' retained
offers). The ID card number is hashed here with the province's key and dropped: never stored,
logged or sent. A booking's page reads the booking from the province's copy of the centre's
event log (province_events), which has it moments after the centre decided it.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, session, url_for

from protocol import booking_code, cccd
from protocol.booking_texts import both as told
from province import portal
from province.booking_relay import SiteOffline
from province.store import Store
from province.texts import T
from queue_server.users import LoginThrottle
from queue_server.web import pages
from queue_server.web.booking_bp import (DONE_WORDS, SEARCH_MAX, STATUS_WORDS, Refused, day_label, matching, phone_of,
                                         refusal, slot_text, when_text)

bp = Blueprint("portal", __name__, static_folder="static", static_url_path="/portal-static")

@bp.after_request
def _headers(resp):
    """The site's pages' headers (queue_server/web/pages.py): no script, nothing from elsewhere."""
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    if resp.mimetype == "text/html":
        resp.headers.setdefault("Content-Security-Policy", pages.CSP)
    return resp


# ---- the centres, their offers and waits --------------------------------------------------------

def _relay():
    relay = current_app.config.get("RELAY")
    if relay is None:
        abort(503)
    return relay


def _province():
    return current_app.config["PROVINCE"]


def _tz() -> ZoneInfo:
    return ZoneInfo(_province().timezone)


def _today() -> date:
    return datetime.now(timezone.utc).astimezone(_tz()).date()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def board() -> tuple[dict[tuple[str, str], dict[str, Any]], dict[tuple[str, str], dict]]:
    """The live waits the province keeps (province_sector_now: (site, sector) -> {waiting,
    est_wait_s}, only those heard lately) and the fields' names from the same boards; nothing when
    the database is away: the portal still books."""
    url = current_app.config.get("DB_URL")
    try:
        store = Store(url) if url else None
    except Exception:
        store = None
    if store is None:
        return {}, {}
    try:
        rows = store.now()
    finally:
        store.close()
    names = {(r["site"], r["sector"]): r["sector_name"] for r in rows if isinstance(r.get("sector_name"), dict)}
    return portal.waits_of(rows, _province().nearby.stale_s, _now()), names


def centres(names: dict | None = None) -> list[portal.CentreOffer]:
    if names is None:
        names = board()[1]
    return portal.from_offers(_relay().offers(), names)


def _render(template: str, status: int = 200, **ctx: Any):
    return render_template(f"portal/{template}", province=_province(), **ctx), status


def _procedure_or_404(all_centres, procedure_id: str) -> portal.ProcedureOffer:
    p = portal.procedure(all_centres, procedure_id)
    if p is None:
        abort(404)
    return p


def _centre_or_404(all_centres, site: str) -> portal.CentreOffer:
    c = next((c for c in all_centres if c.site == site), None)
    if c is None:
        abort(404)
    return c


def _when(start: datetime, end: datetime) -> dict[str, str]:
    """"08:30–09:00, Ngày mai, Thứ Năm 03/12" as the centre's own pages say it, in the centre's
    zone (the slot's)."""
    return when_text(start, end, _now().astimezone(start.tzinfo).date())


def _wait_words(wait: dict[str, Any] | None) -> dict[str, str] | None:
    if wait is None:
        return None
    return T.both("{waiting} waiting now, about {minutes} min", waiting=wait["waiting"],
                  minutes=round(wait["est_wait_s"] / 60))


# ---- 1. the procedure ---------------------------------------------------------------------------

@bp.get("/book")
def start():
    q = (request.args.get("q") or "").strip()[:SEARCH_MAX]
    listed = portal.procedures(centres())
    found = matching(q, listed)        # as a centre's own booking page searches
    sectors: dict[str, dict[str, Any]] = {}
    for p in listed:
        sectors.setdefault(p["sector"], {"id": p["sector"], "name": p["sector_name"], "procedures": []})["procedures"].append(p)
    return _render("start.html", q=q, found=found, sectors=list(sectors.values()), none=not listed)


# ---- 2. the centre ------------------------------------------------------------------------------

@bp.get("/book/<procedure>")
def centres_page(procedure: str):
    waits, names = board()
    all_centres = centres(names)
    p = _procedure_or_404(all_centres, procedure)
    rows = portal.centres_for(_province(), all_centres, procedure, waits, _now())
    for r in rows:
        r["when"] = _when(r["first"].start, r["first"].end) if r["first"] else None
        r["wait_words"] = _wait_words(r["wait"])
    return _render("centres.html", p=p, rows=rows)


# ---- 3. the time --------------------------------------------------------------------------------

@bp.get("/book/<procedure>/<site>")
def slots(procedure: str, site: str):
    c = _centre_or_404(centres(), site)
    p = portal.accepted(c).get(procedure)
    if p is None:
        abort(404)
    return _slots_page(c, p, lambda s: url_for("portal.confirm", procedure=procedure, site=site, slot=s),
                       url_for("portal.centres_page", procedure=procedure))


def _slots_page(c: portal.CentreOffer, p: portal.ProcedureOffer, href, back_href: str):
    """The centre's free times for `p`, by day, each a link to `href(slot id)`; an offline centre
    says so instead."""
    if not c.online:
        return _render("centre_offline.html", 503, p=p, centre=_centre_name(c))
    now = _now()
    days: dict[str, dict[str, Any]] = {}
    for s in p.slots:
        if s.start <= now:
            continue
        d = days.setdefault(s.id[:10], {"label": day_label(s.start.date(), now.astimezone(s.start.tzinfo).date()),
                                        "slots": []})
        d["slots"].append({"start": s.id, "time": s.id[11:16], "href": href(s.id)})
    return _render("slots.html", p=p, centre=_centre_name(c), days=list(days.values()), back_href=back_href)


def _slot_of(c: portal.CentreOffer, p: portal.ProcedureOffer, slot: str, any_well_formed: bool) -> portal.Slot | None:
    """The slot `slot` names: one the offer lists, or (`any_well_formed`: a form sent back, the
    centre decides) any "YYYY-MM-DDTHH:MM" in the centre's zone, such as the next free time a full
    slot's refusal offered."""
    listed = next((s for s in p.slots if s.id == slot), None)
    if listed is not None or not any_well_formed or not p.slots or len(slot) != 16:
        return listed
    try:
        start = datetime.fromisoformat(slot).replace(tzinfo=p.slots[0].start.tzinfo)
    except ValueError:
        return None
    return portal.Slot(slot, start, start + timedelta(minutes=c.slot_min))


def _centre_name(c: portal.CentreOffer) -> dict[str, str]:
    loc = _province().location(c.site)
    return loc.name.model_dump() if loc is not None and loc.name else c.name


# ---- 4. the ID card, and booking it -------------------------------------------------------------

def id_hash_of(typed: str | None) -> str:
    """The keyed hash of a typed CCCD number with the province's key (protocol/cccd.py checks the
    number); the number goes no further than this function."""
    key = current_app.config.get("ID_HASH_KEY")
    if not key:
        raise Refused(T.both("Booking across the province is not set up yet. Please book at the centre's own page."))
    try:
        return cccd.check_number(typed or "", _today()).leaving(key, _today()).id_hash
    except cccd.CccdError as err:
        raise Refused({lang: err.text(lang) for lang in ("vi", "en")}, "cccd") from None


def site_refusal(error: dict[str, Any]) -> dict[str, str]:
    """A centre's refusal in the citizen's words: the contract's (as the centre's own pages say
    it), the portal's for what only the relay can tell (offline, no answer)."""
    code = error.get("code")
    if code == "site_offline":
        return T.both("This centre cannot be reached now, so it cannot take bookings. Please choose another centre or try again later.")
    if code == "timeout":
        return T.both("The centre did not answer in time. Please press the button again: you will not be booked twice.")
    if code == "booking_full":
        nxt = (error.get("detail") or {}).get("next_free")
        return told("booking_full", slot=slot_text(nxt)) if nxt else told("booking_full_none")
    return refusal(error)


@bp.route("/book/<procedure>/<site>/confirm", methods=["GET", "POST"])
def confirm(procedure: str, site: str):
    """The chosen time, the ID card number and a phone; POST books it at the centre (the relay)."""
    c = _centre_or_404(centres(), site)
    p = portal.accepted(c).get(procedure)
    if p is None:
        abort(404)
    chosen = _slot_of(c, p, request.values.get("slot") or "", request.method == "POST")
    if chosen is None:     # a time no longer offered (taken, or begun): choose again
        return redirect(url_for("portal.slots", procedure=procedure, site=site))
    ctx = _form(c, p, chosen, form_action=url_for("portal.confirm", procedure=procedure, site=site),
                submit_label="Book this time", ask_phone=True,
                back_href=url_for("portal.slots", procedure=procedure, site=site))
    if request.method == "GET":
        return _render("confirm.html", **ctx)
    id_hash, phone, refused = _typed(ctx)
    if refused:
        return refused
    reply = ask(lambda: _relay().create(site, procedure=procedure, slot=chosen.id, id_hash=id_hash, phone=phone,
                                        lang="vi", req_id=_req_id(ctx["request_id"])))
    if reply.get("ok"):
        b = reply["result"]["booking"]
        _recent()[(b["site"], b["code"])] = b
        return redirect(url_for("portal.booking_page", site=b["site"], booking=b["code"], done="booked"))
    return _refused(ctx, reply.get("error") or {}, c)


def _form(c, p, chosen: portal.Slot, **ctx: Any) -> dict[str, Any]:
    """What the confirmation form shows; the form's key is a new one, or the one sent back."""
    return {"p": p, "site": c.site, "centre": _centre_name(c), "slot": chosen.id, "when": _when(chosen.start, chosen.end),
            "cccd": (request.form.get("cccd") or "")[:20], "phone": (request.form.get("phone") or "")[:20],
            "request_id": _form_key(request.form.get("request_id")), **ctx}


def _typed(ctx: dict[str, Any]):
    """(ID hash, phone, None) from the form, or (None, None, the form again with the error)."""
    if not pages.csrf_ok():
        return None, None, _render("confirm.html", 400, error=pages.both(
            "The page was open too long. Please press the button again."), **ctx)
    try:
        return id_hash_of(ctx["cccd"]), phone_of(ctx["phone"]) if ctx["ask_phone"] else None, None
    except Refused as r:
        return None, None, _render("confirm.html", 400, error=r.words, error_field=r.field, **ctx)


def _refused(ctx: dict[str, Any], error: dict[str, Any], c: portal.CentreOffer):
    """The centre's refusal (or the relay's offline / no answer) on the same form, in words; a
    full slot offers the next free one on it, the number kept in the field."""
    if error.get("code") not in UNANSWERED:
        # the centre answered: its answer is kept under this key, so trying again is a new request
        ctx["request_id"] = secrets.token_urlsafe(16)
    nxt = (error.get("detail") or {}).get("next_free") if error.get("code") == "booking_full" else None
    if nxt:
        slot = _slot_of(c, ctx["p"], nxt, True)
        if slot is not None:
            ctx.update(slot=slot.id, when=_when(slot.start, slot.end),
                       offer=pages.both("Press the button below to book {time} instead.", time=slot_text(nxt)))
    status = {"site_offline": 503, "timeout": 504, "not_found": 403}.get(error.get("code"), 409)
    return _render("confirm.html", status, error=site_refusal(error),
                   error_field="cccd" if error.get("code") in ("booking_limit", "not_found") else None, **ctx)


UNANSWERED = ("site_offline", "timeout")   # the relay's words for "the centre did not decide (that we know)"
_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _form_key(sent: str | None) -> str:
    """The form's key as sent, or a new one for a form without a right one."""
    return sent if sent and _KEY.fullmatch(sent) else secrets.token_urlsafe(16)


def _req_id(key: str) -> str:
    """The form's key as the centre's req_id: the same form sent again (the citizen presses again
    after "no answer") gets the first answer, never a second booking. Tied to the session, so a
    key seen elsewhere names nobody's answer."""
    return "portal:" + hashlib.sha256(f"{session.get('csrf', '')}|{key}".encode()).hexdigest()[:40]


def ask(call) -> dict[str, Any]:
    """A relay command's reply; a centre offline or not answering in time as an error reply."""
    try:
        return call()
    except SiteOffline as exc:
        return {"ok": False, "error": {"code": "site_offline" if exc.reason == "offline" else "timeout"}}


RECENT_KEPT = 1000


def _recent() -> dict[tuple[str, str], dict[str, Any]]:
    """The bookings made or cancelled here moments ago (BookingView), for their page until the
    province's copy of the centre's log has them; the oldest dropped past RECENT_KEPT."""
    recent = current_app.extensions.setdefault("motcua_portal_recent", {})
    while len(recent) > RECENT_KEPT:
        recent.pop(next(iter(recent)))
    return recent


# ---- 5. the booking's page ----------------------------------------------------------------------

def _throttle(name: str) -> LoginThrottle:
    """Slowing guesses down, as the centre's own pages do (booking_bp): "numbers" are wrong card
    numbers for one code from one address (5, then 30 s); "lookups" codes of no booking from one
    address (20, then a minute): neither a code nor a card number can be found by trying."""
    limits = {"numbers": {}, "lookups": {"limit": 20, "lock_s": 60}}
    return current_app.extensions.setdefault(f"motcua_portal_{name}", LoginThrottle(**limits[name]))


def find_booking(site: str, typed: str) -> dict[str, Any]:
    """The booking a /b/<site>/<CODE> address names, or a 'not found' page (a code that is not
    one, another centre's, no booking's: all the same)."""
    key = (request.remote_addr or "?", "lookup")
    if _throttle("lookups").blocked(key):
        abort(429)
    try:
        code = booking_code.normalise(typed)
    except booking_code.BookingCodeError:
        code = None
    b = None if code is None else _booking(site, code)
    if b is None:
        _throttle("lookups").failed(key)
        abort(404)
    return b


def _booking(site: str, code: str) -> dict[str, Any] | None:
    b = None
    url = current_app.config.get("DB_URL")
    if url:
        store = Store(url)
        try:
            b = store.booking(site, code)
        finally:
            store.close()
    recent = _recent().get((site, code))
    if recent is not None and (b is None or request.args.get("done")):
        b = recent     # just booked or cancelled here: the province's copy of the log may lag a moment
    return b


def public_url() -> str:
    return _province().portal.public_url or request.host_url.rstrip("/")


TOO_MANY = pages.both("Too many wrong numbers. Please wait 30 seconds and try again.")


def _number_key(b: dict[str, Any]) -> tuple[str, str]:
    return (request.remote_addr or "?", f"{b['site']}/{b['code']}")


def _counted(b: dict[str, Any], reply: dict[str, Any]) -> dict[str, Any]:
    """A move's or a cancel's reply, counting a wrong card number against the guesses allowed."""
    if reply.get("ok"):
        _throttle("numbers").succeeded(_number_key(b))
    elif (reply.get("error") or {}).get("code") == "not_found":
        _throttle("numbers").failed(_number_key(b))
    return reply


@bp.errorhandler(404)
@bp.errorhandler(429)
@bp.errorhandler(503)
def _not_here(err):
    """A page the portal cannot show, in words: an unknown address or booking, too many codes
    tried, or booking not running (no relay)."""
    words = {404: pages.both("No booking of this centre has this code. Check the code, or book a new time.")
             if request.view_args and "booking" in request.view_args else
             T.both("This page does not exist. Please start again from the list of procedures."),
             429: pages.both("Too many codes tried. Please wait a minute and try again."),
             503: T.both("Booking is not available right now. Please try again later.")}[err.code]
    return _render("missing.html", err.code, words=words)


@bp.get("/b/<site>/<booking>")
def booking_page(site: str, booking: str):
    b = find_booking(site, booking)
    if b["code"] != booking:
        return redirect(url_for("portal.booking_page", site=site, booking=b["code"]))
    all_centres = centres()
    c = next((c for c in all_centres if c.site == site), None)
    p = (c and c.procedures.get(b["procedure"])) or portal.procedure(all_centres, b["procedure"])
    when = (_when(datetime.fromisoformat(b["slot_start"]), datetime.fromisoformat(b["slot_end"]))
            if b.get("slot_start") and b.get("slot_end") else None)
    model = {"code": b["code"], "code_shown": booking_code.display(b["code"]), "site": site,
             "active": b["status"] == "booked", "status_text": pages.both(STATUS_WORDS.get(b["status"], "Booked")),
             "when": when,
             "url": booking_code.qr_payload(public_url(), site, b["code"])}
    done = request.args.get("done")
    return _render("booking.html", b=model, p=p, centre=_centre_name(c) if c else {"vi": site, "en": site},
                   done=pages.both(DONE_WORDS[done]) if done in DONE_WORDS else None)


@bp.get("/b/<site>/<booking>/qr.svg")
def qr(site: str, booking: str):
    b = find_booking(site, booking)
    svg = booking_code.qr_svg(booking_code.qr_payload(public_url(), site, b["code"]))
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "private, max-age=3600"})


@bp.route("/b/<site>/<booking>/cancel", methods=["GET", "POST"])
def cancel(site: str, booking: str):
    b = find_booking(site, booking)
    base = {"site": site, "booking": b["code"]}
    if b["status"] != "booked":
        return redirect(url_for("portal.booking_page", **base))
    ctx = {"code_shown": booking_code.display(b["code"]), **base}
    if request.method == "GET":
        return _render("cancel.html", **ctx)
    if not pages.csrf_ok():
        return _render("cancel.html", 400, error=pages.both("The page was open too long. Please press the button again."), **ctx)
    if _throttle("numbers").blocked(_number_key(b)):
        return _render("cancel.html", 429, error=TOO_MANY, **ctx)
    try:
        id_hash = id_hash_of(request.form.get("cccd"))
    except Refused as r:
        return _render("cancel.html", 400, error=r.words, **ctx)
    reply = _counted(b, ask(lambda: _relay().cancel(site, code=b["code"], id_hash=id_hash,
                                                    req_id=_req_id(_form_key(None)))))
    if reply.get("ok"):
        _recent()[(site, b["code"])] = reply["result"]["booking"]
        return redirect(url_for("portal.booking_page", done="cancelled", **base))
    error = reply.get("error") or {}
    return _render("cancel.html", {"site_offline": 503, "timeout": 504, "not_found": 403}.get(error.get("code"), 409),
                   error=site_refusal(error), **ctx)


@bp.route("/b/<site>/<booking>/move", methods=["GET", "POST"])
def move(site: str, booking: str):
    """Another time at the same centre for the same procedure: choose it, then the ID card number;
    the code stays the same (the centre's booking.move, through the relay)."""
    b = find_booking(site, booking)
    base = {"site": site, "booking": b["code"]}
    if b["status"] != "booked" or b.get("kind", "slot") != "slot":
        return redirect(url_for("portal.booking_page", **base))
    c = _centre_or_404(centres(), site)
    p = c.procedures.get(b["procedure"])
    if p is None:
        abort(404)
    slot = request.values.get("slot")
    if not slot:
        return _slots_page(c, p, lambda s: url_for("portal.move", slot=s, **base),
                           url_for("portal.booking_page", **base))
    chosen = _slot_of(c, p, slot, request.method == "POST")
    if chosen is None:
        return redirect(url_for("portal.move", **base))
    ctx = _form(c, p, chosen, form_action=url_for("portal.move", **base), submit_label="Move my booking to this time",
                ask_phone=False, back_href=url_for("portal.move", **base))
    if request.method == "GET":
        return _render("confirm.html", **ctx)
    if _throttle("numbers").blocked(_number_key(b)):
        return _render("confirm.html", 429, error=TOO_MANY, error_field="cccd", **ctx)
    id_hash, _phone, refused = _typed(ctx)
    if refused:
        return refused
    reply = _counted(b, ask(lambda: _relay().move(site, code=b["code"], id_hash=id_hash, slot=chosen.id,
                                                  req_id=_req_id(ctx["request_id"]))))
    if reply.get("ok"):
        _recent()[(site, b["code"])] = reply["result"]["booking"]
        return redirect(url_for("portal.booking_page", done="moved", **base))
    return _refused(ctx, reply.get("error") or {}, c)
