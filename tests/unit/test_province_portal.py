"""The province booking portal's view (province/portal.py, pure): which centres take a procedure
from anywhere in the province (each procedure's `any_residence` in the centre's offer), in what
order they are shown, the earliest slot a nearby centre offers, and the relay's offers read as the
portal's centres."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from province import nearby, portal
from province.booking_relay import SiteOffer
from province.config import ProvinceConfigError, parse_province_config
from protocol.messages import BookingOffer

VN = timezone(timedelta(hours=7))
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=VN)
CONFIG = parse_province_config({
    "sites": [{"id": "a", "lat": 10.80, "lon": 106.70, "name": {"vi": "Phường A", "en": "Ward A"}},
              {"id": "b", "lat": 10.83, "lon": 106.72}, {"id": "c", "lat": 10.81, "lon": 106.71}],
    "portal": {"public_url": "https://datlich.example.vn/"}})


def slot(hours: float) -> portal.Slot:
    start = NOW + timedelta(hours=hours)
    return portal.Slot(f"{start:%Y-%m-%dT%H:%M}", start, start + timedelta(minutes=30))


def proc(pid: str, sector: str, *slots: portal.Slot, anyone: bool = True) -> portal.ProcedureOffer:
    return portal.ProcedureOffer(pid, {"vi": pid, "en": pid}, sector, {"vi": sector, "en": sector}, tuple(slots),
                                 any_residence=anyone)


def centre(site: str, online: bool, *procs: portal.ProcedureOffer) -> portal.CentreOffer:
    return portal.CentreOffer(site, {"vi": f"Trung tâm {site}", "en": f"{site} centre"}, online,
                              procedures={p.id: p for p in procs})


CENTRES = [
    centre("a", True, proc("khai-sinh", "tu-phap", slot(26), slot(27)), proc("ket-hon", "tu-phap", slot(3))),
    # b books ket-hon only for its own residents (its offer says so): not listed on the portal
    centre("b", True, proc("khai-sinh", "tu-phap", slot(2)), proc("ket-hon", "tu-phap", slot(1), anyone=False)),
    centre("c", False, proc("khai-sinh", "tu-phap", slot(1))),
    centre("d", True, proc("khai-sinh", "tu-phap")),
]


def test_a_centre_takes_from_anywhere_what_its_offer_says():
    assert set(portal.accepted(CENTRES[0])) == {"khai-sinh", "ket-hon"}
    assert set(portal.accepted(CENTRES[1])) == {"khai-sinh"}       # b's offer: ket-hon not from anywhere
    listed = {p["id"]: p["centres"] for p in portal.procedures(CENTRES)}
    assert listed == {"khai-sinh": 4, "ket-hon": 1}


def test_the_portal_searches_as_a_centres_own_booking_page_does():
    """One search for both (booking_bp.matching): every word, either language, marks ignored."""
    from queue_server.web.booking_bp import matching
    listed = [{"id": "khai-sinh", "name": {"vi": "Đăng ký khai sinh", "en": "Birth registration"},
               "sector_name": {"vi": "Tư pháp", "en": "Justice"}},
              {"id": "ket-hon", "name": {"vi": "Đăng ký kết hôn", "en": "Marriage registration"},
               "sector_name": {"vi": "Tư pháp", "en": "Justice"}}]
    assert [p["id"] for p in matching("dang ky khai", listed)] == ["khai-sinh"]
    assert [p["id"] for p in matching("TU PHAP", listed)] == ["khai-sinh", "ket-hon"]
    assert [p["id"] for p in matching("marriage đăng", listed)] == ["ket-hon"]
    assert matching("  ", listed) == [] and matching("ho chieu", listed) == []


def test_centres_bookable_earliest_first_then_full_then_offline():
    waits = {("a", "tu-phap"): {"waiting": 9, "est_wait_s": 2400}}
    rows = portal.centres_for(CONFIG, CENTRES, "khai-sinh", waits, NOW)
    assert [r["site"] for r in rows] == ["b", "a", "d", "c"]
    b, a, d, c = rows
    assert b["bookable"] and b["first"].start == NOW + timedelta(hours=2) and b["wait"] is None
    assert a["name"] == {"vi": "Phường A", "en": "Ward A"} and a["wait"] == {"waiting": 9, "est_wait_s": 2400}
    assert not d["bookable"] and d["online"] and d["first"] is None          # no free time
    assert not c["bookable"] and not c["online"]                              # offline: shown, never bookable
    # a slot that has begun meanwhile is not offered
    later = portal.centres_for(CONFIG, CENTRES, "khai-sinh", waits, NOW + timedelta(hours=3))
    assert next(r for r in later if r["site"] == "b")["first"] is None
    assert portal.centres_for(CONFIG, CENTRES, "ket-hon", waits, NOW)[0]["site"] == "a"   # b does not take it


def test_the_nearby_advice_offers_a_centres_earliest_slot_and_the_portals_page():
    got = portal.nearby_bookings(CONFIG, CENTRES, [("a", "tu-phap"), ("b", "tu-phap"), ("c", "tu-phap")], NOW)
    page = "https://datlich.example.vn/book/{}/{}".format
    assert got[("a", "tu-phap")] == {
        "next_booking": slot(3).start.isoformat(), "book_url": page("ket-hon", "a"),
        "bookings": {"ket-hon": {"slot": slot(3).start.isoformat(), "url": page("ket-hon", "a")},
                     "khai-sinh": {"slot": slot(26).start.isoformat(), "url": page("khai-sinh", "a")}}}
    # b takes only khai-sinh from anywhere (its earlier ket-hon slot is not offered); c is offline
    assert got[("b", "tu-phap")]["bookings"] == {"khai-sinh": {"slot": slot(2).start.isoformat(),
                                                                "url": page("khai-sinh", "b")}}
    assert ("c", "tu-phap") not in got
    clock = NOW.timestamp()
    now = {("a", "tu-phap"): nearby.SectorNow("a", "tu-phap", 30, 5400, clock),
           ("b", "tu-phap"): nearby.SectorNow("b", "tu-phap", 2, 300, clock)}
    option = nearby.compute(now, CONFIG, clock, NOW.isoformat(), got)[("a", "tu-phap")]["nearby"][0]
    assert option["site"] == "b" and option["next_booking"] == slot(2).start.isoformat()
    assert option["book_url"] == page("khai-sinh", "b") and set(option["bookings"]) == {"khai-sinh"}
    # without a public address the slot is still said, with no page to scan
    bare = parse_province_config({"sites": [{"id": "a", "lat": 10.8, "lon": 106.7}]})
    assert portal.nearby_bookings(bare, CENTRES, [("a", "tu-phap")], NOW)[("a", "tu-phap")]["book_url"] is None


def test_the_relays_offers_as_centres():
    start = NOW + timedelta(days=1)
    offer = BookingOffer.model_validate({
        "v": 1, "type": "bookings.offer", "ts": NOW.isoformat(), "site": "a", "name": {"vi": "A", "en": "A"},
        "days_ahead": 7, "slot_min": 15, "procedures": [
            {"procedure": "khai-sinh", "sector": "tu-phap", "name": {"vi": "Khai sinh", "en": "Birth"}, "free": 1,
             "documents": [{"vi": "Tờ khai", "en": "Form"}], "any_residence": False, "remote": False, "slots": [
                 {"slot": f"{start:%Y-%m-%dT%H:%M}", "slot_start": start.isoformat(),
                  "slot_end": (start + timedelta(minutes=15)).isoformat(), "free": 1},
                 {"slot": "2026-12-03T11:00", "slot_start": "2026-12-03T11:00:00+07:00",
                  "slot_end": "2026-12-03T11:15:00+07:00", "free": 0},
                 {"slot": "2026-12-03T12:00", "slot_start": "2026-12-03T12:00:00",      # no offset: dropped
                  "slot_end": "2026-12-03T12:15:00", "free": 1},
                 {"slot": "2026-12-03T13:00", "slot_start": "soon", "slot_end": "later", "free": 1}]},
            # an offer from a centre older than the fields: taken from anywhere, nothing listed to bring
            {"procedure": "ket-hon", "sector": "tu-phap", "name": {"vi": "Kết hôn", "en": "Marriage"},
             "remote": False, "slots": []}]})
    got = portal.from_offers({"a": SiteOffer("a", True, offer), "z": SiteOffer("z", False, None)},
                             {("a", "tu-phap"): {"vi": "Tư pháp", "en": "Justice"}})
    assert len(got) == 1 and got[0].online and got[0].slot_min == 15
    p = got[0].procedures["khai-sinh"]
    assert p.sector_name == {"vi": "Tư pháp", "en": "Justice"}
    assert p.documents == ({"vi": "Tờ khai", "en": "Form"},)      # what to bring, as the offer says it
    assert [s.start for s in p.slots] == [start]      # a full slot is not offered, a bad one is dropped
    old = got[0].procedures["ket-hon"]
    assert old.any_residence and old.documents is None          # not said: the page says to ask
    assert set(portal.accepted(got[0])) == {"ket-hon"}     # khai-sinh: for the centre's own residents only


def test_the_portal_config_is_checked():
    with pytest.raises(ProvinceConfigError, match="public_url"):
        parse_province_config({"portal": {"public_url": "datlich.example.vn"}})
    # the list moved to each centre's site config: an old province.yaml is told so, not ignored
    with pytest.raises(ProvinceConfigError, match=r"moved to each centre's site config, `bookings.any_residence"):
        parse_province_config({"portal": {"any_residence": {"site-b": ["khai-sinh"]}}})


def test_every_text_of_the_portal_is_in_its_catalogue():
    """The portal's own words in the province catalogue; the words it shares with the centre's
    booking pages (`bi`, `both`) in the web catalogue they come from."""
    import re
    from pathlib import Path

    from province.texts import T as province
    from queue_server.web.pages import T as web
    root = Path(portal.__file__).resolve().parent
    files = [*sorted((root / "templates" / "portal").glob("*.html")), root / "portal_web.py"]
    text = "\n".join(f.read_text(encoding="utf-8") for f in files)
    own = set(re.findall(r'''(?:\bpbi|\bT\.both|\bT)\(\s*"([^"]+)"''', text))
    shared = set(re.findall(r'''(?<![.\w])(?:bi|both|pages\.both)\(\s*["']([^"']+)["']''', text))
    assert len(own) > 10 and len(shared) > 10
    assert province.missing(sorted(own)) == []
    assert web.missing(sorted(shared)) == []


def test_pages_it_cannot_show_are_said_in_words_and_guessing_codes_is_slowed():
    """Without a relay the portal says booking is not available; a code of no booking is 'not
    found' in both languages, and after 20 from one address the lookups are refused for a while."""
    from province.web import create_app
    client = create_app({"DB_URL": None, "PROVINCE": CONFIG, "RELAY": None}).test_client()
    page = client.get("/book")
    assert page.status_code == 503 and "Hiện chưa đặt lịch được" in page.text and "not available" in page.text
    assert "Content-Security-Policy" in page.headers
    for _ in range(20):
        page = client.get("/b/a/K7Q4-MZ20")
        assert page.status_code == 404
    assert "không có lịch hẹn nào với mã này" in page.text and "No booking of this centre has this code" in page.text
    assert client.get("/b/a/not-a-code").status_code == 429


def test_what_to_bring_lists_the_documents_and_says_to_ask_when_the_offer_does_not_say():
    """A centre's offer lists the documents (shown), none (the ID card), or does not say (an older
    centre, or an offer trimmed to pass the bridge): then the page says to ask the centre instead
    of telling the citizen the ID card is enough."""
    from flask import render_template_string

    from province.web import create_app
    app = create_app({"DB_URL": None, "PROVINCE": CONFIG, "RELAY": None})
    with app.test_request_context("/b/a/K7Q4MZ20"):
        def bring(documents):
            p = portal.ProcedureOffer("p", {"vi": "P", "en": "P"}, "s", {"vi": "S", "en": "S"}, documents=documents)
            return render_template_string('{% from "app/macros.html" import bi %}'
                                          '{% include "app/booking/procedure_facts.html" %}', p=p)
        listed = bring(({"vi": "Tờ khai (theo mẫu)", "en": "Request form"},))
        assert "Tờ khai (theo mẫu)" in listed and "bring-ask" not in listed
        assert "Thẻ căn cước công dân của bạn." in bring(()) and "bring-ask" not in bring(())
        unknown = bring(None)
        assert 'id="bring-ask"' in unknown and "xin hỏi tại trung tâm" in unknown and "please ask there" in unknown
