"""The contract between sync and the crawler: what to fetch, and what came back.

Sync builds one `FetchJob` per source from the store (with the validators of every
document the last successful fetch read: the entry page, related files, listing pages),
the crawler returns one `FetchResult` per job, and storage applies it. Neither side
knows how the other works.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from .records import PageRecords


class FetchStatus(StrEnum):
    FETCHED = "fetched"            # something changed: records were parsed
    NOT_MODIFIED = "not_modified"  # every known document answered 304: no parse
    UNCHANGED = "unchanged"        # bodies came back, but every hash equals the last: no parse
    FAILED = "failed"              # nothing usable; never an empty snapshot


@dataclass(frozen=True, slots=True)
class DocumentState:
    """What we knew of one URL after the last successful fetch: its validators and body hash."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None   # sha256 hex of the body


@dataclass(frozen=True, slots=True)
class FetchJob:
    source_id: str                                   # opaque key of the caller (storage)
    url: str                                         # entry page, or a listing's first page
    format: str | None = None                        # force a parser (listing sources); None: detect
    documents: tuple[DocumentState, ...] = ()        # last successful fetch; entry first
    headers: tuple[tuple[str, str], ...] = ()        # extra request headers (API keys)


@dataclass(slots=True)
class FetchResult:
    source_id: str
    url: str
    status: FetchStatus
    fetched_at: datetime
    records: PageRecords | None = None               # FETCHED only
    documents: tuple[DocumentState, ...] = ()        # to remember when not FAILED
    error: str | None = None                         # FAILED: names the URL and the problem
    http_status: int | None = None
    responses: int = 0                               # responses received, 304s included
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status is not FetchStatus.FAILED
