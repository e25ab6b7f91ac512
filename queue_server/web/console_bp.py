"""The web counter console, for counters without a keypad: next, recall, done, no-show, transfer,
pause (with the break's reason)/open, a visit's procedures (continue here, add, drop; docs/visits.md),
the citizen's satisfaction rating, and what waits. Clerks log in; each action is the same
MQTT-contract command a hardware terminal sends (`counter/{id}/cmd` payload), run through the one
command loop with its own req_id, and records the clerk at that counter for the per-clerk report.
What the clerk is told after an action, and the rating levels, are the keypad's words (`motcua/clerk_texts`)."""
from __future__ import annotations

import re
import uuid

from flask import Blueprint, Flask, abort, jsonify, redirect, render_template, request, session, url_for

from motcua.board_texts import step_text
from motcua.clerk_texts import (ADD_PROCEDURE, BREAK_REASON_NAMES, CONSOLE_WORDS, CONTINUE_HERE, PAUSED_FOR,
                                RATING_NAMES, RATING_QUESTION, RATING_THANKS, SEND_ON, STEP_STATUS_NAMES, VISIT_TITLE,
                                T as CLERK_T, done_text)
from protocol.messages import BREAK_REASONS, dumps
from protocol.ticket_number import number_of
from queue_server.domain import views
from queue_server.users import Users
from queue_server.web import pages
from queue_server.web.api import reply_response
from queue_server.web.auth import require_role

bp = Blueprint("console", __name__)

ACTIONS = {"next": "call.next", "recall": "call.recall", "done": "serve.done", "no_show": "serve.no_show",
           "transfer": "serve.transfer", "pause": "counter.pause", "open": "counter.open", "rate": "rating.submit",
           "add": "visit.add", "drop": "visit.drop"}
REQ_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def _counter_or_404(counter: str):
    conf = pages.service().config.counter_by_id.get(counter)
    if conf is None:
        abort(404)
    return conf


def waiting_for(counter: str) -> dict:
    """What waits for this counter: its sectors' queues in calling order (oldest first, priority first)."""
    svc = pages.service()
    with svc.lock:
        now = svc.clock()
        state = views.counter_state(svc.state, svc.config, counter, now)
        queues = []
        for sid in state["sectors"]:
            tickets = sorted(svc.state.waiting_in(sid), key=lambda t: (t.rank, t.order))
            queues.append({"sector": sid, "name": svc.config.sector_by_id[sid].name.model_dump(),
                           "tickets": [{"number": t.number, "priority": t.priority, "procedure": t.procedure,
                                        "waited_s": max(0, int(now.timestamp() - t.order)),
                                        "transferred": t.transferred} for t in tickets]})
        last = svc.state.tickets.get(state["last_served"] or "")
        # The rating panel asks about the citizen served last here, as the rating pad rates them.
        rating = None if last is None else {"ticket_id": last.id, "number": last.number, "rated": last.rating is not None}
        return {"counter": state, "queues": queues, "rating": rating, "visit": visit_model(state),
                "on_break": on_break(state.get("break_reason"))}


def _sector_name(sector: str) -> dict[str, str]:
    conf = pages.service().config.sector_by_id.get(sector)
    return conf.name.model_dump() if conf else {"vi": sector, "en": sector}


def _procedure_name(procedure: str | None) -> dict[str, str] | None:
    found = pages.service().config.procedure_by_id.get(procedure or "")
    return found[1].name.model_dump() if found else None


def visit_model(state: dict) -> dict | None:
    """The visit of the citizen served at this counter, worded in both languages: where it stands
    ("2/3: Đất đai"), each procedure with its status, and the next one (whether this counter serves
    its sector: then "continue here" is offered). None when nobody is served; `steps` empty for a
    ticket of one procedure (a procedure may still be added to it)."""
    serving = state.get("serving")
    if not serving:
        return None
    visit = serving.get("visit") or {}
    procedures = visit.get("procedures") or []
    steps = []
    for place, p in enumerate(procedures, 1):
        steps.append({"sector": p["sector"], "procedure": p.get("procedure"), "status": p["status"],
                      "where": step_text(place, len(procedures), _sector_name(p["sector"])),
                      "procedure_name": _procedure_name(p.get("procedure")),
                      "status_name": CLERK_T.both(STEP_STATUS_NAMES.get(p["status"], "Still to come"))})
    nxt = next((p for p in steps if p["status"] == "waiting"), None)
    return {"where": step_text(serving.get("step"), serving.get("steps"), _sector_name(serving.get("sector") or "")),
            "steps": steps,
            "next": None if nxt is None else {
                "sector": nxt["sector"], "here": nxt["sector"] in state["sectors"],
                "send_on": {lang: CLERK_T(SEND_ON, lang, sector=_sector_name(nxt["sector"])[lang]) for lang in ("vi", "en")}}}


def on_break(reason: str | None) -> dict[str, str] | None:
    """"Tạm nghỉ: Nghỉ trưa" / "On break: Lunch" while the counter is paused."""
    if not reason:
        return None
    name = CLERK_T.both(BREAK_REASON_NAMES.get(reason, BREAK_REASON_NAMES["other"]))
    return {lang: CLERK_T(PAUSED_FOR, lang, reason=name[lang]) for lang in ("vi", "en")}


def visit_texts() -> dict:
    """The console's fixed words of a visit and a break, both languages (the page shows its own)."""
    cfg = pages.service().config
    # what a clerk may add: a whole sector, or one of its procedures
    addable = []
    for sec in cfg.sectors:
        addable.append({"sector": sec.id, "procedure": None,
                        "name": {lang: f"{sec.name.model_dump()[lang]} {CLERK_T(CONSOLE_WORDS['whole_sector'], lang)}"
                                 for lang in ("vi", "en")}})
        for proc in sec.procedures:
            addable.append({"sector": sec.id, "procedure": proc.id,
                            "name": {lang: f"{sec.name.model_dump()[lang]} — {proc.name.model_dump()[lang]}"
                                     for lang in ("vi", "en")}})
    return {"title": CLERK_T.both(VISIT_TITLE), "continue_here": CLERK_T.both(CONTINUE_HERE),
            "add_title": CLERK_T.both(ADD_PROCEDURE), "addable": addable,
            "reasons": [{"id": r, **CLERK_T.both(BREAK_REASON_NAMES[r])} for r in BREAK_REASONS],
            **{key: CLERK_T.both(msgid) for key, msgid in CONSOLE_WORDS.items()}}


def rating_texts() -> dict:
    """The citizen-facing rating panel: the rating pad's four levels (Decision 766), both languages."""
    return {"question": CLERK_T.both(RATING_QUESTION), "thanks": CLERK_T.both(RATING_THANKS),
            "levels": [{"score": score, **CLERK_T.both(name)} for score, name in RATING_NAMES.items()]}


OUTCOMES = ("completed", "received_dossier", "guided_online", "returned_result")


def _check_body(body: dict) -> str | None:
    """Every field that is present has the right type, whatever the action (the OpenAPI document says so)."""
    if "req_id" in body and not (isinstance(body["req_id"], str) and REQ_ID_RE.match(body["req_id"])):
        return "req_id: 1-100 characters from A-Z a-z 0-9 _ . : -"
    if "to_sector" in body and not (isinstance(body["to_sector"], str)
                                    and body["to_sector"] in pages.service().config.sector_by_id):
        return "to_sector: not a sector of this site"
    if "note" in body and not (isinstance(body["note"], str) and len(body["note"]) <= 500):
        return "note: a string of at most 500 characters"
    if "outcome" in body and body["outcome"] not in OUTCOMES:
        return "outcome: one of " + ", ".join(OUTCOMES)
    if "score" in body and not (type(body["score"]) is int and body["score"] in RATING_NAMES):
        return "score: 1, 2, 3 or 4"
    if "ticket_id" in body and not (isinstance(body["ticket_id"], str) and 0 < len(body["ticket_id"]) <= 64):
        return "ticket_id: a string of 1-64 characters"
    if "continue_here" in body and not isinstance(body["continue_here"], bool):
        return "continue_here: true or false"
    if "reason" in body and body["reason"] not in BREAK_REASONS:
        return "reason: one of " + ", ".join(BREAK_REASONS)
    cfg = pages.service().config
    if "sector" in body and not (isinstance(body["sector"], str) and body["sector"] in cfg.sector_by_id):
        return "sector: not a sector of this site"
    if body.get("procedure") is not None:
        found = cfg.procedure_by_id.get(body["procedure"]) if isinstance(body["procedure"], str) else None
        if found is None or found[0].id != body.get("sector"):
            return "procedure: not a procedure of that sector"
    return None


def _record_clerk(counter: str) -> None:
    """The logged-in user works at `counter` from now on, however they reached the console (the
    sign-in page or the counter's URL): the per-clerk report attributes each call to whoever is
    signed in at the counter at that moment (`reports.compute`)."""
    user = session.get("user")
    if not user:
        return          # the manager's bearer token (a script) is no clerk
    session["counter"] = counter      # logout ends the session
    Users(pages.service().store.engine).ensure_at_counter(user, counter, pages.service().clock().isoformat())


@bp.get("/console")
@pages.login_required("clerk")
def index():
    cfg = pages.service().config
    return render_template("app/console_index.html", counters=cfg.counters, current=session.get("counter"))


@bp.post("/console/<counter>/start")
@pages.login_required("clerk")
def start(counter: str):
    _counter_or_404(counter)
    if not pages.csrf_ok():
        abort(400)
    session["counter"] = counter
    Users(pages.service().store.engine).sign_in_counter(session["user"], counter,
                                                         pages.service().clock().isoformat())
    return redirect(url_for("console.counter", counter=counter))


@bp.get("/console/<counter>")
@pages.login_required("clerk")
def counter(counter: str):
    conf = _counter_or_404(counter)
    cfg = pages.service().config
    sectors = [{"id": s.id, "name": s.name.model_dump()} for s in cfg.sectors]
    return render_template("app/console.html", conf=conf, data=waiting_for(counter), sectors=sectors,
                           rating=rating_texts(), visit=visit_texts())


@bp.get("/console/api/<counter>/waiting")
@require_role("clerk")
def waiting(counter: str):
    _counter_or_404(counter)
    return jsonify(ok=True, **waiting_for(counter))


@bp.post("/console/api/<counter>/<any(next, recall, done, no_show, transfer, pause, open, rate, add, drop):action>")
@require_role("clerk")
def act(counter: str, action: str):
    if pages.service().config.counter_by_id.get(counter) is None:
        return jsonify(ok=False, error={"code": "not_found", "message": "unknown counter",
                                        "message_vi": "Không có quầy này"}), 404
    if action not in ACTIONS:
        return jsonify(ok=False, error={"code": "not_found", "message": "unknown action",
                                        "message_vi": "Không có thao tác này"}), 404
    body = request.get_json(silent=True) if request.get_data() else {}
    if not isinstance(body, dict):
        return jsonify(ok=False, error={"code": "bad_request", "message": "body must be a JSON object",
                                        "message_vi": "Dữ liệu phải là một đối tượng JSON"}), 400
    problem = _check_body(body)
    if problem:
        return jsonify(ok=False, error={"code": "bad_request", "message": problem,
                                        "message_vi": "Dữ liệu gửi lên không hợp lệ: " + problem}), 400
    req_id = body.get("req_id") or uuid.uuid4().hex
    payload = {"v": 1, "type": ACTIONS[action], "req_id": req_id, "ts": pages.service().clock().isoformat()}
    if action == "transfer":
        payload["to_sector"] = body.get("to_sector")
        if body.get("note"):
            payload["note"] = body["note"]
    if action == "done" and body.get("outcome") is not None:
        payload["outcome"] = body.get("outcome")
    if action == "done" and body.get("continue_here"):
        payload["continue_here"] = True
    if action == "pause" and body.get("reason"):
        payload["reason"] = body["reason"]
    if action in ("add", "drop"):
        if "sector" not in body:
            return jsonify(ok=False, error={"code": "bad_request", "message": "sector: required for add and drop",
                                            "message_vi": "Thiếu lĩnh vực của thủ tục"}), 400
        payload["sector"] = body["sector"]
        if body.get("procedure") is not None:
            payload["procedure"] = body["procedure"]
    if action == "rate":
        if "score" not in body:
            return jsonify(ok=False, error={"code": "bad_request", "message": "score: 1, 2, 3 or 4",
                                            "message_vi": "Thiếu mức đánh giá (1, 2, 3 hoặc 4)"}), 400
        # Like the rating pad: the citizen served last at this counter, unless the page names one.
        payload["ticket_id"] = body.get("ticket_id") or (waiting_for(counter)["rating"] or {}).get("ticket_id") or "-"
        payload["score"] = body["score"]
    _record_clerk(counter)
    # The same bytes a hardware terminal publishes: parsed, validated and made idempotent by the service.
    reply = pages.service().execute("counter", counter, dumps(payload))
    if not reply.get("ok"):
        return reply_response(reply)
    result = reply.get("result") or {}
    return jsonify(ok=True, result=result, message=_what_happened(action, payload, result))


def _what_happened(action: str, payload: dict, result: dict) -> dict[str, str] | None:
    """The keypad's words for a command that succeeded, e.g. "Số A023 vắng mặt" / "A023 did not come"."""
    ticket = result.get("ticket") if isinstance(result.get("ticket"), dict) else {}
    number = ticket.get("number") or number_of((result.get("rating") or {}).get("ticket_id"))
    sector = payload.get("to_sector") or payload.get("sector")
    # serve.done of a visit that goes on: the reply's ticket says to which sector, and whether here
    goes_on = action == "done" and ticket.get("status") in ("waiting", "called")
    return done_text(ACTIONS[action], number, _sector_name(sector) if sector else None,
                     reason=payload.get("reason"),
                     next_sector=_sector_name(ticket["sector"]) if goes_on else None,
                     continued=goes_on and ticket.get("status") == "called")


def init_app(app: Flask) -> None:
    pages.install(app)
    app.register_blueprint(bp)
