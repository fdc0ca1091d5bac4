"""Generic fallback for hand-written pages: find news and publication lists by structure.

HTML and markdown alike: the page is split by headings; sections titled like news give
dated items, sections titled like publications give one record per list item.
"""
from __future__ import annotations

from lxml.html import HtmlElement

from ..identity import dedupe
from ..ids import ids_from_links, link_kind
from ..records import PageRecords, Publication, SourceInfo
from ..text import clean_title, split_authors, year_of
from .html import iter_blocks, links_of, parse_html, sections, text_of
from .markdown import expand_includes, markdown_tree, split_front_matter
from .site import Resource, Site
from .structure import news_from_elements, news_sections, publication_sections

NAME = "generic"
KIND = "homepage"


def detect(resource: Resource) -> float:
    return 0.01 if resource.media_type in ("text/html", "text/markdown", "application/xhtml+xml") else 0.0


def page_body(site: Site) -> HtmlElement:
    """The entry page as an HTML body, whether it is HTML or markdown source."""
    entry = site.entry
    if entry.media_type == "text/markdown":
        _, text = split_front_matter(expand_includes(site, entry))
        return markdown_tree(text)
    body = parse_html(entry.text).body
    return body if body is not None else parse_html("<html><body></body></html>").body


def publication_from_item(el: HtmlElement, base_url: str) -> Publication | None:
    """A list item as a publication: the title is its first bold or linked text."""
    title_el = next(iter(el.xpath(".//*[self::b or self::strong or self::a][normalize-space()][1]")), None)
    title = clean_title(text_of(title_el)) if title_el is not None else ""
    if len(title) < 12:
        return None
    rest = text_of(el).replace(text_of(title_el), " ", 1)
    links: dict[str, str] = {}
    for url, label in links_of(el, base_url):
        kind = link_kind(url, label)
        if kind:
            links.setdefault(kind, url)
    first_line = rest.split(".")[0]
    return Publication(title=title, authors=split_authors(first_line) if "," in first_line else [],
                       year=year_of(rest), links=links, ids=ids_from_links(links))


def parse(site: Site) -> PageRecords:
    body = page_body(site)
    found = sections(body)
    news = [n for s in news_sections(found) for n in news_from_elements(s.elements, site.base_url)]
    pubs = [p for s in publication_sections(found)
            for li in iter_blocks(s.elements, ("li",))
            if (p := publication_from_item(li, site.base_url))]
    return PageRecords(source=SourceInfo(site.base_url, KIND, NAME), news=news, publications=dedupe(pubs))
