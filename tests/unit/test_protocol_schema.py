import json

import jsonschema

from protocol.schema import all_schemas
from queue_server.domain import views
from tests.support.domain_harness import Harness


def test_every_message_has_a_schema():
    schemas = all_schemas()
    for name in ("kiosk.ticket.issue", "counter.rating.submit", "board", "call", "reply", "sector.stats",
                 "counter.state", "server.status"):
        assert name in schemas
        jsonschema.Draft202012Validator.check_schema(schemas[name])


def test_server_payloads_validate_against_the_exported_schemas(site_config):
    h = Harness(site_config)
    h.issue("tu-phap-ho-tich")
    h.next("q1")
    schemas = all_schemas()
    board = json.loads(json.dumps(views.board(h.state, site_config, h.now)))
    jsonschema.validate(board, schemas["board"])
    jsonschema.validate(views.sector_stats(h.state, site_config, "tu-phap-ho-tich", h.now), schemas["sector.stats"])
    jsonschema.validate(views.counter_state(h.state, site_config, "q1", h.now), schemas["counter.state"])
    cmd = {"v": 1, "type": "ticket.issue", "req_id": "x", "sector": "dat-dai"}
    jsonschema.validate(cmd, schemas["kiosk.ticket.issue"])
