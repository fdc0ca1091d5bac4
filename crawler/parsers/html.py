"""lxml helpers every HTML-reading parser shares: the tree, its text, its links, its sections.

lxml, not BeautifulSoup: the benchmark in bench/ shows a full homepage parse must cost
a tenth of BeautifulSoup's tree building alone, and lxml.html builds its tree ~15x faster.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin

import lxml.etree
import lxml.html
from lxml.html import HtmlElement

from ..text import clean

_DROP = ("script", "style", "noscript", "template", "svg")
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def parse_html(text: str) -> HtmlElement:
    """A forgiving tree of an HTML document or fragment, without scripts and styles.

    Comments stay in the tree but never reach text: text_of() reads text nodes only.
    """
    if text.startswith("<?xml"):  # lxml refuses str input with an encoding declaration
        text = re.sub(r"^<\?xml[^>]*\?>", "", text)
    try:
        root = lxml.html.document_fromstring(text or "<html></html>")
    except (lxml.etree.ParserError, ValueError):
        root = lxml.html.document_fromstring("<html></html>")
    for el in list(root.iter(*_DROP)):
        el.drop_tree()
    return root


def text_of(el: HtmlElement | None) -> str:
    """The visible text of an element, cleaned (entities, whitespace, mojibake)."""
    if el is None:
        return ""
    return clean(el.text_content())


def links_of(el: HtmlElement, base_url: str) -> list[tuple[str, str]]:
    """(absolute URL, label) of every link under `el` (itself included), in order.

    An image link (a badge) is labelled with its alt text.
    """
    out = []
    for a in el.iter("a"):
        href = (a.get("href") or "").strip()
        if not href:
            continue
        label = text_of(a) or " ".join(img.get("alt") or "" for img in a.iter("img")).strip()
        out.append((urljoin(base_url, href), label))
    return out


@dataclass
class Section:
    """A heading and the elements that follow it up to the next heading of its level or above."""

    title: str
    level: int
    heading: HtmlElement | None
    elements: list[HtmlElement] = field(default_factory=list)


def _heading_level(el: HtmlElement) -> int | None:
    tag = el.tag if isinstance(el.tag, str) else ""
    return int(tag[1]) if tag in HEADINGS else None


def sections(container: HtmlElement) -> list[Section]:
    """Split a flat run of block elements (rendered markdown, a page body) by headings.

    Each section holds its direct content elements; nested sub-sections also appear as
    sections of their own, so a "Publications" section includes its "2024" subsection.
    """
    out: list[Section] = []
    open_sections: list[Section] = []
    preamble = Section("", 0, None)
    out.append(preamble)
    for el in container:
        if not isinstance(el.tag, str):
            continue
        level = _heading_level(el)
        if level is not None:
            while open_sections and open_sections[-1].level >= level:
                open_sections.pop()
            section = Section(text_of(el), level, el)
            out.append(section)
            open_sections.append(section)
            for parent in open_sections[:-1]:
                parent.elements.append(el)
            continue
        targets = open_sections or [preamble]
        for section in targets:
            section.elements.append(el)
    return out


def iter_blocks(elements: list[HtmlElement], tags: tuple[str, ...]) -> Iterator[HtmlElement]:
    """Elements of the given tags among `elements` and their descendants, in order."""
    for el in elements:
        if el.tag in tags:
            yield el
        else:
            yield from el.iter(*tags)
