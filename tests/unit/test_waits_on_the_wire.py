"""The three waits under their own names, each with the deprecated est_wait_s beside it (docs/protocol.md, "Waits")."""
from __future__ import annotations

from protocol.messages import (DEPRECATED_WAIT, LIVE_WAIT, PRINTED_WAIT, SHOWN_WAIT, BoardSector, SectorStats,
                               TicketResult, read_wait, wait_fields)
from queue_server.domain import views
from tests.support.domain_harness import Harness

A = "tu-phap-ho-tich"


def test_names_and_alias():
    assert len({PRINTED_WAIT, SHOWN_WAIT, LIVE_WAIT, DEPRECATED_WAIT}) == 4
    assert wait_fields(SHOWN_WAIT, 840) == {"shown_wait_s": 840, "est_wait_s": 840}
    assert read_wait({"shown_wait_s": 60, "est_wait_s": 99}, SHOWN_WAIT) == 60
    assert read_wait({"est_wait_s": 99}, SHOWN_WAIT) == 99          # an older server
    assert read_wait({}, SHOWN_WAIT, 0) == 0


def test_the_ticket_the_board_and_the_stats_carry_their_own_wait(site_config):
    h = Harness(site_config)
    for _ in range(3):
        t = h.issue(A)
    assert t[PRINTED_WAIT] == t[DEPRECATED_WAIT] == h.state.tickets[t["id"]].printed_wait_s
    board = views.board(h.state, site_config, h.now)
    for s in board["sectors"]:
        assert s[SHOWN_WAIT] == s[DEPRECATED_WAIT]
        BoardSector.model_validate(s)
    stats = views.sector_stats(h.state, site_config, A, h.now)
    assert stats[SHOWN_WAIT] == stats[DEPRECATED_WAIT]
    SectorStats.model_validate(stats)
    assert {PRINTED_WAIT, DEPRECATED_WAIT} <= set(TicketResult.model_json_schema()["properties"])
