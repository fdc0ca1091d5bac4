"""Blocking reads for `profilesync parse`: local files (a checked-out site) and one-off
HTTP GETs. The crawl never comes here; it fetches through the Scrapy spider.
"""
from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .parsers.site import Fetched, Listing, Resource, Wish, guess_media_type, listing_from, listing_url

USER_AGENT = "profilesync/0.1 (+https://github.com/profilesync/profilesync; parse command)"
MAX_BYTES = 8 * 1024 * 1024
TIMEOUT = 20.0


class LoadError(Exception):
    """The target cannot be read; the message says which and why."""


def _path_of(url: str) -> Path:
    return Path(unquote(urlsplit(url).path))


def load_target(target: str) -> Resource:
    """A file path or an http(s) URL as the entry resource."""
    if target.startswith(("http://", "https://")):
        resource = http_get(target)
        if resource is None:
            raise LoadError(f"{target}: not found (HTTP 404)")
        return resource
    path = Path(target).expanduser()
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"{target}: cannot read: {exc.strerror or exc}") from None
    url = path.resolve().as_uri()
    return Resource(url, body, guess_media_type(url))


def http_get(url: str) -> Resource | None:
    """GET a URL; None on 404/410; LoadError on anything else that is not a 2xx."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - http(s) only
            body = response.read(MAX_BYTES + 1)
            if len(body) > MAX_BYTES:
                raise LoadError(f"{url}: larger than {MAX_BYTES} bytes")
            return Resource(response.geturl(), body, response.headers.get("Content-Type"))
    except urllib.error.HTTPError as exc:
        if exc.code in (404, 410):
            return None
        raise LoadError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise LoadError(f"{url}: cannot fetch: {reason}") from None


def _local(wish: Wish) -> Resource | Listing | None:
    path = _path_of(wish.url)
    if wish.listing:
        if not path.is_dir():
            return None
        with os.scandir(path) as entries:
            return tuple(sorted(Path(e.path).as_uri() + ("/" if e.is_dir() else "") for e in entries))
    if path.is_dir():
        path = path / "index.html"
    try:
        body = path.read_bytes()
    except OSError:
        return None
    return Resource(wish.url, body, guess_media_type(path.name))


def _remote(wish: Wish) -> Resource | Listing | None:
    try:
        if wish.listing:
            response = http_get(listing_url(wish.url))
            return listing_from(wish.url, response) if response is not None else None
        return http_get(wish.url)
    except LoadError:
        return None


def fetch(wishes: set[Wish]) -> Fetched:
    """Related files for the parse command: from disk for file:// URLs, else over HTTP."""
    return {w: (_local(w) if w.url.startswith("file:") else _remote(w)) for w in wishes}
