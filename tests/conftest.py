"""Shared test fixtures: the labelled corpus (copied from shared/corpus) and its scoring."""
from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "corpus"


@dataclass
class Case:
    """One labelled corpus case: the entry file, the public URL and the expected records."""

    name: str
    folder: Path
    entry: Path
    url: str | None
    expected: dict

    def parse(self, **kwargs):
        from crawler import loader
        from crawler.parsers import parse_resource

        return parse_resource(loader.load_target(str(self.entry)), loader.fetch,
                              base_url=self.url, **kwargs)


def load_case(group: str, name: str) -> Case:
    folder = CORPUS / group / name
    source = (folder / "SOURCE.txt").read_text(errors="replace")
    m = re.search(r"^entry:\s*(\S+)", source, re.M)
    if m:
        entry = folder / m.group(1)
    else:
        entry = next(p for p in sorted(folder.iterdir())
                     if p.is_file() and p.name not in ("SOURCE.txt", "expected.json"))
    url = re.search(r"https?://\S+", source)
    return Case(name, folder, entry, url.group(0).rstrip(").,;") if url else None,
                json.loads((folder / "expected.json").read_text()))


def case_names(group: str) -> list[str]:
    return sorted(p.name for p in (CORPUS / group).iterdir() if (p / "expected.json").exists())


def norm(text: str | None) -> str:
    from crawler.identity import normalise_title

    return normalise_title(text)


def f1(expected: list[str], actual: list[str]) -> float:
    """F1 of exact normalised matches (each expected item matched at most once)."""
    pool = list(actual)
    hits = 0
    for item in expected:
        if item in pool:
            pool.remove(item)
            hits += 1
    if not expected and not actual:
        return 1.0
    precision = hits / len(actual) if actual else 0.0
    recall = hits / len(expected) if expected else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


@pytest.fixture
def case():
    return load_case


# --- Databases for the storage tests: a SQLite file, and PostgreSQL on 127.0.0.1 ---------
# PostgreSQL is required, not optional: without a server these tests fail (CI starts one).
# One database per test session (dropped at the end), one schema per test inside it.

#: An account with CREATEDB on the local server (trust auth); override for another server.
PG_ADMIN_URL = os.environ.get("PROFILESYNC_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """URL of a fresh PostgreSQL database for this session (each xdist worker gets its own)."""
    from sqlalchemy import create_engine

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"profilesync_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def pg_schema_url(database_url: str) -> str:
    """A new empty schema in the session database, as a URL whose search_path points there."""
    from sqlalchemy import create_engine

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    engine.dispose()
    return f"{database_url}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return pg_schema_url(request.getfixturevalue("pg_database"))


@pytest.fixture
def store(db_url: str) -> Iterator:
    from storage.store import Store

    opened = Store.open(db_url)
    yield opened
    opened.close()
