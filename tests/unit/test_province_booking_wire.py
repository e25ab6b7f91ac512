"""The site's side of booking at another centre, without a broker (issue #16): the province's
commands read strictly, turned into the booking page's domain commands, the deadline, and the
offer built from the real domain and checked against its exported schema."""
from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta
from types import SimpleNamespace

import jsonschema
import pytest

from protocol.errors import ErrorCode
from protocol.messages import (BRIDGE_MAX_PACKET, OFFER_SLOTS, BookingOffer, ProtocolError, check, dumps,
                               parse_province_booking)
from protocol.schema import all_schemas
from queue_server.domain import commands as C
from queue_server.domain.site import SiteConfigError, parse_site
from queue_server.mqtt.province_bookings import domain_command, expired, offer
from tests.support.booking_site import ANA, BAO, book, site
from tests.support.domain_harness import TZ, Harness

CREATE = {"v": 1, "type": "booking.create", "req_id": "p-1", "procedure": "p1", "slot": "2026-11-24T09:00",
          "id_hash": ANA, "phone": "+84912345678", "lang": "en", "expires_at": "2026-11-24T08:00:10+07:00"}


def test_commands_become_the_booking_pages_commands():
    cmd = parse_province_booking(json.dumps(CREATE).encode())
    assert domain_command(cmd) == C.CreateBooking(procedure="p1", slot="2026-11-24T09:00", id_hash=ANA,
                                                  phone="+84912345678", lang="en", by="province")
    cancel = parse_province_booking(json.dumps({"v": 1, "type": "booking.cancel", "req_id": "p-2", "code": "K7Q4MZ20",
                                                "id_hash": BAO}))
    assert domain_command(cancel) == C.CancelBooking(code="K7Q4MZ20", id_hash=BAO)
    move = parse_province_booking(json.dumps({"v": 1, "type": "booking.move", "req_id": "p-3", "code": "K7Q4MZ20",
                                              "id_hash": BAO, "slot": "2026-11-25T08:00"}))
    assert domain_command(move) == C.MoveBooking(code="K7Q4MZ20", id_hash=BAO, slot="2026-11-25T08:00")


@pytest.mark.parametrize("change", [
    {"type": "ticket.issue"}, {"id_hash": "123"}, {"slot": "tomorrow"}, {"phone": "0912345678"},
    {"procedure": 5}, {"v": True}, {"lang": "fr"},
])
def test_bad_commands_are_refused_with_their_req_id(change):
    with pytest.raises(ProtocolError) as exc:
        parse_province_booking(json.dumps({**CREATE, **change}).encode())
    assert exc.value.code == ErrorCode.BAD_REQUEST and exc.value.req_id == "p-1"


@pytest.mark.parametrize("raw", [b"", b"[1]", b"\xff", b"[" * 5000, b"{" + b" " * 20000 + b"}"])
def test_unreadable_payloads_are_a_clear_error(raw):
    with pytest.raises(ProtocolError):
        parse_province_booking(raw)


def test_the_deadline():
    now = datetime(2026, 11, 24, 8, 0, tzinfo=TZ)
    assert not expired(None, now)
    assert not expired((now + timedelta(seconds=1)).isoformat(), now)
    assert expired(now.isoformat(), now)
    assert expired("2026-11-24T00:59:59+00:00", now)         # the same instant in UTC, a second before
    assert expired("2026-11-24T08:00:10", now)               # no offset: cannot be dated, not applied
    assert expired("soon", now)


def test_the_offer_lists_each_procedures_earliest_free_slots():
    h = Harness(site())
    svc = SimpleNamespace(config=h.core.config, core=h.core, lock=threading.RLock(), clock=lambda: h.now)
    svc.state = h.state
    before = offer(svc)
    first = before["procedures"][0]
    assert [p["procedure"] for p in before["procedures"]] == ["p1", "p2"]
    assert len(first["slots"]) == OFFER_SLOTS
    starts = [s["slot_start"] for s in first["slots"]]
    assert starts == sorted(starts) and all(s > h.now.isoformat() for s in starts)
    assert first["remote"] is True and first["arrive_by"] == (h.now + timedelta(minutes=30)).isoformat()
    parsed = check(BookingOffer, before)
    assert parsed.site == "test" and parsed.name.vi == "Thử"
    jsonschema.validate(json.loads(json.dumps(before)), all_schemas()["bookings.offer"])
    # booked full, the first slot leaves the offer and the next one comes in behind
    slot = first["slots"][0]
    for i in range(slot["free"]):
        assert isinstance(book(h, slot["slot"], who=f"{i + 1:064x}"), dict)
    svc.state = h.state
    after = offer(svc)["procedures"][0]["slots"]
    assert slot["slot"] not in [s["slot"] for s in after] and len(after) == OFFER_SLOTS
    assert after[:OFFER_SLOTS - 1] == first["slots"][1:]


def _offer_of(config):
    h = Harness(config)
    svc = SimpleNamespace(config=h.core.config, core=h.core, lock=threading.RLock(), clock=lambda: h.now)
    svc.state = h.state
    return offer(svc)


def test_the_offer_says_what_the_centre_takes_from_anywhere_and_what_to_bring():
    """From the site config: `bookings.any_residence` (absent: every procedure) and each
    procedure's `documents`, checked against the exported schema."""
    data = site().model_dump(exclude_none=True)
    bring = [{"vi": "Tờ khai (theo mẫu)", "en": "Request form (standard form)"},
             {"vi": "Căn cước công dân", "en": "Citizen ID card"}]
    data["sectors"][0]["procedures"][0]["documents"] = bring
    every = _offer_of(parse_site(data))
    assert [(p["procedure"], p["any_residence"], p["documents"]) for p in every["procedures"]] == [
        ("p1", True, bring), ("p2", True, [])]
    data["bookings"]["any_residence"] = ["p2"]
    only = _offer_of(parse_site(data))
    assert [(p["procedure"], p["any_residence"]) for p in only["procedures"]] == [("p1", False), ("p2", True)]
    for built in (every, only):
        assert check(BookingOffer, built).procedures[0].documents[0].vi == "Tờ khai (theo mẫu)"
        jsonschema.validate(json.loads(json.dumps(built)), all_schemas()["bookings.offer"])


def test_an_offer_from_before_the_fields_still_reads():
    """A centre not yet updated sends neither field: taken from anywhere (as the portal read it
    before), nothing listed to bring."""
    old = {"v": 1, "type": "bookings.offer", "ts": "2026-12-02T09:12:00+07:00", "site": "site-a",
           "name": {"vi": "A", "en": "A"}, "days_ahead": 14, "slot_min": 30,
           "procedures": [{"procedure": "p1", "sector": "s1", "name": {"vi": "Một", "en": "One"}, "slots": [],
                           "remote": False}]}
    p = check(BookingOffer, old).procedures[0]
    assert p.any_residence is True and p.documents is None      # not said (not "nothing to bring")


def test_a_site_config_naming_an_unknown_procedure_as_taken_from_anywhere_is_refused():
    with pytest.raises(SiteConfigError, match=r"bookings.any_residence: unknown procedure 'p9'"):
        site(any_residence=["p1", "p9"])
    assert site(any_residence=[]).any_residence == frozenset()        # books only its own residents
    assert site().any_residence == frozenset({"p1", "p2"})
    assert parse_site({**site().model_dump(exclude_none=True), "bookings": None}).any_residence == frozenset()


def test_an_offer_too_big_for_the_bridge_drops_documents_then_slots(caplog):
    """A centre offering very many procedures for booking: the offer still passes the bridge
    (BRIDGE_MAX_PACKET), without documents, then with fewer slots, and says so in the log."""
    data = site().model_dump(exclude_none=True)
    bring = [{"vi": f"Giấy tờ số {i} cần mang theo khi đến nộp hồ sơ", "en": f"Document no. {i} to bring"}
             for i in range(6)]
    template = data["sectors"][0]["procedures"][0]
    data["sectors"][0]["procedures"] = [{**template, "id": f"p{i}", "documents": bring} for i in range(1, 121)]
    roomy = _offer_of(parse_site(data))
    assert len(dumps(roomy)) <= BRIDGE_MAX_PACKET and roomy["procedures"][0]["documents"] == bring
    data["sectors"][0]["procedures"] = [{**template, "id": f"x{i}", "documents": bring} for i in range(1, 301)]
    caplog.set_level(logging.WARNING, logger="queue_server.mqtt.province_bookings")
    big = _offer_of(parse_site(data))
    assert len(dumps(big)) <= BRIDGE_MAX_PACKET and len(big["procedures"]) == 300
    assert all(p["documents"] is None for p in big["procedures"]) and big["procedures"][0]["slots"]
    check(BookingOffer, big)
    _offer_of(parse_site(data))                 # sent again: said once, not per offer
    assert [r.getMessage() for r in caplog.records].count(next(
        r.getMessage() for r in caplog.records if "without documents" in r.getMessage())) == 1


def test_an_offer_too_big_even_with_one_slot_each_sends_the_first_procedures_that_fit(caplog):
    from queue_server.mqtt.province_bookings import fit_to_bridge
    proc = {"procedure": "x", "sector": "a", "name": {"vi": "X" * 200, "en": "X" * 200}, "remote": False,
            "slots": [{"slot": "2026-11-24T08:00", "slot_start": "2026-11-24T08:00:00+07:00",
                       "slot_end": "2026-11-24T08:30:00+07:00", "free": 1}], "any_residence": True, "documents": []}
    big = {"v": 1, "type": "bookings.offer", "ts": "2026-11-24T07:30:00+07:00", "site": "huge",
           "name": {"vi": "A", "en": "A"}, "days_ahead": 7, "slot_min": 30,
           "procedures": [{**proc, "procedure": f"x{i}"} for i in range(1000)]}
    caplog.set_level(logging.ERROR, logger="queue_server.mqtt.province_bookings")
    sent = fit_to_bridge(big)
    assert len(dumps(sent)) <= BRIDGE_MAX_PACKET and 0 < len(sent["procedures"]) < 1000
    assert [p["procedure"] for p in sent["procedures"]] == [f"x{i}" for i in range(len(sent["procedures"]))]
    check(BookingOffer, sent)
    assert any("only the first" in r.getMessage() for r in caplog.records)
