"""The citizen's chip ID card (CCCD, căn cước công dân): its 12-digit number and its QR code.

One place for what the kiosk, the site server and the province need to know about a card:

- `check_number(text, today)`: a 12-digit number typed or scanned. Its structure (Circular
  59/2021/TT-BCA): digits 1-3 the province of birth registration, digit 4 the century and sex
  (0/1 born in the 20th century, male/female; 2/3 the 21st; 4/5 the 22nd; ... 8/9 the 24th),
  digits 5-6 the last two digits of the birth year, digits 7-12 random. The century digit and the
  year must give an age a card holder can have today (MIN_AGE..MAX_AGE).
- `parse_qr(text, today)`: the QR printed on the card,
  `id|old id or empty|full name|ddMMyyyy birth|sex|address|ddMMyyyy issue`; the cards of 2024
  add fields after these, which are ignored.
- `age_band(age)`: the only age that leaves the kiosk ("<60", "60-79", "80+").
- `id_hash(key, number)`: the keyed hash under which a number may be stored (never the number).

What may never leak: the number, the name and the address. `parse_qr` checks that the name and
address are there and keeps neither; the objects it returns hide the number from `repr` and
`str`, and `Card.leaving(key)` gives the only thing that may leave the kiosk (the hash and the
age band). Errors name the field that is wrong, never its content, so they can be logged.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass

from motcua.i18n import Catalogue

T = Catalogue(__file__)

NUMBER_LENGTH = 12
# The age a card holder can have: a card is issued from 14 (Law on Citizen Identification 2014,
# art. 19); 120 leaves room above the oldest living Vietnamese. Cards issued to children under
# the 2023 Law on Identification are below MIN_AGE and cannot book.
MIN_AGE = 14
MAX_AGE = 120
# Law on the Elderly (Luật Người cao tuổi 2009, art. 2): a citizen is elderly from 60; an elderly
# citizen is offered the priority queue.
ELDERLY_AGE = 60
# The oldest band starts here (a manager's reports show the very old apart).
OLDEST_BAND_AGE = 80
AGE_BANDS = (f"<{ELDERLY_AGE}", f"{ELDERLY_AGE}-{OLDEST_BAND_AGE - 1}", f"{OLDEST_BAND_AGE}+")

QR_FIELDS = 7            # fields of the card's QR before the 2024 additions
MAX_QR_LENGTH = 1000     # far above any card's QR: anything longer is not one
OLD_NUMBER_LENGTHS = (9, 12)   # the old card (CMND, 9 digits) or an earlier 12-digit card
# the keyed hash: HMAC-SHA256 as lower-case hex
HASH_LENGTH = 64
MIN_KEY_BYTES = 32

_DIGITS = re.compile(r"[0-9]+")
_SPACES = re.compile(r"[\s.\-]+")

# reason -> what the citizen reads (msgids; Vietnamese in protocol/locale/vi/LC_MESSAGES/messages.po)
REASONS = {
    "number": "The ID card number must have 12 digits.",
    "age": "This ID card number is not valid: please check it.",
    "qr": "This is not the QR code of an ID card. Scan the QR code on the front of your card.",
    "key": "This kiosk is not set up to read ID cards. Please ask the staff.",
}
MSGIDS = tuple(REASONS.values())


class CccdError(ValueError):
    """A number or QR that is not a card's. `reason` is one of REASONS (what the citizen is told);
    `str()` says which part is wrong for the log, never what it contained."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason

    def text(self, lang: str = "vi") -> str:
        return T(REASONS[self.reason], lang)


@dataclass(frozen=True, slots=True)
class CardNumber:
    """A checked 12-digit number. `str()` and `repr()` hide it; `.digits` is the number itself."""

    digits: str
    birth_year: int

    def __repr__(self) -> str:
        return f"CardNumber(born {self.birth_year // 100 * 100}s, hidden)"

    __str__ = __repr__

    def years_since_birth(self, today: dt.date) -> int:
        """today's year minus the birth year: the age, or one more than it before the birthday."""
        return today.year - self.birth_year

    def age_band(self, today: dt.date) -> str:
        """The band of the lowest age the number allows (the number has no birthday): a citizen
        is never placed above their band."""
        return age_band(self.years_since_birth(today) - 1)

    def leaving(self, key: bytes, today: dt.date) -> Summary:
        return Summary(id_hash(key, self.digits), self.age_band(today))


@dataclass(frozen=True, slots=True)
class Card:
    """What a card's QR says that motcua may use: the number and the birth date. The name and
    address were checked to be there and dropped; `repr()` hides the rest."""

    number: CardNumber
    birth_date: dt.date
    issue_date: dt.date

    def __repr__(self) -> str:
        return "Card(hidden)"

    __str__ = __repr__

    def age_on(self, today: dt.date) -> int:
        return age_on(self.birth_date, today)

    def age_band(self, today: dt.date) -> str:
        return age_band(self.age_on(today))

    def elderly(self, today: dt.date) -> bool:
        """Offered the priority queue (Law on the Elderly)."""
        return self.age_on(today) >= ELDERLY_AGE

    def leaving(self, key: bytes, today: dt.date) -> Summary:
        """All that may leave the kiosk: the keyed hash of the number and the age band."""
        return Summary(id_hash(key, self.number.digits), self.age_band(today))


@dataclass(frozen=True, slots=True)
class Summary:
    """What leaves the kiosk for a card: safe to send, store and log."""

    id_hash: str
    age_band: str

    def as_dict(self) -> dict[str, str]:
        return {"id_hash": self.id_hash, "age_band": self.age_band}


def age_on(birth_date: dt.date, today: dt.date) -> int:
    """Age in whole years at `today`."""
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def age_band(age: int) -> str:
    """The band of an age in whole years: "<60", "60-79" or "80+"."""
    if age < ELDERLY_AGE:
        return AGE_BANDS[0]
    return AGE_BANDS[1] if age < OLDEST_BAND_AGE else AGE_BANDS[2]


def normalise_number(text: str) -> str:
    """What a person typed, without the spaces, dots or dashes they grouped it with. CccdError
    ("number") unless 12 ASCII digits remain."""
    digits = _SPACES.sub("", text) if isinstance(text, str) else ""
    if len(digits) != NUMBER_LENGTH or not _DIGITS.fullmatch(digits):
        raise CccdError("number", f"an ID card number is {NUMBER_LENGTH} digits")
    return digits


def check_number(text: str, today: dt.date) -> CardNumber:
    """A 12-digit number whose century/sex digit and birth year give an age of MIN_AGE..MAX_AGE
    at `today`. CccdError ("number" or "age") otherwise."""
    digits = normalise_number(text)
    code = int(digits[3])
    year = 1900 + 100 * (code // 2) + int(digits[4:6])
    # without the birthday, the age is years_since_birth or one less
    years = today.year - year
    if years < MIN_AGE or years - 1 > MAX_AGE:
        raise CccdError("age", f"the century digit and birth year give no age of {MIN_AGE}-{MAX_AGE}")
    return CardNumber(digits, year)


def _date(field: str, name: str) -> dt.date:
    if not re.fullmatch(r"[0-9]{8}", field):
        raise CccdError("qr", f"the card QR's {name} is not ddMMyyyy")
    try:
        return dt.date(int(field[4:]), int(field[2:4]), int(field[:2]))
    except ValueError:
        raise CccdError("qr", f"the card QR's {name} is not a date") from None


def parse_qr(data: str | bytes, today: dt.date) -> Card:
    """The card behind a scanned CCCD QR (str, or the scanner's UTF-8 bytes). CccdError naming
    the wrong field: "qr" for the QR's shape, "number"/"age" for its number."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise CccdError("qr", "the card QR is not UTF-8") from None
    if not isinstance(data, str):
        raise CccdError("qr", "the card QR is not text")
    data = data.strip("\r\n\t ")
    if len(data) > MAX_QR_LENGTH:
        raise CccdError("qr", f"the card QR is longer than {MAX_QR_LENGTH} characters")
    fields = data.split("|")
    if len(fields) < QR_FIELDS:
        raise CccdError("qr", f"the card QR has {len(fields)} fields, fewer than {QR_FIELDS}")
    number_field, old_number, name, birth, _sex, address, issue = fields[:QR_FIELDS]
    try:
        number = check_number(number_field, today)
    except CccdError as err:
        raise CccdError(err.reason, f"the card QR's number: {err}") from None
    if old_number and not (len(old_number) in OLD_NUMBER_LENGTHS and _DIGITS.fullmatch(old_number)):
        raise CccdError("qr", "the card QR's old number is not 9 or 12 digits")
    if not name.strip():
        raise CccdError("qr", "the card QR has no name")
    if not address.strip():
        raise CccdError("qr", "the card QR has no address")
    birth_date = _date(birth, "birth date")
    if birth_date.year != number.birth_year:
        raise CccdError("qr", "the card QR's birth date and the year in its number disagree")
    if not MIN_AGE <= age_on(birth_date, today) <= MAX_AGE:
        raise CccdError("age", f"the card QR's birth date gives no age of {MIN_AGE}-{MAX_AGE}")
    issue_date = _date(issue, "issue date")
    if not birth_date < issue_date <= today:
        raise CccdError("qr", "the card QR's issue date is not between the birth date and today")
    return Card(number, birth_date, issue_date)


def id_hash(key: bytes, number: str) -> str:
    """HMAC-SHA256(key, the normalised 12-digit number) as HASH_LENGTH lower-case hex digits.
    The key is the site's (or, where limits span a province's centres, the province's) secret,
    made at set-up; CccdError ("key") for a key shorter than MIN_KEY_BYTES."""
    if not isinstance(key, (bytes, bytearray)) or len(key) < MIN_KEY_BYTES:
        raise CccdError("key", f"the ID hash key must be at least {MIN_KEY_BYTES} bytes")
    return hmac.new(bytes(key), normalise_number(number).encode("ascii"), hashlib.sha256).hexdigest()
