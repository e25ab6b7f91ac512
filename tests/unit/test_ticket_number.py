"""Ticket numbers are made and read by one module (protocol/ticket_number.py)."""
from __future__ import annotations

import string

import pytest
from pydantic import ValidationError

from protocol import ticket_number as tn
from protocol.messages import CallNumber


def test_round_trip_over_every_number_a_sector_can_issue_in_a_day():
    for prefix in string.ascii_uppercase:
        for n in range(1, tn.MAX_PER_DAY + 1):
            text = tn.format_number(prefix, n)
            assert tn.is_number(text), text
            assert tn.parse_number(text) == (prefix, n)


def test_numbers_are_three_digits_at_least_and_four_on_a_busy_day():
    assert [tn.format_number("A", n) for n in (1, 23, 999, 1000, 9999)] == ["A001", "A023", "A999", "A1000", "A9999"]


@pytest.mark.parametrize("prefix, n", [("a", 1), ("AB", 1), ("", 1), ("Đ", 1), ("A", 0), ("A", -1),
                                       ("A", tn.MAX_PER_DAY + 1), ("A", True), ("A", 1.0)])
def test_what_cannot_be_a_ticket_is_refused_when_formatted(prefix, n):
    with pytest.raises(ValueError):
        tn.format_number(prefix, n)


@pytest.mark.parametrize("text", ["", "A", "A1", "A12", "a023", "A10000", "A0123", "A000", "AA023", " A023", "A023\n",
                                  "A٠٢٣", None, 23])
def test_what_format_number_cannot_make_is_refused_when_parsed(text):
    with pytest.raises(ValueError):
        tn.parse_number(text)


def test_the_contract_takes_every_number_the_domain_issues():
    for n in (1, 999, 1000, tn.MAX_PER_DAY):
        assert CallNumber(v=1, req_id="r", type="call.number", number=tn.format_number("Z", n)).number
    for bad in ("A12", "A10000", "a023"):
        with pytest.raises(ValidationError):
            CallNumber(v=1, req_id="r", type="call.number", number=bad)


def test_a_busy_day_goes_past_999_and_stops_after_the_last_number(site_config):
    """The domain's numbers after 999 still pass the contract (call.number) and the display's check."""
    from tests.support.domain_harness import Harness
    h = Harness(site_config)
    sector = "tu-phap-ho-tich"
    h.issue(sector)                                   # the day starts; then a day nearly full
    h.state.sectors[sector].last_number = 998
    assert [h.issue(sector)["number"] for _ in range(2)] == ["A999", "A1000"]
    assert tn.is_number("A1000") and tn.parse_number("A1000") == ("A", 1000)
    h.state.sectors[sector].last_number = tn.MAX_PER_DAY
    assert h.do("kiosk", "k1", type="ticket.issue", sector=sector) == "sector_closed"
