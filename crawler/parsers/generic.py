"""Generic fallback for hand-written pages: find news and publication lists by structure.

HTML and markdown alike: the page is split by its headings wherever they sit (hand-written
pages nest them in layout `<div>`s); items under a heading titled like news become dated
news items, items under a heading titled like publications become publications when they
have the shape of one (a title plus authors, a venue, a year or links). Sub-headings
inherit their parent's kind unless their own title says otherwise ("Talks").

Pages that render their publication list in the browser (a "Loading..." placeholder
filled by a script from a BibTeX file) are read from that data file by bibtex.py.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin

from lxml.html import HtmlElement

from ..identity import dedupe
from ..ids import doi, ids_from_links, link_kind
from ..records import PageRecords, Publication, SourceInfo
from ..text import clean_title
from .html import DocSection, PageLines, document_sections, link_of, parse_html, text_of
from .markdown import expand_includes, markdown_tree, split_front_matter
from .bibtex import read_bibtex
from .site import Resource, Site, Wish
from .structure import (is_news_title, is_other_title, is_publication_title, news_from_elements,
                        profile_from_page, split_citation, typed_links)

NAME = "generic"
KIND = "homepage"
MAX_SCORE = 0.01  # the most detect() returns (see parsers/__init__.py)

_SCRIPT_SRC = re.compile(r"""<script\b[^>]*\bsrc\s*=\s*["']([^"']+)["']""", re.I)
_DATA_FILE = re.compile(r"""["'`]([^"'`\s]+\.bib)["'`]""")
_LINK_WORDS = re.compile(r"^\W*(pdf|code|arxiv|paper|project|video|slides|poster|bib(tex)?|doi|html|link|website|"
                         r"supp\w*|data(set)?|demo|blog|abstract|cite)\W*$", re.I)


def detect(resource: Resource) -> float:
    return 0.01 if resource.media_type in ("text/html", "text/markdown", "application/xhtml+xml") else 0.0


def page_root(site: Site) -> HtmlElement:
    """The entry page as an HTML tree, whether it is HTML or markdown source."""
    entry = site.entry
    if entry.media_type == "text/markdown":
        _, text = split_front_matter(expand_includes(site, entry))
        return markdown_tree(text)
    return parse_html(entry.text)


def section_kind(section: DocSection) -> str | None:
    """"news", "publications", "other" or None, from the innermost title that says."""
    for title in section.titles():
        if is_other_title(title):
            return "other"
        if is_publication_title(title):
            return "publications"
        if is_news_title(title):
            return "news"
    return None


def publication_from_item(el: HtmlElement, base_url: str, page: PageLines | None = None) -> Publication | None:
    """A list item or paragraph as a publication, if it has the shape of one.

    The title is the longest bold or linked text (authors and link buttons are shorter),
    else the sentence after a recognisable author list. `page`: the lines of the page the
    item is on, found once for all its items.
    """
    # a line break ends a part of the reference as a full stop would
    text = " ".join(t if t[-1] in ".,;:!?" else t + "." for t in (page or PageLines(el)).texts(el))
    texts = [(c, text_of(c)) for c in el.iter("b", "strong", "a")]
    title_el, title_text = None, ""
    for c, t in texts:  # the first longest that is not a link button ("PDF"); tested only if longer
        if len(t) > len(title_text) and not _LINK_WORDS.match(t):
            title_el, title_text = c, t
    title = clean_title(title_text)
    citation = split_citation(text, title) if len(title) >= 12 else split_citation(text)
    if citation is None or len(citation.title) < 12:
        return None
    links: dict[str, str] = {}
    if title_el is not None and title_el.tag == "a" and len(title) >= 12 and title_el.get("href"):
        url = urljoin(base_url, title_el.get("href", "").strip())
        if url.startswith("http"):
            links[link_kind(url) or "paper"] = url
    item_links = [link for c, t in texts if c.tag == "a" and (link := link_of(c, base_url, t))]  # links_of(el)
    for kind, url in typed_links([(u, label) for u, label in item_links if label != title_text]).items():
        links.setdefault(kind, url)
    if not (citation.authors or citation.year or citation.venue or links):
        return None
    ids = ids_from_links(links)
    if "doi" not in ids and "doi" in text.lower() and (found := doi(text)):
        ids["doi"] = found
    return Publication(title=citation.title, authors=citation.authors, venue=citation.venue,
                       year=citation.year, links=links, ids=ids)


def parse(site: Site) -> PageRecords:
    root = page_root(site)
    page = PageLines(root.body if root.find("body") is not None else root)  # all items are in the body
    news, pubs, empty_publication_section = [], [], False
    for section in document_sections(root):
        kind = section_kind(section)
        if kind == "news":
            news += news_from_elements(section.items, site.base_url)
        elif kind == "publications":
            found = [p for item in section.items if (p := publication_from_item(item, site.base_url, page))]
            pubs += found
            empty_publication_section |= not found and section.heading is not None
    warnings: list[str] = []
    if not pubs and empty_publication_section and site.entry.media_type != "text/markdown":
        pubs, warnings = script_data_publications(site)
    profile = profile_from_page(root, site.base_url, page) if site.entry.media_type != "text/markdown" else None
    records = PageRecords(source=SourceInfo(site.base_url, KIND, NAME), news=news, publications=dedupe(pubs),
                          warnings=warnings)
    if profile is not None:
        records.profile = profile
    return records


def script_data_publications(site: Site) -> tuple[list[Publication], list[str]]:
    """Publications of a page that fills its list in the browser: the BibTeX files its own
    scripts fetch (relative URLs resolve against the page, as `fetch()` does).

    When the page's scripts cannot be read (a checkout without its code), the BibTeX
    files beside the page are read instead: in its folder or a direct sub-folder.
    """
    data_urls: list[str] = []
    pending = missing = False
    for src in _SCRIPT_SRC.findall(site.entry.text):
        script_url = site.resolve(src)
        if not script_url.startswith(site.entry.url.split(":", 1)[0]) or "//" in src and not src.startswith("/"):
            continue  # CDN libraries are not the page's own code
        script = site.get(script_url)
        pending |= script is None and Wish(script_url) not in site.fetched
        missing |= script is None and Wish(script_url) in site.fetched
        data_urls += [site.resolve(ref) for ref in _DATA_FILE.findall(script.text)] if script is not None else []
    if not data_urls and missing and not pending:
        data_urls = _bibtex_beside(site)
    pubs: list[Publication] = []
    warnings: list[str] = []
    for url in dict.fromkeys(data_urls):
        data = site.get(url)
        if data is not None:
            found, problems = read_bibtex(data.text, site.public_url_of(data))
            pubs += found
            warnings += problems
    return pubs, warnings


def _bibtex_beside(site: Site, max_folders: int = 12) -> list[str]:
    """The .bib files in the entry's folder and its direct sub-folders (not hidden ones)."""
    folder = site.entry.url.rsplit("/", 1)[0] + "/"
    entries = list(site.listing(folder) or ())
    sub_folders = [e for e in entries if e.endswith("/") and not e.rstrip("/").rsplit("/", 1)[-1].startswith(".")]
    for sub in sub_folders[:max_folders]:
        entries += site.listing(sub) or ()
    return [e for e in entries if e.lower().endswith(".bib")]
