"""The counter terminal's view-model: keys -> commands, choices without a mouse (transfer, a visit's add /
drop / continue here, a break's reason), rating once, messages."""
from __future__ import annotations

from counter.model import CHOICE_TIMEOUT_S, Action, CounterView
from counter.texts import MSGIDS, T

BOARD = {"type": "board", "counters": [], "sectors": [
    {"id": "a", "name": {"vi": "Tư pháp", "en": "Justice"}}, {"id": "b", "name": {"vi": "Đất đai", "en": "Land"}},
    {"id": "c", "name": {"vi": "Xây dựng", "en": "Construction"}}, {"id": "k", "name": {"vi": "Trả kết quả", "en": "Results"}}]}


def state(**kw):
    base = {"counter": "q1", "label": "Quầy 1", "status": "serving", "sectors": ["a", "k"], "trained": ["a", "k", "c"],
            "serving": {"number": "A007", "sector": "a", "ticket_id": "20261125-A007", "priority": "normal"},
            "served_today": 3, "last_served": "20261125-A006", "waiting": {"a": 4, "k": 0}}
    base.update(kw)
    return base


def ok(ticket_number=None):
    """A reply as the server sends it (protocol.messages.Reply)."""
    ticket = {"id": f"20261125-{ticket_number}", "number": ticket_number, "sector": "a", "procedure": None,
              "priority": "normal", "issued_at": "2026-11-25T08:00:00+07:00"} if ticket_number else None
    return {"v": 1, "type": "reply", "req_id": "r1", "ok": True, "result": {"ticket": ticket} if ticket else {}}


def error(code, message, **more):
    return {"v": 1, "type": "reply", "req_id": "r1", "ok": False, "error": {"code": code, "message": message, **more}}


class Clock:
    t = 0.0

    def __call__(self):
        return self.t


def view(**kw) -> CounterView:
    v = CounterView("q1", clock=Clock())
    v.apply_board(BOARD)
    v.apply_state(state(**kw))
    v.set_connected(True)
    return v


def test_keys_map_to_commands():
    v = view()
    assert v.press("next").type == "call.next"
    assert v.press("recall").type == "call.recall"
    assert v.press("done").type == "serve.done"
    a = v.press("no_show")
    assert a.type == "serve.no_show" and a.number == "A007"
    assert v.press("pause") is None and v.choice.kind == "pause"     # the break's reason first
    assert v.press("done") == Action("counter.pause", {"reason": "lunch"})
    assert v.press("bogus") is None
    assert view(status="paused").press("pause").type == "counter.open"
    assert view(status="closed").press("pause").type == "counter.open"


def test_keys_that_need_a_ticket_explain_when_there_is_none():
    v = view(serving=None, status="open")
    for key in ("recall", "done", "no_show", "transfer"):
        assert v.press(key) is None
        assert v.message.vi == "Quầy chưa gọi số nào" and v.message.level == "error"
    assert v.choice is None


def test_transfer_walk_with_next_recall_then_confirm():
    v = view()
    assert v.press("transfer") is None
    # own sectors, then trained, then the rest; not the current one; then the visit's add (no drop:
    # a ticket of one procedure has nothing still to come)
    assert v.choice.keys == ["k", "c", "b", "add"]
    scr = v.screen()["choice"]
    assert scr["title"] == "Chuyển số A007 sang lĩnh vực nào?"
    assert scr["options"] == ["Trả kết quả", "Xây dựng", "Đất đai", "Thêm thủ tục…"]
    for _ in range(4):
        v.press("next")                               # wraps around
    assert v.choice.index == 0
    v.press("recall")
    v.press("recall")
    assert v.choice.index == 2
    action = v.press("transfer")
    assert action.type == "serve.transfer" and action.fields == {"to_sector": "b"} and v.choice is None
    v.sending(action)
    assert v.busy
    v.on_reply(action, ok())
    assert not v.busy and v.message.vi == "Đã chuyển số A007 sang Đất đai"
    assert v.message.en == "A007 transferred to Land"


def test_transfer_cancel_and_timeout():
    v = view()
    v.press("transfer")
    assert v.press("pause") is None and v.choice is None and v.message.vi == "Đã hủy chuyển"
    v.press("transfer")
    v.clock.t += CHOICE_TIMEOUT_S + 1
    v.tick()
    assert v.choice is None
    assert v.press("next").type == "call.next"        # keys work normally again


def test_transfer_closes_when_the_ticket_leaves():
    v = view()
    v.press("transfer")
    v.apply_state(state(serving=None, status="open"))
    assert v.choice is None


def test_busy_refuses_a_second_clerk_command_but_not_the_rating_pad():
    v = view()
    a = v.press("next")
    v.sending(a)
    assert v.press("next") is None and v.message.vi == "Vui lòng chờ: lệnh trước đang được gửi"
    r = v.rate(4)
    assert r.type == "rating.submit" and r.fields == {"ticket_id": "20261125-A006", "score": 4}
    v.on_reply(a, error("queue_empty", "No one is waiting"))
    assert not v.busy and v.message.vi == "Không còn ai chờ ở quầy này"


def test_rating_once_per_ticket_and_retry_after_timeout():
    v = view()
    a = v.rate(3)
    assert a is not None and a.number == "A006"
    assert v.rate(4) is None and v.message.vi == "Số này đã được đánh giá"
    v.on_reply(a, None)                              # no answer: the citizen may press again
    assert v.message.level == "error"
    again = v.rate(2)
    assert again is not None
    v.on_reply(again, error("not_allowed", "This ticket has already been rated"))
    assert v.message.vi == "Số này đã được đánh giá"
    assert view(last_served=None).rate(4) is None
    assert v.rate(7) is None


def test_messages_for_replies_and_unknown_errors():
    v = view()
    a = v.press("next")
    v.on_reply(a, ok("A008"))
    assert v.message.vi == "Đã gọi số A008" and v.message.en == "Called A008"
    a = v.press("recall")
    v.on_reply(a, None)
    assert v.message.vi == "Máy chủ không trả lời: kiểm tra mạng rồi thử lại"
    a = v.press("done")
    v.on_reply(a, error("weird", "Odd", message_vi="Lạ"))
    assert v.message.vi == "Lỗi: Lạ" and v.message.en == "Error: Odd"


def test_screen_texts_vietnamese_first():
    v = view(serving={"number": "A009", "sector": "a", "ticket_id": "20261125-A009", "priority": "elderly"})
    s = v.screen()
    assert s["label"] == "Quầy 1" and s["status_vi"] == "Đang phục vụ" and s["number"] == "A009"
    assert s["priority"] and s["sector_vi"] == "Tư pháp"
    assert s["waiting"] == [("Tư pháp", 4), ("Trả kết quả", 0)]
    assert s["served_today"] == "Đã phục vụ hôm nay: 3"
    assert s["keys"]["next"] == "Gọi tiếp" and s["keys"]["pause"] == "Tạm dừng"
    v.set_connected(False)
    assert v.screen()["offline"]


def test_bad_state_payloads_are_ignored():
    v = view()
    for junk in (b"x", b"[]", {"counter": "q2", "status": "open"}, {"counter": "q1"}):
        assert not v.apply_state(junk)
    assert v.state.serving.number == "A007"
    assert not v.apply_board(b"nope")


def test_an_unreadable_part_of_a_state_reads_as_none_and_the_rest_shows():
    v = view(serving={"number": 7}, label_i18n={"vi": "Quầy 1"})     # no ticket id, a number that is no string
    s = v.screen()
    assert s["status_vi"] == "Đang phục vụ" and s["number"] == "" and s["label_en"] == "Quầy 1"
    assert s["waiting"] == [("Tư pháp", 4), ("Trả kết quả", 0)]


def test_a_board_keeps_its_readable_sectors():
    v = view()
    assert v.apply_board({"type": "board", "counters": [], "sectors": [{"id": "a"}, {"name": "no id"}, 5]})
    assert v.site_sectors == ["a"] and v.sector_name("a") == "a"


def test_a_reply_the_contract_refuses_is_an_error_and_a_rating_may_be_tried_again():
    v = view()
    r = v.rate(3)
    v.on_reply(r, {"ok": "yes"})
    assert v.message.level == "error" and v.message.vi == "Lỗi máy chủ: hãy thử lại"
    assert v.rate(3) is not None


def test_catalogue_complete():
    assert T.missing(MSGIDS) == []


def visit_serving(*sectors, number="A007", current=0):
    """A visit's ticket being served: its procedures in `sectors`, the one at `current` now."""
    procs = [{"sector": s, "procedure": None, "status": "done" if i < current else ("current" if i == current else "waiting")}
             for i, s in enumerate(sectors)]
    return {"number": number, "sector": sectors[current], "ticket_id": f"20261125-{number}", "priority": "normal",
            "step": current + 1, "steps": len(sectors),
            "visit": {"step": current + 1, "steps": len(sectors), "procedures": procs, "end_s": 1800}}


def test_done_on_a_visit_asks_send_on_or_continue_here_when_this_counter_serves_the_next_sector():
    v = view(serving=visit_serving("a", "k", "b"))
    assert v.screen()["sector_vi"] == "1/3: Tư pháp → Trả kết quả"
    assert v.press("done") is None and v.choice.kind == "after"
    scr = v.screen()["choice"]
    assert scr["options"] == ["Mời sang Trả kết quả", "Tiếp tục tại quầy"] and scr["index"] == 0
    assert scr["hint"] == "Gọi tiếp / Gọi lại: chọn · Xong: xác nhận · Tạm dừng: hủy"
    # Done twice: the default, send on
    assert v.press("done") == Action("serve.done", {"continue_here": False}, number="A007")
    v.press("done")
    v.press("next")
    here = v.press("done")
    assert here.fields == {"continue_here": True}
    # the reply's ticket says what the server did: called again here for the next sector
    reply = ok("A007")
    reply["result"]["ticket"].update(sector="k", status="called", counter="q1")
    v.on_reply(here, reply)
    assert v.message.vi == "Đã xong số A007: tiếp tục tại quầy với Trả kết quả"
    assert v.message.en == "Finished A007: continuing here with Results"


def test_done_on_a_visit_whose_next_sector_is_elsewhere_sends_on_at_once():
    v = view(serving=visit_serving("a", "b"))
    a = v.press("done")
    assert a == Action("serve.done", number="A007") and v.choice is None
    reply = ok("A007")
    reply["result"]["ticket"].update(sector="b", status="waiting")
    v.on_reply(a, reply)
    assert v.message.vi == "Đã xong số A007: mời sang hàng chờ Đất đai"


def test_add_and_drop_a_procedure_of_the_visit_from_the_transfer_list():
    v = view(serving=visit_serving("a", "k", "b"))
    v.press("transfer")
    assert v.choice.keys == ["k", "c", "b", "add", "drop"]
    v.press("recall")                                  # up from the first line: the last, "drop"
    assert v.press("transfer") is None and v.choice.kind == "drop"
    scr = v.screen()["choice"]
    assert scr["title"] == "Bỏ thủ tục nào khỏi lượt của số A007?" and scr["options"] == ["2/3: Trả kết quả", "3/3: Đất đai"]
    v.press("next")
    drop = v.press("done")
    assert drop == Action("visit.drop", {"sector": "b", "procedure": None}, number="A007", sector_name="Đất đai")
    v.on_reply(drop, ok("A007"))
    assert v.message.vi == "Đã bỏ Đất đai khỏi lượt của số A007"
    v.press("transfer")
    v.press("recall")
    v.press("recall")                                  # "add"
    v.press("transfer")
    assert v.choice.kind == "add" and v.choice.keys == ["a", "k", "c", "b"]   # every sector, own first
    v.press("next")
    v.press("next")
    add = v.press("transfer")
    assert add.type == "visit.add" and add.fields == {"sector": "c"}
    v.on_reply(add, ok("A007"))
    assert v.message.vi == "Đã thêm Xây dựng vào lượt của số A007" and v.message.en == "Construction added to the visit of A007"
    # a list about a ticket closes when another ticket is served
    v.press("transfer")
    v.apply_state(state(serving=visit_serving("a", "b", number="A008")))
    assert v.choice is None


def test_pause_asks_the_reason_and_the_screen_says_it():
    v = view(serving=None, status="open")
    v.press("pause")
    scr = v.screen()["choice"]
    assert scr["title"] == "Quầy tạm nghỉ vì lý do gì?"
    assert scr["options"] == ["Nghỉ trưa", "Họp", "Đi lấy hồ sơ", "Hệ thống gặp sự cố", "Lý do khác"]
    v.press("next")
    a = v.press("done")
    assert a == Action("counter.pause", {"reason": "meeting"})
    v.on_reply(a, {"v": 1, "type": "reply", "req_id": "r1", "ok": True,
                   "result": {"counter": {"id": "q1", "status": "paused", "break_reason": "meeting"}}})
    assert v.message.vi == "Tạm nghỉ: Họp" and v.message.en == "On break: Meeting"
    v.apply_state(state(serving=None, status="paused", break_reason="meeting"))
    s = v.screen()
    assert s["status_vi"] == "Tạm nghỉ: Họp" and s["status_en"] == "On break: Meeting"
    assert s["keys"]["pause"] == "Mở quầy"
    # cancelled with Pause itself: nothing sent
    v = view(serving=None, status="open")
    v.press("pause")
    assert v.press("pause") is None and v.choice is None and v.message.vi == "Đã hủy"


CATALOGUE = {"site": {"id": "s", "name": {"vi": "Trung tâm", "en": "Centre"}}, "sectors": [
    {"id": "a", "prefix": "A", "name": {"vi": "Tư pháp", "en": "Justice"},
     "procedures": [{"id": "khai-sinh", "name": {"vi": "Đăng ký khai sinh", "en": "Birth registration"}}]},
    {"id": "b", "prefix": "B", "name": {"vi": "Đất đai", "en": "Land"},
     "procedures": [{"id": "bien-dong", "name": {"vi": "Đăng ký biến động", "en": "Registering a change"}},
                    {"id": "gcn", "name": {"vi": "Cấp giấy chứng nhận", "en": "First certificate"}}]},
    {"id": "c", "prefix": "C", "name": {"vi": "Xây dựng", "en": "Construction"}}]}


def test_add_a_procedure_by_sector_then_procedure_once_the_catalogue_is_read():
    v = view(serving=visit_serving("a", "k"))
    assert v.apply_catalogue(CATALOGUE)
    assert not v.apply_catalogue({"sectors": "no"}) and v.procedures["b"]    # a refused one changes nothing
    v.press("transfer")
    v.press("recall")
    v.press("recall")                                  # "add"
    v.press("transfer")
    assert v.choice.kind == "add" and v.choice.keys == ["a", "k", "c", "b"]
    for _ in range(3):
        v.press("next")                                # Đất đai: its procedures
    assert v.press("transfer") is None and v.choice.kind == "add:b"
    scr = v.screen()["choice"]
    assert scr["title"] == "Thêm thủ tục nào của Đất đai cho số A007?"
    assert scr["options"] == ["Đất đai (mọi thủ tục)", "Đăng ký biến động", "Cấp giấy chứng nhận"]
    assert scr["hint"] == T("Next / Recall: choose · Transfer: confirm · Pause: cancel", "vi")
    v.press("recall")                                  # up from the top: the last procedure
    add = v.press("transfer")
    assert add == Action("visit.add", {"sector": "b", "procedure": "gcn"}, number="A007", sector_name="Đất đai")
    # the whole sector, as before; a sector without procedures is added at once
    for steps, fields in ((("next", "next", "next", "transfer", "transfer"), {"sector": "b"}),
                          (("next", "next", "transfer"), {"sector": "c"})):
        v.press("transfer")
        v.press("recall")
        v.press("recall")
        v.press("transfer")
        *keys, last = steps
        for k in keys:
            v.press(k)
        assert v.press(last).fields == fields
