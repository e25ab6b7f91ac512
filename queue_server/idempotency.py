"""Replies remembered by (device, req_id): a client that retries a command (it lost the reply,
or the server restarted before publishing it) gets the first reply again, and the command is
not applied twice. Recent replies are kept in memory; older ones come from the store's replies
table, written in the same transaction as the batch's events."""
from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any, Iterable

from protocol.messages import ProtocolError, parse_command
from queue_server.store import EventStore

log = logging.getLogger(__name__)

# Recent replies kept in memory for retries with the same req_id (they come within seconds).
# Older ones are still answered, from the store's replies table: this only bounds memory,
# which at 50,000 (about 1.4 KB each) grew by ~70 MiB over a busy centre's first 11 days.
REPLY_CACHE = 2_000


class ReplyCache:
    def __init__(self, store: EventStore):
        self.store = store
        self._recent: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._batch: dict[tuple[str, str], dict[str, Any]] | None = None   # this batch's, from the store

    def __len__(self) -> int:
        return len(self._recent)

    def get(self, key_device: str, req_id: str) -> dict[str, Any] | None:
        """The reply already given to this command, or None."""
        key = (key_device, req_id)
        if key in self._recent:
            return self._recent[key]
        if self._batch is not None:
            stored = self._batch.get(key)
        else:
            stored = self.store.reply_for(key_device, req_id)
        if stored is not None:
            self.remember(key_device, req_id, stored)
        return stored

    def prefetch(self, batch: Iterable[Any]) -> None:
        """Parse the batch's MQTT commands once (into `item.parsed`) and look up, in ONE query, the
        stored replies of the req_ids not in memory. A query per command took a quarter of the
        loop's time at 1,000 cmd/s (py-spy): each one hands the GIL to paho's network thread and
        waits for it."""
        self._batch = None
        keys: list[tuple[str, str]] = []
        in_memory: dict[tuple[str, str], dict[str, Any]] = {}
        try:
            for item in batch:
                if item.from_wire or item.req_id is not None:
                    if item.req_id is not None:       # a command object with its idempotency key
                        key = (f"{item.kind}/{item.device}", item.req_id)
                    else:
                        try:
                            item.parsed = parse_command(item.kind, item.payload)
                        except ProtocolError:
                            continue      # the handler parses it again and replies with the error
                        key = (f"{item.kind}/{item.device}", item.parsed.req_id)
                    if key in self._recent:
                        # Kept here too: this batch's own replies may push it out of the cache.
                        in_memory[key] = self._recent[key]
                    else:
                        keys.append(key)
            stored = self.store.replies_for(keys) if keys else {}
            stored.update(in_memory)
            self._batch = stored
        except Exception:   # fall back to one lookup per command
            log.exception("looking up the batch's stored replies failed")
            self._batch = None

    def remember(self, key_device: str, req_id: str, reply: dict[str, Any]) -> None:
        self._recent[(key_device, req_id)] = reply
        if len(self._recent) > REPLY_CACHE:
            self._recent.popitem(last=False)
