"""Tables of the event store. Changed only through Alembic migrations (store/migrations)."""
from sqlalchemy import BigInteger, Column, Index, MetaData, Table, Text

metadata = MetaData()

events = Table(
    "events", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("ts", Text, nullable=False),
    Column("type", Text, nullable=False),
    Column("device", Text),
    Column("req_id", Text),
    Column("data", Text, nullable=False),
)
Index("ix_events_type", events.c.type)

replies = Table(
    "replies", metadata,
    Column("device", Text, primary_key=True),
    Column("req_id", Text, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("reply", Text, nullable=False),
)

snapshots = Table(
    "snapshots", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("created", Text, nullable=False),
    Column("state", Text, nullable=False),
)
