"""Downloader middlewares of our own: retries that back off, and API keys added at the wire.

Scrapy's RetryMiddleware re-queues a failed request at once; for a 429 or a 503 from a
host that asked us to slow down that is the wrong answer. `BackoffRetryMiddleware` waits
first: the server's `Retry-After` when it sent one (capped), else an exponential delay
with jitter (tenacity's strategy, as everywhere else in profilesync).
"""
from __future__ import annotations

import logging
from email.utils import parsedate_to_datetime
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response
from scrapy.utils.asyncio import sleep
from scrapy.utils.response import response_status_message
from tenacity import RetryCallState, wait_random_exponential

log = logging.getLogger(__name__)

#: A Retry-After longer than this fails the fetch instead of holding a crawl hostage;
#: the next scheduled sync tries again.
MAX_RETRY_AFTER_S = 120.0
_BACKOFF = wait_random_exponential(multiplier=1.0, max=30.0)


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_seconds(attempt: int) -> float:
    """Full-jitter exponential backoff for the `attempt`-th retry (1, 2, ...)."""
    state = RetryCallState(None, None, (), {})
    state.attempt_number = attempt
    return _BACKOFF(state)


class BackoffRetryMiddleware(RetryMiddleware):
    """RetryMiddleware that sleeps before each retry (Retry-After, else backoff)."""

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        if wait is not None and wait > MAX_RETRY_AFTER_S:
            request.meta["retry_after_too_long"] = wait
            return response  # fail now; the schedule comes back later
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        await sleep(wait if wait is not None else backoff_seconds(retry.meta.get("retry_times", 1)))
        return retry

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:  # type: ignore[override]
        if request.meta.get("dont_retry", False) or not isinstance(exception, self.exceptions_to_retry):
            return None
        retry = self._retry(request, exception)
        if retry is None:
            return None
        await sleep(backoff_seconds(retry.meta.get("retry_times", 1)))
        return retry


class ApiKeyMiddleware:
    """Adds the configured API keys to requests for their API's host, so that keys live in
    the config only: not in the database, not in parser-made pagination URLs, not in logs
    (see `redact`)."""

    def __init__(self, api_keys: dict[str, str]) -> None:
        self.api_keys = api_keys

    @classmethod
    def from_crawler(cls, crawler) -> ApiKeyMiddleware:  # type: ignore[no-untyped-def]
        return cls(dict(crawler.settings.getdict("PROFILESYNC_API_KEYS")))

    def process_request(self, request: Request) -> Request | None:
        if request.meta.get("api_key_added"):
            return None
        host = urlsplit(request.url).hostname or ""
        if host == "api.openalex.org" and self.api_keys.get("openalex"):
            parts = urlsplit(request.url)
            query = (parts.query + "&" if parts.query else "") + urlencode({"api_key": self.api_keys["openalex"]})
            return request.replace(url=urlunsplit(parts._replace(query=query)),
                                   meta={**request.meta, "api_key_added": True})
        if host == "api.semanticscholar.org" and self.api_keys.get("semanticscholar"):
            request.headers[b"x-api-key"] = self.api_keys["semanticscholar"]
        return None
