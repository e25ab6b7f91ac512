"""The OpenAPI 3 document of the JSON API, served at /api/v1/openapi.json.

Hand-written so it says exactly what the handlers do (api.py, reports_bp, dashboard_bp,
console_bp). Every operation lists its error statuses and a JSON `default` error; a test
checks that every documented path is routed and answers garbage with a 4xx, never a 5xx.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify

from protocol.messages import BREAK_REASONS
from queue_server.domain.commands import OVERRIDE_REASON_MAX_CHARS

bp = Blueprint("openapi", __name__)

SLUG = {"type": "string", "pattern": "^[a-z0-9-]{1,40}$"}
TOKEN = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}
DATE = {"type": "string", "format": "date"}
I18N = {"type": "object", "required": ["vi", "en"],
        "properties": {"vi": {"type": "string"}, "en": {"type": "string"}}}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERR = {code: _json(ref("Error"), text) for code, text in {
    "400": "the request is malformed (the message says which field)",
    "401": "not logged in and no valid bearer token",
    "403": "the role is not enough, or the domain refuses the change",
    "404": "no such resource",
    "409": "the state does not allow it now (queue empty, counter closed, no current ticket)",
    "413": "the body is too large",
    "429": "too many requests from this counter",
}.items()}
DEFAULT = {"default": _json(ref("Error"), "an error, with a code and an English and Vietnamese message")}


def responses(ok: dict[str, Any], *codes: str) -> dict[str, Any]:
    out = {"200": ok}
    for c in codes:
        out[c] = ERR[c]
    out.update(DEFAULT)
    return out


VIEWER = [{"bearerAuth": []}, {"sessionCookie": []}]
COUNTER_PARAM = {"name": "counter", "in": "path", "required": True, "schema": SLUG}
PERIOD = [{"name": "from", "in": "query", "required": False, "schema": DATE,
           "description": "first local day (default: `to` if given, else today); 400 if after `to`"},
          {"name": "to", "in": "query", "required": False, "schema": DATE,
           "description": "last local day, inclusive (default: `from`); at most 366 days"}]


def document(config: Any = None) -> dict[str, Any]:
    """The document; with a site config, counter and sector ids are listed as enums (exact for that site)."""
    counter_schema: dict[str, Any] = dict(SLUG)
    sector_item: dict[str, Any] = {"type": "string"}
    if config is not None:
        counter_schema = {"type": "string", "enum": [c.id for c in config.counters]}
        sector_item = {"type": "string", "enum": [s.id for s in config.sectors]}
    counter_param = {**COUNTER_PARAM, "schema": counter_schema}
    schemas = {
        "Error": {"type": "object", "required": ["ok", "error"], "properties": {
            "ok": {"type": "boolean", "enum": [False]},
            "error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}, "message_vi": {"type": "string"}}}}},
        "Health": {"type": "object", "required": ["ok", "site", "seq"], "properties": {
            "ok": {"type": "boolean"}, "site": {"type": "string"}, "seq": {"type": "integer"},
            "day": {"type": "string", "nullable": True}}},
        "Procedure": {"type": "object", "required": ["id", "name"], "properties": {
            "id": {"type": "string"}, "name": I18N, "fee_vnd": {"type": "integer", "nullable": True},
            "fee_note": {"allOf": [I18N], "nullable": True}, "days": {"type": "integer"},
            "online": {"type": "string", "enum": ["full", "partial", "none"]},
            "documents": {"type": "array", "items": I18N}, "portal_url": {"type": "string", "nullable": True}}},
        "Catalogue": {"type": "object", "required": ["site", "sectors"], "properties": {
            "site": {"type": "object", "properties": {"id": {"type": "string"}, "name": I18N,
                                                      "online_portal": {"type": "string"},
                                                      "hours": {"type": "array", "items": {"type": "string"}},
                                                      "timezone": {"type": "string"}}},
            "priority_groups": {"type": "array", "items": {"type": "string"}},
            "sectors": {"type": "array", "items": {"type": "object", "required": ["id", "prefix", "name"], "properties": {
                "id": {"type": "string"}, "prefix": {"type": "string"}, "name": I18N,
                "icon": {"type": "string", "nullable": True}, "target_wait_min": {"type": "number"},
                "waiting": {"type": "integer"}, "shown_wait_s": {"type": "integer"}, "est_wait_s": {"type": "integer", "deprecated": True},
                "procedures": {"type": "array", "items": ref("Procedure")}}}}}},
        "Board": {"type": "object", "required": ["v", "type", "ts", "seq", "counters", "recent_calls", "sectors"],
                  "description": "the retained `board` of docs/protocol.md", "properties": {
            "v": {"type": "integer"}, "type": {"type": "string", "enum": ["board"]}, "ts": {"type": "string"},
            "seq": {"type": "integer"}, "day": {"type": "string", "nullable": True}, "auto_mode": {"type": "boolean"},
            "counters": {"type": "array", "items": {"type": "object", "required": ["id", "status", "sectors"], "properties": {
                "id": {"type": "string"}, "label": {"type": "string"}, "label_en": {"type": "string"},
                "status": {"type": "string", "enum": ["open", "paused", "closed", "serving"]},
                "sectors": {"type": "array", "items": {"type": "string"}},
                "serving": {"type": "object", "nullable": True}}}},
            "recent_calls": {"type": "array", "items": {"type": "object"}},
            "sectors": {"type": "array", "items": {"type": "object", "required": ["id", "waiting", "shown_wait_s"], "properties": {
                "id": {"type": "string"}, "name": I18N, "prefix": {"type": "string"}, "waiting": {"type": "integer"},
                "shown_wait_s": {"type": "integer"}, "est_wait_s": {"type": "integer", "deprecated": True}, "target_wait_s": {"type": "integer"}}}}}},
        "SectorStats": {"type": "object", "required": ["sector", "waiting", "shown_wait_s"], "properties": {
            "sector": {"type": "string"}, "waiting": {"type": "integer"}, "shown_wait_s": {"type": "integer"},
            "est_wait_s": {"type": "integer", "deprecated": True},
            "served_today": {"type": "integer"}, "issued_today": {"type": "integer"},
            "no_show_today": {"type": "integer"}, "oldest_wait_s": {"type": "integer"},
            "target_wait_s": {"type": "integer"}, "mean_service_s": {"type": "integer"},
            "counters": {"type": "array", "items": {"type": "string"}}}},
        "CounterState": {"type": "object", "required": ["counter", "status", "sectors"], "properties": {
            "counter": {"type": "string"}, "label": {"type": "string"}, "label_i18n": I18N,
            "status": {"type": "string", "enum": ["open", "paused", "closed", "serving"]},
            "sectors": {"type": "array", "items": {"type": "string"}},
            "trained": {"type": "array", "items": {"type": "string"}},
            "serving": {"type": "object", "nullable": True}, "served_today": {"type": "integer"},
            "last_served": {"type": "string", "nullable": True},
            "waiting": {"type": "object", "additionalProperties": {"type": "integer"}}}},
        "TicketView": {"type": "object", "required": ["number", "sector", "status", "ahead", "live_wait_s"], "properties": {
            "number": {"type": "string"}, "sector": {"type": "string"}, "sector_name": I18N,
            "procedure": {"type": "string", "nullable": True}, "priority": {"type": "string"},
            "status": {"type": "string", "enum": ["waiting", "called", "served", "no_show", "cancelled", "expired"]},
            "issued_at": {"type": "string"}, "ahead": {"type": "integer"}, "position": {"type": "integer"},
            "live_wait_s": {"type": "integer"}, "est_wait_s": {"type": "integer", "deprecated": True}, "counter": {"type": "string", "nullable": True},
            "counter_label": {"allOf": [I18N], "nullable": True},
            "counter_number": {"type": "string", "nullable": True},
            "called_at": {"type": "string", "nullable": True}, "seq": {"type": "integer"}}},
        "Ok": {"type": "object", "required": ["ok", "result"], "properties": {
            "ok": {"type": "boolean", "enum": [True]}, "result": {"type": "object"}}},
        "Event": {"type": "object", "required": ["seq", "type", "ts", "data"], "properties": {
            "seq": {"type": "integer"}, "type": {"type": "string"}, "ts": {"type": "string"},
            "data": {"type": "object"}, "device": {"type": "string", "nullable": True},
            "req_id": {"type": "string", "nullable": True}}},
        "ReportRow": {"type": "object", "required": ["key", "tickets"], "properties": {
            "key": {"type": "string"}, "name_vi": {"type": "string"}, "name_en": {"type": "string"},
            "tickets": {"type": "integer"}, "served": {"type": "integer"}, "no_show": {"type": "integer"},
            "cancelled": {"type": "integer"}, "called": {"type": "integer"},
            "mean_wait_s": {"type": "number", "nullable": True}, "p90_wait_s": {"type": "number", "nullable": True},
            "within_target": {"type": "integer"}, "within_target_pct": {"type": "number", "nullable": True},
            "mean_service_s": {"type": "number", "nullable": True}, "rating_4": {"type": "integer"},
            "rating_3": {"type": "integer"}, "rating_2": {"type": "integer"}, "rating_1": {"type": "integer"},
            "satisfied_pct": {"type": "number", "nullable": True}}},
        "Indicator": {"type": "object", "required": ["id", "name", "value", "formula"], "properties": {
            "id": {"type": "string"}, "group": I18N, "name": I18N, "value": {"type": "number", "nullable": True},
            "unit": {"type": "string"}, "numerator": {"type": "number", "nullable": True},
            "denominator": {"type": "integer", "nullable": True}, "formula": I18N}},
        "Report": {"type": "object", "required": ["first_day", "last_day", "tables", "indicators"], "properties": {
            "first_day": DATE, "last_day": DATE, "site": {"type": "object"},
            "tables": {"type": "object", "additionalProperties": {"type": "array", "items": ref("ReportRow")}},
            "hourly": {"type": "object"}, "utilisation": {"type": "array", "items": {"type": "object"}},
            "indicators": {"type": "array", "items": ref("Indicator")},
            "guided_online": {"type": "integer"}, "help_requests": {"type": "integer"}}},
    }
    json_body = lambda schema: {"required": True, "content": {"application/json": {"schema": schema}}}  # noqa: E731
    paths: dict[str, Any] = {
        "/health": {"get": {"summary": "liveness: site id and last event sequence", "operationId": "health",
                            "responses": responses(_json(ref("Health"), "the server is up"))}},
        "/api/v1/openapi.json": {"get": {"summary": "this document", "operationId": "openapi",
                                         "responses": responses(_json({"type": "object"}, "OpenAPI 3 document"))}},
        "/api/v1/catalogue": {"get": {"summary": "sectors, procedures (fees, documents, online level), hours",
                                      "operationId": "catalogue",
                                      "responses": responses(_json(ref("Catalogue"), "the site's catalogue"))}},
        "/api/v1/board": {"get": {"summary": "the board, as on MQTT", "operationId": "board",
                                  "responses": responses(_json(ref("Board"), "the board"))}},
        "/api/v1/sectors": {"get": {"summary": "every sector's live stats", "operationId": "sectors",
                                    "responses": responses(_json({"type": "object", "required": ["sectors"], "properties": {
                                        "sectors": {"type": "array", "items": ref("SectorStats")}}}, "sector stats"))}},
        "/api/v1/counters": {"get": {"summary": "every counter's state", "operationId": "counters",
                                     "responses": responses(_json({"type": "object", "required": ["counters"], "properties": {
                                         "counters": {"type": "array", "items": ref("CounterState")}}}, "counter states"))}},
        "/api/v1/devices": {"get": {"summary": "last retained status of each device (viewer)", "operationId": "devices",
                                    "security": VIEWER,
                                    "responses": responses(_json({"type": "object", "required": ["devices"], "properties": {
                                        "devices": {"type": "array", "items": {"type": "object", "required": ["kind", "id"]}}}},
                                        "device statuses"), "401", "403")}},
        "/api/v1/tickets/{token}": {
            "parameters": [{"name": "token", "in": "path", "required": True, "schema": TOKEN,
                            "description": "the unguessable token of the ticket's QR link"}],
            "get": {"summary": "a ticket of today, for its tracking page", "operationId": "ticket",
                    "responses": responses(_json({"type": "object", "required": ["ok", "ticket"], "properties": {
                        "ok": {"type": "boolean"}, "ticket": ref("TicketView")}}, "the ticket"), "404")}},
        "/api/v1/tickets/{token}/cancel": {
            "parameters": [{"name": "token", "in": "path", "required": True, "schema": TOKEN}],
            "post": {"summary": "the citizen cancels a waiting ticket", "operationId": "cancelTicket",
                     "responses": responses(_json(ref("Ok"), "cancelled"), "403", "404")}},
        "/api/v1/stream": {"get": {
            "summary": "Server-Sent Events: board first, then board / call / stats / counter / event",
            "description": "An endless stream unless `max` is given. `event` (every domain event) needs a login.",
            "operationId": "stream",
            "parameters": [{"name": "kinds", "in": "query", "required": False,
                            "schema": {"type": "string", "default": "board,call"},
                            "description": "comma-separated: board, call, stats, counter, event"},
                           {"name": "max", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1},
                            "description": "close the stream after this many events"}],
            "responses": {"200": {"description": "text/event-stream",
                                  "content": {"text/event-stream": {"schema": {"type": "string"}}}}, **DEFAULT}}},
        "/api/v1/counters/{counter}/sectors": {
            "parameters": [counter_param],
            "post": {"summary": "set the sectors a counter serves (manager); live on its next call",
                     "operationId": "setCounterSectors", "security": VIEWER,
                     "requestBody": json_body({"type": "object", "required": ["sectors"], "properties": {
                         "sectors": {"type": "array", "items": sector_item, "minItems": 1},
                         "override": {"type": "boolean", "description": "allow sectors outside `trained`"},
                         "reason": {"type": "string", "nullable": True, "maxLength": OVERRIDE_REASON_MAX_CHARS,
                                    "description": "required with an override"}}}),
                     "responses": responses(_json(ref("Ok"), "changed"), "400", "401", "403", "404")}},
        "/api/v1/counters/{counter}/status": {
            "parameters": [counter_param],
            "post": {"summary": "open, pause or close a counter (manager)", "operationId": "setCounterStatus",
                     "security": VIEWER,
                     "requestBody": json_body({"type": "object", "required": ["status"], "properties": {
                         "status": {"type": "string", "enum": ["open", "paused", "closed"]}}}),
                     "responses": responses(_json(ref("Ok"), "changed"), "400", "401", "403", "404")}},
        "/api/v1/site/auto": {"post": {
            "summary": "switch automatic rebalancing (manager)", "operationId": "setAutoMode", "security": VIEWER,
            "requestBody": json_body({"type": "object", "required": ["on"], "properties": {"on": {"type": "boolean"}}}),
            "responses": responses(_json(ref("Ok"), "changed"), "400", "401", "403")}},
        "/api/v1/events": {"get": {
            "summary": "the event log after a sequence number (manager)", "operationId": "events", "security": VIEWER,
            "parameters": [{"name": "after", "in": "query", "required": False, "schema": {"type": "integer", "default": 0},
                            "description": "events with a greater sequence number (negative counts as 0)"},
                           {"name": "limit", "in": "query", "required": False,
                            "schema": {"type": "integer", "default": 500},
                            "description": "at most this many events (1 to 5000; other values are brought into that range)"}],
            "responses": responses(_json({"type": "object", "required": ["events"], "properties": {
                "events": {"type": "array", "items": ref("Event")}}}, "events in order"), "401", "403")}},
        "/api/v1/reports": {"get": {
            "summary": "the report of a period: per sector, counter, procedure and clerk, and the 766 indicators",
            "operationId": "report", "security": VIEWER, "parameters": PERIOD,
            "responses": responses(_json({"type": "object", "required": ["ok", "report"], "properties": {
                "ok": {"type": "boolean"}, "report": ref("Report")}}, "the report"), "400", "401")}},
        "/reports/export.csv": {"get": {
            "summary": "the report as CSV (UTF-8 with BOM)", "operationId": "reportCsv", "security": VIEWER,
            "parameters": PERIOD,
            "responses": {"200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
                          "400": ERR["400"], "401": ERR["401"], **DEFAULT}}},
        "/reports/export.xlsx": {"get": {
            "summary": "the report as an Excel workbook", "operationId": "reportXlsx", "security": VIEWER,
            "parameters": PERIOD,
            "responses": {"200": {"description": "XLSX", "content": {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}}}},
                "400": ERR["400"], "401": ERR["401"], **DEFAULT}}},
        "/dashboard/api/state": {"get": {
            "summary": "the dashboard's whole state: sector stats, counter states, device alerts (viewer)",
            "operationId": "dashboardState", "security": VIEWER,
            "responses": responses(_json({"type": "object", "required": ["sectors", "counters", "alerts"], "properties": {
                "ts": {"type": "string"}, "day": {"type": "string", "nullable": True}, "auto_mode": {"type": "boolean"},
                "seq": {"type": "integer"},
                "sectors": {"type": "array", "items": ref("SectorStats")},
                "counters": {"type": "array", "items": ref("CounterState")},
                "devices": {"type": "array", "items": {"type": "object"}},
                "alerts": {"type": "array", "items": {"type": "object", "required": ["kind"]}}}}, "state"), "401")}},
        "/dashboard/api/today": {"get": {
            "summary": "today's charts: arrivals and mean wait per hour and sector, counter utilisation (viewer)",
            "operationId": "dashboardToday", "security": VIEWER,
            "responses": responses(_json({"type": "object", "required": ["day", "hourly", "utilisation"], "properties": {
                "day": {"type": "string"}, "hourly": {"type": "object"},
                "utilisation": {"type": "array", "items": {"type": "object"}}, "total": ref("ReportRow")}},
                "today"), "401")}},
        "/console/api/{counter}/waiting": {
            "parameters": [counter_param],
            "get": {"summary": "a counter's state and the tickets waiting for it, in calling order (clerk)",
                    "operationId": "consoleWaiting", "security": VIEWER,
                    "responses": responses(_json({"type": "object", "required": ["ok", "counter", "queues"], "properties": {
                        "ok": {"type": "boolean"}, "counter": ref("CounterState"),
                        "queues": {"type": "array", "items": {"type": "object"}}}}, "what waits"), "401", "403", "404")}},
        "/console/api/{counter}/{action}": {
            "parameters": [counter_param,
                           {"name": "action", "in": "path", "required": True, "schema": {"type": "string", "enum": [
                               "next", "recall", "done", "no_show", "transfer", "pause", "open", "rate", "add",
                               "drop"]}}],
            "post": {"summary": "a counter command from the web console (clerk): the same command as the MQTT "
                                "`counter/{counter}/cmd`, idempotent per `req_id`",
                     "operationId": "consoleAction", "security": VIEWER,
                     "requestBody": {"required": False, "content": {"application/json": {"schema": {
                         "type": "object", "properties": {
                             "req_id": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,100}$"},
                             "to_sector": {**sector_item, "description": "for transfer"},
                             "note": {"type": "string", "maxLength": 500},
                             "outcome": {"type": "string", "enum": ["completed", "received_dossier", "guided_online",
                                                                    "returned_result"]},
                             "score": {"type": "integer", "minimum": 1, "maximum": 4,
                                       "description": "for rate (required): the citizen's satisfaction, 4 = very satisfied"},
                             "ticket_id": {"type": "string", "minLength": 1, "maxLength": 64,
                                           "description": "for rate: default the ticket served last at the counter"},
                             "continue_here": {"type": "boolean", "description": "for done: a visit's next procedure "
                                               "in a sector of this counter is served here at once"},
                             "reason": {"type": "string", "enum": list(BREAK_REASONS),
                                        "description": "for pause: why the counter goes on a break"},
                             "sector": {**sector_item, "description": "for add and drop (required): the procedure's sector"},
                             "procedure": {"type": "string", "description": "for add and drop: one procedure of "
                                           "`sector` (none: any of that sector)"}}}}}},
                     "responses": responses(_json(ref("Ok"), "the counter's reply, and `message` ({vi, en}): "
                                                  "what happened, in the keypad's words"), "400", "401", "403", "404", "409",
                                            "429")}},
    }
    return {"openapi": "3.0.3",
            "info": {"title": "motcua site API", "version": "1",
                     "description": "JSON API of a one-stop centre's queue server. Roles: viewer < clerk < manager; "
                                    "a bearer token (web-secrets.json `api_token`) acts as manager; the web pages "
                                    "use a session cookie after /login."},
            "servers": [{"url": "/"}],
            "paths": paths,
            "components": {"schemas": schemas, "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session"}}}}


@bp.get("/api/v1/openapi.json")
def openapi_json():
    return jsonify(document(current_app.extensions["motcua_service"].config))
