"""The wall display's view-model, without a window: tiles, highlight, recent calls, sectors, offline."""
from __future__ import annotations

import json

from display.board_model import HIGHLIGHT_S, BoardView, clock_text, wait_text
from motcua.board_texts import MSGIDS, T, page_labels

BOARD = {"v": 1, "type": "board", "ts": "2026-11-25T08:00:00+07:00", "seq": 10, "day": "2026-11-25",
         "site": {"id": "s", "name": {"vi": "Trung tâm mẫu", "en": "Sample centre"}},
         "counters": [
             {"id": "q1", "label": "Quầy 1", "label_en": "Counter 1", "status": "serving", "sectors": ["a"],
              "serving": {"number": "A001", "sector": "a", "called_at": "x"}},
             {"id": "q2", "label": "Quầy 2", "label_en": "Counter 2", "status": "open", "sectors": ["a"], "serving": None},
             {"id": "q3", "label": "Quầy 3", "status": "closed", "sectors": ["a"], "serving": None},
             {"id": "q4", "label": "Quầy 4", "status": "paused", "sectors": ["a"], "serving": None}],
         "recent_calls": [{"number": "A001", "counter": "q1", "counter_label": "Quầy 1",
                           "counter_label_en": "Counter 1", "at": "x"}],
         "sectors": [{"id": "a", "name": {"vi": "Tư pháp", "en": "Justice"}, "prefix": "A", "waiting": 3,
                      "est_wait_s": 1500, "target_wait_s": 900},
                     {"id": "b", "name": {"vi": "Đất đai", "en": "Land"}, "prefix": "C", "waiting": 0,
                      "est_wait_s": 0, "target_wait_s": 900}]}


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_tiles_skip_closed_counters_and_show_numbers():
    v = BoardView()
    assert v.apply_board(json.dumps(BOARD).encode())
    tiles = v.tiles()
    assert [t.counter for t in tiles] == ["q1", "q2", "q4"]
    assert tiles[0].number == "A001" and tiles[0].label_en == "Counter 1"
    assert tiles[1].number == "" and tiles[2].status == "paused"
    assert tiles[2].label_en == "Quầy 4"        # no English label: the Vietnamese one
    assert v.site_name("vi") == "Trung tâm mẫu" and v.site_name("en") == "Sample centre"


def test_newest_call_is_highlighted_for_a_while():
    clock = Clock()
    v = BoardView(clock=clock)
    v.apply_board(BOARD)
    assert v.call_banner() is None
    v.apply_call({"number": "A002", "counter": "q2", "counter_label": "Quầy 2"})
    assert [t.counter for t in v.tiles() if t.highlight] == ["q2"]
    assert v.call_banner() == {"vi": "Mời số A002 đến Quầy 2", "en": "Number A002, please go to Counter 2"}
    clock.t += HIGHLIGHT_S + 0.1
    assert not any(t.highlight for t in v.tiles()) and v.call_banner() is None


def test_sectors_wait_text_and_over_target():
    v = BoardView()
    v.apply_board(BOARD)
    a, b = v.sectors()
    assert (a.prefix, a.name_vi, a.waiting, a.wait_vi, a.wait_en, a.over_target) == \
        ("A", "Tư pháp", 3, "~25 phút", "~25 min", True)
    assert b.wait_vi == "—" and not b.over_target
    assert wait_text(30, 1, "vi") == "Dưới 1 phút"
    assert wait_text("junk", 1, "vi") == "—"
    assert [r.number for r in v.recent()] == ["A001"]


def test_offline_when_broker_down_or_server_says_so():
    v = BoardView()
    assert v.offline and v.status_line()["vi"].startswith("Mất kết nối")
    v.set_broker(True)
    assert v.status_line() == {"vi": "Đang chờ dữ liệu từ máy chủ", "en": "Waiting for data from the server"}
    v.apply_board(BOARD)
    assert not v.offline and v.status_line() is None
    v.apply_server_status(b'{"v":1,"type":"server.status","online":false}')
    assert v.offline and v.status_line()["en"] == "Connection lost · Reconnecting…"
    v.apply_server_status({"online": True})
    assert not v.offline


def test_bad_payloads_are_ignored_and_old_boards_never_win():
    v = BoardView()
    v.apply_board(BOARD)
    for junk in (b"", b"null", b"[1]", b"{", b'{"type":"board","counters":"x"}', b"\xff"):
        assert not v.apply_board(junk)
        assert not v.apply_call(junk)
        assert not v.apply_server_status(junk)
    assert not v.apply_board({**BOARD, "seq": 9})     # a late, older board
    assert v.board.seq == 10
    assert v.apply_board({**BOARD, "seq": 1, "day": "2026-11-26"})  # a new day starts again at any seq
    odd = {**BOARD, "counters": [None, {"id": "q9"}, {"id": "q8", "serving": "A001"}], "sectors": [None, {"id": "z"}],
           "recent_calls": [None, {"number": None}]}
    assert v.apply_board(odd)
    assert [t.counter for t in v.tiles()] == ["q9", "q8"] and v.tiles()[1].number == ""
    assert v.sectors()[0].name_vi == "z" and v.recent() == []


def test_listeners_hear_every_change_and_a_failing_one_does_not_stop_others():
    v = BoardView()
    heard = []
    v.listeners += [lambda: 1 / 0, lambda: heard.append(1)]
    v.apply_board(BOARD)
    v.apply_call({"number": "A1", "counter": "q1"})
    v.set_broker(True)
    assert len(heard) == 3


def test_every_label_has_vietnamese_and_clock_is_vietnamese():
    assert T.missing(MSGIDS) == []
    labels = page_labels()
    assert labels["Now serving"] == {"vi": "Đang phục vụ", "en": "Now serving"}
    from datetime import datetime
    hm, date = clock_text(datetime(2026, 11, 25, 8, 5))
    assert hm == "08:05" and date == "Thứ Tư, 25/11/2026"


def test_clock_is_in_the_sites_zone_whatever_the_devices(monkeypatch):
    """A Pi left on UTC: the board's site zone (Hà Nội) is what the wall shows, 16:36 not 09:36."""
    import time
    from datetime import datetime, timezone
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        v = BoardView()
        assert v.site_zone() is None
        v.apply_board({**BOARD, "site": {**BOARD.get("site", {}), "timezone": "Asia/Ho_Chi_Minh"}})
        instant = datetime(2026, 12, 2, 9, 36, tzinfo=timezone.utc)
        assert clock_text(instant, zone=v.site_zone())[0] == "16:36"
        assert clock_text(instant)[0] == "09:36"      # no zone from the board yet: the device's own
        v.apply_board({**BOARD, "seq": BOARD["seq"] + 1, "site": {"timezone": "Mars/Olympus"}})
        assert v.site_zone() is None                  # an unknown zone is ignored, not a crash
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_a_visit_shows_where_it_stands_and_a_break_its_reason():
    """Issue #18: a called visit's tile and banner say "2/3: Đất đai"; a paused counter "Tạm nghỉ" and why."""
    import copy
    board = copy.deepcopy(BOARD)
    board["counters"][0]["serving"].update(sector="b", step=2, steps=3)
    board["counters"][3]["break_reason"] = "lunch"
    clock = Clock()
    v = BoardView(clock=clock)
    v.apply_board(board)
    tiles = v.tiles()
    assert (tiles[0].detail_vi, tiles[0].detail_en) == ("2/3: Đất đai", "2/3: Land")
    assert tiles[1].detail_vi == ""                                  # idle: nothing under the dash
    assert (tiles[2].detail_vi, tiles[2].detail_en) == ("Nghỉ trưa", "Lunch")
    v.apply_call({"v": 1, "type": "call", "number": "A001", "counter": "q1", "counter_label": "Quầy 1",
                  "sector": "b", "step": 2, "steps": 3})
    assert v.call_banner() == {"vi": "Mời số A001 đến Quầy 1 · 2/3: Đất đai",
                               "en": "Number A001, please go to Counter 1 · 2/3: Land"}
    v.apply_call({"v": 1, "type": "call", "number": "A002", "counter": "q2", "counter_label": "Quầy 2", "sector": "a"})
    assert v.call_banner()["vi"] == "Mời số A002 đến Quầy 2"         # a single procedure: as before
    # the recent calls say it too, with the same words as the tile and the banner
    board["recent_calls"] = [{"number": "A001", "counter": "q1", "counter_label": "Quầy 1", "sector": "b",
                              "step": 2, "steps": 3},
                             {"number": "A002", "counter": "q2", "counter_label": "Quầy 2", "sector": "a"}]
    v.apply_board({**board, "seq": board["seq"] + 1})
    rows = v.recent()
    assert (rows[0].detail_vi, rows[0].detail_en) == (tiles[0].detail_vi, tiles[0].detail_en) == ("2/3: Đất đai", "2/3: Land")
    assert (rows[1].detail_vi, rows[1].detail_en) == ("", "")
    assert T("On break", "vi") == "Tạm nghỉ"


def test_the_announcer_hears_a_visits_sector_by_its_board_name():
    """display.feed hands the announcer a visit's call with the sector's name from the board."""
    import copy
    from display.feed import _submit
    v = BoardView()
    v.apply_board(copy.deepcopy(BOARD))
    heard = []
    call = {"v": 1, "type": "call", "number": "A001", "counter": "q1", "sector": "b", "step": 2, "steps": 3}
    _submit(heard.append, json.dumps(call).encode(), v.sector_name)
    assert heard[-1]["sector_name"] == "Đất đai" and heard[-1]["sector_name_en"] == "Land"
    _submit(heard.append, json.dumps({**call, "step": None, "steps": None}).encode(), v.sector_name)
    assert "sector_name" not in heard[-1]                     # one procedure: nothing more to say
