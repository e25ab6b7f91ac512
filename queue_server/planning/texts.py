"""What the plan says to a manager, Vietnamese first, English second (catalogue in locale/vi).

Shared by `motcua plan` and the managers' page, so both say the same words."""
from __future__ import annotations

from babel.numbers import format_decimal

from motcua.i18n import LANGS, Catalogue

T = Catalogue(__file__)

# msgids the plan uses; the unit test checks each has a Vietnamese translation
MSGIDS = [
    "Train {counter} for {sector}: mean wait {before} → {after} min",
    "{counter} also serves {sectors}",
    "Open {counter} for {sectors}",
    "Nobody covers",
    "Nobody covers: {n} citizens a day cannot be called",
    "{changes}: mean wait {after} min",
    "If {counter} is absent all day",
    "Staffing: counters needed per half-hour (need / roster)",
    "Shortfall: {hours} counter-hours",
    "Training, best first (every counter on its whole trained list)",
    "Now: mean wait {mean} min, p90 {p90} min, {gap} of the gap to a fully pooled centre captured",
    "After: p90 {p90} min, {gap} of the gap captured",
    "No other counter trained for its sectors has time to spare: train one (above)",
]


def number(value: float, lang: str, digits: int = 1) -> str:
    """14.5 -> "14,5" in Vietnamese, "14.5" in English (Babel's locale data)."""
    pattern = ("#,##0." + "0" * digits) if digits else "#,##0"
    return format_decimal(value, format=pattern, locale="vi" if lang == "vi" else "en")


def minutes(seconds: float, lang: str) -> str:
    return number(seconds / 60.0, lang)


def percent(share: float, lang: str) -> str:
    return number(100.0 * share, lang, 0) + " %"


def both(msgid: str, **params_by_lang: object) -> dict[str, str]:
    """{lang: text}; a parameter given as a {lang: value} dict takes each language's value."""
    return {lang: T(msgid, lang, **{k: (v[lang] if isinstance(v, dict) else v) for k, v in params_by_lang.items()})
            for lang in LANGS}
