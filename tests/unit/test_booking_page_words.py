"""The booking pages' pure helpers (queue_server/web/booking_bp.py): the search's folding of
Vietnamese marks, the phone number's reading, the calendar file's line folding, the day labels."""
from __future__ import annotations

from datetime import date

import pytest

from queue_server.web.booking_bp import Refused, _ics_line, day_label, fold, phone_of


def test_the_search_reads_words_without_their_marks():
    assert fold("Đăng ký  KHAI SINH") == "dang ky khai sinh"
    assert fold("Giấy chứng nhận quyền sử dụng đất") == "giay chung nhan quyen su dung dat"
    assert fold("  ") == ""


@pytest.mark.parametrize("typed,e164", [("0912 345 678", "+84912345678"), ("+84 912-345-678", "+84912345678"),
                                        ("84912345678", "+84912345678"), ("(03) 9876 5432", "+84398765432"),
                                        ("", None), ("   ", None)])
def test_a_vietnamese_mobile_number_is_read_as_e164(typed, e164):
    assert phone_of(typed) == e164


@pytest.mark.parametrize("typed", ["12345", "0212345678", "091234567", "09123456789", "+1 415 555 0100", "０912345678"])
def test_anything_else_is_refused_in_both_languages(typed):
    with pytest.raises(Refused) as err:
        phone_of(typed)
    assert err.value.field == "phone"
    assert err.value.words["vi"].startswith("Số điện thoại chưa đúng")
    assert err.value.words["en"].startswith("This phone number is not right")


def test_calendar_lines_fold_at_75_octets_never_inside_a_character():
    line = "SUMMARY:" + "Lịch hẹn: Cấp giấy chứng nhận quyền sử dụng đất lần đầu " * 3
    folded = _ics_line(line).split("\r\n")
    assert all(len(part.encode("utf-8")) <= 75 for part in folded)
    assert all(part.startswith(" ") for part in folded[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(folded)) == line


def test_days_are_named_today_tomorrow_then_by_weekday():
    today = date(2026, 12, 2)      # a Wednesday
    assert day_label(today, today) == {"vi": "Hôm nay, Thứ Tư 02/12", "en": "Today, Wednesday 02/12"}
    assert day_label(date(2026, 12, 3), today)["vi"] == "Ngày mai, Thứ Năm 03/12"
    assert day_label(date(2026, 12, 6), today) == {"vi": "Chủ nhật 06/12", "en": "Sunday 06/12"}
