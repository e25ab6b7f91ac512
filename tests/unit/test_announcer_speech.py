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
