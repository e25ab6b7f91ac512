"""Web users (managers, clerks, viewers) and clerks' sign-ins at counters (for per-clerk reports).

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("web_users",
                    sa.Column("username", sa.Text, primary_key=True),
                    sa.Column("password_hash", sa.Text, nullable=False),
                    sa.Column("role", sa.Text, nullable=False),
                    sa.Column("display_name", sa.Text),
                    sa.Column("created", sa.Text, nullable=False),
                    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table("counter_sessions",
                    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("username", sa.Text, nullable=False),
                    sa.Column("counter", sa.Text, nullable=False),
                    sa.Column("started", sa.Text, nullable=False),
                    sa.Column("ended", sa.Text))
    op.create_index("ix_counter_sessions_counter", "counter_sessions", ["counter"])


def downgrade() -> None:
    op.drop_index("ix_counter_sessions_counter", "counter_sessions")
    op.drop_table("counter_sessions")
    op.drop_table("web_users")
