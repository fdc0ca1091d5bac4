"""The tables. Changing one means a new Alembic revision in storage/migrations/versions.

profiles ─< sources ─< snapshots >─ snapshot_contents (identical content stored once)
                    └< records      (current publications and news of the source)
profiles ─< events ─< deliveries >─ endpoints       (the outbox and its delivery state)
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

#: Integer primary keys that autoincrement on SQLite (INTEGER) and PostgreSQL (BIGINT).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware datetimes")
        return value.astimezone(UTC) if dialect.name != "sqlite" else value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class ProfileRow(Base):
    __tablename__ = "profiles"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(500))
    interval_s: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]


class SourceRow(Base):
    __tablename__ = "sources"
    __table_args__ = (UniqueConstraint("profile_id", "key"),
                      Index("ix_sources_due", "enabled", "next_due_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(2000))           # as written in the config
    url: Mapped[str] = mapped_column(Text)                   # first request
    format: Mapped[str | None] = mapped_column(String(50))
    headers: Mapped[list[Any]] = mapped_column(default=list)  # [[name, value], ...]
    enabled: Mapped[bool] = mapped_column(default=True)
    # What the last successful fetch read: validators and body hash per document.
    documents: Mapped[list[Any]] = mapped_column(default=list)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    successful_syncs: Mapped[int] = mapped_column(default=0)
    last_success_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    # A snapshot that shrank suddenly is held back until seen again (see diff.SUSPECT_CONFIRMATIONS).
    suspect_hash: Mapped[str | None] = mapped_column(String(64))
    suspect_count: Mapped[int] = mapped_column(default=0)
    # Schedule: when the next sync is due, and who is running it now.
    next_due_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]


class SnapshotContentRow(Base):
    __tablename__ = "snapshot_contents"

    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict[str, Any]]


class SnapshotRow(Base):
    __tablename__ = "snapshots"
    __table_args__ = (Index("ix_snapshots_source", "source_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))          # crawler.jobs.FetchStatus, or "suspect"
    fetched_at: Mapped[datetime]
    confirmed_at: Mapped[datetime]                           # last 304/unchanged that confirmed it
    content_hash: Mapped[str | None] = mapped_column(ForeignKey("snapshot_contents.hash"))
    record_count: Mapped[int] = mapped_column(default=0)
    http_status: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)


class RecordRow(Base):
    __tablename__ = "records"
    __table_args__ = (Index("ix_records_source", "source_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))            # publication | news | profile
    data: Mapped[dict[str, Any]]
    first_seen: Mapped[datetime]
    # The last successful sync that held the record, written only when it is not implied:
    # a present record (missing == 0) is seen by every success of its source, so its last
    # sighting is sources.last_success_at (Store.records reads it so). An unchanged sync
    # then rewrites no record rows (it would rewrite every one, JSON and all).
    last_seen: Mapped[datetime]
    missing: Mapped[int] = mapped_column(default=0)          # successful syncs in a row without it


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_profile", "profile_id", "seq"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40), index=True)
    profile_id: Mapped[str] = mapped_column(ForeignKey("profiles.id", ondelete="CASCADE"))
    source_key: Mapped[str | None] = mapped_column(String(2000))
    occurred_at: Mapped[datetime]
    data: Mapped[dict[str, Any]]


class EndpointRow(Base):
    __tablename__ = "endpoints"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)
    events: Mapped[list[Any]] = mapped_column(default=list)   # fnmatch patterns, e.g. "paper.*"
    profiles: Mapped[list[Any]] = mapped_column(default=list) # empty: every profile
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)


class DeliveryRow(Base):
    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("event_seq", "endpoint_id"),
                      Index("ix_deliveries_pending", "state", "endpoint_id", "profile_id", "event_seq"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_seq: Mapped[int] = mapped_column(ForeignKey("events.seq", ondelete="CASCADE"))
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("endpoints.id", ondelete="CASCADE"))
    profile_id: Mapped[str] = mapped_column(String(200))      # copied from the event: per-profile order
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending | delivered | dead
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]                      # an attempt in flight
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
