"""What the paper-listing parsers (Scholar, DBLP, arXiv, OpenAlex, Semantic Scholar, ORCID,
Scholar Feed) share: cheap content sniffing, JSON documents, ids, and pagination.

Pagination goes through the Site like any related file: a listing parser computes the
URL of the next page from the page it holds (a cursor, an offset, start/totalResults)
and asks `site.get()` for it. The driver fetches it and runs the parser again, so after
N rounds the parser sees N pages and returns all their records merged. Parsers stay pure:
they never fetch, they only wish.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import lxml.etree

from ..ids import arxiv_id, doi
from ..text import clean, decode
from .site import ParseError, Resource, Site

#: Pages one listing source may span (each page is one extraction round).
MAX_PAGES = 25

_SNIFF_CHARS = 8192


def head(resource: Resource) -> str:
    """The start of a document, for format detection without parsing it."""
    return resource.body[:_SNIFF_CHARS].decode("utf-8", errors="replace")


def looks_like_json(resource: Resource) -> bool:
    start = head(resource).lstrip("\ufeff \t\r\n")
    return start[:1] in ("{", "[")


def json_document(site: Site, resource: Resource) -> Any:
    """The parsed JSON of a resource, parsed once per extraction and cached across rounds.

    Decoded by text.decode (a cp1252 file reads right) without the whole-document mojibake
    repair, which may alter JSON syntax; parsers clean() each string they keep instead.
    """
    def load() -> Any:
        try:
            return json.loads(decode(resource.body, resource.content_type, repair=False))
        except ValueError as exc:
            raise ParseError(f"{resource.url}: not valid JSON: {exc}") from None
    return site.memo(("json", resource.url), load)


_XML_PARSER = lxml.etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=True)


def xml_document(site: Site, resource: Resource) -> lxml.etree._Element:
    """The XML tree of a resource (no entity expansion, no network), cached across rounds."""
    def load() -> lxml.etree._Element:
        root = lxml.etree.fromstring(resource.body, _XML_PARSER)
        if root is None:
            raise ParseError(f"{resource.url}: not well-formed XML")
        return root
    return site.memo(("xml", resource.url), load)


def xml_text(el: lxml.etree._Element | None) -> str:
    """All text under an XML element (inline markup such as <i> or <sub> included), cleaned."""
    return clean("".join(el.itertext())) if el is not None else ""


def with_params(url: str, **params: str | int) -> str:
    """`url` with the given query parameters set (replaced or appended), others kept."""
    parts = urlsplit(url)
    query = [(k, str(params[k]) if k in params else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    query += [(k, str(v)) for k, v in params.items() if k not in dict(query)]
    return urlunsplit(parts._replace(query=urlencode(query, safe=":,*\"'")))


def query_param(url: str, name: str) -> str | None:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True)).get(name)


def pages(site: Site, first: Any, next_url: Callable[[str, Any], str | None],
          load: Callable[[Resource], Any]) -> Iterator[Any]:
    """The first page's document, then each following page fetched so far.

    `next_url(url_of_page, document)` gives the URL of the page after it, or None on the
    last page; a page not fetched yet becomes a wish and ends the walk for this round.
    """
    url, document = site.base_url, first
    if urlsplit(url).scheme not in ("http", "https"):  # a saved page: its next page is not on disk
        yield document
        return
    for _ in range(MAX_PAGES):
        yield document
        nxt = next_url(url, document)
        if not nxt or nxt == url:
            return
        resource = site.get(nxt)
        if resource is None:
            return
        url, document = nxt, load(resource)


def text_or_none(value: Any) -> str | None:
    """A string from a JSON value, cleaned (entities, mojibake, whitespace); None if empty."""
    cleaned = clean(str(value)) if value is not None else ""
    return cleaned or None


def int_or_none(value: Any) -> int | None:
    """An int from a JSON/XML value (`"1,527"` included), or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    digits = re.sub(r"[,\s\u00a0.]", "", str(value))
    return int(digits) if digits.isdigit() else None


def paper_ids(*, doi_text: str | None = None, arxiv_text: str | None = None,
              **others: str | None) -> dict[str, str]:
    """The ids of a record, canonical (DOI lower-cased, arXiv without version), empty
    ones dropped; an arXiv DOI (10.48550/arXiv.X) also gives the arXiv id."""
    ids: dict[str, str] = {}
    if d := doi(doi_text):
        ids["doi"] = d
    # "arXiv:" lets a bare old-style id ("cond-mat/0412498") read as one too.
    bare = f"arXiv:{arxiv_text.strip()}" if arxiv_text and "/" in arxiv_text and "://" not in arxiv_text else None
    if a := arxiv_id(arxiv_text) or arxiv_id(bare) or (arxiv_id(ids["doi"]) if "doi" in ids else None):
        ids["arxiv"] = a
    ids.update({kind: str(value) for kind, value in others.items() if value})
    return ids
