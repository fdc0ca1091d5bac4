"""Scholar Feed author pages (scholarfeed.org/author/ID): the page text and the JSON API.

The page text (seed 004) is a header (name, "h-index33", "30papers", "1,527citations")
and one block per paper: a line "<category><date>[Code]" such as "CVAug 28, 2023Code"
or "LGApr 17" (dates in the current year carry no year), the title, the first authors
("... et al.", optionally "· <affiliation tag>") and the abstract.

The public JSON API, /api/v1/public/authors/{id}/papers?page=N, answers
{"author": {"name", "h_index", "paper_count", "citation_count", ...},
 "papers": [{"arxiv_id", "title", "authors", "published", "category", "has_code", ...}],
 "page", "per_page", "total"}; pages follow until page * per_page >= total.
Its fixture in tests/ was built from these documented fields, not captured.

An aggregator page gathers papers by name: it may mix several people of one name (seed
004 does). They are all listed, as the page lists them.
"""
from __future__ import annotations

import re
from typing import Any

from ..ids import arxiv_id
from ..records import Metrics, PageRecords, Profile, Publication, SourceInfo
from ..text import clean, clean_title, normalise_date, split_authors, year_of
from .listing import (head, int_or_none, json_document, looks_like_json, pages, paper_ids, text_or_none, with_params)
from .site import Resource, Site

NAME = "scholarfeed"
KIND = "listing"
MAX_ROUNDS = 12

_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_PAPER_HEAD = re.compile(r"^(?P<category>[A-Z][A-Z-]*?)(?P<date>" + _MONTH + r" \d{1,2}(?:, \d{4})?)(?P<code>Code)?$")
_METRICS = {"h_index": re.compile(r"^h-index\s*([\d,]+)$", re.I),
            "papers": re.compile(r"^([\d,]+)\s*papers$", re.I),
            "citations": re.compile(r"^([\d,]+)\s*citations$", re.I)}


def detect(resource: Resource) -> float:
    if looks_like_json(resource):
        start = head(resource)
        return 0.9 if '"papers"' in start and '"h_index"' in start and '"arxiv_id"' in start else 0.0
    if resource.media_type not in ("text/plain", "text/markdown"):
        return 0.0
    lines = [line.strip() for line in head(resource).splitlines()]
    has_metrics = any(_METRICS["h_index"].match(line) for line in lines[:30])
    return 0.9 if has_metrics and any(_PAPER_HEAD.match(line) for line in lines) else 0.0


# --------------------------------------------------------------------------- page text

def _authors(line: str) -> list[str]:
    """"A, B, C et al. · mit" -> ["A", "B", "C"] (the tag after "·" is an affiliation)."""
    return split_authors(line.split(" · ")[0])


def _paper_blocks(lines: list[str]) -> list[tuple[re.Match[str], list[str]]]:
    """(header match, the non-empty lines after it) for each paper."""
    blocks: list[tuple[re.Match[str], list[str]]] = []
    for line in lines:
        if m := _PAPER_HEAD.match(line):
            blocks.append((m, []))
        elif blocks and line:
            blocks[-1][1].append(line)
    return blocks


def _text_publication(header: re.Match[str], body: list[str]) -> Publication | None:
    if not body:
        return None
    written = header.group("date")
    has_year = year_of(written) is not None
    return Publication(title=clean_title(body[0]), authors=_authors(body[1]) if len(body) > 1 else [],
                       year=year_of(written), date=normalise_date(written) if has_year else None)


def _parse_text(site: Site) -> PageRecords:
    lines = [clean(line) for line in site.entry.text.splitlines()]
    first_paper = next((i for i, line in enumerate(lines) if _PAPER_HEAD.match(line)), len(lines))
    metrics = Metrics()
    for line in lines[:first_paper]:
        for field, pattern in _METRICS.items():
            if m := pattern.match(line):
                setattr(metrics, field, int_or_none(m.group(1)))
    name = next((line for line in lines if line), None)
    records = PageRecords(source=SourceInfo(site.base_url, KIND, NAME), profile=Profile(name=name, metrics=metrics))
    records.publications = [p for m, body in _paper_blocks(lines[first_paper:]) if (p := _text_publication(m, body))]
    return records


# --------------------------------------------------------------------------- JSON API

def _next_url(url: str, document: Any) -> str | None:
    if not isinstance(document, dict) or not document.get("papers"):
        return None
    page, per_page, total = (int_or_none(document.get(k)) for k in ("page", "per_page", "total"))
    if page and per_page and total and page * per_page < total:
        return with_params(url, page=page + 1)
    return None


def _api_publication(paper: dict) -> Publication | None:
    title = clean_title(paper.get("title") or "")
    if not title:
        return None
    aid = arxiv_id(paper.get("arxiv_id"))
    links = {"arxiv": f"https://arxiv.org/abs/{aid}"} if aid else {}
    if paper.get("code_url"):
        links["code"] = paper["code_url"]
    if paper.get("url"):
        links["page"] = paper["url"]
    return Publication(title=title, authors=[n for a in paper.get("authors") or [] if (n := text_or_none(a))],
                       venue=text_or_none(paper.get("venue")), year=year_of(paper.get("published")),
                       date=normalise_date(paper.get("published")), links=links,
                       citations=int_or_none(paper.get("citation_count")),
                       ids=paper_ids(arxiv_text=aid, doi_text=paper.get("doi")))


def _parse_api(site: Site) -> PageRecords:
    first = json_document(site, site.entry)
    author = first.get("author") or {} if isinstance(first, dict) else {}
    profile = Profile(name=text_or_none(author.get("name")),
                      affiliation=text_or_none(author.get("affiliation")),
                      ids={"scholarfeed": str(author["id"])} if author.get("id") else {},
                      metrics=Metrics(h_index=int_or_none(author.get("h_index")),
                                      papers=int_or_none(author.get("paper_count")),
                                      citations=int_or_none(author.get("citation_count"))))
    records = PageRecords(source=SourceInfo(site.base_url, KIND, NAME), profile=profile)
    for document in pages(site, first, _next_url, lambda resource: json_document(site, resource)):
        records.publications += [p for paper in document.get("papers") or [] if (p := _api_publication(paper))]
    return records


def parse(site: Site) -> PageRecords:
    return _parse_api(site) if looks_like_json(site.entry) else _parse_text(site)
