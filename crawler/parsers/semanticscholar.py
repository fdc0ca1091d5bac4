"""Semantic Scholar Graph API: an author's papers (/graph/v1/author/ID/papers) or the author
object with its papers (/graph/v1/author/ID?fields=...,papers...).

Pagination: the papers endpoint answers {"offset", "next", "data"}; the next page is the
same URL with offset=next, until "next" is absent. S2 lists some papers twice under two
paperIds; both are kept, as S2 shows them (identity keeps them apart by paperId).
"""
from __future__ import annotations

from typing import Any

from ..records import Metrics, PageRecords, Profile, Publication, SourceInfo
from ..text import clean_title
from .listing import (head, int_or_none, json_document, looks_like_json, pages, paper_ids, text_or_none, with_params)
from .site import Resource, Site

NAME = "semanticscholar"
KIND = "listing"
MAX_ROUNDS = 12


def detect(resource: Resource) -> float:
    start = head(resource)
    return 0.9 if looks_like_json(resource) and '"paperId"' in start else 0.0


def _next_url(url: str, document: Any) -> str | None:
    if isinstance(document, dict) and document.get("data") and isinstance(document.get("next"), int):
        return with_params(url, offset=document["next"])
    return None


def _papers(document: Any) -> list[dict]:
    if not isinstance(document, dict):
        return []
    papers = document.get("data") if "data" in document else document.get("papers")
    return [p for p in papers or [] if isinstance(p, dict)]


def _publication(paper: dict) -> Publication | None:
    title = clean_title(paper.get("title") or "")
    if not title:
        return None
    external = paper.get("externalIds") or {}
    links = {}
    if paper.get("url"):
        links["page"] = paper["url"]
    if (paper.get("openAccessPdf") or {}).get("url"):
        links["pdf"] = paper["openAccessPdf"]["url"]
    if external.get("DOI"):
        links["doi"] = f"https://doi.org/{external['DOI']}"
    if external.get("ArXiv"):
        links["arxiv"] = f"https://arxiv.org/abs/{external['ArXiv']}"
    return Publication(title=title, authors=[n for a in paper.get("authors") or [] if (n := text_or_none(a.get("name")))],
                       venue=text_or_none(paper.get("venue")) or text_or_none((paper.get("journal") or {}).get("name")),
                       year=int_or_none(paper.get("year")), date=paper.get("publicationDate"), links=links,
                       citations=int_or_none(paper.get("citationCount")),
                       ids=paper_ids(doi_text=external.get("DOI"), arxiv_text=external.get("ArXiv"),
                                     dblp=external.get("DBLP"), pmid=external.get("PubMed"),
                                     s2=paper.get("paperId")))


def _profile(document: Any) -> Profile:
    """The author object's fields, when the document is one (not a bare papers page)."""
    if not isinstance(document, dict) or "authorId" not in document:
        return Profile()
    affiliations = document.get("affiliations") or []
    return Profile(name=text_or_none(document.get("name")),
                   affiliation=text_or_none(affiliations[0]) if affiliations else None,
                   links={"homepage": document["homepage"]} if document.get("homepage") else {},
                   ids={"s2": str(document["authorId"])},
                   metrics=Metrics(citations=int_or_none(document.get("citationCount")),
                                   h_index=int_or_none(document.get("hIndex")),
                                   papers=int_or_none(document.get("paperCount"))))


def parse(site: Site) -> PageRecords:
    first = json_document(site, site.entry)
    records = PageRecords(source=SourceInfo(site.base_url, KIND, NAME), profile=_profile(first))
    for document in pages(site, first, _next_url, lambda resource: json_document(site, resource)):
        records.publications += [p for paper in _papers(document) if (p := _publication(paper))]
    return records
