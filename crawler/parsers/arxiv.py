"""arXiv API Atom feeds (export.arxiv.org/api/query?search_query=...).

Both serialisations parse the same, because they are read by namespace, not by prefix
or layout: the legacy one (until 2025: "ArXiv Query" title, opensearch namespace declared
on each element, http links, a rel="related" DOI link) and the current one (namespaces
declared on the root, "arXiv Query", https links, no DOI link, only <arxiv:doi>).
Pagination: start/max_results; the next page starts at startIndex + itemsPerPage until
totalResults (arXiv serves at most 30000 results to one query).
"""
from __future__ import annotations

from lxml.etree import _Element

from ..ids import arxiv_id
from ..records import PageRecords, Publication, SourceInfo
from ..text import clean_title
from .listing import head, int_or_none, pages, paper_ids, with_params, xml_document, xml_text
from .site import Resource, Site

NAME = "arxiv"
KIND = "listing"
MAX_ROUNDS = 12

NS = {"atom": "http://www.w3.org/2005/Atom", "arxiv": "http://arxiv.org/schemas/atom",
      "os": "http://a9.com/-/spec/opensearch/1.1/"}


def detect(resource: Resource) -> float:
    start = head(resource)
    if "<feed" in start and NS["atom"] in start and ("arxiv.org/api" in start or NS["arxiv"] in start):
        return 0.95
    return 0.0


def _next_url(url: str, feed: _Element) -> str | None:
    total = int_or_none(feed.findtext("os:totalResults", namespaces=NS))
    start = int_or_none(feed.findtext("os:startIndex", namespaces=NS)) or 0
    per_page = int_or_none(feed.findtext("os:itemsPerPage", namespaces=NS))
    if not total or not per_page or start + per_page >= total:
        return None
    return with_params(url, start=start + per_page)


def _publication(entry: _Element) -> Publication | None:
    entry_id = xml_text(entry.find("atom:id", NS))
    aid = arxiv_id(entry_id)
    title = clean_title(xml_text(entry.find("atom:title", NS)))
    if not aid or not title:
        return None
    links = {"arxiv": f"https://arxiv.org/abs/{aid}"}
    for link in entry.findall("atom:link", NS):
        if link.get("title") == "pdf" and link.get("href"):
            links["pdf"] = link.get("href")
    doi_text = xml_text(entry.find("arxiv:doi", NS)) or None
    if doi_text:
        links["doi"] = f"https://doi.org/{doi_text}"
    published = xml_text(entry.find("atom:published", NS))
    return Publication(title=title, authors=[xml_text(a) for a in entry.findall("atom:author/atom:name", NS)],
                       venue=xml_text(entry.find("arxiv:journal_ref", NS)) or None,
                       year=int_or_none(published[:4]), date=published[:10] or None, links=links,
                       ids=paper_ids(doi_text=doi_text, arxiv_text=aid))


def _errors(feed: _Element) -> list[str]:
    """arXiv reports a bad query as a feed with one entry whose id is .../api/errors#..."""
    return [xml_text(e.find("atom:summary", NS)) for e in feed.findall("atom:entry", NS)
            if "/api/errors" in xml_text(e.find("atom:id", NS))]


def parse(site: Site) -> PageRecords:
    records = PageRecords(source=SourceInfo(site.base_url, KIND, NAME))
    first = xml_document(site, site.entry)
    for feed in pages(site, first, _next_url, lambda resource: xml_document(site, resource)):
        records.warnings += [f"{site.base_url}: arXiv API error: {e}" for e in _errors(feed)]
        records.publications += [p for e in feed.findall("atom:entry", NS) if (p := _publication(e))]
    return records
