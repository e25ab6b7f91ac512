"""protocol/cccd.py: the 12-digit number's rule, the card's QR, the age band and the keyed hash,
and that nothing personal shows in a repr or an error."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import cccd

TODAY = dt.date(2026, 12, 2)
KEY = b"k" * 32
NAME = "Nguyễn Thị Bích Ngọc"
ADDRESS = "Số 5, Phố Huế, Hai Bà Trưng, Hà Nội"


def number_for(birth_year: int, female: bool, province: str = "001", rest: str = "012345") -> str:
    century = (birth_year - 1900) // 100
    return f"{province}{2 * century + int(female)}{birth_year % 100:02d}{rest}"


def qr(number: str, birth: dt.date, issue: dt.date = dt.date(2021, 6, 1), old: str = "", extra: str = "") -> str:
    return f"{number}|{old}|{NAME}|{birth:%d%m%Y}|Nữ|{ADDRESS}|{issue:%d%m%Y}{extra}"


# --- the number ----------------------------------------------------------------

@pytest.mark.parametrize("number, year", [
    ("001085012345", 1985), ("001185012345", 1985),    # 0/1: the 20th century, male/female
    ("079205012345", 2005), ("079312012345", 2012),    # 2/3: the 21st
])
def test_century_digit_and_year_give_the_birth_year(number, year):
    assert cccd.check_number(number, TODAY).birth_year == year


def test_a_typed_number_may_be_grouped():
    assert cccd.check_number(" 001 085.012-345 ", TODAY).digits == "001085012345"


@pytest.mark.parametrize("text", ["", "00108501234", "0010850123456", "00108501234a", "００１０８５０１２３４５",
                                  "001085012345\x00", None, 1085012345])
def test_not_twelve_digits(text):
    with pytest.raises(cccd.CccdError) as err:
        cccd.check_number(text, TODAY)
    assert err.value.reason == "number"


@pytest.mark.parametrize("number", [
    "001415012345",   # 4: born 2115, not born yet
    "001213012345",   # born 2013: 13 at most
    "001004012345",   # born 1904: 121 at least
    "001999012345",   # born 2499
])
def test_an_age_no_card_holder_has(number):
    with pytest.raises(cccd.CccdError) as err:
        cccd.check_number(number, TODAY)
    assert err.value.reason == "age"
    assert err.value.text("vi") == "Số căn cước công dân không hợp lệ: vui lòng kiểm tra lại."
    assert err.value.text("en") == "This ID card number is not valid: please check it."


@given(year=st.integers(TODAY.year - cccd.MAX_AGE, TODAY.year - cccd.MIN_AGE), female=st.booleans(),
       province=st.from_regex(r"\A[0-9]{3}\Z"), rest=st.from_regex(r"\A[0-9]{6}\Z"))
def test_every_plausible_number_is_accepted(year, female, province, rest):
    number = cccd.check_number(number_for(year, female, province, rest), TODAY)
    assert number.birth_year == year
    assert cccd.MIN_AGE <= number.years_since_birth(TODAY) <= cccd.MAX_AGE + 1


@given(text=st.from_regex(r"\A[0-9]{12}\Z"))
def test_any_twelve_digits_are_accepted_exactly_when_the_age_is_plausible(text):
    year = 1900 + 100 * (int(text[3]) // 2) + int(text[4:6])
    plausible = cccd.MIN_AGE <= TODAY.year - year <= cccd.MAX_AGE + 1
    try:
        cccd.check_number(text, TODAY)
        assert plausible
    except cccd.CccdError as err:
        assert not plausible and err.reason == "age"


@given(text=st.text(max_size=30).filter(lambda s: len("".join(s.split()).replace(".", "").replace("-", "")) != 12))
def test_anything_else_is_a_clear_error_never_a_crash(text):
    with pytest.raises(cccd.CccdError) as err:
        cccd.check_number(text, TODAY)
    assert err.value.reason in cccd.REASONS


# --- the age band ---------------------------------------------------------------

@pytest.mark.parametrize("age, band", [(14, "<60"), (59, "<60"), (60, "60-79"), (79, "60-79"), (80, "80+"),
                                       (120, "80+")])
def test_age_bands(age, band):
    assert cccd.age_band(age) == band


def test_the_elderly_threshold_is_the_law_on_the_elderly():
    assert cccd.ELDERLY_AGE == 60 and cccd.AGE_BANDS[1].startswith("60")


def test_a_number_alone_never_places_a_citizen_above_their_band():
    # born 1966: 60 this year after the birthday, 59 before; the number has no birthday
    number = cccd.check_number(number_for(1966, False), TODAY)
    assert number.age_band(TODAY) == "<60"
    assert cccd.check_number(number_for(1965, True), TODAY).age_band(TODAY) == "60-79"


# --- the QR ---------------------------------------------------------------------

def test_a_card_qr_gives_the_birth_date_and_the_exact_age():
    card = cccd.parse_qr(qr(number_for(1966, True), dt.date(1966, 12, 3)), TODAY)
    assert card.birth_date == dt.date(1966, 12, 3) and card.issue_date == dt.date(2021, 6, 1)
    assert card.age_on(TODAY) == 59 and not card.elderly(TODAY)
    assert card.age_on(dt.date(2026, 12, 3)) == 60 and card.elderly(dt.date(2026, 12, 3))
    assert card.age_band(dt.date(2026, 12, 3)) == "60-79"


def test_the_2024_cards_extra_fields_and_the_scanners_enter_are_ignored():
    text = qr(number_for(1950, False), dt.date(1950, 1, 31), old="123456789", extra="|Nguyễn Văn B|Trần Thị C|x\r\n")
    card = cccd.parse_qr(text.encode("utf-8"), TODAY)
    assert card.age_band(TODAY) == "60-79"


@pytest.mark.parametrize("text, what", [
    (b"\xff\xfe001", "not UTF-8"),
    ("001085012345|||01011985|Nam|Hà Nội", "fewer than 7"),
    ("001085012345||{n}|01011985|Nam||10102021", "no address"),
    ("001085012345|| |01011985|Nam|{a}|10102021", "no name"),
    ("001085012345|12345|{n}|01011985|Nam|{a}|10102021", "old number"),
    ("001085012345||{n}|1985-01-01|Nam|{a}|10102021", "birth date is not ddMMyyyy"),
    ("001085012345||{n}|31021985|Nam|{a}|10102021", "birth date is not a date"),
    ("001085012345||{n}|01011986|Nam|{a}|10102021", "disagree"),
    ("001085012345||{n}|01011985|Nam|{a}|10102027", "issue date"),
    ("001085012345||{n}|01011985|Nam|{a}|01011984", "issue date"),
    ("00108501234||{n}|01011985|Nam|{a}|10102021", "number"),
    ("001" + "|" * 2000, "longer than"),
])
def test_a_bad_qr_names_what_is_wrong_and_never_its_content(text, what, caplog):
    if isinstance(text, str):
        text = text.format(n=NAME, a=ADDRESS)
    with pytest.raises(cccd.CccdError) as err:
        cccd.parse_qr(text, TODAY)
    message = str(err.value)
    assert what in message
    logging.getLogger("test").exception("scan refused")
    for secret in (NAME, ADDRESS, "Nguyễn", "Hà Nội", "001085012345", "1985"):
        assert secret not in message and secret not in repr(err.value) and secret not in caplog.text


def test_the_birth_date_must_give_a_plausible_age():
    # born 31 Dec 2012: the year allows 14 this year, the date says 13
    with pytest.raises(cccd.CccdError) as err:
        cccd.parse_qr(qr(number_for(2012, False), dt.date(2012, 12, 31)), TODAY)
    assert err.value.reason == "age"


# at least 6 letters, so that a name cannot turn up by chance in what is shown
names = st.text(st.characters(whitelist_categories=("L",)), min_size=6, max_size=40)


@settings(max_examples=200)
@given(birth=st.dates(dt.date(TODAY.year - cccd.MAX_AGE, 1, 1), dt.date(TODAY.year - cccd.MIN_AGE - 1, 12, 31)),
       female=st.booleans(), name=names, address=names, extra=st.lists(st.text(max_size=10).map(
           lambda s: s.replace("|", "")), max_size=4))
def test_every_well_formed_qr_is_read_and_hides_everything(birth, female, name, address, extra):
    number = number_for(birth.year, female)
    text = "|".join([number, "", name, f"{birth:%d%m%Y}", "Nữ" if female else "Nam", address, "01072021", *extra])
    card = cccd.parse_qr(text, TODAY)
    assert card.birth_date == birth
    assert card.age_band(TODAY) == cccd.age_band(card.age_on(TODAY))
    shown = repr(card) + str(card) + repr(card.number) + str(card.number) + repr(card.leaving(KEY, TODAY))
    assert number not in shown and name.strip() not in shown and address.strip() not in shown


@settings(max_examples=300)
@given(text=st.text(max_size=200))
def test_any_text_is_a_card_or_a_clear_error(text):
    try:
        cccd.parse_qr(text, TODAY)
    except cccd.CccdError as err:
        assert err.reason in cccd.REASONS
        assert len(text.strip()) < 16 or text.strip() not in str(err)   # never echoed (short texts may match words)


@settings(max_examples=200)
@given(data=st.binary(max_size=200))
def test_any_bytes_are_a_card_or_a_clear_error(data):
    try:
        cccd.parse_qr(data, TODAY)
    except cccd.CccdError as err:
        assert err.reason in cccd.REASONS


# --- what leaves the kiosk --------------------------------------------------------

def test_the_keyed_hash_is_hmac_sha256_of_the_normalised_number():
    expected = hmac.new(KEY, b"001085012345", hashlib.sha256).hexdigest()
    assert cccd.id_hash(KEY, "001 085 012 345") == expected
    assert len(expected) == cccd.HASH_LENGTH == 64
    assert cccd.id_hash(b"j" * 32, "001085012345") != expected


def test_the_hash_needs_a_real_key():
    for key in (b"", b"short", "a text key of more than thirty-two chars", None):
        with pytest.raises(cccd.CccdError) as err:
            cccd.id_hash(key, "001085012345")
        assert err.value.reason == "key"


def test_only_the_hash_and_the_band_leave_the_kiosk():
    card = cccd.parse_qr(qr(number_for(1940, True), dt.date(1940, 5, 6)), TODAY)
    out = card.leaving(KEY, TODAY).as_dict()
    assert out == {"id_hash": cccd.id_hash(KEY, number_for(1940, True)), "age_band": "80+"}
    assert not any(hasattr(card, a) for a in ("name", "full_name", "address"))
    number = cccd.check_number(number_for(1990, False), TODAY)
    assert number.leaving(KEY, TODAY).as_dict() == {"id_hash": cccd.id_hash(KEY, number.digits), "age_band": "<60"}


def test_every_reason_has_its_vietnamese_text():
    assert cccd.T.missing(list(cccd.MSGIDS)) == []
