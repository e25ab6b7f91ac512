"""Booking codes: short, unambiguous, typable, and checked; and the booking's QR.

A code is DATA_LENGTH characters of Crockford's base32 (digits and capital letters without I, L,
O and U, so nothing reads as something else) and one check character, shown in two groups of
four: "K7Q4-MZ20". 7 random characters give 32**7 (about 3.4e10) codes, so a code cannot be
guessed; the pages that show a booking by its code still limit how often they are asked.

What a person types is normalised before it is checked: lower case, O for 0, I or L for 1,
spaces and dashes are all accepted. The check character is Damm's algorithm over GF(32):
`c = a*c + x` for each character x, with a = the field's generator and the check chosen so that
the whole code ends at 0. Because each step is a Latin square, any single wrong character is
caught; because (a*x + y) != (a*y + x) for x != y, any swap of two neighbours is caught
(tests/unit/test_booking_code.py proves both over random codes). Crockford's own check symbol
(mod 37) needs five symbols a keypad does not have (* ~ $ = U).

The QR on a booking (printed, on its page, in a message) is a URL to the booking's page,
`<public URL>/b/<site>/<CODE>`: a phone's camera opens the page, and the kiosk's barcode
scanner types the same text, from which `parse_qr` takes the site and the code.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Callable

from motcua.i18n import Catalogue

T = Catalogue(__file__)

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"   # Crockford's base32
DATA_LENGTH = 7
LENGTH = DATA_LENGTH + 1                        # with the check character
GROUP = 4                                       # shown as two groups: "K7Q4-MZ20"
CODES = len(ALPHABET) ** DATA_LENGTH
QR_PATH = "b"                                   # <public URL>/b/<site>/<CODE>
EXAMPLE = "K7Q4-MZ20"                           # a right code, for the texts that show one

# what a person may type for a character of the alphabet
_TYPED = {**{c: c for c in ALPHABET}, "O": "0", "I": "1", "L": "1"}
_IGNORED = re.compile(r"[\s\-\u2010-\u2015_.]+")   # spaces, dashes (also typographic), dots
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
# GF(32) with x^5 + x^2 + 1 (a primitive polynomial); the multiplier a is x (= 2)
_POLY = 0b100101
_SITE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")

REASONS = {
    "length": "A booking code has {n} characters, like {example}.",
    "character": "A booking code has only the digits and the letters A-Z (no U).",
    "check": "This booking code is not right: please check each character.",
    "qr": "This QR code is not a booking. Scan the QR code of your booking.",
}
MSGIDS = tuple(REASONS.values())


class BookingCodeError(ValueError):
    """A code or QR that is not a booking's; `reason` is one of REASONS (what the citizen reads)."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason

    def text(self, lang: str = "vi") -> str:
        return T(REASONS[self.reason], lang, n=LENGTH, example=EXAMPLE)


def _times_a(c: int) -> int:
    c <<= 1
    return c ^ _POLY if c & 0b100000 else c


def _check_value(values: list[int]) -> int:
    """The Damm interim after `values` (0 for a whole, right code)."""
    c = 0
    for v in values:
        c = _times_a(c) ^ v
    return c


def make_code(value: int) -> str:
    """The code (canonical: no dash) for a number 0..CODES-1, its check character appended."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < CODES:
        raise ValueError(f"a booking code's number is 0..{CODES - 1}")
    values = []
    for _ in range(DATA_LENGTH):
        value, v = divmod(value, len(ALPHABET))
        values.append(v)
    values.reverse()
    # the check x makes a*c + x == 0, so x = a*c (characteristic 2)
    values.append(_times_a(_check_value(values)))
    return "".join(ALPHABET[v] for v in values)


def random_code(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """A new code; `randbelow` as secrets.randbelow (the domain passes its own source)."""
    return make_code(randbelow(CODES))


def normalise(text: str) -> str:
    """What a person typed -> the canonical code ("k7q4 mz2x" -> "K7Q4MZ20"), or
    BookingCodeError ("length", "character" or "check"), never echoing the input."""
    if not isinstance(text, str):
        raise BookingCodeError("character", "a booking code is text")
    typed = _IGNORED.sub("", text).upper()
    if len(typed) != LENGTH:
        raise BookingCodeError("length", f"a booking code has {LENGTH} characters")
    try:
        code = "".join(_TYPED[c] for c in typed)
    except KeyError:
        raise BookingCodeError("character", "a booking code has a character outside Crockford's base32") from None
    if _check_value([_VALUE[c] for c in code]) != 0:
        raise BookingCodeError("check", "the booking code's check character does not match")
    return code


def is_code(text: object) -> bool:
    """Whether `text` is a canonical code (as make_code writes it)."""
    try:
        return isinstance(text, str) and normalise(text) == text
    except BookingCodeError:
        return False


def display(code: str) -> str:
    """"K7Q4MZ20" -> "K7Q4-MZ20" (any form normalise accepts)."""
    code = normalise(code)
    return f"{code[:GROUP]}-{code[GROUP:]}"


def qr_payload(public_url: str, site: str, code: str) -> str:
    """The booking QR's text: `<public URL>/b/<site>/<CODE>`."""
    if not _SITE.fullmatch(site):
        raise ValueError("a site id is lower-case letters, digits and dashes")
    return f"{public_url.rstrip('/')}/{QR_PATH}/{site}/{normalise(code)}"


def parse_qr(text: str) -> tuple[str, str]:
    """(site, code) from a scanned booking QR (`qr_payload`'s text, any host: the booking page may
    be the site's or the province's). BookingCodeError ("qr", or the code's reason)."""
    if not isinstance(text, str) or len(text) > 500:
        raise BookingCodeError("qr", "a booking QR is a URL of at most 500 characters")
    # a scanner with Caps Lock on types the URL in capitals: the path is read case-blind
    match = re.fullmatch(rf"https?://[^/\s]+(?:/[^\s]*)?/{QR_PATH}/([^/\s]+)/([^/\s?#]+)/?", text.strip(),
                         flags=re.IGNORECASE)
    if not match:
        raise BookingCodeError("qr", "not a booking QR (<public URL>/b/<site>/<code>)")
    site = match.group(1).lower()
    if not _SITE.fullmatch(site):
        raise BookingCodeError("qr", "the booking QR's site is not a site id")
    return site, normalise(match.group(2))


def qr_svg(payload: str) -> str:
    """The QR image of a booking's payload as SVG text, for its page (qrcode; the server and the
    kiosk have it, imported here so that the counter and display, which do not, can import this
    module)."""
    import qrcode
    import qrcode.image.svg

    code = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M,
                         image_factory=qrcode.image.svg.SvgPathImage)
    code.add_data(payload)
    code.make(fit=True)
    return code.make_image().to_string(encoding="unicode")
