"""What the wall display shows, as plain data: the view-model both screens observe.

It folds the retained `board`, each `events/call` and the connection state into
tiles, recent calls and sector rows. No Kivy here (docs/architecture.md rule 5): the unit
tests drive it with dicts, the Kivy screen and the tests read the same fields. Each payload is
read through its model in protocol/messages.py, the one the server builds it through.
Bad payloads are ignored (the last good board stays on screen) and logged.
"""
from __future__ import annotations

import logging
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from motcua.board_texts import T, step_text
from motcua.clerk_texts import break_reason
from protocol.messages import Board, Call, ServerStatus, parse

log = logging.getLogger(__name__)

HIGHLIGHT_S = 10.0      # the newest call blinks this long
RECENT_SHOWN = 6        # last calls listed for those who missed theirs


def nfc(value: Any) -> str:
    return unicodedata.normalize("NFC", str(value)) if value is not None else ""


def wait_text(est_wait_s: Any, waiting: int, lang: str) -> str:
    """`~14 phút` / `~14 min`; a dash when nobody waits."""
    if not waiting:
        return "—"
    try:
        seconds = max(0, int(est_wait_s))
    except (TypeError, ValueError):
        return "—"
    if seconds < 60:
        return T("Under 1 min", lang)
    return "~" + T("{n} min", lang, n=round(seconds / 60))


@dataclass(frozen=True)
class Tile:
    counter: str
    label_vi: str
    label_en: str
    number: str          # "" when the counter serves nobody
    status: str          # open | serving | paused
    highlight: bool
    # under the number: where a visit stands ("2/3: Đất đai"), or why the counter is on a break
    detail_vi: str = ""
    detail_en: str = ""


@dataclass(frozen=True)
class RecentRow:
    number: str
    label_vi: str
    label_en: str
    detail_vi: str = ""      # where a visit stands ("2/3: Đất đai"), as on the tile and the banner
    detail_en: str = ""


@dataclass(frozen=True)
class SectorRow:
    sector: str
    prefix: str
    name_vi: str
    name_en: str
    waiting: int
    wait_vi: str
    wait_en: str
    over_target: bool


@dataclass
class BoardView:
    """Thread-safe: MQTT callbacks write, the UI thread reads (through `snapshot()`)."""

    clock: Callable[[], float] = time.monotonic
    board: Board | None = None
    last_call: Call | None = None
    call_at: float = float("-inf")
    broker_up: bool = False
    server_online: bool = True
    listeners: list[Callable[[], None]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # inputs -----------------------------------------------------------------

    def apply_board(self, payload: bytes | str | dict) -> bool:
        data = parse(Board, payload)
        if data is None:
            return False
        with self._lock:
            old = self.board
            if old and data.seq is not None and old.seq is not None and data.seq < old.seq \
                    and data.day == old.day:
                return False  # an older board arriving late never replaces a newer one
            self.board = data
        self._changed()
        return True

    def apply_call(self, payload: bytes | str | dict) -> bool:
        data = parse(Call, payload)
        if data is None:
            return False
        with self._lock:
            self.last_call = data
            self.call_at = self.clock()
        self._changed()
        return True

    def apply_server_status(self, payload: bytes | str | dict) -> bool:
        data = parse(ServerStatus, payload)
        if data is None:
            return False
        with self._lock:
            self.server_online = data.online
        self._changed()
        return True

    def set_broker(self, up: bool) -> None:
        with self._lock:
            self.broker_up = up
        self._changed()

    def _changed(self) -> None:
        for fn in list(self.listeners):
            try:
                fn()
            except Exception:
                log.exception("board listener failed")

    # outputs ----------------------------------------------------------------

    @property
    def offline(self) -> bool:
        return not self.broker_up or not self.server_online

    @property
    def highlight_active(self) -> bool:
        return self.last_call is not None and self.clock() - self.call_at < HIGHLIGHT_S

    def site_name(self, lang: str) -> str:
        name = self.board.site.name if self.board and self.board.site else None
        return nfc(name.get(lang) or name.vi) if name else ""

    def site_zone(self) -> ZoneInfo | None:
        """The site's time zone from the board: the clock shows the centre's time, not the TV's."""
        name = self.board.site.timezone if self.board and self.board.site else None
        if not name:
            return None
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("board names an unknown time zone %r; the clock shows the device's", name)
            return None

    def tiles(self) -> list[Tile]:
        """Every counter that is not closed, in the site's order."""
        hl = self.last_call.counter if self.highlight_active and self.last_call else None
        out = []
        for c in self.board.counters if self.board else ():
            if c.status == "closed":
                continue
            label = nfc(c.label or c.id)
            detail = None
            if c.serving and c.serving.number:
                detail = step_text(c.serving.step, c.serving.steps, self.sector_name(c.serving.sector))
            elif c.status == "paused":
                detail = break_reason(c.break_reason)
            out.append(Tile(counter=nfc(c.id), label_vi=label, label_en=nfc(c.label_en or label),
                            number=nfc(c.serving.number) if c.serving else "",
                            status=c.status, highlight=c.id == hl,
                            detail_vi=nfc((detail or {}).get("vi", "")), detail_en=nfc((detail or {}).get("en", ""))))
        return out

    def sector_name(self, sector: str | None) -> dict[str, str]:
        """{"vi", "en"} of a sector from the board's sector list (its id when the board has none)."""
        for s in self.board.sectors if self.board else ():
            if s.id == sector and s.name:
                return {"vi": nfc(s.name.vi), "en": nfc(s.name.en or s.name.vi)}
        return {"vi": nfc(sector), "en": nfc(sector)}

    def recent(self, limit: int = RECENT_SHOWN) -> list[RecentRow]:
        rows = []
        for r in (self.board.recent_calls if self.board else [])[:limit]:
            if r.number:
                label = nfc(r.counter_label or r.counter)
                step = step_text(r.step, r.steps, self.sector_name(r.sector)) or {}
                rows.append(RecentRow(nfc(r.number), label, nfc(r.counter_label_en or label),
                                      detail_vi=nfc(step.get("vi", "")), detail_en=nfc(step.get("en", ""))))
        return rows

    def sectors(self) -> list[SectorRow]:
        rows = []
        for s in self.board.sectors if self.board else ():
            est, target, waiting = s.shown_wait_s, s.target_wait_s, s.waiting
            over = target is not None and target > 0 and waiting > 0 and est > target
            rows.append(SectorRow(sector=nfc(s.id), prefix=nfc(s.prefix),
                                  name_vi=nfc((s.name and s.name.vi) or s.id),
                                  name_en=nfc((s.name and (s.name.en or s.name.vi)) or s.id),
                                  waiting=waiting, wait_vi=wait_text(est, waiting, "vi"),
                                  wait_en=wait_text(est, waiting, "en"), over_target=over))
        return rows

    def call_banner(self) -> dict[str, str] | None:
        """"Mời số A023 đến Quầy 5" while the newest call is highlighted."""
        if not self.highlight_active or not self.last_call:
            return None
        c = self.last_call
        label_vi = nfc(c.counter_label or c.counter)
        label_en = nfc(c.counter_label_en or self._label_en(c.counter) or label_vi)
        out = {"vi": T("Number {number}, please go to {counter}", "vi", number=nfc(c.number), counter=label_vi),
               "en": T("Number {number}, please go to {counter}", "en", number=nfc(c.number), counter=label_en)}
        step = step_text(c.step, c.steps, self.sector_name(c.sector))
        if step:      # a visit's later procedure: the citizen hears and reads which one
            out = {lang: f"{out[lang]} · {step[lang]}" for lang in out}
        return out

    def _label_en(self, counter: str) -> str | None:
        for c in self.board.counters if self.board else ():
            if c.id == counter:
                return c.label_en
        return None

    def status_line(self) -> dict[str, str] | None:
        if self.offline:
            return {"vi": T("Connection lost", "vi") + " · " + T("Reconnecting…", "vi"),
                    "en": T("Connection lost", "en") + " · " + T("Reconnecting…", "en")}
        if self.board is None:
            return T.both("Waiting for data from the server")
        return None


def clock_text(now: datetime | None = None, zone: ZoneInfo | None = None) -> tuple[str, str]:
    """`08:05` over `Thứ Tư, 25/11/2026`-style date, Vietnamese weekday names, in the site's zone
    (the device's own only when the board has not said the site's yet)."""
    now = now or datetime.now(timezone.utc)
    now = now.astimezone(zone) if zone is not None else now.astimezone()
    weekday = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"][now.weekday()]
    return f"{now:%H:%M}", f"{weekday}, {now:%d/%m/%Y}"
