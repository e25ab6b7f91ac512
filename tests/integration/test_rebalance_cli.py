"""A manager's live rebalancing from the CLI: the change is live on the next call, no restart."""
from __future__ import annotations

import json

from motcua.cli import main
from tests.support.site import RunningSite


def test_rebalance_cli_moves_a_counter_and_the_next_call_follows(tmp_path, capsys):
    with RunningSite(tmp_path) as site:
        base = ["rebalance", "--server", site.http_url, "--token", site.api_token]
        kiosk, q7 = site.device("kiosk", "k1"), site.device("counter", "q7")
        kiosk.request("ticket.issue", {"sector": "xay-dung"})
        assert q7.request("call.next")["error"]["code"] == "queue_empty"   # q7 serves kinh-doanh, lao-dong-xa-hoi
        assert main(base + ["sectors", "q7", "xay-dung"]) == 1             # not trained, no override
        assert "not_allowed" in capsys.readouterr().err
        assert main(base + ["sectors", "q7", "xay-dung", "--override", "--reason", "thiếu người"]) == 0
        assert json.loads(capsys.readouterr().out)["counter"]["sectors"] == ["xay-dung"]
        assert q7.request("call.next")["result"]["ticket"]["sector"] == "xay-dung"
        assert main(base + ["status", "q7", "paused"]) == 0
        assert main(base + ["auto", "on"]) == 0
        assert site.service.state.auto_mode is True
        assert main(base + ["show"]) == 0
        shown = capsys.readouterr().out
        assert "q7" in shown and "xay-dung" in shown
        moved = [e for e in site.service.store.read() if e.type == "counter.sectors_changed"]
        assert moved[-1].data["override"] is True and moved[-1].data["reason"] == "thiếu người"
        assert main(["rebalance", "--server", site.http_url, "--token", "wrong", "auto", "off"]) == 1
