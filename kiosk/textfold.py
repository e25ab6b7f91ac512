"""Diacritic-free matching, so "khai sinh" finds "Đăng ký khai sinh".

NFD splits a letter from its accent marks; dropping the marks (category Mn)
leaves the base letter. Đ/đ is a letter of its own (not D plus a mark), so it
is mapped by hand.
"""
from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, accents removed, đ -> d, runs of spaces collapsed."""
    decomposed = unicodedata.normalize("NFD", text or "")
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    bare = bare.replace("đ", "d").replace("Đ", "D")
    return _SPACES.sub(" ", bare.lower()).strip()


def matches(query: str, *texts: str) -> bool:
    """True if every word of the query starts a word (or is inside a word) of one of the texts.

    Each query word may be found anywhere, so "sinh khai" and "k sinh" both find
    "Đăng ký khai sinh"; an empty query matches everything.
    """
    words = fold(query).split()
    if not words:
        return True
    hay = " ".join(fold(text) for text in texts if text)
    return all(w in hay for w in words)
