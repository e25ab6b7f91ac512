"""A visit of several procedures passed between two counters over MQTT (issue #18), against a real site
(mosquitto with ACL + the queue server): counter q1's keypad (gpiozero MockFactory pins) and counter q4's
terminal (its view-model's keys, as the on-screen buttons press them). q1 serves justice and results, q4
land: q1 drops a procedure, continues here with results, sends the citizen on; q4 calls them for land."""
from __future__ import annotations

import time
from functools import partial

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin

from counter.model import CounterView
from counter.terminal import CounterTerminal
from firmware_config.device_config import KeypadPins
from protocol.client import DeviceClient
from tests.support.site import RunningSite
from tests.support.wait import until

KEYS = KeypadPins()
JUSTICE, RESULTS, LAND, BUILDING = "tu-phap-ho-tich", "tra-ket-qua", "dat-dai", "xay-dung"
wait_for = partial(until, timeout=6.0, interval=0.01)


@pytest.fixture
def pins():
    Device.pin_factory = MockFactory(pin_class=MockPWMPin)
    try:
        yield Device.pin_factory
    finally:
        Device.pin_factory.reset()
        Device.pin_factory = None


def terminal(site: RunningSite, counter: str, **kw) -> CounterTerminal:
    user, password = site.credentials("counter", counter)
    view = CounterView(counter)
    client = DeviceClient(site.broker_url, site.site.id, "counter", counter, username=user, password=password)
    t = CounterTerminal(client, view, **kw)
    assert t.start(5)
    assert wait_for(lambda: view.state is not None and view.sector_names), "no retained counter state / board"
    return t


def press(factory, pin: int) -> None:
    p = factory.pin(pin)
    p.drive_low()
    time.sleep(0.06)     # a press lasts longer than the keypad's debounce time (gpiozero bounce_time)
    p.drive_high()
    time.sleep(0.06)


def key_then_reply(factory, view, pin) -> None:
    before = view.message
    press(factory, pin)
    assert wait_for(lambda: not view.busy and view.message is not before and view.message.vi != "Đang gửi…"), \
        f"no reply shown after pin {pin}"


def press_then_reply(term: CounterTerminal, key: str) -> None:
    term.press(key).result(timeout=10)


def test_a_visit_passes_from_one_counter_to_another(tmp_path, pins):
    with RunningSite(tmp_path / "site") as site:
        q1 = terminal(site, "q1", keypad_pins=KEYS)
        q4 = terminal(site, "q4")
        try:
            kiosk = site.device("kiosk", "k1")
            ticket = kiosk.request("ticket.issue", {"procedures": [
                {"sector": JUSTICE}, {"sector": RESULTS}, {"sector": LAND}, {"sector": BUILDING}]})["result"]["ticket"]
            number = ticket["number"]
            v1, v4 = q1.view, q4.view

            key_then_reply(pins, v1, KEYS.next)
            assert wait_for(lambda: v1.serving and v1.serving.number == number and v1.serving.visit)
            assert v1.screen()["sector_vi"] == "1/4: Tư pháp – Hộ tịch → Trả kết quả"

            # drop the last procedure (building) from the transfer list: Recall = up to "drop"
            press(pins, KEYS.transfer)
            press(pins, KEYS.recall)
            press(pins, KEYS.transfer)
            assert v1.choice.kind == "drop"
            assert v1.screen()["choice"]["options"] == ["2/4: Trả kết quả", "3/4: Đất đai", "4/4: Xây dựng"]
            press(pins, KEYS.recall)
            key_then_reply(pins, v1, KEYS.transfer)
            assert v1.message.vi == f"Đã bỏ Xây dựng khỏi lượt của số {number}"
            assert wait_for(lambda: v1.serving.steps == 3)

            # Done: results is served here too, so the keypad asks; Next, Done = continue here
            press(pins, KEYS.done)
            assert v1.choice.kind == "after" and v1.screen()["choice"]["options"] == [
                "Mời sang Trả kết quả", "Tiếp tục tại quầy"]
            press(pins, KEYS.next)
            key_then_reply(pins, v1, KEYS.done)
            assert v1.message.vi == f"Đã xong số {number}: tiếp tục tại quầy với Trả kết quả"
            assert wait_for(lambda: v1.serving and v1.serving.sector == RESULTS)
            assert v1.screen()["sector_vi"] == "2/3: Trả kết quả → Đất đai"
            assert v1.screen()["number"] == number

            # Done again: land is not served at q1: the citizen joins the land queue at once
            key_then_reply(pins, v1, KEYS.done)
            assert v1.message.vi == f"Đã xong số {number}: mời sang hàng chờ Đất đai"
            assert wait_for(lambda: v1.serving is None)
            assert wait_for(lambda: v4.state.waiting.get(LAND) == 1)

            # q4 calls them for the last procedure, and finishes the visit
            press_then_reply(q4, "next")
            assert v4.message.vi == f"Đã gọi số {number}"
            assert wait_for(lambda: v4.serving and v4.serving.number == number)
            assert v4.screen()["sector_vi"] == "3/3: Đất đai"
            press_then_reply(q4, "done")                 # the last procedure: no choice, plain done
            assert v4.message.vi == f"Đã xong số {number}"
            with site.service.lock:
                assert site.service.state.ticket_by_number(number).status == "served"
            served = [e for e in site.events("ticket.served") if e.data["ticket_id"] == ticket["id"]]
            assert [(e.data["sector"], e.data["counter"]) for e in served] == [
                (JUSTICE, "q1"), (RESULTS, "q1"), (LAND, "q4")]
        finally:
            q1.close()
            q4.close()


def test_the_keypad_adds_a_procedure_by_sector_then_procedure(tmp_path):
    """The terminal reads the site's catalogue from the server's web (its server_url), so "Add a
    procedure…" lists a sector's procedures, as the web console does: the same visit.add command."""
    with RunningSite(tmp_path / "site") as site:
        q4 = terminal(site, "q4", server_url=site.http_url)
        try:
            v4 = q4.view
            assert wait_for(lambda: v4.procedures.get(BUILDING)), "no catalogue read from the server"
            ticket = site.device("kiosk", "k1").request("ticket.issue", {"sector": LAND})["result"]["ticket"]
            press_then_reply(q4, "next")
            assert wait_for(lambda: v4.serving and v4.serving.number == ticket["number"])
            for key in ("transfer", "recall"):           # the transfer list; up from the top: "Add a procedure…"
                assert q4.press(key) is None
            assert q4.press("transfer") is None and v4.choice.kind == "add"
            assert v4.choice.keys[:3] == [LAND, BUILDING, RESULTS]     # its own sectors first
            q4.press("next")
            assert q4.press("transfer") is None and v4.choice.kind == f"add:{BUILDING}"
            scr = v4.screen()["choice"]
            assert scr["title"] == f"Thêm thủ tục nào của Xây dựng cho số {ticket['number']}?"
            assert scr["options"] == ["Xây dựng (mọi thủ tục)", "Cấp giấy phép xây dựng nhà ở riêng lẻ"]
            q4.press("next")
            q4.press("transfer").result(timeout=10)
            assert v4.message.vi == f"Đã thêm Xây dựng vào lượt của số {ticket['number']}"
            changed = [e.data for e in site.events("visit.changed") if e.data["ticket_id"] == ticket["id"]]
            assert [(d["action"], d["sector"], d["procedure"]) for d in changed] == [("add", BUILDING, "gpxd-nha-o")]
            assert wait_for(lambda: v4.serving.visit and [p.procedure for p in v4.serving.visit.procedures]
                            == [None, "gpxd-nha-o"])
        finally:
            q4.close()
