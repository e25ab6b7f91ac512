"""The words the counter keypad and the web console share (motcua/clerk_texts): every one translated,
and a command's text names its ticket (and a transfer's sector) in each language."""
from __future__ import annotations

from motcua.clerk_texts import MSGIDS, T, done_text
from protocol.ticket_number import number_of


def test_catalogue_complete():
    assert T.missing(MSGIDS) == []


def test_done_texts_name_the_ticket_and_the_sector():
    assert done_text("serve.no_show", "A023") == {"vi": "Số A023 vắng mặt", "en": "A023 did not come"}
    assert done_text("serve.transfer", "A023", {"vi": "Đất đai", "en": "Land"}) == \
        {"vi": "Đã chuyển số A023 sang Đất đai", "en": "A023 transferred to Land"}
    assert done_text("serve.done", "A023")["vi"] == "Đã xong số A023"
    assert done_text("call.number", "A023") is None


def test_number_of_a_ticket_id():
    assert number_of("20261125-A023") == "A023"
    assert number_of(None) == "" and number_of("A023") == "A023"
