"""Domain refusals: a code from the contract and a bilingual message."""
from __future__ import annotations

from protocol.errors import ErrorCode


class DomainError(Exception):
    def __init__(self, code: ErrorCode, en: str, vi: str | None = None):
        super().__init__(en)
        self.code = code
        self.en = en
        self.vi = vi or en
