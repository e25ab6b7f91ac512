"""Every counter key and the rating pad through gpiozero's MockFactory, against a real site
(mosquitto with ACL + the queue server): the commands that reach the broker, and what comes back."""
from __future__ import annotations

import time
from functools import partial

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin

from counter.model import CounterView
from counter.terminal import CounterTerminal
from firmware_config.device_config import KeypadPins, RatingPins
from protocol.client import DeviceClient
from protocol.topics import Topics
from tests.support.mqtt_peer import Peer
from tests.support.site import RunningSite
from tests.support.wait import until

KEYS = KeypadPins()
PAD = RatingPins()


@pytest.fixture
def pins():
    Device.pin_factory = MockFactory(pin_class=MockPWMPin)
    try:
        yield Device.pin_factory
    finally:
        Device.pin_factory.reset()
        Device.pin_factory = None


def sniffer(site: RunningSite, counter: str) -> Peer:
    """Listens on the counter's cmd topic with the server's account (the ACL lets only it read there)."""
    cred = site.creds["server"]
    return Peer(site.mqtt_port, cred["username"], cred["password"],
                topics=[Topics(site.site.id).counter_cmd(counter)])


def commands(peer: Peer) -> list[dict]:
    return [m.data for m in peer.messages]


def command_types(peer: Peer) -> list[str]:
    out = []
    for m in commands(peer):      # a retry has the same req_id: count each command once
        if not any(o["req_id"] == m["req_id"] for o in out):
            out.append(m)
    return [m["type"] for m in out]


wait_for = partial(until, timeout=6.0, interval=0.01)


def press(factory, pin: int) -> None:
    p = factory.pin(pin)
    p.drive_low()
    time.sleep(0.06)     # a press lasts longer than the keypad's debounce time (gpiozero bounce_time)
    p.drive_high()
    time.sleep(0.06)     # and the next one comes after it


@pytest.fixture
def counter_site(tmp_path, pins):
    with RunningSite(tmp_path / "site") as site:
        user, password = site.credentials("counter", "q1")
        view = CounterView("q1")
        client = DeviceClient(site.broker_url, site.site.id, "counter", "q1", username=user, password=password)
        terminal = CounterTerminal(client, view, keypad_pins=KEYS, rating_pins=PAD)
        assert terminal.start(5)
        sniff = sniffer(site, "q1")
        assert wait_for(lambda: view.state is not None and view.sector_names), "no retained counter state / board"
        try:
            yield site, view, terminal, sniff
        finally:
            sniff.close()
            terminal.close()


def key_then_reply(factory, view, pin) -> None:
    before = view.message
    press(factory, pin)
    assert wait_for(lambda: not view.busy and view.message is not before and view.message.vi != "Đang gửi…"), \
        f"no reply shown after pin {pin}"


def test_every_key_reaches_the_server_and_the_screen_follows(counter_site, pins):
    site, view, terminal, sniffer = counter_site
    kiosk = site.device("kiosk", "k1")
    for _ in range(3):
        assert kiosk.request("ticket.issue", {"sector": "tu-phap-ho-tich"})["ok"]

    key_then_reply(pins, view, KEYS.next)
    assert wait_for(lambda: view.serving and view.serving.number == "A001")
    assert view.message.vi == "Đã gọi số A001"
    key_then_reply(pins, view, KEYS.recall)
    assert view.message.vi == "Đã gọi lại số A001"
    key_then_reply(pins, view, KEYS.done)
    assert view.message.vi == "Đã xong số A001"
    assert wait_for(lambda: view.state and (view.state.last_served or "").endswith("A001") and view.serving is None)

    key_then_reply(pins, view, KEYS.next)
    assert wait_for(lambda: view.serving and view.serving.number == "A002")
    key_then_reply(pins, view, KEYS.no_show)
    assert view.message.vi == "Số A002 vắng mặt"

    key_then_reply(pins, view, KEYS.next)
    assert wait_for(lambda: view.serving and view.serving.number == "A003")
    # Transfer: opens the sector list (no command yet); Next moves down; Transfer confirms
    press(pins, KEYS.transfer)
    assert wait_for(lambda: view.choice is not None)
    options = view.choice.keys
    assert "tu-phap-ho-tich" not in options and options[0] == "tra-ket-qua"
    press(pins, KEYS.next)
    assert view.choice.index == 1
    key_then_reply(pins, view, KEYS.transfer)
    assert view.message.level == "ok", view.message
    assert view.message.vi == f"Đã chuyển số A003 sang {view.sector_name(options[1])}"
    assert wait_for(lambda: view.serving is None)

    # Transfer then Pause cancels, nothing sent (and with nobody served, Transfer only explains)
    press(pins, KEYS.transfer)
    assert view.choice is None and view.message.vi == "Quầy chưa gọi số nào"

    # Pause: the break's reason first (Next moves down, Done confirms)
    press(pins, KEYS.pause)
    assert view.choice is not None and view.choice.kind == "pause"
    press(pins, KEYS.next)
    press(pins, KEYS.next)                           # files: fetching files
    key_then_reply(pins, view, KEYS.done)
    assert view.message.vi == "Tạm nghỉ: Đi lấy hồ sơ"
    assert wait_for(lambda: view.status == "paused" and view.state.break_reason == "files")
    assert view.screen()["keys"]["pause"] == "Mở quầy" and view.screen()["status_vi"] == "Tạm nghỉ: Đi lấy hồ sơ"
    key_then_reply(pins, view, KEYS.pause)
    assert wait_for(lambda: view.status == "open")

    key_then_reply(pins, view, KEYS.next)            # A003 went to another sector: nobody left here
    assert view.message.level == "error" and view.message.vi == "Không còn ai chờ ở quầy này"

    assert command_types(sniffer) == ["call.next", "call.recall", "serve.done", "call.next", "serve.no_show",
                               "call.next", "serve.transfer", "counter.pause", "counter.open", "call.next"]
    transfer = next(m for m in commands(sniffer) if m["type"] == "serve.transfer")
    assert transfer["to_sector"] == options[1]
    assert next(m for m in commands(sniffer) if m["type"] == "counter.pause")["reason"] == "files"


def test_rating_pad_once_per_ticket_with_thank_you_light(counter_site, pins):
    site, view, terminal, sniffer = counter_site
    kiosk = site.device("kiosk", "k1")
    assert kiosk.request("ticket.issue", {"sector": "tra-ket-qua"})["ok"]

    press(pins, PAD.very_satisfied)           # nothing served yet: nothing to rate
    assert view.message.vi == "Chưa có lượt phục vụ nào để đánh giá"

    key_then_reply(pins, view, KEYS.next)
    key_then_reply(pins, view, KEYS.done)
    assert wait_for(lambda: view.state and view.state.last_served)
    ticket = view.state.last_served

    led = pins.pin(PAD.led)
    led.clear_states()
    press(pins, PAD.very_satisfied)
    assert wait_for(lambda: view.message and view.message.vi == "Đã ghi nhận đánh giá cho số K001")
    assert wait_for(lambda: sum(1 for s in led.states if s.state) >= 3, timeout=3), "the thank-you light did not blink 3 times"

    press(pins, PAD.unsatisfied)               # a second press for the same ticket is refused on the pad
    assert view.message.vi == "Số này đã được đánh giá"
    ratings = [m for m in commands(sniffer) if m["type"] == "rating.submit"]
    assert {(m["ticket_id"], m["score"]) for m in ratings} == {(ticket, 4)}

    # and the server refuses it too, should another device try
    again = terminal.client.request("rating.submit", {"ticket_id": ticket, "score": 1}, timeout=5)
    assert again["ok"] is False and again["error"]["code"] == "not_allowed"


def test_double_press_while_sending_calls_only_one_citizen(counter_site, pins):
    site, view, terminal, sniffer = counter_site
    kiosk = site.device("kiosk", "k1")
    for _ in range(2):
        assert kiosk.request("ticket.issue", {"sector": "tu-phap-ho-tich"})["ok"]
    # the second press lands while the first command is still in flight
    view.busy = True
    press(pins, KEYS.next)
    assert view.message.vi == "Vui lòng chờ: lệnh trước đang được gửi"
    view.busy = False
    key_then_reply(pins, view, KEYS.next)
    assert command_types(sniffer) == ["call.next"]
