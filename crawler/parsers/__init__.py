"""The parser registry: every page format, registered in one place, and format detection.

A format is a module with `NAME`, `KIND` ("homepage" or "listing"), `detect(resource)
-> float` (0 = not this format, 1 = certainly) and `parse(site) -> PageRecords`; it may
declare `MAX_SCORE`, the most its detect returns, so that detection skips it once an
earlier format has scored that much (a detector scans the whole page: ~50 us per 100 KB).
Parsers are pure: no Scrapy, no database, no network (related files come through the
`Site`, see site.py).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from ..records import PageRecords, SourceInfo
from . import arxiv, barron, dblp, generic, hugo, openalex, orcid, scholar, scholarfeed, semanticscholar
from . import alfolio, bibtex
from . import acadhomepage, academicpages
from .site import MAX_ROUNDS, Fetched, ParseError, Resource, Site, Wish, extraction, run_extraction

log = logging.getLogger(__name__)

__all__ = ["FORMATS", "Format", "ParseError", "Resource", "Site", "Wish", "detect_format",
           "get_format", "parse_bytes", "parse_resource", "parse_site"]


@dataclass(frozen=True)
class Format:
    name: str
    kind: str
    detect: Callable[[Resource], float]
    parse: Callable[[Site], PageRecords]
    max_rounds: int = MAX_ROUNDS   # extraction rounds: a paginated listing needs one per page
    max_score: float = 1.0         # the most detect returns


def _format(module: ModuleType) -> Format:
    return Format(module.NAME, module.KIND, module.detect, module.parse,
                  getattr(module, "MAX_ROUNDS", MAX_ROUNDS), getattr(module, "MAX_SCORE", 1.0))


#: Most specific first; the generic fallback last.
FORMATS: tuple[Format, ...] = tuple(_format(m) for m in (
    scholar, dblp, arxiv, openalex, semanticscholar, orcid, scholarfeed,
    bibtex,
    barron, hugo,
    alfolio,
    acadhomepage, academicpages,
    generic,
))
_BY_NAME = {f.name: f for f in FORMATS}


def get_format(name: str) -> Format:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown format {name!r}; known: {', '.join(sorted(_BY_NAME))}") from None


def detect_format(resource: Resource) -> Format:
    """The format that claims the resource most confidently (ties: registry order)."""
    best, best_score = _BY_NAME["generic"], 0.0
    for fmt in FORMATS:
        if fmt.max_score <= best_score:  # cannot win: a tie keeps the earlier format
            continue
        score = fmt.detect(resource)
        if score > best_score:
            best, best_score = fmt, score
    return best


def parse_site(site: Site, format: str | None = None) -> PageRecords:
    """Run one parser over a Site. Parser bugs surface as ParseError naming the source."""
    fmt = get_format(format) if format else detect_format(site.entry)
    try:
        records = fmt.parse(site)
    except ParseError:  # already names the source and the problem
        raise
    except Exception as exc:  # a parser bug must not look like an empty page
        log.debug("parser %s failed on %s", fmt.name, site.entry.url, exc_info=True)
        raise ParseError(f"{site.entry.url}: {fmt.name} parser failed: {type(exc).__name__}: {exc}") from exc
    records.source = SourceInfo(url=site.base_url, kind=fmt.kind, format=fmt.name)
    if records.is_empty() and records.profile.metrics.is_empty():
        records.warnings.append(f"{site.base_url}: no news or publications found ({fmt.name} format)")
    return records


def parse_resource(entry: Resource, fetch: Callable[[set[Wish]], Fetched] | None = None,
                   base_url: str | None = None, format: str | None = None) -> PageRecords:
    """Parse an entry resource, fetching the related files the parser asks for with
    `fetch` (None: related files are treated as absent)."""
    fmt = get_format(format) if format else detect_format(entry)
    return run_extraction(entry, lambda site: parse_site(site, fmt.name),
                          fetch or (lambda wishes: dict.fromkeys(wishes)), base_url, fmt.max_rounds)


def parse_bytes(url: str, body: bytes, content_type: str | None = None,
                base_url: str | None = None, format: str | None = None) -> PageRecords:
    """Parse one document on its own: the (URL, bytes, content type) -> records core."""
    return parse_resource(Resource(url, body, content_type), None, base_url, format)


__all__ += ["extraction"]
