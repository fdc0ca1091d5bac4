"""`profilesync run`: the long-running service.

One process, one asyncio loop (Scrapy's asyncio reactor), four tasks:

- the scheduler tick (APScheduler's AsyncIOScheduler, one interval job): claims the
  sources that are due (the schedule lives in our tables: `sources.next_due_at`, set from
  each profile's interval with jitter after every sync, and a lease so that no profile
  syncs twice at once) and crawls them with the one shared AsyncCrawlerRunner. One crawl
  at a time, so that the per-host limits hold across all profiles;
- the webhook dispatcher, draining the outbox;
- a small HTTP server for `/healthz` and Prometheus `/metrics`;
- a daily prune of the events and snapshots older than `daemon.retention`.

A restart neither loses nor bursts syncs: what was due is still due, what was leased by
a killed process is released at start (there is exactly one scheduler). SIGTERM/SIGINT:
stop taking work, give in-flight syncs `shutdown_grace` seconds (each source's result is
stored atomically or not at all), stop the crawl, flush the dispatcher, exit 0.
"""
from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import gc
import json
import logging
import signal
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from crawler.crawl import CrawlSettings, make_runner
from crawler.jobs import FetchStatus
from storage.store import Store, utcnow

from .config import Config, api_keys, endpoint_specs, profile_specs
from .run import SourceOutcome, sync_once
from . import http11
from .webhooks import Dispatcher

log = logging.getLogger("profilesync.daemon")

#: A claimed source's lease: far longer than a crawl should take; a killed daemon's leases
#: are released when it starts again.
LEASE = timedelta(hours=2)


@dataclass
class Metrics:
    """The daemon's Prometheus metrics, on a registry of its own."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.syncs = Counter("profilesync_source_syncs", "Source syncs by outcome", ["status"], registry=r)
        self.events = Counter("profilesync_events", "Events written to the outbox", ["type"], registry=r)
        self.ticks = Counter("profilesync_scheduler_ticks", "Scheduler ticks", registry=r)
        self.crawl_seconds = Histogram("profilesync_crawl_duration_seconds", "Duration of one tick's crawl",
                                       buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600), registry=r)
        self.not_modified_ratio = Gauge("profilesync_not_modified_ratio",
                                        "Share of the last crawl's sources answered 304 or unchanged", registry=r)
        self.deliveries = Gauge("profilesync_deliveries", "Webhook deliveries by state", ["state"], registry=r)
        self.queue_age = Gauge("profilesync_delivery_queue_age_seconds", "Age of the oldest pending delivery",
                               registry=r)
        self.last_tick = Gauge("profilesync_last_tick_timestamp_seconds", "When the scheduler last ticked",
                               registry=r)
        self.in_flight = Gauge("profilesync_syncs_in_flight", "Sources being synced now", registry=r)

    def observe(self, outcome: SourceOutcome) -> None:
        self.syncs.labels(outcome.status.value).inc()
        for event in outcome.events:
            self.events.labels(event.type).inc()


class Daemon:
    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self.settings = CrawlSettings(**config.crawl.model_dump(exclude={"timeout", "delay"}),
                                      timeout_s=config.crawl.timeout, delay_s=config.crawl.delay,
                                      api_keys=api_keys(config))
        self.runner = make_runner(self.settings)
        self.metrics = Metrics()
        self.stop = asyncio.Event()
        self.started = time.time()
        self.last_tick_at: float | None = None
        self._crawling = False

    async def tick(self) -> None:
        """Claim what is due and crawl it (one crawl at a time; APScheduler skips a tick
        that would overlap the previous one)."""
        if self.stop.is_set():
            return
        self.metrics.ticks.inc()
        self.last_tick_at = time.time()
        self.metrics.last_tick.set(self.last_tick_at)
        jobs = await asyncio.to_thread(self.store.claim_due, utcnow(), self.config.daemon.batch,
                                       LEASE.total_seconds())
        if not jobs:
            return
        log.info("syncing %d due sources", len(jobs), extra={"ps_sources": len(jobs)})
        self._crawling = True
        self.metrics.in_flight.set(len(jobs))
        start = time.perf_counter()
        try:
            report = await sync_once(self.store, self.runner, jobs, self.settings, self.metrics.observe,
                                     fail_unanswered=False)
        except asyncio.CancelledError:
            if not self.stop.is_set():
                raise
            # The shutdown stopped a crawl that was still starting (Scrapy cancels its
            # start-up): expected, not an error; unstored sources stay due.
            log.info("the crawl in flight was stopped by the shutdown")
            return
        finally:
            self._crawling = False
            self.metrics.in_flight.set(0)
        self.metrics.crawl_seconds.observe(time.perf_counter() - start)
        release_memory()
        unchanged = report.count(FetchStatus.NOT_MODIFIED) + report.count(FetchStatus.UNCHANGED)
        self.metrics.not_modified_ratio.set(unchanged / len(report.outcomes) if report.outcomes else 0)
        log.info("synced %d sources: %d failed, %d events", len(report.outcomes), len(report.failed),
                 len(report.events), extra={"ps_sources": len(report.outcomes), "ps_failed": len(report.failed),
                                            "ps_events": len(report.events)})

    async def prune(self) -> None:
        """Daily: forget events and snapshots older than the retention (Store.prune), so
        that the database of a months-long service stays the size of its present."""
        report = await asyncio.to_thread(self.store.prune, utcnow() - timedelta(seconds=self.config.daemon.retention))
        log.info("pruned %d events, %d snapshots, %d snapshot contents older than %gd", report.events,
                 report.snapshots, report.contents, self.config.daemon.retention / 86400)

    async def refresh_outbox_metrics(self) -> None:
        stats = await asyncio.to_thread(self.store.outbox_stats)
        for state in ("pending", "delivered", "dead"):
            self.metrics.deliveries.labels(state).set(stats.get(state, 0))
        self.metrics.queue_age.set(stats.get("oldest_pending_age_s", 0.0))

    # -- HTTP: /healthz and /metrics ----------------------------------------------------------

    async def healthz(self) -> tuple[int, str, bytes]:
        tick = self.config.daemon.tick
        stale = self.last_tick_at is not None and not self._crawling and time.time() - self.last_tick_at > 3 * tick + 60
        body = {"status": "stopping" if self.stop.is_set() else ("stale" if stale else "ok"),
                "uptime_s": round(time.time() - self.started, 1), "crawling": self._crawling,
                "last_tick_at": self.last_tick_at}
        return 503 if stale or self.stop.is_set() else 200, "application/json", json.dumps(body).encode()

    async def metrics_page(self) -> tuple[int, str, bytes]:
        await self.refresh_outbox_metrics()
        return 200, CONTENT_TYPE_LATEST, generate_latest(self.metrics.registry)

    async def start_http(self) -> asyncio.Server | None:
        listen = self.config.daemon.listen
        if not listen:
            return None
        host, _, port = listen.rpartition(":")
        server = await http11.serve(host.strip("[]") or "127.0.0.1", int(port),
                                    {"/healthz": self.healthz, "/metrics": self.metrics_page})
        log.info("serving /healthz and /metrics on http://%s/", listen)
        return server

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop, sig)
        await asyncio.to_thread(self.store.release_leases)
        http = await self.start_http()
        scheduler = AsyncIOScheduler()
        scheduler.add_job(self.tick, "interval", seconds=self.config.daemon.tick, next_run_time=_now_local(),
                          max_instances=1, coalesce=True, misfire_grace_time=None, id="tick")
        if self.config.daemon.retention:
            scheduler.add_job(self.prune, "interval", days=1, next_run_time=_now_local(), max_instances=1,
                              coalesce=True, misfire_grace_time=None, id="prune")
        scheduler.start()
        dispatcher = Dispatcher(self.store, allow_cidrs=self.config.allow_cidrs,
                                user_agent=self.config.crawl.user_agent,
                                retry_scale=self.config.daemon.retry_base / 5.0)
        delivering = asyncio.create_task(dispatcher.run(self.stop, poll_s=self.config.daemon.poll))
        log.info("profilesync daemon started: %d profiles, tick %gs", len(self.config.profiles),
                 self.config.daemon.tick)
        await self.stop.wait()

        log.info("stopping: no new syncs; waiting up to %gs for the crawl in flight",
                 self.config.daemon.shutdown_grace)
        scheduler.shutdown(wait=False)
        deadline = time.monotonic() + self.config.daemon.shutdown_grace
        while self._crawling and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if self._crawling:   # abandon: results not stored are not lost, the sources stay due
            log.warning("stopping the crawl in flight; its unfinished sources will sync at the next start")
            await self.runner.stop()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(delivering, timeout=20)
        if http is not None:
            http.close()
            await http.wait_closed()
        log.info("profilesync daemon stopped")
        return 0

    def request_stop(self, sig: signal.Signals | None = None) -> None:
        if not self.stop.is_set():
            log.info("received %s: shutting down", sig.name if sig else "stop")
            self.stop.set()


#: glibc's mallopt() parameter for the number of malloc arenas.
M_ARENA_MAX = -8
#: Arenas the daemon's threads share. glibc gives each thread that allocates its own arena
#: (up to 8 per core); the daemon's 17 threads (store calls, Twisted's pool) each kept a
#: fragmented one: the soak's RSS crept by ~4 MB over 11,000 deliveries, ~1 MB with 2.
MALLOC_ARENAS = 2


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None
    except OSError:   # not glibc: its allocator has its own policies
        return None


def limit_malloc_arenas() -> None:
    """Before any thread starts: cap the malloc arenas at MALLOC_ARENAS (as the
    environment's MALLOC_ARENA_MAX would, without asking every deployment to set it)."""
    if (libc := _glibc()) is not None:
        libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS)


def release_memory() -> None:
    """After a crawl, collect its cycles and hand freed heap pages back to the OS (glibc's
    malloc_trim): without it a months-long process keeps the high-water mark of its
    busiest crawl, and RSS creeps up with fragmentation."""
    gc.collect()
    if (libc := _glibc()) is not None:
        libc.malloc_trim(0)


def _now_local() -> Any:
    from datetime import datetime

    return datetime.now().astimezone()


def prepare(config: Config, store: Store) -> None:
    """Make the store match the config: its profiles (those removed are disabled) and
    webhook endpoints."""
    store.upsert_profiles(profile_specs(config), prune=True)
    store.upsert_endpoints(endpoint_specs(config))
