"""Every word the wall display shows, Vietnamese first, English second (catalogue in locale/vi).

Shared by the Kivy display (display/) and the browser display (queue_server/web/display_bp.py),
so both read the same catalogue; it lives here because the server may not import display/
(the import-linter contracts in pyproject.toml). Nothing here imports Kivy.
"""
from __future__ import annotations

from motcua.i18n import Catalogue

T = Catalogue(__file__)

# msgids the screens use; the unit test checks each has a Vietnamese translation
MSGIDS = [
    "Now serving",
    "Recent calls",
    "Sector",
    "Waiting",
    "Estimated wait",
    "Connection lost",
    "Reconnecting…",
    "On break",
    "Waiting for data from the server",
    "Number {number}, please go to {counter}",
    "{n} min",
    "Under 1 min",
    "No open counter",
    "{n} waiting",
    "Tap to turn the sound on",
]


# Where a visit of several procedures stands: procedure `step` of `steps`, in sector `sector` ("2/3: Đất đai").
# The board, the call banner, the counter's screen, the console and the tracking page all show it so.
STEP = "{step}/{steps}: {sector}"
MSGIDS.append(STEP)


def step_text(step: int | None, steps: int | None, sector: dict[str, str]) -> dict[str, str] | None:
    """{"vi", "en"} "2/3: Đất đai" for a visit's procedure (`sector`: its name per language); None
    for a ticket of one procedure (no `steps`, or 1)."""
    if not step or not steps or steps < 2:
        return None
    return {lang: T(STEP, lang, step=step, steps=steps, sector=sector.get(lang) or sector.get("vi", ""))
            for lang in ("vi", "en")}


def both(msgid: str, **params: object) -> dict[str, str]:
    return T.both(msgid, **params)


def page_labels() -> dict[str, dict[str, str]]:
    """The fixed labels of the browser display, keyed by msgid, each {"vi":..., "en":...}."""
    return {m: T.both(m) for m in MSGIDS}
