"""DBLP person XML (https://dblp.org/pid/PID.xml): the whole bibliography in one document.

DBLP disambiguates people with a four-digit suffix ("Di Xu 0001"); it is an id, not part
of the name, so it is dropped from names (the pid keeps the person apart). Titles end
with a full stop by DBLP convention; it is dropped too.
"""
from __future__ import annotations

import re

from lxml.etree import _Element

from ..ids import arxiv_id, doi
from ..records import Metrics, PageRecords, Profile, Publication, SourceInfo
from ..text import clean_title
from .listing import head, int_or_none, paper_ids, xml_document, xml_text
from .site import Resource, Site

NAME = "dblp"
KIND = "listing"

_HOMONYM = re.compile(r"\s+\d{4}$")


def detect(resource: Resource) -> float:
    return 0.95 if "<dblpperson" in head(resource) else 0.0


def person_name(name: str) -> str:
    """"Di Xu 0001" -> "Di Xu"."""
    return _HOMONYM.sub("", name)


def _links(record: _Element) -> dict[str, str]:
    """Electronic editions (`ee`): the DOI resolver link, arXiv, else the first one."""
    links: dict[str, str] = {}
    for ee in record.findall("ee"):
        url = (ee.text or "").strip()
        if not url:
            continue
        if doi(url) and "doi.org/" in url:
            links.setdefault("doi", url)
        elif arxiv_id(url):
            links.setdefault("arxiv", url)
        else:
            links.setdefault("paper", url)
    return links


def _publication(record: _Element) -> Publication | None:
    title = clean_title(xml_text(record.find("title")))
    if not title:
        return None
    links = _links(record)
    venue = xml_text(record.find("booktitle")) or xml_text(record.find("journal")) or None
    return Publication(title=title, authors=[person_name(xml_text(a)) for a in record.findall("author")]
                       or [person_name(xml_text(e)) for e in record.findall("editor")],
                       venue=venue, year=int_or_none(xml_text(record.find("year"))), links=links,
                       ids=paper_ids(doi_text=links.get("doi"), arxiv_text=links.get("arxiv"),
                                     dblp=record.get("key")))


def parse(site: Site) -> PageRecords:
    root = xml_document(site, site.entry)
    person = root.find("person")
    affiliation = person.find("note[@type='affiliation']") if person is not None else None
    profile = Profile(name=person_name(root.get("name") or "") or None,
                      affiliation=xml_text(affiliation) or None,
                      ids={"dblp": pid} if (pid := root.get("pid")) else {},
                      metrics=Metrics(papers=int_or_none(root.get("n"))))
    if person is not None:
        for url in person.findall("url"):
            if url.text:
                profile.links.setdefault("homepage", url.text.strip())
    pubs = [p for r in root.findall("r") for record in r if (p := _publication(record))]
    return PageRecords(source=SourceInfo(site.base_url, KIND, NAME), profile=profile, publications=pubs)
