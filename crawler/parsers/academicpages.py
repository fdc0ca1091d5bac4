"""academicpages (github.com/academicpages/academicpages.github.io), from its source or as built.

Source: the home page is `_pages/about.md` (setext headings, `News\\n====`), which some
owners fill with news and a publication list; the template's own place for papers is
the `_publications/` collection at the site root (the folder with `_config.yml`): one
markdown file per paper whose front matter holds title, venue, date, paperurl, citation
and, in many forks, authors. The collection folder is read through `Site.listing`, so
the same code reads a checkout and a site served over HTTP (an autoindex page or
GitHub's contents API).

Built: the home page's `section.page__content` and sidebar; the papers are the
`.archive__item`s of the publications page (`/publications/`), which the parser
follows from the masthead menu.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

from lxml.html import HtmlElement

from ..identity import dedupe
from ..ids import doi, ids_from_links, link_kind
from ..records import PageRecords, Publication, SourceInfo
from ..text import clean, clean_title, normalise_date, split_authors, year_of
from .html import links_of, parse_html, text_of
from .jekyll import (apa_authors, built_profile, front_matter, page_content, page_records, site_config,
                     source_profile, source_tree)
from .markdown import split_front_matter
from .site import Resource, Site
from .structure import is_publication_title, looks_like_name, typed_links

NAME = "academicpages"
KIND = "homepage"
MAX_SCORE = 0.85  # the most detect() returns (see parsers/__init__.py)

_SETEXT_H1 = re.compile(r"^[^\s=-][^\n]*\n=+[ \t]*$", re.M)
# Found with `in`: a regex alternation scans a page that has neither ~100x slower.
_BUILT_MARKERS = (b"academicpages/academicpages.github.io", b">AcademicPages<")
# The papers the template ships as examples ("Paper Title Number 1".."3"): not the owner's.
_TEMPLATE_TITLE = re.compile(r"^Paper Title Number \d+$", re.I)
# Front matter link fields and the kind each is (paperurl: by its URL).
_URL_FIELDS = {"paperurl": None, "slidesurl": "slides", "codeurl": "code", "videourl": "video",
               "posterurl": "poster", "projecturl": "project"}
_FILE_DATE = re.compile(r"/((?:19|20)\d\d-\d\d-\d\d)-[^/]*$")
_MARKUP = re.compile(r"<[^>]+>|(?<!\w)[*_`]{1,3}(?=\S)|(?<=\S)[*_`]{1,3}(?!\w)")
_ARCHIVE_ITEM = "//*[contains(concat(' ', normalize-space(@class), ' '), ' archive__item ')]"


def detect(resource: Resource) -> float:
    if resource.media_type == "text/markdown":
        if "/_publications/" in resource.url:
            return 0.6
        meta, text = split_front_matter(resource.text)
        if not meta or meta.get("layout") == "about":  # al-folio's about page
            return 0.0
        if meta.get("author_profile") is True:
            return 0.6
        return 0.3 if _SETEXT_H1.search(text) else 0.0
    if resource.media_type in ("text/html", "application/xhtml+xml"):
        body = resource.body[:2_000_000]
        if any(marker in body for marker in _BUILT_MARKERS):
            return 0.85
        return 0.6 if b"archive__item-title" in body and b"author__urls" in body else 0.0
    return 0.0


def parse(site: Site) -> PageRecords:
    records = parse_source(site) if site.entry.media_type == "text/markdown" else parse_built(site)
    records.publications = [p for p in dedupe(records.publications) if not _TEMPLATE_TITLE.match(p.title)]
    return records


# --------------------------------------------------------------------------- source tree

def parse_source(site: Site) -> PageRecords:
    records = PageRecords(source=SourceInfo(site.base_url, KIND, NAME))
    if "/_publications/" in site.entry.url:  # one paper's own file
        pub = collection_publication(site, site.entry, front_matter(site, site.entry))
        records.publications = [pub] if pub else []
        return records
    found = site_config(site)
    root = source_tree(site)
    records.news, records.publications = page_records(root, site.base_url)
    records.profile = source_profile(found[1] if found else {}, root, site.base_url)
    if found:
        records.publications += collection(site, found[0] + "_publications/")
    return records


def collection(site: Site, folder: str) -> list[Publication]:
    """The papers of the `_publications/` collection, in file name (date) order."""
    pages = [page for url in site.listing(folder) or ()
             if url.endswith((".md", ".markdown")) and (page := site.get(url)) is not None]
    return [pub for page in pages if (pub := collection_publication(site, page, front_matter(site, page)))]


def collection_publication(site: Site, page: Resource, meta: dict[str, Any]) -> Publication | None:
    """One paper from the front matter of its collection file."""
    if meta.get("published") is False:
        return None
    title = clean_title(_text(meta.get("title")))
    if not title:
        return None
    date = normalise_date(_text(meta.get("date"))) or (m.group(1) if (m := _FILE_DATE.search(page.url)) else None)
    citation = _text(meta.get("citation"))
    authors = split_authors(_text(meta.get("authors"))) if meta.get("authors") else citation_authors(citation, title)
    links: dict[str, str] = {}
    for key, kind in _URL_FIELDS.items():
        value = str(meta.get(key) or "").strip()
        if value.startswith(("http", "/")):
            url = site.public_url(value)
            links.setdefault(kind or link_kind(url) or "paper", url)
    raw_doi = str(meta.get("doi") or "")
    if raw_doi and (found := doi(raw_doi)):
        links.setdefault("doi", f"https://doi.org/{found}")
    return Publication(title=title, authors=authors, venue=_text(meta.get("venue")) or None,
                       year=int(date[:4]) if date else None, links=links, ids=ids_from_links(links),
                       date=date if date and len(date) > 4 else None)


def _text(value: Any) -> str:
    """A front matter value as plain text (markdown emphasis and HTML tags dropped)."""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return clean(_MARKUP.sub("", clean(str(value)))) if value is not None else ""


def citation_authors(citation: str, title: str) -> list[str]:
    """The authors of a free-text citation: an APA list, else the names before the year
    or the title."""
    names, _ = apa_authors(citation)
    if names:
        return names
    before = re.split(r"\((?:19|20)\d\d\)|[\"“]", citation.partition(title)[0], maxsplit=1)[0]
    names = split_authors(before)
    return names if names and all(looks_like_name(n) for n in names) else []


# --------------------------------------------------------------------------- built HTML

def parse_built(site: Site) -> PageRecords:
    root = parse_html(site.entry.text)
    records = PageRecords(source=SourceInfo(site.base_url, KIND, NAME), profile=built_profile(root, site.base_url))
    records.news, records.publications = page_records(page_content(root), site.base_url)
    archived = archive_publications(root, site.base_url)
    if not archived and (url := _publications_page(root, site.base_url)):
        listing = site.get(site.url_for(url))
        if listing is not None:
            archived = archive_publications(parse_html(listing.text), url)
    records.publications += archived
    return records


def _publications_page(root: HtmlElement, base_url: str) -> str | None:
    """The publications page the masthead menu links to (`/publications/`)."""
    for a in root.xpath("//*[contains(@class, 'masthead')]//a[@href]"):
        url = urljoin(base_url, a.get("href", "").strip()).split("#")[0]
        if is_publication_title(text_of(a)) and url.rstrip("/") != base_url.split("#")[0].rstrip("/"):
            return url
    return None


def archive_publications(root: HtmlElement, base_url: str) -> list[Publication]:
    """The papers of a collection page: `.archive__item`s with a "Published in" line or
    a link to a `/publication/` page (talks and posts share the markup)."""
    pubs = []
    for item in root.xpath(_ARCHIVE_ITEM):
        if (pub := archive_item(item, base_url)) is not None:
            pubs.append(pub)
    return pubs


def archive_item(item: HtmlElement, base_url: str) -> Publication | None:
    title_a = next(iter(item.xpath(".//*[contains(@class, 'archive__item-title')]//a[normalize-space()]")), None)
    if title_a is None:
        return None
    title = clean_title(text_of(title_a))
    page = urljoin(base_url, title_a.get("href", "").strip())
    published = next((p for p in item.iter("p") if text_of(p).startswith("Published in")), None)
    if published is None and "/publication" not in page:
        return None
    venue_el = next(published.iter("i", "em"), None) if published is not None else None
    cited = next((p for p in item.iter("p") if text_of(p).startswith("Recommended citation")), None)
    citation = text_of(cited).removeprefix("Recommended citation:").strip() if cited is not None else ""
    links = {"page": page}
    others = [(url, label) for url, label in links_of(item, base_url) if url != page and not url.endswith("#")]
    for kind, url in typed_links(others).items():
        links.setdefault(kind, url)
    return Publication(title=title, authors=citation_authors(citation, title) if citation else [],
                       venue=text_of(venue_el) or None, year=year_of(text_of(published)) if published is not None
                       else None, links=links, ids=ids_from_links(links))
