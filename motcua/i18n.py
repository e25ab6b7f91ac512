"""Message catalogues (Babel .po files), Vietnamese first, English second.

Each package keeps its own catalogue in `<package>/locale/<lang>/LC_MESSAGES/messages.po`.
msgids are English; the English text is the msgid itself, so only `vi` needs a .po.
Catalogues are read with Babel at first use; no compile step is needed.
"""
from __future__ import annotations

import threading
import unicodedata
from pathlib import Path

from babel.messages.pofile import read_po

LANGS = ("vi", "en")
_lock = threading.Lock()
_cache: dict[tuple[str, str], dict[str, str]] = {}


def _catalogue(locale_dir: Path, lang: str) -> dict[str, str]:
    key = (str(locale_dir), lang)
    with _lock:
        if key not in _cache:
            table: dict[str, str] = {}
            po = locale_dir / lang / "LC_MESSAGES" / "messages.po"
            if po.exists():
                with po.open("rb") as fh:
                    for msg in read_po(fh, locale=lang):
                        if msg.id and msg.string and not msg.fuzzy:
                            table[msg.id] = msg.string
            _cache[key] = table
        return _cache[key]


class Catalogue:
    """`T = Catalogue(__file__)`; `T("Take a ticket", "vi")`; `T.both("...")` -> {"vi":..., "en":...}."""

    def __init__(self, package_file: str, subdir: str = "locale"):
        self.locale_dir = Path(package_file).resolve().parent / subdir

    def __call__(self, msgid: str, lang: str = "vi", **params: object) -> str:
        text = msgid if lang == "en" else _catalogue(self.locale_dir, lang).get(msgid, msgid)
        if params:
            text = text.format(**params)
        return unicodedata.normalize("NFC", text)

    def both(self, msgid: str, **params: object) -> dict[str, str]:
        return {lang: self(msgid, lang, **params) for lang in LANGS}

    def missing(self, msgids: list[str], lang: str = "vi") -> list[str]:
        table = _catalogue(self.locale_dir, lang)
        return [m for m in msgids if m not in table]
