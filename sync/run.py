"""One sync: crawl the given sources, store each outcome, and report what happened.

The crawl command runs it once; the daemon runs it for whatever is due. Each source's
result is applied to the store as soon as it arrives (`Store.apply`: snapshot, record
changes and events in one transaction), so a crash loses at most the sources in flight,
and they are simply due again.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from scrapy.crawler import AsyncCrawlerRunner

from crawler.crawl import CrawlSettings, crawl
from crawler.jobs import FetchJob, FetchResult, FetchStatus
from storage.store import Event, Store, utcnow


#: Unchanged results confirmed per transaction. A crash loses at most these confirmations,
#: which is harmless: their sources are simply synced again.
UNCHANGED_BATCH = 200


@dataclass
class SourceOutcome:
    source_id: str
    url: str
    status: FetchStatus
    records: int | None             # publications + news parsed; None when nothing was parsed
    events: list[Event]
    error: str | None
    responses: int
    warnings: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "status": self.status.value, "records": self.records,
                "events": [e.type for e in self.events], "error": self.error,
                "responses": self.responses, "warnings": self.warnings}


@dataclass
class SyncReport:
    outcomes: list[SourceOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[SourceOutcome]:
        return [o for o in self.outcomes if o.status is FetchStatus.FAILED]

    @property
    def events(self) -> list[Event]:
        return [e for o in self.outcomes for e in o.events]

    def count(self, status: FetchStatus) -> int:
        return sum(o.status is status for o in self.outcomes)


def apply_result(store: Store, result: FetchResult) -> SourceOutcome:
    events = store.apply(result)
    records = None
    if result.records is not None:
        records = len(result.records.publications) + len(result.records.news)
    return SourceOutcome(result.source_id, result.url, result.status, records, events, result.error,
                         result.responses, list(result.warnings))


async def sync_once(store: Store, runner: AsyncCrawlerRunner, jobs: Sequence[FetchJob], settings: CrawlSettings,
                    on_outcome: Callable[[SourceOutcome], None] | None = None,
                    fail_unanswered: bool = True) -> SyncReport:
    """Fetch every job once and store each result as it comes.

    A job the crawl never answered (it was stopped) is stored as failed when
    `fail_unanswered`; the daemon passes False on shutdown: its lease runs out and the
    source is simply due again."""
    report = SyncReport()
    unchanged: list[FetchResult] = []

    def record(outcome: SourceOutcome) -> None:
        report.outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)

    def flush_unchanged() -> None:
        """Unchanged results are confirmed in batches (one transaction for many); those
        where a successful sync means something go through `apply` one by one."""
        batch = unchanged[:]
        unchanged.clear()
        needs_apply = {r.source_id for r in store.confirm_unchanged(batch)}
        for result in batch:
            record(apply_result(store, result) if result.source_id in needs_apply
                   else SourceOutcome(result.source_id, result.url, result.status, None, [], None,
                                      result.responses, list(result.warnings)))

    def store_result(result: FetchResult) -> None:
        if result.status in (FetchStatus.NOT_MODIFIED, FetchStatus.UNCHANGED):
            unchanged.append(result)
            if len(unchanged) >= UNCHANGED_BATCH:
                flush_unchanged()
            return
        record(apply_result(store, result))

    try:
        await crawl(runner, jobs, settings, store_result)
    finally:
        flush_unchanged()
    answered = {o.source_id for o in report.outcomes}
    for job in jobs if fail_unanswered else ():
        if job.source_id not in answered:
            record(apply_result(store, FetchResult(job.source_id, job.url, FetchStatus.FAILED, utcnow(),
                                                   error=f"{job.url}: the crawl ended before this source was fetched")))
    order = {job.source_id: i for i, job in enumerate(jobs)}
    report.outcomes.sort(key=lambda o: order.get(o.source_id, len(order)))
    return report
