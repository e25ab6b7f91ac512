"""What the announcer says, and the chime, without espeak-ng (pure functions)."""
from __future__ import annotations

import array

from motcua.speech import (LETTERS_VI, PREFIX_VI, chime_frames, counter_number, silence, spoken_en, spoken_vi,
                            trim)


def test_ticket_digits_are_read_one_by_one_and_the_counter_as_a_number():
    s = spoken_vi("A023", "Quầy 5", "q5")
    assert s.sentence == "Mời công dân có số thứ tự A, không, hai, ba, đến quầy số 5"
    assert [t for t, _ in s.fragments] == [PREFIX_VI, "a", "không", "hai", "ba", "đến quầy số", "5"]
    assert spoken_vi("B1007", "Quầy 12").sentence.endswith("B, một, không, không, bảy, đến quầy số 12")


def test_letters_have_vietnamese_names():
    assert [t for t, _ in spoken_vi("C001", "Quầy 1").fragments][1] == "xê"
    assert LETTERS_VI["K"] == "ca" and LETTERS_VI["G"] == "giê"


def test_counter_number_from_label_or_id_else_the_label_is_read():
    assert counter_number("Quầy 5") == "5"
    assert counter_number("Quầy số 07") == "7"
    assert counter_number("Một cửa", "q12") == "12"
    assert counter_number("Một cửa", "mot-cua") is None
    s = spoken_vi("A001", "Bàn tiếp dân", "ban-tiep-dan")
    assert s.sentence.endswith("đến Bàn tiếp dân")


def test_junk_in_the_number_is_skipped_not_spoken():
    assert spoken_vi(" a-01 ", "Quầy 1").sentence == "Mời công dân có số thứ tự A, không, một, đến quầy số 1"


def test_english_sentence():
    assert spoken_en("A023", "Counter 5") == "Ticket number A 0 2 3, please go to counter 5."


def test_chime_is_audible_and_short_and_trim_cuts_silence():
    frames = chime_frames()
    a = array.array("h")
    a.frombytes(frames)
    assert 0.8 < len(a) / 22050 < 1.6
    assert max(abs(x) for x in a) > 5000
    padded = silence(500) + frames + silence(500)
    assert len(trim(padded)) < len(padded) - 2 * 22050 * 2 * 0.4
    assert trim(silence(100)) == silence(100)


def test_a_visit_says_which_procedure_and_sector():
    """Issue #18: as the board shows "2/3: Đất đai", the call says "thủ tục 2 trên 3, Đất đai"."""
    from motcua.speech import announcement_text
    s = spoken_vi("A023", "Quầy 5", "q5", step=2, steps=3, sector_name="Đất đai")
    assert s.sentence == "Mời công dân có số thứ tự A, không, hai, ba, đến quầy số 5, thủ tục 2 trên 3, Đất đai"
    assert [t for t, _ in s.fragments][-2:] == ["thủ tục 2 trên 3", "Đất đai"]
    assert spoken_vi("A023", "Quầy 5", step=1, steps=1).sentence.endswith("đến quầy số 5")     # one procedure
    assert spoken_en("A023", "Counter 5", step=2, steps=3, sector_name_en="Land") == \
        "Ticket number A 0 2 3, please go to counter 5, procedure 2 of 3, Land."
    call = {"number": "A023", "counter": "q5", "counter_label": "Quầy 5", "step": 3, "steps": 3}
    assert announcement_text(call).sentence.endswith("đến quầy số 5, thủ tục 3 trên 3")   # no name known
