"""What a keyboard-mode barcode scanner's event device gives: kernel input_event records."""
from __future__ import annotations

from motcua import scanner
from motcua.scanner import EV_KEY, INPUT_EVENT, KEY_DOWN, KEY_UP

CODES = {plain: (code, False) for code, (plain, shifted) in scanner.KEYMAP.items()}
CODES |= {shifted: (code, True) for code, (plain, shifted) in scanner.KEYMAP.items() if shifted not in CODES}


def records(text: str, enter: bool = True) -> bytes:
    """The bytes a keyboard-mode scanner's event device gives for `text` (+ Enter)."""
    out = []

    def key(code, value):
        out.append(INPUT_EVENT.pack(1_764_000_000, 0, EV_KEY, code, value))
        out.append(INPUT_EVENT.pack(1_764_000_000, 0, 0, 0, 0))    # EV_SYN

    for char in text:
        code, shift = CODES[char]
        if shift:
            key(42, KEY_DOWN)
        key(code, KEY_DOWN)
        key(code, KEY_UP)
        if shift:
            key(42, KEY_UP)
    if enter:
        key(28, KEY_DOWN)
        key(28, KEY_UP)
    return b"".join(out)
