"""Auto mode's idle rule is said once: the balancer says what a counter may reach and when, the
policy what it calls from; the forecast and the estimate ask them (issue #15)."""
from __future__ import annotations

import ast
from pathlib import Path

from queue_server.domain import estimate, forecast
from queue_server.domain.autobalance import AutoBalancer
from queue_server.domain.commands import SetAutoMode
from queue_server.domain.policy import DynamicPolicy, PooledPolicy, StaticPolicy
from queue_server.sim.driver import Driver
from tests.support.domain_harness import small_site

DOMAIN = Path(__file__).resolve().parents[2] / "queue_server" / "domain"


def test_the_forecast_and_the_estimate_do_not_look_at_the_policys_class():
    for path in [*sorted((DOMAIN / "forecast").glob("*.py")), DOMAIN / "estimate.py"]:
        name = path.name
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance":
                assert "Policy" not in ast.unparse(node.args[1]), (name, ast.unparse(node))
            assert not (isinstance(node, ast.Attribute) and node.attr == "__class__"), name
        # no figure of the idle rule of their own
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        assert not names & {"IDLE_MOVE_S", "HELPER_DELAY_S"}, name


def test_the_balancer_builds_with_the_rule_the_forecast_plays():
    assert AutoBalancer().idle_wait_s == AutoBalancer.IDLE_WAIT_S


class _Everywhere:
    """A policy the forecast has never heard of, whose counters call every sector oldest first."""
    name = "everywhere"
    scores = False
    follows_counter_sectors = False

    def __init__(self):
        self._pooled = PooledPolicy()

    def choose(self, state, config, counter, now):
        return self._pooled.choose(state, config, counter, now)

    def reach(self, state, config, rt):
        return tuple(s.id for s in config.sectors)


def _driver():
    d = Driver(small_site(), DynamicPolicy())
    d.set_status("q2", "closed", 0)
    d.issue("a", 0)
    d.call("q1", 0)
    for i in range(3):
        d.issue("b", 1 + i)
    return d


def test_the_forecast_plays_what_the_policy_says_it_reaches():
    d = _driver()
    st = d.state
    order = max(d.epoch(10), st.last_order + 0.001)
    ahead = estimate.ahead_of(st, "b", 1, order)

    def wait(policy):
        return forecast.printed_wait(st, d.config, "b", 1, order, ahead, d.at(10), policy)

    assert wait(_Everywhere()) == wait(PooledPolicy())
    assert StaticPolicy().reach(st, d.config, st.counters["q1"]) == tuple(st.counters["q1"].sectors[:1])


def test_idle_reach_is_the_trained_list_less_the_own_sectors_only_in_auto_mode():
    d = _driver()
    st, cfg = d.state, d.config
    rt = st.counters["q1"]
    assert AutoBalancer.idle_reach(st, cfg, rt) is None            # auto mode off
    d.send(SetAutoMode(True), 20)
    trained = cfg.counter_by_id["q1"].trained
    assert AutoBalancer.idle_reach(st, cfg, rt) == tuple(s for s in trained if s not in rt.sectors)
