"""Fetching: one Scrapy spider that turns FetchJobs into FetchResults, politely.

Per source (a `FetchJob`) the conversation is:

1. GET the entry page with the validators of the last fetch (If-None-Match,
   If-Modified-Since). A 304, or a 200 whose body hashes as before, means the entry is
   unchanged; the other documents the last parse read (included files, sub-pages, listing
   pages) are then checked the same way. All unchanged: the source is unchanged, nothing
   is parsed (`NOT_MODIFIED` when every answer was a 304, else `UNCHANGED`).
2. Otherwise the entry is parsed, and the related files the parser asks for (see
   crawler/parsers/site.py) are fetched, on the same site only, until it asks for
   nothing new. The outcome is `FETCHED` with the records and every document's validators.
3. Anything that makes the picture incomplete (an error status, a timeout, a body cut at
   the size cap, robots.txt, an error page, a binary where a page was expected) fails the
   whole source: `FAILED` with the reason, never a partial or empty snapshot.

The spider only fetches and hands bodies to the parser registry; it knows nothing of the
database. Politeness is Scrapy's (robots.txt, AutoThrottle, per-slot concurrency and
delays) configured in `scrapy_settings`: every `*.github.io` site shares one download slot,
and the listing APIs get the documented limits of crawler/sources.py.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import Request
from scrapy.crawler import AsyncCrawlerRunner
from scrapy.exceptions import (CannotResolveHostError, DownloadCancelledError, DownloadConnectionRefusedError,
                               DownloadTimeoutError, IgnoreRequest, ResponseDataLossError)
from scrapy.http import Response

from .jobs import DocumentState, FetchJob, FetchResult, FetchStatus
from .parsers import ParseError, Resource, Wish, extraction, get_format, detect_format, parse_site
from .parsers.site import Listing, listing_from, listing_url
from .sources import HOST_LIMITS

log = logging.getLogger(__name__)

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
GITHUB_IO_SLOT = "github.io"
#: Every status our code reads itself; 3xx are left out so that redirects are followed.
HANDLED_STATUSES = [304, *range(400, 600)]


@dataclass(frozen=True)
class CrawlSettings:
    user_agent: str
    concurrency: int = 16
    per_host: int = 2
    github_io: int = 4
    delay_s: float = 0.0
    autothrottle: bool = True
    timeout_s: float = 30.0
    max_bytes: int = 5 * 1024 * 1024
    retries: int = 2
    obey_robots: bool = True
    api_keys: Mapping[str, str] = field(default_factory=dict, repr=False)


def scrapy_settings(settings: CrawlSettings) -> dict[str, Any]:
    """Scrapy settings for our crawls. No HTTP cache: conditional requests are ours (its
    RFC2616 policy guessed pages fresh for months and hid changes)."""
    slots: dict[str, dict[str, Any]] = {
        GITHUB_IO_SLOT: {"concurrency": settings.github_io, "delay": settings.delay_s},
    }
    for host, limit in HOST_LIMITS.items():
        slots[host] = {"concurrency": limit.concurrency, "delay": limit.min_interval_s, "randomize_delay": False}
    return {
        "TWISTED_REACTOR": ASYNCIO_REACTOR,
        "USER_AGENT": settings.user_agent,
        "ROBOTSTXT_OBEY": settings.obey_robots,
        "CONCURRENT_REQUESTS": settings.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": settings.per_host,
        "DOWNLOAD_DELAY": settings.delay_s,
        "DOWNLOAD_SLOTS": slots,
        "AUTOTHROTTLE_ENABLED": settings.autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(settings.delay_s, 0.25),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(settings.per_host),
        "DOWNLOAD_TIMEOUT": settings.timeout_s,
        "DOWNLOAD_MAXSIZE": settings.max_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "DOWNLOAD_FAIL_ON_DATALOSS": True,
        "RETRY_ENABLED": settings.retries > 0,
        "RETRY_TIMES": settings.retries,
        "RETRY_HTTP_CODES": [429, 500, 502, 503, 504, 522, 524, 408],
        "RETRY_GIVE_UP_LOG_LEVEL": "INFO",         # the source's result carries the reason
        "REDIRECT_MAX_TIMES": 5,
        "COOKIES_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_ENABLED": False,          # our logging configuration applies; see sync/cli.py
        "LOGSTATS_INTERVAL": 0,
        "WARN_ON_GENERATOR_RETURN_VALUE": False,   # measured: halves per-response overhead
        "CONCURRENT_ITEMS": 1,
        # Only the components a sync uses, named in the *_BASE settings: Scrapy imports
        # every listed component, even one switched off with None, and the defaults pull
        # in requests, tldextract, aiohttp.web and twisted.conch (~12 MB and ~0.3 s at
        # start) for cookies, telnet and remote control we never use.
        "DOWNLOAD_HANDLERS_BASE": {
            "file": "scrapy.core.downloader.handlers.file.FileDownloadHandler",   # the offline example
            "http": "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler",
            "https": "scrapy.core.downloader.handlers.http11.HTTP11DownloadHandler",
        },
        "DOWNLOADER_MIDDLEWARES_BASE": {f"scrapy.downloadermiddlewares.{name}": order for name, order in (
            ("offsite.OffsiteMiddleware", 50), ("robotstxt.RobotsTxtMiddleware", 100),
            ("downloadtimeout.DownloadTimeoutMiddleware", 350), ("defaultheaders.DefaultHeadersMiddleware", 400),
            ("useragent.UserAgentMiddleware", 500), ("redirect.MetaRefreshMiddleware", 580),
            ("httpcompression.HttpCompressionMiddleware", 590), ("redirect.RedirectMiddleware", 600),
            ("httpproxy.HttpProxyMiddleware", 750))},
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.middlewares.BackoffRetryMiddleware": 550,
            "crawler.middlewares.ApiKeyMiddleware": 560,
        },
        "EXTENSIONS_BASE": {"scrapy.extensions.throttle.AutoThrottle": 0},
        # Our results and the daemon's metrics say what happened; Scrapy's counters,
        # bumped several times per request, are never read.
        "STATS_CLASS": "scrapy.statscollectors.DummyStatsCollector",
        "SPIDER_MIDDLEWARES_BASE": {"scrapy.spidermiddlewares.start.StartSpiderMiddleware": 25,
                                    "scrapy.spidermiddlewares.httperror.HttpErrorMiddleware": 50},
        "PROFILESYNC_API_KEYS": dict(settings.api_keys),
    }


def download_slot(url: str) -> str | None:
    """All `*.github.io` sites are one host farm: they share a slot (and its limits)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == GITHUB_IO_SLOT or host.endswith("." + GITHUB_IO_SLOT):
        return GITHUB_IO_SLOT
    return None


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


# ------------------------------------------------------------------------------ responses


class FetchFailure(Exception):
    """Why a source could not be fetched completely; the message names the URL."""

    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


_TEXTUAL = re.compile(r"^(text/|application/(?:[\w.+-]*\+)?(?:json|xml|x-bibtex|yaml|toml|javascript)\b)")
_TITLE = re.compile(r"<title[^>]*>([^<]{0,200})</title>", re.I)
#: Titles of error pages: a status code first ("404 Not Found", "Error 503 - ..."), or the
#: words hosts use. A person called "Alan Turing 401" is not an error page.
_ERROR_TITLE = re.compile(
    r"^\s*(?:error\s*:?\s*)?(?:40[134]|50[0234])(?:$|[\s:.|\u2013\u2014-])|page not found|^\s*not found\b|"
    r"service unavailable|internal server error|bad gateway|site not found|access denied|"
    r"too many requests|under maintenance", re.I)


def _failure_of_response(url: str, response: Response, max_bytes: int) -> FetchFailure | None:
    """A 2xx answer that is nonetheless no page: binary content, an error page."""
    declared = (response.headers.get(b"Content-Type") or b"").decode("latin-1").split(";")[0].strip().lower()
    if declared and not _TEXTUAL.match(declared) and declared not in ("application/octet-stream", "binary/octet-stream"):
        return FetchFailure(f"{url}: unexpected content type {declared} (expected a page or a data file)",
                            response.status)
    if not declared and b"\x00" in response.body[:2048]:
        return FetchFailure(f"{url}: binary content where a page was expected", response.status)
    if len(response.body) < 64 * 1024 and (declared in ("text/html", "application/xhtml+xml") or not declared):
        title = _TITLE.search(response.body[:16384].decode("utf-8", "replace"))
        if title and _ERROR_TITLE.search(title[1].strip()):
            shown = " ".join(title[1].split())
            return FetchFailure(f"{url}: the page is an error page (title {shown!r})", response.status)
    return None


def describe_exception(url: str, exc: BaseException, settings: CrawlSettings) -> FetchFailure:
    """A download exception as the reason a user reads in `profilesync crawl`'s table."""
    if isinstance(exc, FetchFailure):
        return exc
    if isinstance(exc, IgnoreRequest):
        text = str(exc)
        if "robots.txt" in text:
            return FetchFailure(f"{url}: disallowed by robots.txt")
        if "redirect" in text:
            return FetchFailure(f"{url}: too many redirects (a redirect loop?)")
        return FetchFailure(f"{url}: request dropped: {text or type(exc).__name__}")
    if isinstance(exc, FileNotFoundError):
        return FetchFailure(f"{url}: no such file")
    if isinstance(exc, DownloadTimeoutError):
        return FetchFailure(f"{url}: timed out after {settings.timeout_s:g} s")
    if isinstance(exc, DownloadCancelledError) and "max size" in str(exc):
        return FetchFailure(f"{url}: response larger than the {settings.max_bytes}-byte limit")
    if isinstance(exc, ResponseDataLossError):
        return FetchFailure(f"{url}: the response was cut short (data loss)")
    if isinstance(exc, DownloadConnectionRefusedError):
        return FetchFailure(f"{url}: connection refused")
    if isinstance(exc, CannotResolveHostError):
        return FetchFailure(f"{url}: cannot resolve the host name")
    return FetchFailure(f"{url}: {type(exc).__name__}: {exc}" if str(exc) else f"{url}: {type(exc).__name__}")


# ------------------------------------------------------------------------------ one source


Download = Callable[[Request], Awaitable[Response]]


@dataclass
class _Answer:
    """One document's answer: its body when it came (None for a 304), its new state."""

    state: DocumentState
    body: Response | None
    not_modified: bool           # a 304
    same_body: bool = False      # a 200 whose body hashes as last time

    @property
    def unchanged(self) -> bool:
        return self.not_modified or self.same_body


class SourceFetch:
    """The conversation with one source (see the module docstring); returns its FetchResult."""

    def __init__(self, job: FetchJob, download: Download, settings: CrawlSettings) -> None:
        self.job = job
        self.settings = settings
        self._download = download
        self._known = {doc.url: doc for doc in job.documents}
        self._bodies: dict[str, Response] = {}          # fetched this run, by request URL
        self._states: dict[str, DocumentState] = {}     # documents of this run, in fetch order
        self.responses = 0

    def request(self, url: str, conditional: bool) -> Request:
        headers: dict[str, str] = dict(self.job.headers)
        known = self._known.get(url) if conditional else None
        if known is not None:
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
        meta: dict[str, Any] = {"handle_httpstatus_list": HANDLED_STATUSES, "source_url": self.job.url}
        slot = download_slot(url)
        if slot:
            meta["download_slot"] = slot
        if url.startswith("file:"):
            meta["dont_retry"] = True   # a local file does not get better by asking again
        if (urlsplit(url).hostname or "") in HOST_LIMITS:
            meta["autothrottle_dont_adjust_delay"] = True  # the documented limit is the floor
        return Request(url, headers=headers, meta=meta, dont_filter=True)

    async def get(self, url: str, conditional: bool) -> _Answer | None:
        """GET one document; None when it is absent (404/410); FetchFailure otherwise."""
        if url in self._bodies and not conditional:
            response = self._bodies[url]
        else:
            try:
                response = await self._download(self.request(url, conditional))
            except FileNotFoundError:
                return None   # a local site: the file is absent, as a 404 would say
            except Exception as exc:  # noqa: BLE001 - every download error fails the source
                raise describe_exception(url, exc, self.settings) from None
            self.responses += 1
        return self.answer(url, response)

    def answer(self, url: str, response: Response) -> _Answer | None:
        status = response.status
        known = self._known.get(url)
        etag = _header(response, b"ETag")
        last_modified = _header(response, b"Last-Modified")
        if status == 304:
            if known is None:
                raise FetchFailure(f"{url}: HTTP 304 to an unconditional request", status)
            state = DocumentState(url, etag or known.etag, last_modified or known.last_modified, known.body_hash)
            self._states[url] = state
            return _Answer(state, None, True)
        if status in (404, 410):
            return None
        if status >= 400 or status < 200:
            reason = response.meta.get("retry_after_too_long")
            extra = f" (Retry-After {reason:.0f} s; trying again at the next sync)" if reason else ""
            raise FetchFailure(f"{url}: HTTP {status}{extra}", status)
        failure = _failure_of_response(url, response, self.settings.max_bytes)
        if failure:
            raise failure
        state = DocumentState(url, etag, last_modified, body_hash(response.body))
        self._bodies[url] = response
        self._states[url] = state
        return _Answer(state, response, False, known is not None and known.body_hash == state.body_hash)

    async def run(self, entry: Response) -> FetchResult:
        try:
            return await self._run(entry)
        except FetchFailure as failure:
            return self.failed(str(failure), failure.http_status)
        except Exception as exc:  # a bug must fail this source, not lose its result
            log.exception("internal error while fetching %s", self.job.url)
            return self.failed(f"{self.job.url}: internal error: {type(exc).__name__}: {exc}")
        finally:
            # The responses (each refers to its request, whose cb_kwargs refer to this
            # conversation: a cycle) go now, not at the next full garbage collection:
            # measured, ~10 MB of dead pages held during a crawl.
            self._bodies.clear()

    async def _run(self, entry_response: Response) -> FetchResult:
        url = self.job.url
        entry = self.answer(url, entry_response)
        if entry is None:
            raise FetchFailure(f"{url}: not found (HTTP {entry_response.status})", entry_response.status)
        if entry.unchanged:
            others = [doc.url for doc in self.job.documents if doc.url != url]
            answers = await asyncio.gather(*(self.get(u, conditional=True) for u in others))
            if all(a is not None and a.unchanged for a in answers):
                all_304 = entry.not_modified and all(a is not None and a.not_modified for a in answers)
                return self.result(FetchStatus.NOT_MODIFIED if all_304 else FetchStatus.UNCHANGED)
            if entry.body is None:  # the entry said 304 but something it includes changed
                entry = await self.get(url, conditional=False)
                if entry is None:
                    raise FetchFailure(f"{url}: not found (HTTP 404)", 404)
        assert entry.body is not None
        return await self.parse(entry.body)

    async def parse(self, response: Response) -> FetchResult:
        """Run the parser over the entry, fetching what it asks for, round by round."""
        url = self.job.url
        resource = Resource(response.url, response.body, _header(response, b"Content-Type"))
        fmt = get_format(self.job.format) if self.job.format else detect_format(resource)
        base_url = url if self.job.format else response.url
        self._states = {u: s for u, s in self._states.items() if u == url}  # re-collected below
        steps = extraction(resource, lambda site: parse_site(site, fmt.name), base_url, fmt.max_rounds)
        try:
            wishes = next(steps)
            while True:
                wishes = steps.send(await self.fetch_wishes(wishes))
        except StopIteration as done:
            records = done.value
        except ParseError as exc:
            raise FetchFailure(str(exc)) from None
        return self.result(FetchStatus.FETCHED, records)

    async def fetch_wishes(self, wishes: set[Wish]) -> dict[Wish, Resource | Listing | None]:
        ordered = sorted(wishes, key=lambda w: (w.url, w.listing))
        answers = await asyncio.gather(*(self.get(self._wish_url(w), conditional=False) for w in ordered))
        fetched: dict[Wish, Resource | Listing | None] = {}
        for wish, answer in zip(ordered, answers, strict=True):
            if answer is None or answer.body is None:
                fetched[wish] = None
                continue
            body = answer.body
            resource = Resource(body.url, body.body, _header(body, b"Content-Type"))
            fetched[wish] = listing_from(wish.url, resource) if wish.listing else resource
        return fetched

    @staticmethod
    def _wish_url(wish: Wish) -> str:
        return listing_url(wish.url) if wish.listing else wish.url

    def result(self, status: FetchStatus, records: Any = None) -> FetchResult:
        entry_first = sorted(self._states.values(), key=lambda s: s.url != self.job.url)
        if status is not FetchStatus.FETCHED:  # keep the documents of the last parse, refreshed
            entry_first = [self._states.get(doc.url, doc) for doc in self.job.documents]
        return FetchResult(self.job.source_id, self.job.url, status, datetime.now(UTC), records=records,
                           documents=tuple(entry_first), responses=self.responses,
                           warnings=list(getattr(records, "warnings", []) or []))

    def failed(self, error: str, http_status: int | None = None) -> FetchResult:
        return FetchResult(self.job.source_id, self.job.url, FetchStatus.FAILED, datetime.now(UTC),
                           error=error, http_status=http_status, responses=self.responses)


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


# ------------------------------------------------------------------------------ the spider

OnResult = Callable[[FetchResult], None]


class SyncSpider(scrapy.Spider):
    """Yields the entry request of every job; each entry's callback runs that source's
    conversation (SourceFetch), whose further requests go through the same downloader
    (middlewares, slots, robots.txt) with `engine.download_async`."""

    name = "profilesync"

    def __init__(self, jobs: Sequence[FetchJob], on_result: OnResult, crawl_settings: CrawlSettings,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.jobs = list(jobs)
        self.on_result = on_result
        self.crawl_settings = crawl_settings

    async def start(self) -> AsyncIterator[Request]:
        # Lazily (Scrapy's documented pattern): otherwise the engine drains this generator
        # into the scheduler at once, and every job's request and conversation sits in
        # memory before the first response arrives.
        for job in self.jobs:
            if self.crawler.engine is not None and self.crawler.engine.needs_backout():
                await self.crawler.signals.wait_for(scrapy.signals.scheduler_empty)
            fetch = SourceFetch(job, self._download, self.crawl_settings)
            request = fetch.request(job.url, conditional=True)
            yield request.replace(callback=self.parse_entry, errback=self.entry_failed,
                                  cb_kwargs={"fetch": fetch})

    async def _download(self, request: Request) -> Response:
        assert self.crawler.engine is not None
        return await self.crawler.engine.download_async(request)

    async def parse_entry(self, response: Response, fetch: SourceFetch) -> None:
        fetch.responses += 1
        self._deliver(await fetch.run(response))

    def entry_failed(self, failure: Any) -> None:
        fetch: SourceFetch = failure.request.cb_kwargs["fetch"]
        reason = describe_exception(fetch.job.url, failure.value, self.crawl_settings)
        self._deliver(fetch.failed(str(reason), reason.http_status))

    def _deliver(self, result: FetchResult) -> None:
        try:
            self.on_result(result)
        except Exception:  # a store error must not stop the other sources' syncs
            log.exception("could not store the result of %s", result.url)


async def crawl(runner: AsyncCrawlerRunner, jobs: Sequence[FetchJob], settings: CrawlSettings,
                on_result: OnResult) -> None:
    """Fetch every job once; `on_result` gets each FetchResult as soon as it is ready."""
    if not jobs:
        return
    await runner.crawl(SyncSpider, jobs=jobs, on_result=on_result, crawl_settings=settings)


def make_runner(settings: CrawlSettings) -> AsyncCrawlerRunner:
    """One runner per process; the asyncio reactor must be installed first (`run_reactor`)."""
    return AsyncCrawlerRunner(scrapy_settings(settings))


def run_reactor(main: Callable[[], Awaitable[Any]]) -> Any:
    """Install the asyncio reactor, run `main()` on it, stop, and return its result.

    One call per process (a Twisted reactor cannot restart); the daemon runs all its
    crawls inside one `main`.
    """
    from scrapy.utils.reactor import install_reactor

    install_reactor(ASYNCIO_REACTOR)
    from twisted.internet import reactor
    from twisted.internet.defer import Deferred
    from twisted.python.failure import Failure

    outcome: list[Any] = []

    def start() -> None:
        deferred = Deferred.fromFuture(asyncio.ensure_future(main()))

        def finish(result: Any) -> None:
            outcome.append(result)
            reactor.stop()  # type: ignore[attr-defined]

        deferred.addBoth(finish)

    reactor.callWhenRunning(start)  # type: ignore[attr-defined]
    reactor.run(installSignalHandlers=False)  # type: ignore[attr-defined]
    result = outcome[0] if outcome else None
    if isinstance(result, Failure):
        result.raiseException()
    return result
