"""`profilesync events`, `profiles`, `db upgrade` and `db prune`, and how every command finds its database."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from crawler.jobs import FetchResult, FetchStatus
from crawler.records import NewsItem, PageRecords, Publication, SourceInfo
from storage.migrate import MIGRATIONS
from storage.store import Event, ProfileSpec, SourceSpec, Store
from sync.cli import database_url, main

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
PAPERS = [Publication("Attention Is All You Need", ["Ashish Vaswani"], "NeurIPS", 2017),
          Publication("Profile Sync: Watching Researcher Homepages", ["Lei Li"], "arXiv", 2025)]
NEWS = [NewsItem("Five papers accepted by ACL 2024.", "2024/05", "2024-05")]


def fill(url: str) -> list[Event]:
    """Two profiles; lei: a venue update and a news item; ana: a failed fetch. Returns the events."""
    store = Store.open(url)
    store.upsert_profiles([ProfileSpec(p, p.title(), 3600, (SourceSpec(f"https://{p}.example.org/", f"https://{p}.example.org/"),))
                           for p in ("ana", "lei")])
    jobs = {j.url: j.source_id for j in store.jobs()}
    lei, ana = jobs["https://lei.example.org/"], jobs["https://ana.example.org/"]
    source = SourceInfo("https://lei.example.org/")
    events = store.apply(FetchResult(lei, "https://lei.example.org/", FetchStatus.FETCHED, T0,
                                     records=PageRecords(source, publications=PAPERS)))
    published = [PAPERS[0], Publication(**{**PAPERS[1].to_dict(), "venue": "CVPR 2025"})]
    events += store.apply(FetchResult(lei, "https://lei.example.org/", FetchStatus.FETCHED, T0 + timedelta(hours=1),
                                      records=PageRecords(source, news=NEWS, publications=published)))
    events += store.apply(FetchResult(ana, "https://ana.example.org/", FetchStatus.FAILED, T0 + timedelta(hours=2),
                                      error="https://ana.example.org/: HTTP 503", http_status=503))
    store.close()
    assert [e.type for e in events] == ["paper.updated", "news.added", "source.failed"]
    return events


@pytest.fixture
def filled(tmp_path: Path) -> tuple[str, list[Event]]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    return url, fill(url)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


# -- which database --------------------------------------------------------------------------

def test_database_url_prefers_the_argument_then_env_then_config_then_user_data(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import platformdirs

    monkeypatch.setattr(platformdirs, "user_data_dir", lambda app: str(tmp_path / app))
    monkeypatch.delenv("PROFILESYNC_DB", raising=False)
    assert database_url(None) == f"sqlite:///{tmp_path / 'profilesync' / 'profilesync.db'}"
    assert database_url(None, "sqlite:///config.db") == "sqlite:///config.db"
    monkeypatch.setenv("PROFILESYNC_DB", "sqlite:///env.db")
    assert database_url(None, "sqlite:///config.db") == "sqlite:///env.db"
    assert database_url("sqlite:///arg.db", "sqlite:///config.db") == "sqlite:///arg.db"


def test_default_database_is_created_in_the_user_data_directory(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import platformdirs

    monkeypatch.setattr(platformdirs, "user_data_dir", lambda app: str(tmp_path / "data" / app))
    monkeypatch.delenv("PROFILESYNC_DB", raising=False)
    assert run(capsys, "events", "--json") == (0, "", "")
    assert (tmp_path / "data" / "profilesync" / "profilesync.db").is_file()


# -- events ----------------------------------------------------------------------------------

def test_events_json_lines_are_exactly_the_event_dicts(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    events = fill(db_url)
    code, out, _ = run(capsys, "events", "--db", db_url, "--json")
    assert code == 0
    assert json_lines(out) == [e.to_dict() for e in events]
    assert json_lines(out)[0]["data"]["changes"] == {"venue": ["arXiv", "CVPR 2025"]}


def test_events_filters(filled: tuple[str, list[Event]], capsys: pytest.CaptureFixture[str]) -> None:
    url, events = filled
    ids = [e.id for e in events]

    def selected(*argv: str) -> list[str]:
        code, out, err = run(capsys, "events", "--db", url, "--json", *argv)
        assert (code, err) == (0, "")
        return [e["id"] for e in json_lines(out)]

    assert selected("--since", ids[0]) == ids[1:]
    assert selected("--since", "2026-03-01T10:00:00Z") == ids[2:]
    assert selected("--since", "2026-03-01T10:00") == ids[2:]        # no zone: UTC
    assert selected("--since", "2026-03-01T11:00:00+01:00") == ids[2:]
    assert selected("--type", "paper.*", "source.failed") == [ids[0], ids[2]]
    assert selected("--type", "news.added", "--type", "paper.updated") == ids[:2]
    assert selected("--profile", "ana") == ids[2:]
    assert selected("--limit", "2") == ids[:2]


def test_events_table_on_a_terminal(filled: tuple[str, list[Event]], capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    url, events = filled
    code, out, _ = run(capsys, "events", "--db", url)
    assert code == 0
    rows = [line for line in out.splitlines() if "evt_" in line]
    assert [next(t for t in ("paper.updated", "news.added", "source.failed") if t in row) for row in rows] == \
        ["paper.updated", "news.added", "source.failed"]
    assert '"arXiv" -> "CVPR 2025"' in rows[0] and events[0].id in rows[0]
    assert "HTTP 503" in rows[2] and "2026-03-01T10:00:00Z" in rows[2]


@pytest.mark.parametrize(("argv", "message"), [
    (["--since", "yesterday"], "--since 'yesterday'"),
    (["--since", "evt_01J0000000000000000000000"], "no event with id"),
    (["--type", "paper.add"], "--type 'paper.add' matches no event type"),
])
def test_bad_event_queries_are_one_line_and_exit_2(filled: tuple[str, list[Event]], capsys: pytest.CaptureFixture[str],
                                                   argv: list[str], message: str) -> None:
    code, out, err = run(capsys, "events", "--db", filled[0], *argv)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith("profilesync: error: ") and message in err


@pytest.mark.parametrize(("url", "message"), [
    ("postgresql+psycopg://someone:s3cret@127.0.0.1:1/nowhere", "cannot open database postgresql+psycopg://someone:***@127.0.0.1:1/nowhere"),
    ("nosuchdb://x", "cannot open database nosuchdb://x"),
    ("not a url", "not a database URL"),
])
def test_unusable_database_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], url: str, message: str) -> None:
    for command in (["events"], ["profiles"], ["db", "upgrade"]):
        code, out, err = run(capsys, *command, "--db", url)
        assert (code, out) == (2, "")
        assert err.count("\n") == 1 and message in err and "s3cret" not in err


# -- profiles, db upgrade --------------------------------------------------------------------

def test_profiles_json_shows_each_source_state(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    fill(db_url)
    code, out, _ = run(capsys, "profiles", "--db", db_url, "--json")
    assert code == 0
    ana, lei = json_lines(out)
    assert (ana["id"], ana["name"], ana["interval_s"], lei["id"]) == ("ana", "Ana", 3600, "lei")
    [src] = ana["sources"]
    assert src["key"] == "https://ana.example.org/" and src["records"] == 0
    assert (src["last_success_at"], src["last_failure_at"]) == (None, "2026-03-01T10:00:00Z")
    assert (src["consecutive_failures"], src["last_error"]) == (1, "https://ana.example.org/: HTTP 503")
    assert src["next_due_at"] > "2026-03-01T10:50"
    [src] = lei["sources"]
    assert (src["records"], src["last_success_at"], src["consecutive_failures"]) == (3, "2026-03-01T09:00:00Z", 0)


def test_profiles_table(filled: tuple[str, list[Event]], capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run(capsys, "profiles", "--db", filled[0])
    assert code == 0
    ana = next(line for line in out.splitlines() if "https://ana.example.org/" in line)
    assert [cell.strip() for cell in ana.strip("│ ").split("│")][:6] == [
        "ana", "https://ana.example.org/", "0", "-", "2026-03-01T10:00:00Z", "1"]


def test_db_upgrade_creates_the_schema(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    code, out, _ = run(capsys, "db", "upgrade", "--db", db_url)
    assert code == 0 and out.strip().endswith(f"schema at revision {head}")
    store = Store.open(db_url)
    with store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head
    store.close()


def test_console_script_reads_the_database_from_the_environment(filled: tuple[str, list[Event]]) -> None:
    url, events = filled
    script = Path(sys.executable).with_name("profilesync")
    done = subprocess.run([str(script), "events", "--json", "--type", "news.*"], capture_output=True, text=True,
                          env={**os.environ, "PROFILESYNC_DB": url}, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
    assert json_lines(done.stdout) == [events[1].to_dict()]


def test_db_prune_deletes_history_older_than_asked(filled: tuple[str, list[Event]],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    url, events = filled
    age = datetime.now(UTC) - T0 - timedelta(minutes=90)   # the first hour and a half of history
    code, out, _ = run(capsys, "db", "prune", "--db", url, "--older-than", f"{int(age.total_seconds())}s", "--json")
    assert code == 0 and json.loads(out) == {"events": 2, "snapshots": 1, "contents": 1}
    code, out, _ = run(capsys, "events", "--db", url, "--json")
    assert [e["id"] for e in json_lines(out)] == [e.id for e in events[2:]]
    code, out, err = run(capsys, "db", "prune", "--db", url, "--older-than", "soon")
    assert (code, out) == (2, "") and "--older-than 'soon'" in err
