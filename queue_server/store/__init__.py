"""The append-only event log and its snapshots (SQLite by default, PostgreSQL a URL away)."""
from queue_server.store.log import EventStore, StoredReply  # noqa: F401
