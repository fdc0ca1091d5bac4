"""OpenAlex works JSON (api.openalex.org/works?filter=author.id:A...).

Accepts the API envelope ({"meta": ..., "results": [...]}) and a bare list of work
objects, as scripts often save `data["results"]`. Pagination: cursor paging
(`cursor=*`, then meta.next_cursor) or, for a `page=` URL, the next page number until
meta.count is reached; a bare list has no meta and so no next page.
"""
from __future__ import annotations

import re
from typing import Any

from ..records import PageRecords, Publication, SourceInfo
from ..text import clean_title
from .listing import (head, int_or_none, json_document, looks_like_json, pages, paper_ids, query_param, text_or_none, with_params)
from .site import Resource, Site

NAME = "openalex"
KIND = "listing"
MAX_ROUNDS = 12

_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")


def detect(resource: Resource) -> float:
    start = head(resource)
    if looks_like_json(resource) and '"https://openalex.org/W' in start and (
            '"authorships"' in start or '"publication_year"' in start or '"meta"' in start):
        return 0.9
    return 0.0


def _works(document: Any) -> list[dict]:
    works = document.get("results", []) if isinstance(document, dict) else document
    return [w for w in works if isinstance(w, dict)] if isinstance(works, list) else []


def _next_url(url: str, document: Any) -> str | None:
    meta = document.get("meta") if isinstance(document, dict) else None
    if not isinstance(meta, dict) or not _works(document):
        return None
    if meta.get("next_cursor"):
        return with_params(url, cursor=meta["next_cursor"])
    page, per_page, count = (int_or_none(meta.get(k)) for k in ("page", "per_page", "count"))
    if query_param(url, "page") and page and per_page and count and page * per_page < count:
        return with_params(url, page=page + 1)
    return None


def _short_id(url: str | None) -> str | None:
    return url.rsplit("/", 1)[-1] if url else None


def _publication(work: dict) -> Publication | None:
    title = clean_title(_TAG.sub("", work.get("title") or work.get("display_name") or ""))
    if not title:
        return None
    location = work.get("primary_location") or {}
    source = location.get("source") or {}
    links = {}
    if work.get("doi"):
        links["doi"] = work["doi"]
    if location.get("landing_page_url") and location["landing_page_url"] != work.get("doi"):
        links["paper"] = location["landing_page_url"]
    if location.get("pdf_url"):
        links["pdf"] = location["pdf_url"]
    arxiv_page = next((loc.get("landing_page_url") for loc in work.get("locations") or []
                       if "arxiv.org" in (loc.get("landing_page_url") or "")), None)
    if arxiv_page:
        links["arxiv"] = arxiv_page
    authors = [name for a in work.get("authorships") or []
               if (name := text_or_none((a.get("author") or {}).get("display_name")))]
    return Publication(title=title, authors=authors, venue=text_or_none(source.get("display_name")),
                       year=int_or_none(work.get("publication_year")), date=work.get("publication_date"),
                       links=links, citations=int_or_none(work.get("cited_by_count")),
                       ids=paper_ids(doi_text=work.get("doi"), arxiv_text=arxiv_page,
                                     openalex=_short_id(work.get("id"))))


def parse(site: Site) -> PageRecords:
    records = PageRecords(source=SourceInfo(site.base_url, KIND, NAME))
    first = json_document(site, site.entry)
    for document in pages(site, first, _next_url, lambda resource: json_document(site, resource)):
        records.publications += [p for w in _works(document) if (p := _publication(w))]
    return records
