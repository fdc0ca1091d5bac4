"""ORCID public API v3.0 works (pub.orcid.org/v3.0/ORCID/works, Accept: application/json).

One publication per group (ORCID groups the copies of one work that several sources
added), read from the group's first work-summary. The works summary carries no authors.
Files saved by scripts are not always UTF-8 (the corpus copy is cp1252): the bytes go
through text.decode, which detects that.
"""
from __future__ import annotations

import re
from typing import Any

from ..records import PageRecords, Profile, Publication, SourceInfo
from ..text import clean_title
from .listing import head, int_or_none, json_document, looks_like_json, paper_ids, text_or_none
from .site import Resource, Site

NAME = "orcid"
KIND = "listing"

_ORCID = re.compile(r"\b(\d{4}-\d{4}-\d{4}-\d{3}[\dX])\b")


def detect(resource: Resource) -> float:
    start = head(resource)
    if not looks_like_json(resource):
        return 0.0
    return 0.9 if '"work-summary"' in start or ('"group"' in start and '"external-id-type"' in start) else 0.0


def _value(node: Any, *path: str) -> Any:
    """node[path[0]][path[1]]...; None as soon as a step is missing (ORCID nulls freely)."""
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _external_ids(*nodes: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in nodes:
        for ext in _value(node, "external-ids", "external-id") or []:
            kind, value = ext.get("external-id-type"), ext.get("external-id-value")
            if kind and value and ext.get("external-id-relationship", "self") == "self":
                found.setdefault(kind.lower(), value)
    return found


def _publication(group: dict) -> Publication | None:
    summaries = group.get("work-summary") or []
    if not summaries:
        return None
    work = summaries[0]
    title = clean_title(_value(work, "title", "title", "value") or "")
    if not title:
        return None
    external = _external_ids(group, work)
    links = {"page": url} if (url := _value(work, "url", "value")) else {}
    if external.get("doi"):
        links["doi"] = f"https://doi.org/{external['doi']}"
    day = [_value(work, "publication-date", part, "value") for part in ("year", "month", "day")]
    return Publication(title=title, venue=text_or_none(_value(work, "journal-title", "value")),
                       year=int_or_none(day[0]), date="-".join(p for p in day if p) or None, links=links,
                       ids=paper_ids(doi_text=external.get("doi"), arxiv_text=external.get("arxiv"),
                                     pmid=external.get("pmid")))


def _orcid_of(groups: list[dict], url: str) -> str | None:
    """The iD the works belong to: from the request URL, else from a work's own path
    ("/0000-0002-4481-0115/work/181049293")."""
    paths = [url] + [str(_value(g, "work-summary")[0].get("path") or "") for g in groups[:1]
                     if _value(g, "work-summary")]
    return next((m.group(1) for p in paths if (m := _ORCID.search(p))), None)


def parse(site: Site) -> PageRecords:
    document = json_document(site, site.entry)
    groups = [g for g in (document.get("group") or []) if isinstance(g, dict)] if isinstance(document, dict) else []
    profile = Profile()
    if orcid := _orcid_of(groups, site.base_url):
        profile.ids["orcid"] = orcid
        profile.links["orcid"] = f"https://orcid.org/{orcid}"
    return PageRecords(source=SourceInfo(site.base_url, KIND, NAME), profile=profile,
                       publications=[p for g in groups if (p := _publication(g))])
