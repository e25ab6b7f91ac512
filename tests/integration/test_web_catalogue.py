"""Every text of the web pages has its Vietnamese translation (Babel catalogue under queue_server/web/locale)."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from queue_server.web.pages import T

WEB = Path(__file__).resolve().parents[2] / "queue_server" / "web"
CALL = re.compile(r'''(?:\b_|\bboth|\bbi|gettext)\(\s*(["'])((?:(?!\1).)+)\1''')
DYNAMIC = ["Today", "Yesterday", "This week", "This month", "manager", "clerk", "viewer", "open", "paused",
           "closed", "serving"]


def msgids() -> set[str]:
    found: set[str] = set()
    files = list((WEB / "templates" / "app").rglob("*.html")) + [WEB / n for n in
                                                                  ("auth_bp.py", "reports_bp.py", "track_bp.py", "errors.py",
                                                                   "plan_charts.py", "planning_bp.py", "booking_bp.py")]
    for f in files:
        found.update(m.group(2) for m in CALL.finditer(f.read_text(encoding="utf-8")))
    return found | set(DYNAMIC)


def test_every_msgid_is_translated():
    ids = msgids()
    assert len(ids) > 100
    assert T.missing(sorted(ids)) == []


def test_translations_are_nfc_and_keep_placeholders():
    for msgid in msgids():
        vi = T(msgid, "vi")
        assert unicodedata.is_normalized("NFC", vi)
        assert set(re.findall(r"\{(\w+)\}", msgid)) == set(re.findall(r"\{(\w+)\}", vi)), msgid


def test_called_text_in_big_type():
    assert T("Go to counter {counter}", "vi", counter="5") == "Mời đến quầy số 5"
    assert T("Go to counter {counter}", "en", counter="5") == "Go to counter 5"
