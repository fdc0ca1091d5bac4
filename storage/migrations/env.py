"""Alembic environment: runs on the engine the store hands over (see storage/migrate.py)."""
from alembic import context

from storage.models import Base

#: PostgreSQL advisory lock held while migrating, so that processes starting together on a
#: new database (daemon, CLI) migrate one after the other instead of racing on CREATE TABLE.
#: SQLite needs none: the store's write transactions begin with BEGIN IMMEDIATE.
MIGRATION_LOCK = 0x70726F66_73796E63   # "profsync"

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
