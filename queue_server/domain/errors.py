"""Domain refusals: a code from the contract and a bilingual message."""
from __future__ import annotations

from protocol.errors import ErrorCode


class DomainError(Exception):
    def __init__(self, code: ErrorCode, en: str, vi: str | None = None, detail: dict | None = None):
        super().__init__(en)
        self.code = code
        self.en = en
        self.vi = vi or en
        self.detail = detail    # facts for the client (the reply's error.detail, docs/protocol.md)
        # (key, params) of protocol/booking_texts.py: the adapter renders the Vietnamese from it
        self.words: tuple[str, dict] | None = None
