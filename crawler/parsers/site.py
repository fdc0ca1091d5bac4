"""What a parser reads: one entry resource plus the related files it asks for.

A site spans several files (AcadHomepage's `include_relative` files, al-folio's `_news/`
collection, a built site's `publications/` page). Parsers stay pure by reading them from
a `Site`: asking for a file or a folder listing that has not been fetched yet returns
None and records the wish. A driver (the CLI on local files, the spider over HTTP) runs
the parser, fetches what it wished for, and runs it again until it wishes for nothing new
(see `extraction`). The parser is a pure function of what it was given in each round.
"""
from __future__ import annotations

import json
import mimetypes
import posixpath
import re
from collections.abc import Callable, Generator, Hashable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit

from ..text import decode

T = TypeVar("T")


@dataclass(eq=False)
class Resource:
    """Bytes fetched from a URL (http(s) or file), with the type the server declared."""

    url: str
    body: bytes
    content_type: str | None = None

    @cached_property
    def text(self) -> str:
        return decode(self.body, self.content_type)

    @cached_property
    def media_type(self) -> str:
        """The declared media type, else one guessed from the URL's extension."""
        declared = (self.content_type or "").split(";")[0].strip().lower()
        if declared and declared not in ("application/octet-stream", "text/plain", "binary/octet-stream"):
            return declared
        guessed = guess_media_type(self.url)
        return guessed or declared or "application/octet-stream"


_EXTRA_TYPES = {".md": "text/markdown", ".markdown": "text/markdown", ".bib": "application/x-bibtex",
                ".atom": "application/atom+xml", ".yml": "application/yaml", ".yaml": "application/yaml",
                ".toml": "application/toml", ".json": "application/json", ".xml": "application/xml",
                ".html": "text/html", ".htm": "text/html", ".txt": "text/plain"}


def guess_media_type(url: str) -> str | None:
    path = urlsplit(url).path.lower()
    ext = posixpath.splitext(path)[1]
    return _EXTRA_TYPES.get(ext) or mimetypes.guess_type(path)[0]


#: A folder's entries as absolute URLs; sub-folders end with "/".
Listing = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Wish:
    """A related file (or, with `listing=True`, a folder's entries) a parser asked for."""

    url: str
    listing: bool = False


Fetched = Mapping[Wish, "Resource | Listing | None"]  # None: fetched and absent


@dataclass
class Site:
    """The entry resource and the related resources fetched so far, for one parser run."""

    entry: Resource
    base_url: str                                  # public URL of the entry page
    fetched: Fetched = field(default_factory=dict)
    wishes: set[Wish] = field(default_factory=set)
    cache: dict[Any, Any] = field(default_factory=dict)  # parsed trees, shared across rounds

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()` once per extraction: a parser runs again in every round and would
        otherwise re-parse the same files (an exception is not cached)."""
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    def get(self, url: str) -> Resource | None:
        """The resource at `url` (absolute), or None if absent or not fetched yet."""
        if url == self.entry.url:
            return self.entry
        return self._lookup(Wish(url))  # type: ignore[return-value]

    def listing(self, folder_url: str) -> Listing | None:
        """The entries of a folder (absolute URL ending in "/"), or None."""
        if not folder_url.endswith("/"):
            folder_url += "/"
        return self._lookup(Wish(folder_url, listing=True))  # type: ignore[return-value]

    def _lookup(self, wish: Wish) -> Resource | Listing | None:
        if wish in self.fetched:
            return self.fetched[wish]
        if same_site(wish.url, self.entry.url):
            self.wishes.add(wish)
        return None

    def resolve(self, ref: str, relative_to: Resource | None = None) -> str:
        """An address as a file reference: relative to a resource's own URL."""
        return urljoin((relative_to or self.entry).url, ref)

    def public_url(self, ref: str, relative_to: Resource | None = None) -> str:
        """A link as a reader of the built site would follow it: relative references in
        a resource resolve against the public URL that resource is served at."""
        if relative_to is None or relative_to is self.entry:
            return urljoin(self.base_url, ref)
        return urljoin(self.public_url_of(relative_to), ref)

    def public_url_of(self, resource: Resource) -> str:
        """Where `resource` is published, given where the entry is published."""
        if self.base_url == self.entry.url:
            return resource.url
        entry_dir = self.entry.url.rsplit("/", 1)[0] + "/"
        if resource.url.startswith(entry_dir):
            rel = resource.url[len(entry_dir):]
            rel = rel.removesuffix("index.html")
            return urljoin(self.base_url, rel)
        return resource.url


    def url_for(self, public_url: str) -> str:
        """Where a page of the built site at `public_url` is read from (the inverse of
        `public_url_of`): the same relative path under the entry's folder."""
        if self.base_url == self.entry.url or not public_url.startswith(self._public_dir()):
            return public_url
        entry_dir = self.entry.url.rsplit("/", 1)[0] + "/"
        return urljoin(entry_dir, public_url[len(self._public_dir()):])

    def _public_dir(self) -> str:
        return self.base_url.rsplit("/", 1)[0] + "/"


def same_site(url: str, other: str) -> bool:
    """Related files are followed on the entry's own site only (same scheme and host;
    for raw.githubusercontent.com, the same repository)."""
    a, b = urlsplit(url), urlsplit(other)
    if (a.scheme, a.netloc) != (b.scheme, b.netloc):
        return False
    if a.netloc == "raw.githubusercontent.com":
        return a.path.split("/")[1:3] == b.path.split("/")[1:3]
    return True


class ParseError(Exception):
    """A parser failed on a page; the message names the source and the problem."""


MAX_ROUNDS = 6

Parser = Callable[[Site], Any]


def extraction(entry: Resource, parse: Parser, base_url: str | None = None,
               max_rounds: int = MAX_ROUNDS) -> Generator[set[Wish], Fetched, Any]:
    """Run `parse` until it wishes for nothing new; yields the wishes, receives them fetched.

    Drive it with `run_extraction` (blocking fetch) or by hand from async code.
    """
    fetched: dict[Wish, Resource | Listing | None] = {}
    cache: dict[Any, Any] = {}
    records = None
    for _ in range(max_rounds):
        site = Site(entry, base_url or entry.url, fetched, set(), cache)
        records = parse(site)
        new = site.wishes - fetched.keys()
        if not new:
            return records
        fetched.update((yield new))
    if records is not None and hasattr(records, "warnings"):
        records.warnings.append(f"{entry.url}: stopped following related files after {max_rounds} rounds")
    return records


def run_extraction(entry: Resource, parse: Parser, fetch: Callable[[set[Wish]], Fetched],
                   base_url: str | None = None, max_rounds: int = MAX_ROUNDS) -> Any:
    """Blocking driver of `extraction`."""
    steps = extraction(entry, parse, base_url, max_rounds)
    try:
        wishes = next(steps)
        while True:
            wishes = steps.send(fetch(wishes))
    except StopIteration as done:
        return done.value


# --------------------------------------------------------------------------- folder listings

_HREF = re.compile(r"""<a\s[^>]*href\s*=\s*["']([^"'#?]+)["']""", re.I)


def listing_url(folder_url: str) -> str:
    """Where a folder's entries can be read: GitHub's contents API for a folder of
    raw.githubusercontent.com, else the folder URL itself (an autoindex page)."""
    parts = urlsplit(folder_url)
    if parts.netloc == "raw.githubusercontent.com":
        owner, repo, ref, *path = parts.path.strip("/").split("/")
        return f"https://api.github.com/repos/{owner}/{repo}/contents/{'/'.join(path)}?ref={ref}"
    return folder_url


def listing_from(folder_url: str, response: Resource) -> Listing:
    """A folder's entries from GitHub's contents API JSON or an autoindex HTML page.

    Only direct children are kept: the parent link, sort links and other sites are not
    entries.
    """
    if response.media_type.endswith("json"):
        try:
            items = json.loads(response.text)
        except ValueError:
            return ()
        if not isinstance(items, list):
            return ()
        return tuple(sorted(urljoin(folder_url, str(i.get("name", "")) + ("/" if i.get("type") == "dir" else ""))
                            for i in items if isinstance(i, dict) and i.get("name")))
    children = set()
    for href in _HREF.findall(response.text):
        url = urljoin(folder_url, href)
        rest = url[len(folder_url):] if url.startswith(folder_url) else ""
        if rest and "/" not in rest.rstrip("/"):
            children.add(url)
    return tuple(sorted(children))
