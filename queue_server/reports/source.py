"""Which events of the log a period needs: from the first `day.started` of the period to the last day's end."""
from __future__ import annotations

from typing import Iterator

from queue_server.domain import events as ev
from queue_server.domain.events import Event


def events_for_days(store, first_day: str, last_day: str) -> Iterator[Event]:
    """Events from just before `first_day` started until the day after `last_day` starts.

    Reads the `day.started` index first so a one-day report does not scan a year of log."""
    after = 0
    for e in store.read(after=0, types=(ev.DAY_STARTED,)):
        if e.data.get("day", "") >= first_day:
            break
        after = e.seq - 1          # start at the last day.started before the period (carries counter status)
    # A booking is usually made days before its slot: the period's check-ins and no-shows need the
    # booking.created (and booking.moved) events of earlier days for the slots in or after the period.
    for e in store.read(after=0, types=_BOOKING_MADE):
        if e.seq > after:
            break
        if e.data.get("day", "") >= first_day:
            yield e
    for e in store.read(after=after):
        if e.type == ev.DAY_STARTED and e.data.get("day", "") > last_day:
            return
        yield e


_BOOKING_MADE = (ev.BOOKING_CREATED, ev.BOOKING_MOVED)
