"""The counter a call names: the server's announcement text and the displays' voice agree."""
from __future__ import annotations

import pytest

from motcua.speech import spoken_en, spoken_vi
from queue_server import texts
from queue_server.domain.site import Counter

ODD = [("q5", "Quầy 05", "Counter 05"), ("q10", "Quầy 10", "Counter 10"), ("q21", "Quầy 21", "Counter 21"),
       ("ban-a", "Bàn A", "Desk A"), ("q3", "Quầy 3 (tầng 2)", "Counter 3 (floor 2)"), ("q7", "Bàn tiếp dân", "Desk")]


def _counters(site_config):
    yield from site_config.counters
    for cid, vi, en in ODD:
        yield Counter(id=cid, label={"vi": vi, "en": en}, sectors=(site_config.sectors[0].id,))


def test_every_counter_is_named_alike_by_the_server_and_by_the_display(site_config):
    seen = 0
    for counter in _counters(site_config):
        said = texts.announce("A023", counter.spoken_number, counter.label.model_dump())
        # what the display's voice says after the ticket's characters ("đến quầy số 5", "đến Bàn A")
        voiced = spoken_vi("A023", counter.label.vi, counter.id).sentence.rsplit(", ", 1)[1]
        assert said["vi"].endswith(" " + voiced), (counter.id, said["vi"], voiced)
        heard_en = spoken_en("A023", counter.label.en, counter.id)
        where = heard_en.split("please go to ", 1)[1].rstrip(".")
        assert said["en"].endswith(" " + where), (counter.id, said["en"], heard_en)
        seen += 1
    assert seen == len(site_config.counters) + len(ODD)


@pytest.mark.parametrize("vi, en, cid, number, said_vi", [
    ("Quầy 05", "Counter 05", "q5", "5", "Mời công dân có số thứ tự A023 đến quầy số 5"),
    ("Quầy 10", "Counter 10", "q10", "10", "Mời công dân có số thứ tự A023 đến quầy số 10"),
    ("Quầy 21", "Counter 21", "q21", "21", "Mời công dân có số thứ tự A023 đến quầy số 21"),
    ("Bàn A", "Desk A", "ban-a", None, "Mời công dân có số thứ tự A023 đến Bàn A"),
])
def test_the_spoken_number(vi, en, cid, number, said_vi):
    c = Counter(id=cid, label={"vi": vi, "en": en}, sectors=("x",))
    assert c.spoken_number == number
    assert c.number == (number or cid)     # what devices get as counter_number: never empty
    assert texts.announce("A023", c.spoken_number, c.label.model_dump())["vi"] == said_vi
