"""protocol/booking_code.py: codes that a person can type, that catch their typos, and the booking QR."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from protocol import booking_code as bc

codes = st.integers(0, bc.CODES - 1).map(bc.make_code)


@given(code=codes)
def test_a_code_is_eight_characters_of_the_alphabet_shown_in_two_groups(code):
    assert len(code) == bc.LENGTH == 8 and set(code) <= set(bc.ALPHABET)
    assert not set(code) & set("ILOU")
    shown = bc.display(code)
    assert shown == f"{code[:4]}-{code[4:]}"
    assert bc.normalise(shown) == code and bc.is_code(code) and not bc.is_code(shown)


@given(code=codes, data=st.data())
def test_what_a_person_types_is_normalised(code, data):
    typed = []
    for c in bc.display(code):
        c = data.draw(st.sampled_from({"0": "0Oo", "1": "1IiLl"}.get(c, c + c.lower() if c.isalpha() else c)))
        typed.append(c + data.draw(st.sampled_from(["", "", " ", "-", "\u2013"])))
    assert bc.normalise(" " + "".join(typed) + "\n") == code


@settings(max_examples=200)
@given(code=codes, position=st.integers(0, bc.LENGTH - 1), other=st.sampled_from(bc.ALPHABET))
def test_any_single_substitution_is_caught(code, position, other):
    assume(code[position] != other)
    typo = code[:position] + other + code[position + 1:]
    with pytest.raises(bc.BookingCodeError) as err:
        bc.normalise(typo)
    assert err.value.reason == "check"


@settings(max_examples=200)
@given(code=codes, position=st.integers(0, bc.LENGTH - 2))
def test_any_swap_of_neighbours_is_caught(code, position):
    a, b = code[position], code[position + 1]
    assume(a != b)
    swapped = code[:position] + b + a + code[position + 2:]
    with pytest.raises(bc.BookingCodeError) as err:
        bc.normalise(swapped)
    assert err.value.reason == "check"


def test_every_substitution_and_swap_of_some_codes_exhaustively():
    for value in (0, 1, bc.CODES - 1, 123456789, 31 * 32 ** 6):
        code = bc.make_code(value)
        for i in range(bc.LENGTH):
            for other in bc.ALPHABET.replace(code[i], ""):
                assert not bc.is_code(code[:i] + other + code[i + 1:])
            if i + 1 < bc.LENGTH and code[i] != code[i + 1]:
                assert not bc.is_code(code[:i] + code[i + 1] + code[i] + code[i + 2:])


def test_codes_are_distinct_per_number():
    seen = {bc.make_code(v) for v in range(0, bc.CODES, bc.CODES // 5000)}
    assert len(seen) == len(range(0, bc.CODES, bc.CODES // 5000))


@pytest.mark.parametrize("text, reason", [("", "length"), ("K7Q4-MZ2", "length"), ("K7Q4MZ2XX", "length"),
                                          ("K7Q4-MZ2U", "character"), ("K7Q4-MZ2!", "character"),
                                          ("Ä7Q4-MZ2X", "character"), (None, "character")])
def test_a_bad_code_is_a_clear_error(text, reason):
    with pytest.raises(bc.BookingCodeError) as err:
        bc.normalise(text)
    assert err.value.reason == reason
    assert err.value.text("vi") and err.value.text("en") == bc.REASONS[reason].format(n=8, example=bc.EXAMPLE)
    assert "{" not in err.value.text("vi")


def test_the_example_code_is_a_right_one():
    assert bc.display(bc.EXAMPLE) == bc.EXAMPLE


@given(text=st.text(max_size=20))
def test_any_text_is_a_code_or_a_clear_error(text):
    try:
        assert bc.is_code(bc.normalise(text))
    except bc.BookingCodeError as err:
        assert err.reason in bc.REASONS


def test_make_code_takes_only_its_range():
    for bad in (-1, bc.CODES, True, 1.0, "1"):
        with pytest.raises(ValueError):
            bc.make_code(bad)


def test_random_code_uses_the_source_it_is_given():
    assert bc.random_code(lambda n: 0) == bc.make_code(0)
    assert bc.is_code(bc.random_code())


# --- the booking QR ---------------------------------------------------------------

@given(code=codes, site=st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,20}\Z"),
       base=st.sampled_from(["https://motcua.hanoi.gov.vn", "http://192.0.2.1:8080/", "https://x.vn/dat-lich"]))
def test_the_qr_payload_reads_back(code, site, base):
    payload = bc.qr_payload(base, site, bc.display(code))
    assert payload.endswith(f"/b/{site}/{code}") and "//b/" not in payload
    assert bc.parse_qr(payload) == (site, code)
    assert bc.parse_qr(payload.upper() + "\r\n") == (site, code)   # a scanner with Caps Lock on


@pytest.mark.parametrize("text, reason", [
    ("K7Q4-MZ2X", "qr"), ("https://x.vn/track/abc", "qr"), ("ftp://x.vn/b/s/K7Q4MZ2X", "qr"),
    ("https://x.vn/b/bad_site/K7Q4MZ2X", "qr"), ("https://x.vn/b/demo/K7Q4MZ2Y", "check"),
    ("001085012345||Nguyễn Văn A|01011985|Nam|Hà Nội|10102021", "qr"), ("https://x.vn/b/s/" + "A" * 600, "qr"),
])
def test_a_bad_booking_qr_is_a_clear_error(text, reason):
    with pytest.raises(bc.BookingCodeError) as err:
        bc.parse_qr(text)
    assert err.value.reason == reason


def test_the_qr_image_is_an_svg_of_the_payload():
    import qrcode

    payload = bc.qr_payload("https://motcua.hanoi.gov.vn", "demo-district", bc.make_code(42))
    svg = ET.fromstring(bc.qr_svg(payload))
    assert svg.tag.endswith("svg")
    # the same modules qrcode draws for the payload (no QR decoder here: compare the matrix's size)
    matrix = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    matrix.add_data(payload)
    matrix.make(fit=True)
    assert svg.get("viewBox") == f"0 0 {matrix.modules_count + 4} {matrix.modules_count + 4}"
    assert matrix.version <= 4   # small enough for a phone's camera from a printed ticket


def test_every_reason_has_its_vietnamese_text():
    assert bc.T.missing(list(bc.MSGIDS)) == []
