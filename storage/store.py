"""The store: what sync asks of the database, one method per question.

Every write that follows a fetch happens in `apply`, in ONE transaction: the snapshot, the
record changes, the events and their deliveries. A crash anywhere leaves all or nothing.
"""
from __future__ import annotations

import hashlib
import json
import random
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Engine, and_, create_engine, delete, event, func, or_, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from ulid import ULID

from crawler.jobs import DocumentState, FetchJob, FetchResult, FetchStatus
from crawler.records import PageRecords

from . import diff as differ
from .migrate import advisory_lock, upgrade
from .models import (DeliveryRow, EndpointRow, EventRow, ProfileRow, RecordRow, SnapshotContentRow, SnapshotRow,
                     SourceRow)

#: Next sync time = interval x a random factor in [1 - JITTER, 1 + JITTER], so that syncs
#: configured together spread out instead of hitting one host farm at once.
JITTER = 0.1
#: A delivery attempt in flight is re-offered after this long (the process died mid-attempt).
DELIVERY_LEASE = timedelta(seconds=60)
#: Execution option marking a transaction that writes (SQLite: BEGIN IMMEDIATE).
WRITE_OPTION = "profilesync_write"
#: For UPDATE/DELETE over many records: apply reads rows as tuples, so there are no loaded
#: objects to keep in step (the default would evaluate the criteria on every one of them).
NO_SYNC = {"synchronize_session": False}


@dataclass(frozen=True)
class SourceSpec:
    key: str                                    # as in the config: a URL or "dblp:95/7448-1"
    url: str                                    # the first request
    format: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ProfileSpec:
    id: str
    name: str | None
    interval_s: int
    sources: tuple[SourceSpec, ...]


@dataclass(frozen=True)
class EndpointSpec:
    id: str
    url: str
    secret: str = field(repr=False)
    events: tuple[str, ...] = ("*",)            # fnmatch patterns: "paper.*"
    profiles: tuple[str, ...] = ()              # empty: every profile

    def wants(self, event_type: str, profile: str) -> bool:
        return (any(fnmatchcase(event_type, p) for p in self.events or ("*",))
                and (not self.profiles or profile in self.profiles))


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    profile: str
    source: str | None
    occurred_at: datetime
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The event JSON of DESIGN.md, as webhooks receive it."""
        return {"id": self.id, "type": self.type, "profile": self.profile, "source": self.source,
                "occurred_at": self.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "data": self.data}


@dataclass(frozen=True)
class Delivery:
    id: int
    endpoint: EndpointSpec
    event: Event
    attempt: int                                # 1 for the first attempt


@dataclass(frozen=True)
class SourceState:
    key: str
    url: str
    format: str | None
    enabled: bool
    records: int
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_error: str | None
    consecutive_failures: int
    next_due_at: datetime | None


@dataclass(frozen=True)
class ProfileState:
    id: str
    name: str | None
    interval_s: int
    sources: tuple[SourceState, ...]


@dataclass(frozen=True)
class StoredRecord:
    """A record as held now: a publication, news item or profile of one source."""

    source: str                  # the source's key
    kind: str                    # publication | news | profile
    data: dict[str, Any]
    first_seen: datetime
    last_seen: datetime          # the last successful sync that held it
    missing: int                 # successful syncs in a row without it (0: present)


@dataclass(frozen=True)
class PruneReport:
    """Rows `Store.prune` deleted."""

    events: int
    snapshots: int
    contents: int


def utcnow() -> datetime:
    return datetime.now(UTC)


def content_hash(records: PageRecords) -> str:
    """Hash of what a parse found (not of the page): formatting edits don't change it."""
    data = records.to_dict()
    data.pop("warnings", None)
    data.pop("source", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


#: Seconds to wait for a PostgreSQL server to accept a connection (unless the URL says,
#: `?connect_timeout=N`).
PG_CONNECT_TIMEOUT_S = 10

#: Bytes SQLite may keep for caches in this process before it recycles them.
SQLITE_SOFT_HEAP_LIMIT = 4_000_000


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
            # pysqlite would open a transaction only at the first INSERT/UPDATE, so the reads
            # of `apply` ran outside it; SQLAlchemy emits BEGIN itself instead (see below).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")      # readers don't block the writer
            cursor.execute("PRAGMA synchronous=NORMAL")    # durable at checkpoints; safe with WAL
            cursor.execute("PRAGMA foreign_keys=ON")
            # SQLite's caches (pages, prepared statements of every pooled connection) grow
            # with the database; measured in the soak benchmark as slow RSS creep. One
            # process-wide soft cap makes SQLite recycle them instead (reads stay fast: the
            # OS page cache holds the file).
            cursor.execute(f"PRAGMA soft_heap_limit={SQLITE_SOFT_HEAP_LIMIT}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Connection) -> None:
            # A write transaction takes the write lock before it reads (SQLite's stand-in for
            # SELECT ... FOR UPDATE): two processes applying to one source serialise instead
            # of both diffing the same old records, and never fail to upgrade a stale read.
            write = connection.get_execution_options().get(WRITE_OPTION)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
        return engine
    # libpq waits for a silent server (a firewall dropping packets, a half-up host) without
    # end by default: a daemon would hang on every connection instead of failing and retrying.
    parsed = make_url(url)
    timeout = {} if "connect_timeout" in parsed.query else {"connect_timeout": PG_CONNECT_TIMEOUT_S}
    return create_engine(parsed, pool_pre_ping=True, connect_args=timeout)


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._writes = sessionmaker(engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False)

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect and bring the schema up to date (migrations run on every start)."""
        engine = make_engine(url)
        upgrade(engine.execution_options(**{WRITE_OPTION: True}))
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._writes() as session, session.begin():
            yield session

    # -- configuration -------------------------------------------------------------------

    def upsert_profiles(self, specs: Sequence[ProfileSpec], prune: bool = False) -> None:
        """Make the profiles and sources of the config current. A source dropped from a
        profile is disabled, not deleted (its history stays); `prune` disables the sources
        of profiles that are not in `specs` at all.

        Every command starts with this, so only what differs is written: rows are compared
        as tuples (ORM objects of thousands of unchanged profiles cost ~0.2 s a start)."""
        now = utcnow()
        with self._transaction() as s:
            profiles = {row.id: (row.name, row.interval_s)
                        for row in s.execute(select(ProfileRow.id, ProfileRow.name, ProfileRow.interval_s))}
            held: dict[str, dict[str, Any]] = {}   # all sources in one query, not one per profile
            for row in s.execute(select(SourceRow.id, SourceRow.profile_id, SourceRow.key, SourceRow.url,
                                        SourceRow.format, SourceRow.headers, SourceRow.enabled)):
                held.setdefault(row.profile_id, {})[row.key] = row
            new_profiles, changed_profiles, new_sources, changed_sources, dropped = [], [], [], [], []
            for spec in specs:
                if spec.id not in profiles:
                    new_profiles.append({"id": spec.id, "name": spec.name, "interval_s": spec.interval_s,
                                         "created_at": now})
                elif profiles[spec.id] != (spec.name, spec.interval_s):
                    changed_profiles.append({"id": spec.id, "name": spec.name, "interval_s": spec.interval_s})
                sources = held.get(spec.id, {})
                for src_spec in spec.sources:
                    values = {"url": src_spec.url, "format": src_spec.format,
                              "headers": [list(h) for h in src_spec.headers], "enabled": True}
                    src = sources.pop(src_spec.key, None)
                    if src is None:
                        new_sources.append({**values, "profile_id": spec.id, "key": src_spec.key, "next_due_at": now,
                                            "documents": [], "successful_syncs": 0, "consecutive_failures": 0,
                                            "suspect_count": 0})
                    elif {"url": src.url, "format": src.format, "headers": src.headers, "enabled": src.enabled} != values:
                        changed_sources.append({**values, "id": src.id})
                dropped += [src.id for src in sources.values() if src.enabled]
            connection = s.connection()
            if new_profiles:
                connection.execute(ProfileRow.__table__.insert(), new_profiles)
            if changed_profiles:
                s.execute(update(ProfileRow), changed_profiles)
            if new_sources:
                connection.execute(SourceRow.__table__.insert(), new_sources)
            if changed_sources:
                s.execute(update(SourceRow), changed_sources)
            if dropped:
                s.execute(update(SourceRow).where(SourceRow.id.in_(dropped)).values(enabled=False))
            if prune:
                wanted = {spec.id for spec in specs}
                s.execute(update(SourceRow).where(SourceRow.profile_id.not_in(wanted)).values(enabled=False))

    def upsert_endpoints(self, specs: Sequence[EndpointSpec]) -> None:
        """Endpoints of the config; one removed from it is disabled (its deliveries wait)."""
        with self._transaction() as s:
            known = {e.id: e for e in s.scalars(select(EndpointRow))}
            for spec in specs:
                row = known.pop(spec.id, None)
                if row is None:
                    row = EndpointRow(id=spec.id, url=spec.url, enabled=True)
                    s.add(row)
                elif row.url != spec.url or row.disabled_reason == "removed from config":
                    row.enabled, row.disabled_reason = True, None   # a new URL deserves a new chance
                row.url, row.secret = spec.url, spec.secret
                row.events, row.profiles = list(spec.events), list(spec.profiles)
            for gone in known.values():
                gone.enabled, gone.disabled_reason = False, "removed from config"

    # -- crawling --------------------------------------------------------------------------

    def jobs(self, profile_ids: Sequence[str] | None = None) -> list[FetchJob]:
        """One FetchJob per enabled source of these profiles (None: every profile)."""
        # The columns a job needs, as rows: ORM objects of every source cost ~3x as much.
        query = (select(SourceRow.id, SourceRow.url, SourceRow.format, SourceRow.documents, SourceRow.headers)
                 .where(SourceRow.enabled.is_(True)).order_by(SourceRow.id))
        if profile_ids is not None:
            query = query.where(SourceRow.profile_id.in_(list(profile_ids)))
        with self._sessions() as s:
            return [_job(src) for src in s.execute(query)]

    def claim_due(self, now: datetime, limit: int, lease_s: float) -> list[FetchJob]:
        """Due sources, whole profiles at a time, leased so that no profile syncs twice at
        once; `apply` ends a source's lease, an expired lease makes it claimable again."""
        with self._transaction() as s:
            busy = select(SourceRow.profile_id).where(SourceRow.lease_until > now)
            due = s.scalars(select(SourceRow).where(
                SourceRow.enabled.is_(True),
                or_(SourceRow.next_due_at.is_(None), SourceRow.next_due_at <= now),
                SourceRow.profile_id.not_in(busy)).order_by(SourceRow.next_due_at, SourceRow.id)).all()
            claimed: list[SourceRow] = []
            by_profile: dict[str, list[SourceRow]] = {}
            for src in due:
                by_profile.setdefault(src.profile_id, []).append(src)
            for sources in by_profile.values():
                if claimed and len(claimed) + len(sources) > limit:
                    break
                claimed.extend(sources)
            until = now + timedelta(seconds=lease_s)
            for src in claimed:
                src.lease_until = until
            return [_job(src) for src in claimed]

    def release_leases(self) -> None:
        """Forget the leases of a process that died (there is one daemon): its sources are
        due again and its deliveries in flight are re-offered at once."""
        with self._transaction() as s:
            s.execute(update(SourceRow).where(SourceRow.lease_until.is_not(None)).values(lease_until=None))
            s.execute(update(DeliveryRow).where(DeliveryRow.lease_until.is_not(None)).values(lease_until=None))

    def apply(self, result: FetchResult) -> list[Event]:
        """Store one fetch outcome and append its events (and their deliveries) atomically."""
        with self._transaction() as s:
            src = s.get(SourceRow, int(result.source_id), with_for_update=True)
            if src is None:
                raise KeyError(f"unknown source id {result.source_id!r}")
            profile = s.get_one(ProfileRow, src.profile_id)
            now = result.fetched_at
            if result.status is FetchStatus.FAILED:
                changes = self._record_failure(s, src, result.error or "fetch failed", result.http_status, now)
            elif (result.http_status or 0) >= 400:  # an error page parsed as if it were the page
                changes = self._record_failure(s, src, f"{result.url}: HTTP {result.http_status}",
                                               result.http_status, now)
            else:
                changes = self._record_success(s, src, result, now)
            factor = 1 + random.uniform(-JITTER, JITTER)
            src.next_due_at = now + timedelta(seconds=profile.interval_s * factor)
            src.lease_until = None
            return self._append_events(s, src, changes, now)

    def confirm_unchanged(self, results: Sequence[FetchResult]) -> list[FetchResult]:
        """Store many unchanged outcomes (304 / same body) in one transaction, for the
        sources where nothing can follow from them: no failure streak to end, no record
        missing once (which a successful sync would remove), no suspect snapshot. Most syncs
        of a long-running service are these; one statement per table for all of them
        instead of one transaction each. Returns the results that need `apply`."""
        unchanged = {int(r.source_id): r for r in results
                     if r.status in (FetchStatus.NOT_MODIFIED, FetchStatus.UNCHANGED)}
        rest = [r for r in results if r.status not in (FetchStatus.NOT_MODIFIED, FetchStatus.UNCHANGED)]
        if not unchanged:
            return rest
        with self._transaction() as s:
            rows = s.execute(select(SourceRow.id, SourceRow.consecutive_failures, SourceRow.suspect_count,
                                    SourceRow.successful_syncs, ProfileRow.interval_s)
                             .join(ProfileRow, ProfileRow.id == SourceRow.profile_id)
                             .where(SourceRow.id.in_(unchanged)).with_for_update(of=SourceRow)).all()
            missing = set(s.scalars(select(RecordRow.source_id).where(
                RecordRow.source_id.in_(unchanged), RecordRow.missing > 0).distinct()))
            quiet = [row for row in rows if row.successful_syncs and not row.consecutive_failures
                     and not row.suspect_count and row.id not in missing]
            if quiet:
                now = max(unchanged[row.id].fetched_at for row in quiet)
                s.execute(update(SourceRow), [self._confirmed_source(row, unchanged[row.id]) for row in quiet])
                ids = [row.id for row in quiet]
                latest = (select(func.max(SnapshotRow.id)).where(SnapshotRow.source_id.in_(ids),
                                                                  SnapshotRow.content_hash.is_not(None))
                          .group_by(SnapshotRow.source_id))
                s.execute(update(SnapshotRow).where(SnapshotRow.id.in_(latest)).values(confirmed_at=now),
                          execution_options=NO_SYNC)
        handled = {row.id for row in quiet}
        return rest + [r for source_id, r in unchanged.items() if source_id not in handled]

    @staticmethod
    def _confirmed_source(row: Any, result: FetchResult) -> dict[str, Any]:
        factor = 1 + random.uniform(-JITTER, JITTER)
        values: dict[str, Any] = {"id": row.id, "successful_syncs": row.successful_syncs + 1,
                                  "last_success_at": result.fetched_at, "lease_until": None,
                                  "next_due_at": result.fetched_at + timedelta(seconds=row.interval_s * factor)}
        if result.documents:
            values["documents"] = [_document_dict(d) for d in result.documents]
        return values

    def _record_failure(self, s: Session, src: SourceRow, error: str, http_status: int | None,
                        now: datetime, status: str = "failed") -> list[differ.Change]:
        s.add(SnapshotRow(source_id=src.id, status=status, fetched_at=now, confirmed_at=now,
                          http_status=http_status, error=error))
        first = src.consecutive_failures == 0
        src.consecutive_failures += 1
        src.last_failure_at, src.last_error = now, error
        if not first:
            return []   # one source.failed per failure streak
        return [differ.Change("source.failed", {"url": src.url, "error": error, "http_status": http_status})]

    def _record_success(self, s: Session, src: SourceRow, result: FetchResult, now: datetime) -> list[differ.Change]:
        records, digest = None, src.content_hash
        if result.status is FetchStatus.FETCHED and result.records is not None:
            digest = content_hash(result.records)
            if digest != src.content_hash:
                records = result.records
        # Most syncs change nothing: then only the records already missing matter (they may
        # now be removed); the others are marked seen with one UPDATE, without loading them.
        query = select(RecordRow.id, RecordRow.kind, RecordRow.data, RecordRow.missing).where(
            RecordRow.source_id == src.id)
        if records is None:
            query = query.where(RecordRow.missing > 0, RecordRow.kind != "profile")
        rows = s.execute(query).all()
        profile = next((row for row in rows if row.kind == "profile"), None)
        held = [differ.Held(row.id, row.kind, row.data, row.missing) for row in rows if row.kind != "profile"]

        if records is not None and src.successful_syncs and differ.is_suspect(held, records):
            src.suspect_count = src.suspect_count + 1 if src.suspect_hash == digest else 1
            src.suspect_hash = digest
            if src.suspect_count < differ.SUSPECT_CONFIRMATIONS:
                error = (f"{result.url}: suspect snapshot: {len(records.publications) + len(records.news)} records "
                         f"where {differ.present_count(held)} were held; kept the records, no removals")
                return self._record_failure(s, src, error, result.http_status, now, status="suspect")
        src.suspect_hash, src.suspect_count = None, 0

        changes: list[differ.Change] = []
        if src.consecutive_failures:
            changes.append(differ.Change("source.recovered", {"url": src.url, "failures": src.consecutive_failures}))
        d = differ.diff(held, profile.data if profile else None, records, baseline=src.successful_syncs == 0)
        changes += self._profile_level(s, src, d.events)
        self._write_records(s, src, d, profile.id if profile else None, now)

        if records is not None:
            if s.scalar(select(SnapshotContentRow.hash).where(SnapshotContentRow.hash == digest)) is None:
                s.add(SnapshotContentRow(hash=digest, data=records.to_dict()))
            s.add(SnapshotRow(source_id=src.id, status=result.status.value, fetched_at=now, confirmed_at=now,
                              content_hash=digest, record_count=len(records.publications) + len(records.news),
                              http_status=result.http_status))
        else:  # 304 / same body / same records: the last snapshot is confirmed
            s.execute(update(SnapshotRow).where(SnapshotRow.id == select(func.max(SnapshotRow.id)).where(
                SnapshotRow.source_id == src.id, SnapshotRow.content_hash.is_not(None)).scalar_subquery())
                .values(confirmed_at=now), execution_options=NO_SYNC)
        if result.documents:
            src.documents = [_document_dict(d) for d in result.documents]
        src.content_hash = digest
        src.successful_syncs += 1
        src.last_success_at = now
        src.consecutive_failures, src.last_error = 0, None
        return changes

    @staticmethod
    def _profile_level(s: Session, src: SourceRow, changes: list[differ.Change]) -> list[differ.Change]:
        """A source's changes as the profile's: a record another enabled source of the
        profile holds is neither added nor removed by this one (diff.drop_known_elsewhere).
        The other sources' records are read only when a record comes or goes, under a lock
        of the profile, so that two processes syncing two of its sources at once cannot
        both report the same new paper."""
        if not any(c.type in differ.PRESENCE_EVENTS for c in changes):
            return changes
        lock_profile(s, src.profile_id)
        rows = s.execute(select(RecordRow.id, RecordRow.kind, RecordRow.data).join(
            SourceRow, SourceRow.id == RecordRow.source_id).where(
            SourceRow.profile_id == src.profile_id, SourceRow.id != src.id, SourceRow.enabled.is_(True),
            RecordRow.kind.in_(("publication", "news"))))
        return differ.drop_known_elsewhere(changes, [differ.Held(row.id, row.kind, row.data) for row in rows])

    @staticmethod
    def _write_records(s: Session, src: SourceRow, d: differ.Diff, profile_id: int | None, now: datetime) -> None:
        """Statements over many rows at once (executemany), not one ORM object per record.

        Called before `src.last_success_at` moves to `now`: it is still the last sighting
        of the records that go missing now (see RecordRow.last_seen)."""
        if d.seen:  # only the records back from missing: the others' last_seen is implied
            s.execute(update(RecordRow).where(RecordRow.id.in_(d.seen), RecordRow.missing > 0)
                      .values(last_seen=now, missing=0), execution_options=NO_SYNC)
        if d.updates:
            s.execute(update(RecordRow), [{"id": i, "data": data} for i, data in d.updates.items()])
        if d.missing:
            s.execute(update(RecordRow), [{"id": i, "missing": missing} for i, missing in d.missing.items()])
            newly_missing = [i for i, missing in d.missing.items() if missing == 1]
            if newly_missing and src.last_success_at is not None:
                s.execute(update(RecordRow).where(RecordRow.id.in_(newly_missing))
                          .values(last_seen=src.last_success_at), execution_options=NO_SYNC)
        if d.deletes:
            s.execute(delete(RecordRow).where(RecordRow.id.in_(d.deletes)), execution_options=NO_SYNC)
        inserts = [{"source_id": src.id, "kind": kind, "data": data, "first_seen": now, "last_seen": now, "missing": 0}
                   for kind, data in d.inserts]
        if d.profile is not None and profile_id is None:
            inserts.append({"source_id": src.id, "kind": "profile", "data": d.profile, "first_seen": now,
                            "last_seen": now, "missing": 0})
        elif d.profile is not None:
            s.execute(update(RecordRow), [{"id": profile_id, "data": d.profile, "last_seen": now}])
        if inserts:
            s.connection().execute(RecordRow.__table__.insert(), inserts)   # Core executemany: no ORM per row

    def _append_events(self, s: Session, src: SourceRow, changes: list[differ.Change], now: datetime) -> list[Event]:
        if not changes:
            return []
        endpoints = [_endpoint(e) for e in s.scalars(select(EndpointRow).where(EndpointRow.enabled.is_(True)))]
        events = []
        for change in changes:
            ev = Event(id=new_event_id(), type=change.type, profile=src.profile_id, source=src.key,
                       occurred_at=now, data=change.data)
            row = EventRow(id=ev.id, type=ev.type, profile_id=ev.profile, source_key=ev.source,
                           occurred_at=now, data=ev.data)
            s.add(row)
            s.flush()   # assigns row.seq: deliveries keep the event order
            s.add_all(DeliveryRow(event_seq=row.seq, endpoint_id=e.id, profile_id=ev.profile, state="pending",
                                  attempts=0, created_at=now, next_attempt_at=now)
                      for e in endpoints if e.wants(ev.type, ev.profile))
            events.append(ev)
        return events

    # -- reading ---------------------------------------------------------------------------

    def events(self, since: str | datetime | None = None, types: Sequence[str] = (),
               profile: str | None = None, limit: int | None = None) -> list[Event]:
        """Events in the order they happened. `since`: an event id (exclusive) or a time;
        `types`: exact types or patterns such as "paper.*"."""
        query = select(EventRow).order_by(EventRow.seq)
        with self._sessions() as s:
            if isinstance(since, datetime):
                query = query.where(EventRow.occurred_at >= since)
            elif since:
                seq = s.scalar(select(EventRow.seq).where(EventRow.id == since))
                if seq is None:
                    raise KeyError(f"no event with id {since!r}")
                query = query.where(EventRow.seq > seq)
            if types:
                query = query.where(or_(*(EventRow.type.like(t.replace("*", "%")) for t in types)))
            if profile:
                query = query.where(EventRow.profile_id == profile)
            if limit:
                query = query.limit(limit)
            return [_event(row) for row in s.scalars(query)]

    def profile_states(self) -> list[ProfileState]:
        with self._sessions() as s:
            counts = dict(s.execute(select(RecordRow.source_id, func.count()).where(
                RecordRow.kind != "profile", RecordRow.missing == 0).group_by(RecordRow.source_id)).all())
            sources: dict[str, list[SourceState]] = {}
            for src in s.scalars(select(SourceRow).order_by(SourceRow.id)):
                sources.setdefault(src.profile_id, []).append(SourceState(
                    src.key, src.url, src.format, src.enabled, counts.get(src.id, 0), src.last_success_at,
                    src.last_failure_at, src.last_error, src.consecutive_failures, src.next_due_at))
            return [ProfileState(p.id, p.name, p.interval_s, tuple(sources.get(p.id, ())))
                    for p in s.scalars(select(ProfileRow).order_by(ProfileRow.id))]

    def records(self, profile: str) -> list[StoredRecord]:
        """The records held for a profile, by source, in the order first stored."""
        with self._sessions() as s:
            rows = s.execute(select(RecordRow, SourceRow.key, SourceRow.last_success_at)
                             .join(SourceRow, SourceRow.id == RecordRow.source_id)
                             .where(SourceRow.profile_id == profile).order_by(SourceRow.id, RecordRow.id)).all()
            return [StoredRecord(key, rec.kind, rec.data, rec.first_seen,
                                 last_success if not rec.missing and last_success else rec.last_seen,
                                 rec.missing) for rec, key, last_success in rows]

    # -- the outbox --------------------------------------------------------------------------

    def claim_deliveries(self, now: datetime, limit: int) -> list[Delivery]:
        """Due deliveries, at most one in flight per (endpoint, profile), so that each
        endpoint receives one profile's events in the order they happened."""
        with self._transaction() as s:
            heads = (select(func.min(DeliveryRow.id)).where(DeliveryRow.state == "pending")
                     .group_by(DeliveryRow.endpoint_id, DeliveryRow.profile_id))
            rows = s.execute(
                select(DeliveryRow, EventRow, EndpointRow)
                .join(EventRow, EventRow.seq == DeliveryRow.event_seq)
                .join(EndpointRow, EndpointRow.id == DeliveryRow.endpoint_id)
                .where(DeliveryRow.id.in_(heads), DeliveryRow.next_attempt_at <= now,
                       or_(DeliveryRow.lease_until.is_(None), DeliveryRow.lease_until <= now),
                       EndpointRow.enabled.is_(True))
                .order_by(DeliveryRow.id).limit(limit)).all()
            out = []
            for delivery, ev, endpoint in rows:
                delivery.lease_until = now + DELIVERY_LEASE
                out.append(Delivery(delivery.id, _endpoint(endpoint), _event(ev), delivery.attempts + 1))
            return out

    def record_attempt(self, delivery_id: int, *, delivered: bool, status: int | None, error: str | None,
                       next_attempt_at: datetime | None, dead: bool = False,
                       disable_endpoint: bool = False) -> None:
        with self._transaction() as s:
            row = s.get_one(DeliveryRow, delivery_id)
            row.attempts += 1
            row.last_status, row.last_error, row.lease_until = status, error, None
            if delivered:
                row.state, row.delivered_at = "delivered", utcnow()
            elif dead:
                row.state = "dead"
            elif next_attempt_at is not None:
                row.next_attempt_at = next_attempt_at
            if disable_endpoint:
                endpoint = s.get_one(EndpointRow, row.endpoint_id)
                endpoint.enabled, endpoint.disabled_reason = False, f"HTTP {status}: {error or 'gone'}"

    def replay(self, since: str | datetime | None = None, dead_only: bool = False) -> int:
        """Queue deliveries again (dead ones, or all since a time or event id); same event ids."""
        with self._transaction() as s:
            query = update(DeliveryRow).where(DeliveryRow.state.in_(("dead",) if dead_only else ("dead", "delivered")))
            if isinstance(since, datetime):
                query = query.where(DeliveryRow.event_seq.in_(select(EventRow.seq).where(EventRow.occurred_at >= since)))
            elif since:
                seq = s.scalar(select(EventRow.seq).where(EventRow.id == since))
                if seq is None:
                    raise KeyError(f"no event with id {since!r}")
                query = query.where(DeliveryRow.event_seq > seq)
            return _rowcount(s, query.values(state="pending", attempts=0, next_attempt_at=utcnow(), lease_until=None))

    def prune(self, before: datetime) -> PruneReport:
        """Forget history older than `before`, so that a store running for months stays the
        size of its present: events (with their deliveries) that no delivery still waits
        for, and snapshots no longer confirmed since then, with the contents only they
        held. Kept whatever their age: the current records, each source's latest snapshot
        of content (the one a 304 confirms), and every event with a pending delivery."""
        with self._transaction() as s:
            pending = select(DeliveryRow.event_seq).where(DeliveryRow.state == "pending")
            done_with = and_(EventRow.occurred_at < before, EventRow.seq.not_in(pending))
            s.execute(delete(DeliveryRow).where(DeliveryRow.event_seq.in_(select(EventRow.seq).where(done_with))),
                      execution_options=NO_SYNC)
            events = _rowcount(s, delete(EventRow).where(done_with))
            latest = (select(func.max(SnapshotRow.id)).where(SnapshotRow.content_hash.is_not(None))
                      .group_by(SnapshotRow.source_id))
            snapshots = _rowcount(s, delete(SnapshotRow).where(SnapshotRow.confirmed_at < before,
                                                              SnapshotRow.id.not_in(latest)))
            used = select(SnapshotRow.content_hash).where(SnapshotRow.content_hash.is_not(None))
            contents = _rowcount(s, delete(SnapshotContentRow).where(SnapshotContentRow.hash.not_in(used)))
        return PruneReport(events, snapshots, contents)

    def outbox_stats(self) -> dict[str, float]:
        now = utcnow()
        with self._sessions() as s:
            counts = dict(s.execute(select(DeliveryRow.state, func.count()).group_by(DeliveryRow.state)).all())
            oldest = s.scalar(select(func.min(DeliveryRow.created_at)).where(DeliveryRow.state == "pending"))
        return {"pending": counts.get("pending", 0), "delivered": counts.get("delivered", 0),
                "dead": counts.get("dead", 0),
                "oldest_pending_age_s": (now - oldest).total_seconds() if oldest else 0.0}


def new_event_id() -> str:
    """Unique, time-sortable, and carried unchanged by every redelivery."""
    return f"evt_{ULID()}"


#: First key of the per-profile advisory locks (PostgreSQL's two-key form, a key space of
#: its own beside the migration lock's single key); the second is a hash of the profile id.
PROFILE_LOCK_SPACE = 0x5053  # "PS"


def lock_profile(s: Session, profile_id: str) -> None:
    """Hold a lock of one profile until the transaction ends. An advisory lock, not the
    profile row's: config upserts lock profile rows before source rows, and apply holds
    its source row first."""
    advisory_lock(s.connection(), PROFILE_LOCK_SPACE, zlib.crc32(profile_id.encode()) - 2**31)   # int4 keys


def _rowcount(s: Session, statement: Any) -> int:
    """Rows an UPDATE or DELETE over many rows touched."""
    return cast(CursorResult[Any], s.execute(statement, execution_options=NO_SYNC)).rowcount or 0


def _job(src: Any) -> FetchJob:
    """The job of a source: its SourceRow, or a row of the columns read here."""
    return FetchJob(source_id=str(src.id), url=src.url, format=src.format,
                    documents=tuple(DocumentState(**d) for d in src.documents or ()),
                    headers=tuple((name, value) for name, value in src.headers or ()))


def _document_dict(doc: DocumentState) -> dict[str, str | None]:
    return {"url": doc.url, "etag": doc.etag, "last_modified": doc.last_modified, "body_hash": doc.body_hash}


def _event(row: EventRow) -> Event:
    return Event(row.id, row.type, row.profile_id, row.source_key, row.occurred_at, row.data)


def _endpoint(row: EndpointRow) -> EndpointSpec:
    return EndpointSpec(row.id, row.url, row.secret, tuple(row.events or ()), tuple(row.profiles or ()))
