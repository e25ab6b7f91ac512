"""The command loop outlives odd timing and bugs: a double press in one batch, a failing view."""
from __future__ import annotations

import json

from queue_server.loop import Item as _Item
from queue_server.service import QueueService
from queue_server.store import EventStore


def cmd(type_, req_id, **f):
    return json.dumps({"v": 1, "type": type_, "req_id": req_id, **f}).encode()


def test_double_next_in_one_batch_on_a_fresh_site(tmp_path, site_config):
    svc = QueueService(site_config, EventStore(str(tmp_path / "db")))
    svc.process([_Item("kiosk", "k1", cmd("ticket.issue", "a", sector="dat-dai")),
                 _Item("kiosk", "k1", cmd("ticket.issue", "b", sector="dat-dai"))])
    # Two presses of Next land in the same batch: the first citizen is "served" in 0 s.
    first, second = _Item("counter", "q4", cmd("call.next", "n1")), _Item("counter", "q4", cmd("call.next", "n2"))
    from concurrent.futures import Future
    first.future, second.future = Future(), Future()
    svc.process([first, second])
    assert first.future.result(1)["ok"] and second.future.result(1)["ok"]
    assert svc.state.sectors["dat-dai"].served_today == 1


def test_a_failing_view_does_not_stop_the_loop(tmp_path, site_config, monkeypatch):
    svc = QueueService(site_config, EventStore(str(tmp_path / "db")))
    sent = []
    svc.publish = sent.extend
    svc.start()
    try:
        from queue_server.domain import views
        real = views.board
        monkeypatch.setattr(views, "board", lambda *a: 1 / 0)
        reply = svc.execute("kiosk", "k1", cmd("ticket.issue", "x1", sector="dat-dai"))
        assert reply["ok"]                                   # answered, and durable
        assert any(m.topic.endswith("/kiosk/k1/reply") for m in sent)
        monkeypatch.setattr(views, "board", real)
        assert svc.execute("kiosk", "k1", cmd("ticket.issue", "x2", sector="dat-dai"))["ok"]
        assert any(m.topic.endswith("/board") for m in sent)
    finally:
        svc.stop()


def test_the_forecast_is_skipped_while_other_commands_wait(tmp_path, site_config, monkeypatch):
    """A ticket alone in the loop gets the forecast; in a batch with others (a loaded loop) it
    gets the stream estimate, so no command waits for another's forecast."""
    from queue_server.domain import forecast
    calls = []
    real = forecast.printed_wait
    monkeypatch.setattr(forecast, "printed_wait", lambda *a, **k: calls.append(a[2]) or real(*a, **k))
    svc = QueueService(site_config, EventStore(str(tmp_path / "db")))
    svc.process([_Item("kiosk", "k1", cmd("ticket.issue", "a", sector="dat-dai"))])
    assert calls == ["dat-dai"]
    svc.process([_Item("kiosk", "k1", cmd("ticket.issue", "b", sector="dat-dai")),
                 _Item("kiosk", "k2", cmd("ticket.issue", "c", sector="kinh-doanh"))])
    assert calls == ["dat-dai"]
    assert svc.state.sectors["kinh-doanh"].issued_today == 1     # both issued, with the stream estimate
