"""The JSON API under /api/v1 (and /health): catalogue, board, tracking, live stream, rebalancing."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context

from protocol.catalogue import Catalogue
from protocol.messages import LIVE_WAIT, wait_fields
from queue_server.domain import estimate, views, visits
from queue_server.domain.commands import (OVERRIDE_REASON_MAX_CHARS, CancelTicket, SetAutoMode, SetCounterSectors,
                                          SetCounterStatus)
from queue_server.catalogue import catalogue_document
from queue_server.service import QueueService
from queue_server.web.auth import current_role, require_role
from queue_server.web.pages import T

bp = Blueprint("api", __name__)

HTTP_STATUS = {"bad_request": 400, "unknown_sector": 400, "unknown_procedure": 400, "not_found": 404,
               "not_allowed": 403, "queue_empty": 409, "counter_closed": 409, "no_current_ticket": 409,
               "sector_closed": 409, "rate_limited": 429, "too_large": 413, "internal": 500}


def service() -> QueueService:
    return current_app.extensions["motcua_service"]


def reply_response(reply: dict[str, Any]):
    if reply.get("ok"):
        return jsonify(ok=True, result=reply.get("result", {}))
    err = reply["error"]
    return jsonify(ok=False, error=err), HTTP_STATUS.get(err["code"], 400)


def bad_request(message: str, message_vi: str):
    return jsonify(ok=False, error={"code": "bad_request", "message": message, "message_vi": message_vi}), 400


def json_body() -> dict[str, Any] | None:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else None


@bp.get("/health")
def health():
    svc = service()
    return jsonify(ok=True, site=svc.config.id, seq=svc.state.last_seq, day=svc.state.day)


@bp.get("/api/v1/catalogue")
def catalogue():
    svc = service()
    with svc.lock:
        return jsonify(catalogue_document(svc.state, svc.config, svc.clock(), svc.public_url))


@bp.get("/api/v1/board")
def board():
    svc = service()
    with svc.lock:
        return jsonify(views.board(svc.state, svc.config, svc.clock()))


@bp.get("/api/v1/sectors")
def sectors():
    svc = service()
    with svc.lock:
        now = svc.clock()
        return jsonify(sectors=[views.sector_stats(svc.state, svc.config, s.id, now) for s in svc.config.sectors])


@bp.get("/api/v1/counters")
def counters():
    svc = service()
    with svc.lock:
        now = svc.clock()
        return jsonify(counters=[views.counter_state(svc.state, svc.config, c.id, now) for c in svc.config.counters])


@bp.get("/api/v1/devices")
@require_role("viewer")
def devices():
    svc = service()
    with svc.lock:
        return jsonify(devices=[status.model_dump(mode="json") for _, status in sorted(svc.devices.items())])


def ticket_view(svc: QueueService, token: str) -> dict[str, Any] | None:
    with svc.lock:
        tid = svc.state.by_token.get(token)
        t = svc.state.tickets.get(tid) if tid else None
        if t is None:
            return None
        ahead = estimate.ahead_of(svc.state, t.sector, t.rank, t.order) if t.status == "waiting" else 0
        counter = svc.config.counter_by_id.get(t.counter) if t.counter else None
        sector = svc.config.sector_by_id[t.sector]
        return {"number": t.number, "sector": t.sector, "sector_name": sector.name.model_dump(),
                "procedure": t.procedure, "priority": t.priority, "status": t.status, "issued_at": t.issued_at,
                "ahead": ahead, "position": ahead + 1 if t.status == "waiting" else 0,
                **wait_fields(LIVE_WAIT, estimate.live_wait(svc.state, svc.config, t, ahead) if t.status == "waiting" else 0),
                "counter": t.counter, "counter_label": counter.label.model_dump() if counter else None,
                "counter_number": counter.number if counter else None, "called_at": t.called_at,
                "seq": svc.state.last_seq, **({"visit": visits.view(t)} if t.visit else {})}


@bp.get("/api/v1/tickets/<token>")
def ticket(token: str):
    view = ticket_view(service(), token)
    if view is None:
        return jsonify(ok=False, error={"code": "not_found", "message": "no ticket of today has this link",
                                        "message_vi": "Không có số nào trong ngày ứng với đường dẫn này"}), 404
    return jsonify(ok=True, ticket=view)


@bp.post("/api/v1/tickets/<token>/cancel")
def cancel_ticket(token: str):
    return reply_response(service().execute("citizen", "web", CancelTicket(token=token)))


@bp.get("/api/v1/stream")
def stream():
    """Server-Sent Events: `board` first, then board / call / stats / counter as they happen
    (and, for staff, `event` for each logged event and `device` when a device's status changes)."""
    svc = service()
    hub = current_app.extensions["motcua_live"]
    kinds = set((request.args.get("kinds") or "board,call").split(","))
    max_events = request.args.get("max", type=int)
    if current_role() is None:   # the event log and device changes are for staff
        kinds -= {"event", "device"}
    with svc.lock:
        first = [("board", views.board(svc.state, svc.config, svc.clock()))]
    gen = hub.stream(first, kinds, max_events=max_events)
    return Response(stream_with_context(gen), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


# --- managers: live rebalancing ------------------------------------------------------------

def _by() -> str:
    from flask import session
    return session.get("user") or "api"


@bp.post("/api/v1/counters/<counter>/sectors")
@require_role("manager")
def set_sectors(counter: str):
    body = json_body()
    if body is None or not isinstance(body.get("sectors"), list) or not all(isinstance(s, str) for s in body["sectors"]):
        return bad_request("body must be JSON with a list of sector ids in `sectors`",
                           "Dữ liệu phải là JSON có danh sách lĩnh vực `sectors`")
    reason = body.get("reason")
    if (reason is not None and not isinstance(reason, str)) or not isinstance(body.get("override", False), bool):
        return bad_request("`reason` must be a string and `override` true or false",
                           "`reason` phải là chuỗi và `override` là true hoặc false")
    if isinstance(reason, str) and len(reason) > OVERRIDE_REASON_MAX_CHARS:
        msg = T.both("The reason is {n} characters long; at most {max} are allowed.", n=len(reason),
                     max=OVERRIDE_REASON_MAX_CHARS)
        return bad_request(msg["en"], msg["vi"])
    cmd = SetCounterSectors(counter=counter, sectors=tuple(body["sectors"]), override=bool(body.get("override")),
                            reason=reason if isinstance(reason, str) else None, by=_by())
    return reply_response(service().execute("manager", _by(), cmd))


@bp.post("/api/v1/counters/<counter>/status")
@require_role("manager")
def set_status(counter: str):
    body = json_body()
    if body is None or body.get("status") not in ("open", "paused", "closed"):
        return bad_request("body must be JSON with `status`: open, paused or closed",
                           "Dữ liệu phải có `status`: open, paused hoặc closed")
    return reply_response(service().execute("manager", _by(), SetCounterStatus(counter, body["status"], by=_by())))


@bp.post("/api/v1/site/auto")
@require_role("manager")
def set_auto():
    body = json_body()
    if body is None or not isinstance(body.get("on"), bool):
        return bad_request("body must be JSON with `on`: true or false", "Dữ liệu phải có `on`: true hoặc false")
    return reply_response(service().execute("manager", _by(), SetAutoMode(on=body["on"], by=_by())))


@bp.get("/api/v1/events")
@require_role("manager")
def events():
    for name in ("after", "limit"):
        if name in request.args and request.args.get(name, type=int) is None:
            return bad_request(f"`{name}` must be an integer", f"`{name}` phải là số nguyên")
    after = max(0, min(request.args.get("after", default=0, type=int), 2**62))  # SQLite integers are 64-bit
    limit = max(1, min(request.args.get("limit", default=500, type=int), 5000))  # 0 or less: at least one
    out = []
    for e in service().store.read(after=after, batch=limit):
        out.append(e.to_dict())
        if len(out) >= limit:
            break
    return jsonify(events=out)
