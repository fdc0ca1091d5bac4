"""The schema's migrations: HEAD names Alembic's head, a new database is built without
loading Alembic, and a database that is behind is upgraded by Alembic."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text

from storage.migrate import HEAD, alembic_config, current_revision
from storage.store import Store, make_engine

ROOT = Path(__file__).resolve().parent.parent


def test_head_constant_is_alembics_head(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert ScriptDirectory.from_config(alembic_config(engine)).get_current_head() == HEAD


def test_a_new_database_is_built_without_loading_alembic(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    opener = ("import sys; from storage.store import Store; Store.open(sys.argv[1]).close(); "
              "Store.open(sys.argv[1]).close(); print(sorted(m for m in sys.modules if m.startswith('alembic')))")
    out = subprocess.run([sys.executable, "-c", opener, url], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert current_revision(make_engine(url)) == HEAD


def test_a_database_behind_head_is_upgraded_by_alembic(tmp_path):
    """A database stamped at an older revision goes through the migrations, which is why
    an empty one (no revision, no tables) is the only one built from the models."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    engine = make_engine(url)
    with engine.begin() as conn:   # as before the first migration: the version table, no tables
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
    Store.open(url).close()
    assert current_revision(engine) == HEAD
    with engine.connect() as conn:
        assert "profiles" in {row[0] for row in conn.execute(text("SELECT name FROM sqlite_master"))}
