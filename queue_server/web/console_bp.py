"""The web counter console, for counters without a keypad: next, recall, done, no-show, transfer,
pause/open, and what waits. Clerks log in; each action is the same MQTT-contract command a hardware
terminal sends (`counter/{id}/cmd` payload), run through the one command loop with its own req_id."""
from __future__ import annotations

import re
import uuid
from datetime import datetime

from flask import Blueprint, Flask, abort, jsonify, redirect, render_template, request, session, url_for

from protocol.messages import dumps
from queue_server.domain import views
from queue_server.users import Users
from queue_server.web import pages
from queue_server.web.api import reply_response
from queue_server.web.auth import require_role

bp = Blueprint("console", __name__)

ACTIONS = {"next": "call.next", "recall": "call.recall", "done": "serve.done", "no_show": "serve.no_show",
           "transfer": "serve.transfer", "pause": "counter.pause", "open": "counter.open"}
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
        return {"counter": state, "queues": queues}


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
    return None


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
    return render_template("app/console.html", conf=conf, data=waiting_for(counter), sectors=sectors)


@bp.get("/console/api/<counter>/waiting")
@require_role("clerk")
def waiting(counter: str):
    _counter_or_404(counter)
    return jsonify(ok=True, **waiting_for(counter))


@bp.post("/console/api/<counter>/<any(next, recall, done, no_show, transfer, pause, open):action>")
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
    payload = {"v": 1, "type": ACTIONS[action], "req_id": req_id, "ts": datetime.now().astimezone().isoformat()}
    if action == "transfer":
        payload["to_sector"] = body.get("to_sector")
        if body.get("note"):
            payload["note"] = body["note"]
    if action == "done" and body.get("outcome") is not None:
        payload["outcome"] = body.get("outcome")
    # The same bytes a hardware terminal publishes: parsed, validated and made idempotent by the service.
    reply = pages.service().execute("counter", counter, dumps(payload))
    return reply_response(reply)


def init_app(app: Flask) -> None:
    pages.install(app)
    app.register_blueprint(bp)
