"""The schema's migrations: HEAD names Alembic's head, and a new database is brought to it."""
from __future__ import annotations

from alembic.script import ScriptDirectory

from storage.migrate import HEAD, alembic_config, current_revision
from storage.store import Store, make_engine


def test_head_constant_is_alembics_head(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert ScriptDirectory.from_config(alembic_config(engine)).get_current_head() == HEAD


def test_open_migrates_a_new_database_and_skips_alembic_when_current(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    engine = make_engine(url)
    assert current_revision(engine) is None
    Store.open(url).close()
    assert current_revision(engine) == HEAD
    Store.open(url).close()   # already current: a no-op
    assert current_revision(engine) == HEAD
