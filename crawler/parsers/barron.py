"""Jon Barron's academic page template (jonbarron.github.io and its many copies).

One table row per paper; in the text cell, lines separated by `<br>`: the title
(`<papertitle>` in old copies, `<span class="papertitle">` in new ones) usually inside
the project link, the authors (owner in `<strong>`), `<em>Venue</em>, YEAR` plus award
text, then the links separated by slashes, then a description paragraph.
Rows without an author line are not the owner's papers (e.g. "Contributions to X" rows
that only link pull requests), and rows under a "Talks"/"Teaching" heading are skipped.
"""
from __future__ import annotations

import lxml.etree
from lxml.html import HtmlElement

from ..identity import dedupe
from ..ids import ids_from_links, link_kind
from ..records import PageRecords, Publication, SourceInfo
from ..text import clean_title, split_authors, year_of
from .html import HEADINGS, Line, lines_of, parse_html, raw_text_of, text_of
from .site import Resource, Site
from .structure import is_other_title, profile_from_page, typed_links

NAME = "barron"
KIND = "homepage"

# Paper titles are `<papertitle>` elements or elements of class "papertitle"; old copies
# write section headings as a `<heading>` element.
_TITLE_AND_HEADING_TAGS = ("papertitle", "heading", *HEADINGS)
# The class test walks the class attributes (the parent of each that matches), a cheap
# substring test before the token test: ~2x the token test alone, ~5x a test of every element.
_CLASSED_TITLES = lxml.etree.XPath(
    "descendant-or-self::*/@class[contains(., 'papertitle')]"
    "[contains(concat(' ', normalize-space(.), ' '), ' papertitle ')]/..")
#: Title, authors, venue, links and a spare: the description below is never needed.
_ROW_LINES = 6


def detect(resource: Resource) -> float:
    if resource.media_type not in ("text/html", "application/xhtml+xml"):
        return 0.0
    head = resource.body[:400_000]
    return 0.9 if b"papertitle" in head and b"<td" in head else 0.0


def parse(site: Site) -> PageRecords:
    root = parse_html(site.entry.text)
    pubs = []
    for title_el, heading in _titles_with_headings(root):
        if heading and is_other_title(heading):
            continue
        if (pub := publication_from_title(title_el, site.base_url)) is not None:
            pubs.append(pub)
    return PageRecords(source=SourceInfo(site.base_url, KIND, NAME),
                       profile=profile_from_page(root, site.base_url), publications=dedupe(pubs))


def _titles_with_headings(root: HtmlElement) -> list[tuple[HtmlElement, str]]:
    """Each paper title with the text of the last heading before it."""
    out, heading = [], ""
    for el in _titles_and_headings(root):
        if el.tag in HEADINGS or el.tag == "heading":
            heading = text_of(el)
        else:
            out.append((el, heading))
    return out


def _titles_and_headings(root: HtmlElement) -> list[HtmlElement]:
    """Paper titles and headings in document order: one walk of the tree in C over the
    tags they have (an XPath union of them walks it once per tag, then sorts)."""
    classed = set(_CLASSED_TITLES(root))
    tags = {*_TITLE_AND_HEADING_TAGS, *(el.tag for el in classed)}
    return [el for el in root.iter(*tags) if el.tag in _TITLE_AND_HEADING_TAGS or el in classed]


def publication_from_title(title_el: HtmlElement, base_url: str) -> Publication | None:
    cell = next(iter(title_el.iterancestors("td", "div", "li")), None)
    title = clean_title(text_of(title_el))
    if cell is None or not title:
        return None
    lines = lines_of(cell, max_lines=_ROW_LINES)
    start = next((i for i, line in enumerate(lines) if title_el in line.elements), None)
    if start is None:
        return None
    rest = lines[start + 1:]
    if not rest or _is_link_line(rest[0]):
        return None  # no author line: not the owner's paper
    authors = split_authors(rest[0].text)
    if not authors:
        return None
    venue_line = rest[1] if len(rest) > 1 and not _is_link_line(rest[1]) else None
    venue, year = _venue_and_year(venue_line)
    links: dict[str, str] = {}
    for line in rest[1:]:
        if line is not venue_line and _is_link_line(line):
            for kind, url in typed_links(line.links(base_url)).items():
                links.setdefault(kind, url)
    for url, label in lines[start].links(base_url):  # the title's own link: by URL, else the project
        if url.startswith("http") and title in clean_title(label):
            links.setdefault(link_kind(url) or "project", url)
    links = {kind: url for kind, url in links.items() if url.startswith("http")}
    return Publication(title=title, authors=authors, venue=venue, year=year, links=links,
                       ids=ids_from_links(links))


def _is_link_line(line: Line) -> bool:
    """A line made of links and separators only ("project page / arXiv / code")."""
    anchors = line.tagged("a")
    if not anchors:
        return False
    text = "".join(line.parts)
    if "," in text:
        return False
    linked = sum(len("".join(raw_text_of(a).split())) for a in anchors)
    return linked >= 0.6 * len("".join(text.split()).replace("/", ""))


def _venue_and_year(line: Line | None) -> tuple[str | None, int | None]:
    """`<em>CVPR</em>, 2025 (Oral)`: the emphasised venue and the year after it."""
    if line is None:
        return None, None
    emphasised = [text_of(el) for el in line.tagged("em", "i")]
    venue = next((v for v in emphasised if v), None)
    if venue is None:
        venue = line.text.split(",")[0].strip() or None
    return venue, year_of(line.text)
