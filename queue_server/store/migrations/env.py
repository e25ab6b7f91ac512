"""Alembic environment: run with a connection handed in by `queue_server.store.log.migrate`."""
from alembic import context

from queue_server.store.schema import metadata

connection = context.config.attributes.get("connection")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
