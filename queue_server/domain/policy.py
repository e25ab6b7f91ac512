"""Calling policies: which waiting ticket a counter gets when it asks for the next one.

A policy only reads the state; it never changes it. The live site and the
simulator call the very same objects.
"""
from __future__ import annotations

from typing import Protocol

from queue_server.domain.site import SiteConfig
from queue_server.domain.state import SiteState, Ticket


class Policy(Protocol):
    name: str

    def choose(self, state: SiteState, config: SiteConfig, counter: str, now: float) -> Ticket | None:
        """The ticket `counter` should call now (epoch seconds `now`), or None."""


def eligible_sectors(state: SiteState, counter: str) -> list[str]:
    return list(state.counters[counter].sectors)


class OldestFirstPolicy:
    """Priority citizens first, then the ticket that has waited longest over the counter's sectors."""

    name = "oldest-first"

    def choose(self, state: SiteState, config: SiteConfig, counter: str, now: float) -> Ticket | None:
        best: Ticket | None = None
        for sector in eligible_sectors(state, counter):
            for tid in state.waiting.get(sector, ()):
                t = state.tickets[tid]
                if best is None or (t.rank, t.order) < (best.rank, best.order):
                    best = t
        return best


DEFAULT_POLICY = OldestFirstPolicy
