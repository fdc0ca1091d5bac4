"""The schema, brought to the newest revision on every start.

A new, empty database gets the models' tables and the head revision's stamp in one
transaction (Alembic's cookbook recipe "Building an Up to Date Database from Scratch").
Alembic itself is imported only to upgrade a database that is behind: it weighs ~11 MB
of RSS that a daemon started on a new database would otherwise keep for months, a tenth
of its memory budget. Tests check that `HEAD` is Alembic's head and that the migrations
build the same schema as the models.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Column, Connection, Engine, MetaData, PrimaryKeyConstraint, String, Table, inspect, select

from .models import Base

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
HEAD = "0001"

#: PostgreSQL advisory lock held while creating or migrating the schema, so that processes
#: starting together on a new database (daemon, CLI) go one after the other instead of
#: racing on CREATE TABLE. SQLite needs none: the store's write transactions begin with
#: BEGIN IMMEDIATE.
MIGRATION_LOCK = 0x70726F66_73796E63   # "profsync"

#: Alembic's own version table, as Alembic creates it.
VERSION_TABLE = Table("alembic_version", MetaData(), Column("version_num", String(32), nullable=False),
                      PrimaryKeyConstraint("version_num", name="alembic_version_pkc"))


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def advisory_lock(connection: Connection, *keys: int) -> None:
    """Hold a PostgreSQL advisory lock (one 64-bit key, or two 32-bit ones) until the
    transaction ends; a no-op elsewhere: SQLite's write transactions are serialised."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({', '.join(str(int(k)) for k in keys)})")


def lock(connection: Connection) -> None:
    """Hold the migration lock until the transaction ends."""
    advisory_lock(connection, MIGRATION_LOCK)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return _revision(connection)


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table(VERSION_TABLE.name):
        return None
    return connection.execute(select(VERSION_TABLE.c.version_num)).scalar()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision`; `engine` must open write transactions."""
    if revision == "head":
        if current_revision(engine) == HEAD:
            return
        with engine.begin() as connection:
            lock(connection)
            if _revision(connection) == HEAD:   # another process got there first
                return
            existing = set(inspect(connection).get_table_names())
            if VERSION_TABLE.name not in existing and not existing & set(Base.metadata.tables):
                Base.metadata.create_all(connection)
                VERSION_TABLE.create(connection)
                connection.execute(VERSION_TABLE.insert().values(version_num=HEAD))
                return
    from alembic import command

    command.upgrade(alembic_config(engine), revision)
