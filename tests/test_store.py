"""The snapshot store on SQLite and PostgreSQL (the `store` and `db_url` fixtures run each
test on both): migrations, snapshots, the change-detection rules of DESIGN.md driven by
real parses of a corpus page edited as its owner would, event ids, and atomicity."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select

from crawler.jobs import DocumentState, FetchResult, FetchStatus
from crawler.parsers import parse_bytes
from crawler.records import Metrics, PageRecords, Profile, Publication, SourceInfo
from storage.migrate import MIGRATIONS, alembic_config
from storage.models import Base, DeliveryRow, EventRow, RecordRow, SnapshotContentRow, SnapshotRow, SourceRow
from storage.store import (WRITE_OPTION, EndpointSpec, Event, ProfileSpec, PruneReport, SourceSpec, Store, content_hash,
                           make_engine)

from conftest import CORPUS

ROOT = Path(__file__).resolve().parent.parent
#: An academicpages `_pages/about.md` (13 papers, 4 news items), fetched from GitHub.
PAGE = (next((CORPUS / "seeds").glob("002_*")) / "page.md").read_text()
URL = "https://raw.githubusercontent.com/lei/lei.github.io/master/_pages/about.md"
T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)

#: Written like the page's other entries: lines end in two spaces (markdown hard breaks).
NEW_PAPER = ("* **Profile Sync: Watching Researcher Homepages at Scale**  \n"
             "  **Lei Li**, Jane Doe  \n"
             "  ***NeurIPS 2025*** [[arxiv](https://arxiv.org/abs/2501.01234)]\n\n")
SURVEY = "A Survey for In-context Learning"


def edit(text: str, *replacements: tuple[str, str]) -> str:
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def parsed(text: str) -> PageRecords:
    return parse_bytes(URL, text.encode(), "text/markdown", base_url="https://lei.github.io/")


def without_survey(text: str) -> str:
    start = text.index(f"* **{SURVEY}**")
    return text[:start] + text[text.index("* **VITATECS"):]


@dataclass
class Feed:
    """Applies fetch outcomes to one source, an hour apart, as the crawler would."""

    store: Store
    source_id: str
    url: str = URL
    now: datetime = T0
    log: list[list[Event]] = field(default_factory=list)

    def result(self, records: PageRecords | None = None, status: FetchStatus = FetchStatus.FETCHED,
               **kwargs: Any) -> FetchResult:
        self.now += timedelta(hours=1)
        return FetchResult(self.source_id, self.url, status, self.now, records=records, **kwargs)

    def __call__(self, records: PageRecords | None = None, status: FetchStatus = FetchStatus.FETCHED,
                 **kwargs: Any) -> list[str]:
        events = self.store.apply(self.result(records, status, **kwargs))
        self.log.append(events)
        return [e.type for e in events]


def add_source(store: Store, profile: str = "lei", key: str = URL) -> Feed:
    store.upsert_profiles([ProfileSpec(profile, "Lei Li", 6 * 3600, (SourceSpec(key, key),))])
    job = next(j for j in store.jobs([profile]) if j.url == key)
    return Feed(store, job.source_id, key)


@pytest.fixture
def lei(store: Store) -> Feed:
    """A source with its baseline (the corpus page as published) already stored."""
    feed = add_source(store)
    assert feed(parsed(PAGE)) == []
    return feed


def count(store: Store, model: type[Base], *where: Any) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model).where(*where)) or 0


def source_row(store: Store, feed: Feed) -> SourceRow:
    with store._sessions() as s:
        return s.get_one(SourceRow, int(feed.source_id))


def held_titles(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(RecordRow.data).where(RecordRow.kind == "publication")).scalars()
        return sorted(r["title"] for r in rows)


# -- schema ----------------------------------------------------------------------------------

@pytest.mark.parametrize("built_by", ["models", "migrations"])
def test_a_new_database_gets_the_models_schema_at_head(db_url: str, built_by: str) -> None:
    """Store.open builds a new database from the models and stamps it; the migrations,
    which upgrade older databases, must build exactly the same schema."""
    if built_by == "migrations":
        from alembic import command

        engine = make_engine(db_url).execution_options(**{WRITE_OPTION: True})
        command.upgrade(alembic_config(engine), "head")
        engine.dispose()
    store = Store.open(db_url)
    store.upsert_profiles([ProfileSpec("lei", None, 60, ())])
    store.close()
    store = Store.open(db_url)   # at head: nothing to do, data intact
    try:
        assert [p.id for p in store.profile_states()] == ["lei"]
        head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
        with store.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head
            assert set(inspect(conn).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        store.close()


def test_processes_starting_together_on_a_new_database_all_migrate_it(db_url: str) -> None:
    """Daemon and CLI started at once: the migrations run once, nobody fails on CREATE TABLE."""
    opener = "import sys; from storage.store import Store; Store.open(sys.argv[1]).close()"
    children = [subprocess.Popen([sys.executable, "-c", opener, db_url], cwd=ROOT, stderr=subprocess.PIPE,
                                 text=True) for _ in range(3)]
    outcomes = [(child.wait(timeout=60), child.stderr.read() if child.stderr else "") for child in children]
    assert outcomes == [(0, "")] * 3
    store = Store.open(db_url)
    with store.engine.connect() as conn:
        revision = MigrationContext.configure(conn).get_current_revision()
    store.close()
    assert revision == ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_a_silent_postgresql_server_is_an_error_not_a_hang() -> None:
    """A server that accepts TCP and never answers (a half-up host): opening the store
    fails after the connect timeout, with a message that says so."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"postgresql+psycopg://profilesync@127.0.0.1:{silent.getsockname()[1]}/test"
        opener = textwrap.dedent("""
            import sys
            from sqlalchemy.exc import OperationalError
            import storage.store
            storage.store.PG_CONNECT_TIMEOUT_S = 1   # the default (10 s), shortened for the test
            try:
                storage.store.Store.open(sys.argv[1])
            except OperationalError as exc:
                print(exc.orig)
        """)
        child = subprocess.run([sys.executable, "-c", opener, url], cwd=ROOT, capture_output=True, text=True,
                               timeout=60)
    assert child.returncode == 0, child.stderr
    assert "timeout" in child.stdout.lower()


# -- configuration -----------------------------------------------------------------------------

def test_config_edits_update_profiles_and_disable_dropped_sources(store: Store) -> None:
    """Renames and new intervals apply, a source's new URL or format replaces the old, a
    source dropped from the config (or a whole profile, with prune) is disabled with its
    history kept, and comes back as the same source when it returns."""
    home = SourceSpec("https://ann.org/", "https://ann.org/")
    dblp = SourceSpec("dblp:1", "https://dblp.org/pid/1.xml", format="dblp")
    bob = ProfileSpec("bob", "Bob", 60, (SourceSpec("https://bob.org/", "https://bob.org/"),))

    def sources() -> dict[tuple[str, str], tuple[str, str | None, bool]]:
        return {(p.id, src.key): (src.url, src.format, src.enabled) for p in store.profile_states() for src in p.sources}

    store.upsert_profiles([ProfileSpec("ann", "Ann", 3600, (home, dblp)), bob])
    ids = {job.url: job.source_id for job in store.jobs()}
    assert set(ids) == {"https://ann.org/", "https://dblp.org/pid/1.xml", "https://bob.org/"}
    store.upsert_profiles([ProfileSpec("ann", "Ann Lee", 7200, (replace(dblp, url="https://dblp.org/pid/1-2.xml"),))],
                          prune=True)
    assert [(p.id, p.name, p.interval_s) for p in store.profile_states()] == [("ann", "Ann Lee", 7200),
                                                                            ("bob", "Bob", 60)]
    assert sources() == {("ann", "https://ann.org/"): ("https://ann.org/", None, False),
                         ("ann", "dblp:1"): ("https://dblp.org/pid/1-2.xml", "dblp", True),
                         ("bob", "https://bob.org/"): ("https://bob.org/", None, False)}
    assert [job.url for job in store.jobs()] == ["https://dblp.org/pid/1-2.xml"]
    store.upsert_profiles([ProfileSpec("ann", "Ann Lee", 7200, (home, dblp)), bob])
    assert {job.url: job.source_id for job in store.jobs()} == ids


# -- baseline, edits, noise --------------------------------------------------------------------

def test_first_sync_of_a_parsed_page_is_a_silent_baseline(store: Store, lei: Feed) -> None:
    [state] = store.profile_states()
    assert state.sources[0].records == 13 + 4
    assert state.sources[0].last_success_at == lei.now
    assert count(store, SnapshotRow) == 1 and count(store, SnapshotContentRow) == 1
    assert store.events() == []
    with store.engine.connect() as conn:
        assert set(conn.execute(select(RecordRow.first_seen, RecordRow.last_seen))) == {(lei.now, lei.now)}


def test_owner_edits_become_events(store: Store, lei: Feed) -> None:
    before = {p.title: p for p in parsed(PAGE).publications}
    vitatecs = next(t for t in before if t.startswith("VITATECS"))
    page = edit(PAGE,
                ("* **Multimodal ArXiv", NEW_PAPER + "* **Multimodal ArXiv"),
                # the VITATECS preprint got published
                ("  [[arxiv](https://arxiv.org/abs/2311.17404)",
                 "  ***CVPR 2025*** [[arxiv](https://arxiv.org/abs/2311.17404)"),
                # a title without any id, edited: matched by the fuzzy title guarded by year and authors
                ("**Dynamic Knowledge Distillation for Pre-trained", "**Dynamic Knowledge Distillation for Pretrained"),
                ("* [2024/06]", "* [2025/01] Our profile sync paper is out, see "
                                "[the paper](https://arxiv.org/abs/2501.01234).\n* [2024/06]"),
                ("[2024/05] Five papers got accepted", "[2024/05] Five of our papers were accepted"))
    assert sorted(lei(parsed(page))) == ["news.added", "news.updated", "paper.added", "paper.updated", "paper.updated"]
    events = {(e.type, e.data.get("title")): e for e in lei.log[-1]}
    added = events["paper.added", "Profile Sync: Watching Researcher Homepages at Scale"]
    assert added.data["ids"] == {"arxiv": "2501.01234"} and added.data["authors"] == ["Lei Li", "Jane Doe"]
    assert events["paper.updated", vitatecs].data["changes"] == {
        "venue": [before[vitatecs].venue, "CVPR 2025"], "year": [None, 2025]}
    assert events["paper.updated", "Dynamic Knowledge Distillation for Pretrained Language Models"].data["changes"] == {
        "title": ["Dynamic Knowledge Distillation for Pre-trained Language Models",
                  "Dynamic Knowledge Distillation for Pretrained Language Models"]}
    news = {e.type: e.data for e in lei.log[-1] if e.type.startswith("news.")}
    assert news["news.added"]["date_iso"] == "2025-01"
    assert news["news.updated"]["changes"]["text"][1].startswith("Five of our papers were accepted")
    assert {(e.profile, e.source, e.occurred_at) for e in lei.log[-1]} == {("lei", URL, lei.now)}
    assert [e.to_dict() for e in store.events()] == [e.to_dict() for e in lei.log[-1]]
    assert store.profile_states()[0].sources[0].records == 13 + 4 + 2


def test_formatting_and_edits_outside_the_records_make_no_event(store: Store, lei: Feed) -> None:
    news = PAGE.index("* [2024/06]"), PAGE.index("* [2024/05]"), PAGE.index("* [2024/02]")
    page = PAGE[:news[0]] + PAGE[news[1]:news[2]] + PAGE[news[0]:news[1]] + PAGE[news[2]:]   # two swapped
    page = edit(page,
                ("My research interests lie", "My main research interests lie"),      # the bio
                ("* BE in Software Engineering", "* B.Eng. in Software Engineering"),  # not a record
                ("\n* [2024/05]", "\n\n*   [2024/05]"),                               # whitespace
                ("**Lei Li**, Yankai Lin, Shuhuai Ren", "Lei Li,   Yankai Lin, *Shuhuai Ren*"))
    assert lei(parsed(page)) == []
    assert store.profile_states()[0].sources[0].records == 17


@pytest.mark.parametrize("second", [FetchStatus.FETCHED, FetchStatus.NOT_MODIFIED, FetchStatus.UNCHANGED])
def test_paper_removed_only_after_two_successful_syncs_without_it(store: Store, lei: Feed,
                                                                  second: FetchStatus) -> None:
    smaller = parsed(without_survey(PAGE))
    assert lei(smaller) == []
    assert SURVEY in held_titles(store)
    assert lei(smaller if second is FetchStatus.FETCHED else None, second) == ["paper.removed"]
    assert lei.log[-1][0].data["title"] == SURVEY
    assert SURVEY not in held_titles(store) and len(held_titles(store)) == 12


def test_paper_back_after_one_miss_is_kept_without_events(store: Store, lei: Feed) -> None:
    assert lei(parsed(without_survey(PAGE))) == []
    assert lei(parsed(PAGE)) == []
    assert lei(parsed(without_survey(PAGE))) == []   # one miss again, not the second
    assert SURVEY in held_titles(store)


def test_news_item_dropped_by_the_owner_is_removed_after_two_syncs(store: Store, lei: Feed) -> None:
    page = PAGE[:PAGE.index("* [2024/02]")] + PAGE[PAGE.index("* [2023/12]"):]
    assert lei(parsed(page)) == []
    assert lei(parsed(page)) == ["news.removed"]
    assert lei.log[-1][0].data["date_iso"] == "2024-02" and lei.log[-1][0].data["text"].startswith("Checkout our Reka")
    assert store.profile_states()[0].sources[0].records == 16


def test_profile_and_metrics_changes_of_a_listing(store: Store) -> None:
    scholar = add_source(store, key="scholar:lei")
    paper = Publication("Label Words are Anchors", ["Lean Wang", "Lei Li"], "EMNLP", 2023, citations=400)

    def listing(position: str, citations: int, paper_citations: int) -> PageRecords:
        profile = Profile(name="Lei Li", position=position, affiliation="HKU",
                          metrics=Metrics(citations=citations, h_index=20))
        return PageRecords(SourceInfo("https://scholar.google.com/citations?user=x", "listing", "scholar"), profile,
                           publications=[replace(paper, citations=paper_citations)])

    assert scholar(listing("PhD student", 1500, 400)) == []
    assert scholar(listing("PhD student", 1500, 420)) == []        # a paper's citation count: silent
    assert scholar(listing("Assistant Professor", 1527, 430)) == ["profile.updated", "metrics.updated"]
    profile, metrics = scholar.log[-1]
    assert profile.data["changes"] == {"position": ["PhD student", "Assistant Professor"]}
    assert metrics.data == {"metrics": {"citations": 1527, "h_index": 20}, "changes": {"citations": [1500, 1527]}}


def test_failed_fetches_keep_the_records_and_report_once(store: Store, lei: Feed) -> None:
    assert lei(status=FetchStatus.FAILED, error=f"{URL}: HTTP 503", http_status=503) == ["source.failed"]
    assert lei(status=FetchStatus.FAILED, error=f"{URL}: timeout") == []
    assert lei.log[-2][0].data == {"url": URL, "error": f"{URL}: HTTP 503", "http_status": 503}
    state = store.profile_states()[0].sources[0]
    assert (state.records, state.consecutive_failures, state.last_failure_at) == (17, 2, lei.now)
    assert state.last_error == f"{URL}: timeout" and state.last_success_at == T0 + timedelta(hours=1)
    assert count(store, SnapshotRow, SnapshotRow.status == "failed") == 2
    # Back: a recovery, and a paper missing now is only missing once (failures don't count).
    assert lei(parsed(without_survey(PAGE))) == ["source.recovered"]
    assert lei.log[-1][0].data == {"url": URL, "failures": 2}
    assert store.profile_states()[0].sources[0].consecutive_failures == 0
    assert lei(None, FetchStatus.NOT_MODIFIED) == ["paper.removed"]


def test_snapshot_with_far_fewer_records_is_suspect_until_seen_three_times(store: Store, lei: Feed) -> None:
    news_only = parsed(PAGE[:PAGE.index("Preprints")])
    assert len(news_only.publications) == 0 and len(news_only.news) == 4
    assert lei(news_only) == ["source.failed"]
    assert "suspect" in lei.log[-1][0].data["error"]
    assert count(store, SnapshotRow, SnapshotRow.status == "suspect") == 1
    assert len(held_titles(store)) == 13
    assert lei(news_only) == []
    # The page was restored: a recovery, nothing else.
    assert lei(parsed(PAGE)) == ["source.recovered"]
    # The same shrunken content three times in a row is the truth; removals follow the usual rule.
    assert [lei(news_only), lei(news_only), lei(news_only)] == [["source.failed"], [], ["source.recovered"]]
    assert len(held_titles(store)) == 13
    assert lei(None, FetchStatus.UNCHANGED) == ["paper.removed"] * 13
    assert held_titles(store) == []


def test_error_pages_are_failures_not_removals(store: Store) -> None:
    small = add_source(store, key="https://lei.example.org/")
    two = PageRecords(SourceInfo(small.url), publications=[Publication("Paper One on Syncing", year=2024),
                                                           Publication("Paper Two on Watching", year=2025)])
    assert small(two) == []
    error_page = parse_bytes(small.url, b"<html><body><h1>Site under maintenance</h1></body></html>", "text/html")
    assert small(error_page) == ["source.failed"]               # a 200 with nothing on it
    assert small(two, http_status=404) == []                     # an error status, whatever it parsed
    assert small(error_page) == []
    state = store.profile_states()[0].sources[0]
    assert (state.records, state.consecutive_failures) == (2, 3)
    assert small(two) == ["source.recovered"]


def test_identical_content_is_stored_once(store: Store, lei: Feed) -> None:
    mirror = add_source(store, key="https://lei.github.io/about.md")
    assert mirror(parsed(PAGE)) == []
    assert (count(store, SnapshotRow), count(store, SnapshotContentRow)) == (2, 1)
    # Fetched again with the same records, or answered 304: the last snapshot is confirmed.
    assert lei(parsed(PAGE)) == [] and lei(None, FetchStatus.NOT_MODIFIED) == []
    assert (count(store, SnapshotRow), count(store, SnapshotContentRow)) == (2, 1)
    with store.engine.connect() as conn:
        confirmed = conn.scalar(select(SnapshotRow.confirmed_at).where(SnapshotRow.source_id == int(lei.source_id)))
    assert confirmed == lei.now


def test_records_keep_first_and_last_seen(store: Store, lei: Feed) -> None:
    """A present record is seen by every successful sync (a 304, one of a confirmed batch,
    a changed page); one that goes missing keeps the time it was last seen."""
    hours = lambda n: T0 + timedelta(hours=n)  # noqa: E731 (lei's baseline was at hour 1)

    def seen() -> dict[str, tuple[datetime, datetime, int]]:
        return {r.data["title"]: (r.first_seen, r.last_seen, r.missing)
                for r in store.records("lei") if r.kind == "publication"}

    lei(None, FetchStatus.NOT_MODIFIED)
    assert seen()[SURVEY] == (hours(1), hours(2), 0)
    assert store.confirm_unchanged([lei.result(None, FetchStatus.NOT_MODIFIED)]) == []
    assert seen()[SURVEY] == (hours(1), hours(3), 0)
    lei(parsed(edit(without_survey(PAGE), ("* **Multimodal ArXiv", NEW_PAPER + "* **Multimodal ArXiv"))))
    assert seen()[SURVEY] == (hours(1), hours(3), 1)
    assert seen()["Profile Sync: Watching Researcher Homepages at Scale"] == (hours(4), hours(4), 0)
    lei(parsed(PAGE))
    assert seen()[SURVEY] == (hours(1), hours(5), 0)
    assert {r.last_seen for r in store.records("lei") if not r.missing} == {hours(5)}


def test_validators_of_the_last_successful_fetch_come_back_in_the_next_job(store: Store, lei: Feed) -> None:
    """The crawler sends them as If-None-Match / If-Modified-Since; a failure must not lose them."""
    first = (DocumentState(URL, etag='"v1"', last_modified="Mon, 05 Jan 2026 10:00:00 GMT", body_hash="a" * 64),)
    lei(parsed(PAGE), documents=first)
    assert store.jobs(["lei"])[0].documents == first
    lei(status=FetchStatus.FAILED, error="down", documents=(DocumentState(URL, etag='"bad"'),))
    assert store.jobs(["lei"])[0].documents == first
    refreshed = (replace(first[0], etag='"v2"'),)
    lei(None, FetchStatus.NOT_MODIFIED, documents=refreshed)
    assert store.jobs(["lei"])[0].documents == refreshed
    assert source_row(store, lei).content_hash == content_hash(parsed(PAGE))


# -- events ----------------------------------------------------------------------------------

def many_new_papers(n: int) -> PageRecords:
    papers = "".join(f"* **Study Number {i} of Homepage Drift**\n  **Lei Li**, Jane Doe\n  ***ICLR 2026***\n\n"
                     for i in range(n))
    return parsed(edit(PAGE, ("* **Multimodal ArXiv", papers + "* **Multimodal ArXiv")))


def test_event_ids_are_unique_sortable_and_stable_across_redelivery(store: Store, lei: Feed) -> None:
    store.upsert_endpoints([EndpointSpec("hook", "https://hooks.example.org/", "whsec_c2VjcmV0")])
    assert lei(many_new_papers(8)) == ["paper.added"] * 8
    ids = [e.id for e in lei.log[-1]]
    assert len(set(ids)) == 8 and all(i.startswith("evt_") for i in ids)
    assert sorted(ids) == ids == [e.id for e in store.events()]

    def deliver_all(fail_first: bool) -> list[str]:
        delivered: list[str] = []
        now = datetime.now(UTC)
        while claimed := store.claim_deliveries(now, 10):
            [delivery] = claimed                      # one in flight per (endpoint, profile)
            if fail_first and delivery.attempt == 1:
                store.record_attempt(delivery.id, delivered=False, status=500, error="boom",
                                     next_attempt_at=now + timedelta(seconds=30))
                now += timedelta(seconds=31)
                continue
            store.record_attempt(delivery.id, delivered=True, status=200, error=None, next_attempt_at=None)
            delivered.append(delivery.event.id)
        return delivered

    assert deliver_all(fail_first=True) == ids
    assert store.replay() == 8
    assert deliver_all(fail_first=False) == ids


def test_apply_queues_a_delivery_per_event_for_each_endpoint_that_wants_it(store: Store, lei: Feed) -> None:
    store.upsert_endpoints([EndpointSpec("all", "https://a.example.org/", "whsec_YQ=="),
                            EndpointSpec("papers-of-lei", "https://b.example.org/", "whsec_Yg==", ("paper.*",),
                                         ("lei",)),
                            EndpointSpec("ana-only", "https://c.example.org/", "whsec_Yw==", ("*",), ("ana",))])
    lei(parsed(edit(PAGE, ("* **Multimodal ArXiv", NEW_PAPER + "* **Multimodal ArXiv"),
                    ("* [2024/06]", "* [2025/01] Our profile sync paper is out.\n* [2024/06]"))))
    assert sorted(e.type for e in lei.log[-1]) == ["news.added", "paper.added"]
    with store.engine.connect() as conn:
        queued = conn.execute(select(DeliveryRow.endpoint_id, EventRow.type, DeliveryRow.state)
                              .join(EventRow, EventRow.seq == DeliveryRow.event_seq)).all()
    assert sorted(queued) == [("all", "news.added", "pending"), ("all", "paper.added", "pending"),
                              ("papers-of-lei", "paper.added", "pending")]
    assert store.outbox_stats()["pending"] == 3


def test_events_query_by_id_time_type_and_profile(store: Store, lei: Feed) -> None:
    other = add_source(store, profile="ana", key="https://ana.example.org/about.md")
    other.now = lei.now
    assert other(parsed(PAGE)) == []
    lei(many_new_papers(2))
    other(parsed(without_survey(PAGE)), http_status=None)
    other(None, FetchStatus.UNCHANGED)
    lei.now = other.now
    lei(status=FetchStatus.FAILED, error="down")
    every = store.events()
    assert [(e.profile, e.type) for e in every] == [("lei", "paper.added")] * 2 + [
        ("ana", "paper.removed"), ("lei", "source.failed")]
    assert store.events(since=every[1].id) == every[2:]
    assert store.events(since=every[2].occurred_at) == every[2:]
    assert store.events(types=["paper.*"]) == every[:3]
    assert store.events(types=["paper.removed", "source.failed"]) == every[2:]
    assert store.events(profile="ana") == [every[2]]
    assert store.events(limit=1) == every[:1]
    with pytest.raises(KeyError):
        store.events(since="evt_01J0000000000000000000000")


# -- atomicity ---------------------------------------------------------------------------------

def state_of(store: Store) -> dict[str, Any]:
    """Everything apply writes, for before/after comparisons."""
    with store.engine.connect() as conn:
        return {
            "snapshots": conn.execute(select(SnapshotRow.id, SnapshotRow.status, SnapshotRow.content_hash)
                                      .order_by(SnapshotRow.id)).all(),
            "contents": conn.scalars(select(SnapshotContentRow.hash).order_by(SnapshotContentRow.hash)).all(),
            "records": conn.execute(select(RecordRow.id, RecordRow.data, RecordRow.missing)
                                    .order_by(RecordRow.id)).all(),
            "events": conn.execute(select(EventRow.id, EventRow.type).order_by(EventRow.seq)).all(),
            "sources": conn.execute(select(SourceRow.id, SourceRow.content_hash, SourceRow.successful_syncs,
                                           SourceRow.consecutive_failures, SourceRow.next_due_at)).all(),
        }


def test_an_error_inside_apply_leaves_nothing_behind(store: Store, lei: Feed, monkeypatch: pytest.MonkeyPatch) -> None:
    before = state_of(store)
    original = Store._append_events

    def fail_after_writing_events(self: Store, *args: Any) -> list[Event]:
        original(self, *args)
        raise RuntimeError("crash after the events were written")

    monkeypatch.setattr(Store, "_append_events", fail_after_writing_events)
    result = lei.result(many_new_papers(3))
    with pytest.raises(RuntimeError):
        store.apply(result)
    assert state_of(store) == before
    monkeypatch.undo()
    assert [e.type for e in store.apply(result)] == ["paper.added"] * 3


#: Applies a FetchResult in a child process and stops inside the transaction, right before
#: COMMIT and after every statement was sent, until the parent kills it or the pause ends.
CHILD = textwrap.dedent("""
    import json, sys, time
    from datetime import datetime
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    from crawler.jobs import DocumentState, FetchResult, FetchStatus
    from crawler.records import PageRecords
    from storage.store import Store

    url, source_id, when, pause = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    records = PageRecords.from_dict(json.load(sys.stdin))
    store = Store.open(url)

    @event.listens_for(Session, "before_commit")
    def hold(session):
        session.flush()
        print("flushed", flush=True)
        time.sleep(pause)

    events = store.apply(FetchResult(source_id, records.source.url, FetchStatus.FETCHED,
                                     datetime.fromisoformat(when), records=records))
    print(json.dumps([e.type for e in events]), flush=True)
""")


def start_child(db_url: str, result: FetchResult, pause: float) -> subprocess.Popen[str]:
    child = subprocess.Popen([sys.executable, "-c", CHILD, db_url, result.source_id, result.fetched_at.isoformat(),
                              str(pause)], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(json.dumps(result.records.to_dict() if result.records else {}))
    child.stdin.close()
    assert child.stdout.readline() == "flushed\n"
    return child


def test_killed_mid_apply_leaves_no_partial_state_and_the_apply_reruns(db_url: str, store: Store, lei: Feed) -> None:
    before = state_of(store)
    result = lei.result(many_new_papers(3))
    child = start_child(db_url, result, pause=60)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    assert state_of(store) == before
    assert [e.type for e in store.apply(result)] == ["paper.added"] * 3
    after = state_of(store)
    assert len(after["snapshots"]) == len(before["snapshots"]) + 1
    assert len(after["records"]) == len(before["records"]) + 3


def test_concurrent_applies_to_one_source_emit_each_event_once(db_url: str, store: Store, lei: Feed) -> None:
    """A second process applying the same result while the first is mid-transaction waits,
    then sees the stored state: no duplicate events or records."""
    result = lei.result(many_new_papers(2))
    child = start_child(db_url, result, pause=0.5)
    mine = [e.type for e in store.apply(result)]   # blocks until the child commits
    assert child.stdout is not None
    assert json.loads(child.stdout.readline()) == ["paper.added"] * 2
    assert child.wait(timeout=10) == 0
    assert mine == []
    assert [e.type for e in store.events()] == ["paper.added"] * 2
    assert len(held_titles(store)) == 13 + 2


# -- retention ---------------------------------------------------------------------------------

def test_prune_forgets_old_history_but_not_the_present_or_an_undelivered_event(store: Store, lei: Feed) -> None:
    store.upsert_endpoints([EndpointSpec("hook", "https://hooks.example.org/", "whsec_c2VjcmV0")])
    assert lei(many_new_papers(2)) == ["paper.added"] * 2
    assert lei(many_new_papers(3)) == ["paper.added"]
    for _ in range(2):   # the first sync's two events were delivered; the third waits (receiver down)
        (delivery,) = store.claim_deliveries(lei.now, 10)
        store.record_attempt(delivery.id, delivered=True, status=200, error=None, next_attempt_at=None)
    undelivered = lei.log[-1][0]
    records = store.records("lei")
    assert (count(store, SnapshotRow), count(store, SnapshotContentRow)) == (3, 3)

    report = store.prune(lei.now + timedelta(minutes=1))
    assert (report.events, report.snapshots, report.contents) == (2, 2, 2)
    assert [e.id for e in store.events()] == [undelivered.id]
    assert count(store, DeliveryRow) == 1
    assert store.records("lei") == records
    assert (count(store, SnapshotRow), count(store, SnapshotContentRow)) == (1, 1)
    # The present still works: a 304 confirms the kept snapshot, an edit diffs against the records.
    assert lei(status=FetchStatus.NOT_MODIFIED) == []
    assert lei(many_new_papers(4)) == ["paper.added"]
    # A snapshot confirmed (by the 304) after the cutoff is not history yet; once it is, it
    # goes. Events wait for their deliveries, however old.
    assert store.prune(lei.now - timedelta(minutes=90)) == PruneReport(0, 0, 0)
    assert store.prune(lei.now - timedelta(minutes=30)) == PruneReport(0, 1, 1)
    assert (count(store, SnapshotRow), len(store.events())) == (1, 2)


# -- several sources of one profile ------------------------------------------------------------

DBLP = "https://dblp.org/pid/95/7448-1.xml"
WITH_NEW_PAPER = edit(PAGE, ("* **Multimodal ArXiv", NEW_PAPER + "* **Multimodal ArXiv"))
NEW_TITLE = "Profile Sync: Watching Researcher Homepages at Scale"
ONLY_ON_DBLP = Publication("Watching Homepages Without a Homepage", ["Lei Li", "Ann Roe"], "TACL", 2026,
                           ids={"doi": "10.1162/tacl.2026.99"})


def on_dblp(page: str, *extra: Publication) -> PageRecords:
    """The papers of a homepage as DBLP lists them: the same titles and authors, its own
    venue strings and no links (what a second source of one profile looks like)."""
    papers = [replace(p, venue=f"{p.venue or 'CoRR'} (dblp)", links={}) for p in parsed(page).publications]
    return PageRecords(source=SourceInfo(DBLP, "listing", "dblp"), publications=[*papers, *extra])


def two_sources(store: Store) -> tuple[Feed, Feed]:
    """Profile "lei" with its homepage and its DBLP listing, both baselines stored."""
    store.upsert_profiles([ProfileSpec("lei", "Lei Li", 6 * 3600, (SourceSpec(URL, URL),
                                                                   SourceSpec(DBLP, DBLP, format="dblp")))])
    jobs = {j.url: j.source_id for j in store.jobs(["lei"])}
    homepage, dblp = Feed(store, jobs[URL], URL), Feed(store, jobs[DBLP], DBLP)
    assert homepage(parsed(PAGE)) == [] and dblp(on_dblp(PAGE)) == []
    return homepage, dblp


def test_a_paper_on_several_sources_of_a_profile_is_added_once_and_removed_with_the_last(store: Store) -> None:
    homepage, dblp = two_sources(store)
    assert homepage(parsed(WITH_NEW_PAPER)) == ["paper.added"]
    assert dblp(on_dblp(WITH_NEW_PAPER)) == []                           # the same paper, seen again
    assert dblp(on_dblp(WITH_NEW_PAPER, ONLY_ON_DBLP)) == ["paper.added"]  # a paper new to the profile
    # The owner takes the new paper off the homepage: DBLP still lists it, so it stays.
    assert homepage(parsed(PAGE)) == [] and homepage(parsed(PAGE)) == []
    assert NEW_TITLE not in [r.data["title"] for r in store.records("lei") if r.source == URL and r.kind == "publication"]
    # DBLP drops it too: the profile's last source of it, one removal.
    assert dblp(on_dblp(PAGE, ONLY_ON_DBLP)) == []
    assert dblp(on_dblp(PAGE, ONLY_ON_DBLP)) == ["paper.removed"]
    assert dblp.log[-1][0].data["title"] == NEW_TITLE
    # A source dropped from the config no longer speaks for the profile: the paper only
    # it held is new when the homepage shows it.
    store.upsert_profiles([ProfileSpec("lei", "Lei Li", 6 * 3600, (SourceSpec(URL, URL),))])
    moved = f"* **{ONLY_ON_DBLP.title}**  \n  **Lei Li**, Ann Roe  \n  ***TACL 2026***\n\n"
    assert homepage(parsed(edit(PAGE, ("* **Multimodal ArXiv", moved + "* **Multimodal ArXiv")))) == ["paper.added"]
    assert [e.type for e in store.events()] == ["paper.added"] * 2 + ["paper.removed", "paper.added"]


def test_a_news_item_on_a_site_and_on_its_markdown_source_is_one_item(store: Store) -> None:
    built = "https://lei.github.io/"
    store.upsert_profiles([ProfileSpec("lei", "Lei Li", 6 * 3600, (SourceSpec(URL, URL), SourceSpec(built, built)))])
    jobs = {j.url: j.source_id for j in store.jobs(["lei"])}
    source, site = Feed(store, jobs[URL], URL), Feed(store, jobs[built], built)
    assert source(parsed(PAGE)) == [] and site(parsed(PAGE)) == []
    page = edit(PAGE, ("* [2024/06]", "* [2025/01] Our profile sync paper is out.\n* [2024/06]"))
    assert source(parsed(page)) == ["news.added"]
    assert site(parsed(page)) == []
    assert [source(parsed(PAGE)) for _ in range(2)] == [[], []]
    assert [site(parsed(PAGE)) for _ in range(2)] == [[], ["news.removed"]]
    assert site.log[-1][0].data["text"] == "Our profile sync paper is out."


def test_two_sources_of_a_profile_applied_at_once_report_a_new_paper_once(db_url: str, store: Store) -> None:
    """A process applying the DBLP listing holds its transaction open; the homepage's apply
    with the same new paper waits for it (a lock of the profile), then sees DBLP's records."""
    homepage, dblp = two_sources(store)
    child = start_child(db_url, dblp.result(on_dblp(WITH_NEW_PAPER)), pause=0.5)
    mine = [e.type for e in store.apply(homepage.result(parsed(WITH_NEW_PAPER)))]
    assert child.stdout is not None
    assert json.loads(child.stdout.readline()) == ["paper.added"]
    assert child.wait(timeout=10) == 0
    assert mine == []
    assert [e.type for e in store.events()] == ["paper.added"]


# -- scheduling ----------------------------------------------------------------------------------

def test_claim_due_leases_whole_profiles_and_apply_sets_the_next_sync(store: Store) -> None:
    store.upsert_profiles([ProfileSpec(p, None, 3600, (SourceSpec(f"{p}/a", f"https://{p}.org/a"),
                                                       SourceSpec(f"{p}/b", f"https://{p}.org/b")))
                           for p in ("ana", "lei")])
    now = datetime.now(UTC)
    first = store.claim_due(now, limit=3, lease_s=600)
    second = store.claim_due(now, limit=3, lease_s=600)
    assert len(first) == len(second) == 2 and store.claim_due(now, limit=3, lease_s=600) == []
    assert {j.url.split("/")[2] for j in first} != {j.url.split("/")[2] for j in second}
    job = first[0]
    store.apply(FetchResult(job.source_id, job.url, FetchStatus.FAILED, now, error="down"))
    state = next(s for p in store.profile_states() for s in p.sources if s.url == job.url)
    assert state.next_due_at is not None
    assert now + timedelta(seconds=3240) <= state.next_due_at <= now + timedelta(seconds=3960)   # 1 h +- 10%
    later = store.claim_due(now + timedelta(seconds=601), limit=10, lease_s=600)   # the leases expired
    assert {j.url for j in later} == {j.url for j in first + second} - {job.url}


def test_unchanged_outcomes_are_confirmed_together_unless_something_can_follow(store: Store, lei: Feed) -> None:
    """The batched path of a long-running service: many 304s in one transaction, except the
    sources where a successful sync means something (a record missing once, a failure)."""
    other = add_source(store, profile="ada", key="https://ada.github.io/")
    assert other(parsed(PAGE)) == []
    failing = add_source(store, profile="bob", key="https://bob.github.io/")
    assert failing(parsed(PAGE)) == []
    assert failing(None, FetchStatus.FAILED, error="https://bob.github.io/: HTTP 503") == ["source.failed"]
    assert lei(parsed(without_survey(PAGE))) == []             # the survey is missing once
    before = {f.source_id: source_row(store, f) for f in (lei, other, failing)}

    doc = DocumentState("https://ada.github.io/", '"v2"', None, "0" * 64)
    results = [lei.result(None, FetchStatus.NOT_MODIFIED), other.result(None, FetchStatus.NOT_MODIFIED, documents=(doc,)),
               failing.result(None, FetchStatus.UNCHANGED), other.result(parsed(PAGE))]
    rest = store.confirm_unchanged(results)
    assert [r.source_id for r in rest] == [other.source_id, lei.source_id, failing.source_id]
    assert rest[0].status is FetchStatus.FETCHED

    confirmed = source_row(store, other)
    assert confirmed.successful_syncs == before[other.source_id].successful_syncs + 1
    assert confirmed.last_success_at == results[1].fetched_at and confirmed.documents[0]["etag"] == '"v2"'
    assert confirmed.next_due_at > results[1].fetched_at
    for feed in (lei, failing):   # untouched: they go through apply, which emits their events
        assert source_row(store, feed).successful_syncs == before[feed.source_id].successful_syncs
    assert [e.type for r in rest[1:] for e in store.apply(r)] == ["paper.removed", "source.recovered"]
    assert count(store, EventRow) == 2 + 1   # source.failed earlier, then these two
