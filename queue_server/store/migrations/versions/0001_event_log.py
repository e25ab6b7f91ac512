"""The event log, idempotency replies and snapshots.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("events",
                    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
                    sa.Column("ts", sa.Text, nullable=False),
                    sa.Column("type", sa.Text, nullable=False),
                    sa.Column("device", sa.Text),
                    sa.Column("req_id", sa.Text),
                    sa.Column("data", sa.Text, nullable=False))
    op.create_index("ix_events_type", "events", ["type"])
    op.create_table("replies",
                    sa.Column("device", sa.Text, primary_key=True),
                    sa.Column("req_id", sa.Text, primary_key=True),
                    sa.Column("seq", sa.BigInteger, nullable=False),
                    sa.Column("reply", sa.Text, nullable=False))
    op.create_table("snapshots",
                    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
                    sa.Column("created", sa.Text, nullable=False),
                    sa.Column("state", sa.Text, nullable=False))


def downgrade() -> None:
    op.drop_table("snapshots")
    op.drop_table("replies")
    op.drop_index("ix_events_type", "events")
    op.drop_table("events")
