"""Alembic environment: runs on the engine the store hands over (see storage/migrate.py)."""
from alembic import context

from storage.migrate import lock
from storage.models import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    lock(connection)
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
