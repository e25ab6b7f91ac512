"""motcua/scanner.py, the pure parts: the assembler that tells a scanner's burst from a person
typing, and the translation of the kernel's key events into characters."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from motcua import scanner
from motcua.scanner import EV_KEY, KEY_DOWN, KEY_REPEAT, KEY_UP, Scan, ScanAssembler, Typed

CARD_QR = "001085012345||Nguyen Van A|01011985|Nam|Ha Noi|10102021"


def burst(text: str, start: float = 10.0, step: float = 0.004, enter: bool = True) -> list[tuple[str, float]]:
    keys = [(c, start + i * step) for i, c in enumerate(text)]
    if enter:
        keys.append(("enter", start + len(text) * step))
    return keys


def feed(asm: ScanAssembler, keys) -> list:
    out = []
    for key, t in keys:
        out += asm.key(key, t)
    return out


def test_a_burst_ended_by_enter_is_one_scan():
    asm = ScanAssembler()
    assert feed(asm, burst(CARD_QR)) == [Scan(CARD_QR, "enter")]
    assert asm.deadline() is None


def test_a_burst_without_enter_ends_after_the_quiet_time():
    asm = ScanAssembler()
    assert feed(asm, burst("K7Q4MZ2X", enter=False)) == []
    last = 10.0 + 7 * 0.004
    assert asm.deadline() == pytest.approx(last + scanner.END_GAP_S)
    assert asm.tick(last + scanner.END_GAP_S / 2) == []
    assert asm.tick(last + scanner.END_GAP_S) == [Scan("K7Q4MZ2X", "gap")]


def test_a_scan_survives_a_pause_shorter_than_the_end_gap():
    """A busy frame of the kiosk's screen holds the keys back: the scan is not cut in two."""
    asm = ScanAssembler()
    keys = burst("0010850", enter=False) + burst("12345", start=10.0 + 6 * 0.004 + 0.070)
    assert feed(asm, keys) == [Scan("001085012345", "enter")]


def test_a_person_typing_comes_out_key_by_key():
    asm = ScanAssembler()
    out = feed(asm, [("1", 0.0), ("2", 0.25), ("3", 0.4), ("enter", 0.9)])
    assert out == [Typed("1"), Typed("2"), Typed("3"), Typed("enter")]


def test_a_persons_key_is_held_no_longer_than_the_burst_gap():
    asm = ScanAssembler()
    assert asm.key("7", 5.0) == []
    assert asm.deadline() == pytest.approx(5.0 + scanner.BURST_GAP_S)
    assert asm.tick(5.0 + scanner.BURST_GAP_S) == [Typed("7")]


def test_two_quick_keys_of_a_person_are_no_scan():
    asm = ScanAssembler()
    out = feed(asm, [("a", 1.0), ("b", 1.01), ("c", 1.3), ("enter", 1.6)])
    assert out == [Typed("a"), Typed("b"), Typed("c"), Typed("enter")]


def test_a_scan_right_after_a_persons_key_keeps_them_apart():
    asm = ScanAssembler()
    out = feed(asm, [("9", 1.0)] + burst("K7Q4MZ2X", start=1.2))
    assert out == [Typed("9"), Scan("K7Q4MZ2X", "enter")]


def test_two_scans_back_to_back():
    asm = ScanAssembler()
    out = feed(asm, burst("AAAA1111") + burst("BBBB2222", start=10.5))
    assert out == [Scan("AAAA1111", "enter"), Scan("BBBB2222", "enter")]


def test_key_names_in_a_scan_are_not_text_and_a_huge_scan_is_cut():
    asm = ScanAssembler()
    assert feed(asm, [("a", 0), ("tab", 0.001), ("b", 0.002), ("c", 0.003), ("d", 0.004), ("enter", 0.005)]) \
        == [Scan("abcd", "enter")]
    out = feed(asm, burst("x" * (scanner.MAX_SCAN_CHARS + 5), step=0.001))
    assert out == [Scan("x" * scanner.MAX_SCAN_CHARS, "enter", cut=True)]


def test_a_scan_shows_its_length_only():
    shown = repr(Scan(CARD_QR, "enter")) + str([Scan(CARD_QR, "gap")])
    assert "001085012345" not in shown and "Nguyen" not in shown and f"{len(CARD_QR)} chars" in shown


@settings(max_examples=100)
@given(text=st.text(st.characters(min_codepoint=32, max_codepoint=0x1EF9), min_size=scanner.MIN_SCAN_KEYS,
                    max_size=80),
       steps=st.lists(st.floats(0.0005, scanner.BURST_GAP_S * 0.95), min_size=80, max_size=80),
       enter=st.booleans(), before=st.text("0123456789", max_size=3))
def test_any_burst_is_exactly_its_text_whatever_a_person_typed_before(text, steps, enter, before):
    asm = ScanAssembler()
    out = feed(asm, [(c, 1.0 + i) for i, c in enumerate(before)])     # a person: a key a second
    t = 1.0 + len(before) + 1
    for c, step in zip(text, steps):
        out += asm.key(c, t)
        t += step
    out += asm.key("enter", t) if enter else asm.tick(t + scanner.END_GAP_S)
    assert out == [Typed(c) for c in before] + [Scan(text, "enter" if enter else "gap")]


@settings(max_examples=100)
@given(keys=st.lists(st.sampled_from("0123456789K"), max_size=20),
       gaps=st.lists(st.floats(scanner.BURST_GAP_S, 2.0), min_size=20, max_size=20))
def test_a_person_never_makes_a_scan(keys, gaps):
    asm = ScanAssembler()
    t, out = 0.0, []
    for key, gap in zip(keys, gaps):
        t += gap
        out += asm.key(key, t)
    out += asm.tick(t + 10)
    assert out == [Typed(k) for k in keys]


# --- the kernel's key events ------------------------------------------------------------

def press(code: int) -> list[tuple[int, int, int]]:
    return [(EV_KEY, code, KEY_DOWN), (0, 0, 0), (EV_KEY, code, KEY_UP), (0, 0, 0)]


def typed(events) -> str:
    tr = scanner.KeyTranslator()
    return "".join(k if len(k) == 1 else f"<{k}>" for k in (tr.event(*e) for e in events) if k is not None)


def test_the_us_layout_with_shift_for_capitals_and_the_bar():
    events = press(2) + press(11) + press(11) + [(EV_KEY, 42, KEY_DOWN)] + press(30) + press(32) \
        + [(EV_KEY, 42, KEY_UP)] + press(43) + [(EV_KEY, 54, KEY_DOWN)] + press(43) + [(EV_KEY, 54, KEY_UP)] + press(28)
    assert typed(events) == "100AD\\|<enter>"


def test_caps_lock_ctrl_and_repeats():
    events = press(58) + press(16) + [(EV_KEY, 42, KEY_DOWN)] + press(16) + [(EV_KEY, 42, KEY_UP)] + press(58)
    events += [(EV_KEY, 29, KEY_DOWN)] + press(46) + [(EV_KEY, 29, KEY_UP)]      # ctrl+c types nothing
    events += [(EV_KEY, 3, KEY_DOWN), (EV_KEY, 3, KEY_REPEAT), (EV_KEY, 3, KEY_UP)] + press(2)  # caps: digits plain
    assert typed(events) == "Qq221"


def test_keypad_digits_and_its_enter():
    assert typed(press(79) + press(80) + press(83) + press(96)) == "12.<enter>"


def test_an_alt_code_becomes_one_stand_in_character():
    events = press(30) + [(EV_KEY, 56, KEY_DOWN)] + press(82) + press(73) + press(80) + press(80) \
        + [(EV_KEY, 56, KEY_UP)] + press(30)
    assert typed(events) == "a\ufffda"


def test_other_events_and_unknown_keys_type_nothing():
    assert typed([(4, 4, 458792), (17, 0, 1), (EV_KEY, 999, KEY_DOWN), (EV_KEY, 125, KEY_DOWN)]) == ""


def test_a_card_qr_typed_by_the_kernel_reads_back():
    """Every character of an ASCII card QR has a key on the US layout."""
    codes = {plain: (code, False) for code, (plain, shifted) in scanner.KEYMAP.items()}
    codes |= {shifted: (code, True) for code, (plain, shifted) in scanner.KEYMAP.items() if shifted not in codes}
    events = []
    for char in CARD_QR:
        code, shift = codes[char]
        events += ([(EV_KEY, 42, KEY_DOWN)] if shift else []) + press(code) + ([(EV_KEY, 42, KEY_UP)] if shift else [])
    assert typed(events + press(28)) == CARD_QR + "<enter>"
