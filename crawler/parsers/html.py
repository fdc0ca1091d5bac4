"""lxml helpers every HTML-reading parser shares: the tree, its text, its links, its sections.

lxml, not BeautifulSoup: the benchmark in bench/ shows a full homepage parse must cost
a tenth of BeautifulSoup's tree building alone, and lxml.html builds its tree ~15x faster.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urljoin

import lxml.etree
import lxml.html
from lxml.html import HtmlElement

from ..text import clean

_SPACE = re.compile(r"\s")
_DROP = ("script", "style", "noscript", "template", "svg")
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")

# lxml.html's own parser picks each element's class (form, input, label, ...) by calling
# back into Python every time an element is touched from Python, which cost more than the
# parse itself on a walk over a page. Every element here is a plain HtmlElement (the
# form classes add nothing the parsers read), chosen in C.
_PARSER = lxml.html.HTMLParser()
_PARSER.set_element_class_lookup(lxml.etree.ElementDefaultClassLookup(
    element=HtmlElement, comment=lxml.html.HtmlComment, pi=lxml.html.HtmlProcessingInstruction,
    entity=lxml.html.HtmlEntity))


def parse_html(text: str) -> HtmlElement:
    """A forgiving tree of an HTML document or fragment, without scripts and styles.

    Comments stay in the tree but never reach text: text_of() reads text nodes only.
    """
    if text.startswith("<?xml"):  # lxml refuses str input with an encoding declaration
        text = re.sub(r"^<\?xml[^>]*\?>", "", text)
    try:
        root = lxml.html.document_fromstring(text or "<html></html>", parser=_PARSER)
    except (lxml.etree.ParserError, ValueError):
        root = lxml.html.document_fromstring("<html></html>", parser=_PARSER)
    for el in list(root.iter(*_DROP)):
        el.drop_tree()
    return root


def text_of(el: HtmlElement | None) -> str:
    """The visible text of an element, cleaned (entities, whitespace, mojibake)."""
    return "" if el is None else clean(raw_text_of(el))


def raw_text_of(el: HtmlElement) -> str:
    """Every text node below el, as written: the string of el.text_content(), serialised
    in C instead of through an XPath evaluation (~3x faster; this runs on every record)."""
    if not len(el):  # no child nodes: its text is all (most titles, labels and links)
        return el.text or ""
    return lxml.etree.tostring(el, method="text", encoding=str, with_tail=False)


def links_of(el: HtmlElement, base_url: str) -> list[tuple[str, str]]:
    """(absolute URL, label) of every link under `el` (itself included), in order.

    An image link (a badge) is labelled with its alt text.
    """
    # a walk costs more than the link itself: an element without child nodes is its own
    anchors = el.iter("a") if len(el) else (el,) if el.tag == "a" else ()
    return [link for a in anchors if (link := link_of(a, base_url))]


def link_of(a: HtmlElement, base_url: str, text: str | None = None) -> tuple[str, str] | None:
    """(absolute URL, label) of one link, None without an href; `text`: its text_of() when
    the caller has it already."""
    href = (a.get("href") or "").strip()
    if not href:
        return None
    label = (text_of(a) if text is None else text) or " ".join(img.get("alt") or "" for img in a.iter("img")).strip()
    return absolute_url(base_url, href), label


def absolute_url(base_url: str, href: str) -> str:
    """`urljoin`, without its cost for the common already-absolute link."""
    if href.startswith(("https://", "http://", "mailto:")) and _SPACE.search(href) is None:
        return href
    return urljoin(base_url, href)


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


# --------------------------------------------------------------------------- lines

#: Elements that start a new visual line; everything else flows inline.
BLOCK_TAGS = frozenset(("address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
                        "figcaption", "figure", "footer", "form", "header", "hr", "li", "main", "nav",
                        "ol", "p", "section", "table", "tbody", "td", "th", "thead", "tr", "ul",
                        *HEADINGS))


@dataclass
class Line:
    """One visual line of an element: the text between two `<br>`s or block boundaries,
    with the elements it contains (to find the title line, the `<em>` venue, the links)."""

    parts: list[str] = field(default_factory=list)
    elements: list[HtmlElement] = field(default_factory=list)

    @cached_property
    def text(self) -> str:
        """Cleaned on first use only: most lines of a page are never read."""
        return clean("".join(self.parts))

    def is_blank(self) -> bool:
        return all(not part or part.isspace() for part in self.parts)

    def tagged(self, *tags: str) -> list[HtmlElement]:
        return [el for el in self.elements if el.tag in tags]

    def links(self, base_url: str) -> list[tuple[str, str]]:
        return [link for a in self.tagged("a") for link in links_of(a, base_url)]


def lines_of(el: HtmlElement, max_lines: int | None = None) -> list[Line]:
    """The non-empty visual lines of an element, in reading order.

    Barron-style rows and free-text citations put title, authors, venue and links on
    lines separated by `<br>`; this recovers those lines without serialising the tree.
    One flat loop over el.iter() (document order, in C) with a stack of the open
    elements: an element ends, and its tail flows on, when the next node is not inside
    it (a final None ends all but el). This runs on every record of every page.
    """
    lines: list[Line] = []
    parts: list[str] = []
    elements: list[HtmlElement] = []
    open_elements: list[tuple[HtmlElement, bool]] = []  # (element, is a block), outermost first
    for node in itertools.chain(el.iter(), (None,)):
        parent = el if node is None else node.getparent()
        while open_elements and open_elements[-1][0] is not parent:
            done, block = open_elements.pop()
            if block:  # a line ends; a blank one is dropped with its elements
                if parts and not "".join(parts).isspace():
                    lines.append(Line(parts, elements))
                    if max_lines is not None and len(lines) >= max_lines:
                        return lines
                parts, elements = [], []
            if tail := done.tail:
                parts.append(tail)
        if node is None:
            break
        tag = node.tag
        if tag.__class__ is not str:  # a comment or processing instruction: only its tail shows
            if tail := node.tail:
                parts.append(tail)
            continue
        block = tag in BLOCK_TAGS
        if block:  # a line ends; a blank one is dropped with its elements
            if parts and not "".join(parts).isspace():
                lines.append(Line(parts, elements))
                if max_lines is not None and len(lines) >= max_lines:
                    return lines
            parts, elements = [], []
        elements.append(node)
        if text := node.text:
            parts.append(text)
        open_elements.append((node, block))
    if parts and not "".join(parts).isspace():
        lines.append(Line(parts, elements))
    return lines


# The same lines' text, by a stylesheet run in C that marks where each block element
# starts and ends: ~5x faster than the walk on a whole page, where only the text is read.
# A mark is a Unicode noncharacter (never in a page's text; checked anyway), followed by
# a second one where a block ends.
_MARK, _END = "\ufdd0", "\ufdd1"
_MARK_BLOCKS = lxml.etree.XSLT(lxml.etree.XML(
    '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">'
    '<xsl:output method="text" encoding="UTF-8"/>'
    f'<xsl:template match="{"|".join(sorted(BLOCK_TAGS))}">'
    '&#xFDD0;<xsl:apply-templates/>&#xFDD0;&#xFDD1;</xsl:template>'
    '</xsl:stylesheet>'))


@dataclass
class _MarkedText:
    """The text of an element cut at every start and end of a block element in it (itself
    included): each piece cleaned (None if blank), and the k-th block's first piece and
    the piece after its last, for the k-th block of the tree in document order."""

    lines: list[str | None]
    firsts: list[int]
    ends: list[int]


def _marked_text(el: HtmlElement, blocks: int) -> _MarkedText | None:
    """el's text cut at the marks of its `blocks` block elements; None if the text itself
    holds a mark (the stylesheet writes exactly two _MARKs and one _END per block)."""
    text = str(_MARK_BLOCKS(el))
    if text.count(_MARK) != 2 * blocks or text.count(_END) != blocks:
        return None
    pieces = text.split(_MARK)
    firsts: list[int] = []
    ends: list[int] = []
    open_blocks: list[int] = []
    for i in range(1, len(pieces)):  # piece i follows mark i - 1
        if pieces[i][:1] == _END:  # the innermost open block ends
            ends[open_blocks.pop()] = i
            pieces[i] = pieces[i][1:]
        else:
            open_blocks.append(len(firsts))
            firsts.append(i)
            ends.append(i)
    lines = [clean(piece) if piece and not piece.isspace() else None for piece in pieces]
    return _MarkedText(lines, firsts, ends)


def line_texts(el: HtmlElement) -> list[str]:
    """`[line.text for line in lines_of(el)]`, for reading a whole page's text line by line."""
    marked = _marked_text(el, sum(1 for _ in el.iter(*BLOCK_TAGS)))
    if marked is None:
        return [line.text for line in lines_of(el)]
    return [line for line in marked.lines if line]  # a piece of only zero-width characters cleans to ""


class PageLines:
    """The line texts of every block element of a page, from one pass in C: what
    `line_texts(el)` gives for each, without a pass per element (one per record)."""

    def __init__(self, root: HtmlElement) -> None:
        self.root = root

    @cached_property
    def _index(self) -> tuple[list[str | None], dict[HtmlElement, tuple[int, int]]] | None:
        """The page's cleaned pieces (cleaned once for every record that reads them) and
        each block's span of them; None if the text holds a mark."""
        blocks = list(self.root.iter(*BLOCK_TAGS))
        marked = _marked_text(self.root, len(blocks))
        if marked is None:
            return None
        return marked.lines, dict(zip(blocks, zip(marked.firsts, marked.ends)))

    def texts(self, el: HtmlElement) -> list[str]:
        """`line_texts(el)`: read from the page's pass when el is the root or a block in it."""
        index = self._index
        span = None if index is None else (0, len(index[0])) if el is self.root else index[1].get(el)
        if span is None:
            return line_texts(el)
        return [line for line in index[0][span[0]:span[1]] if line]


# --------------------------------------------------------------------------- sections in document order

#: Elements that hold one record each on hand-written pages.
ITEM_TAGS = ("li", "p", "tr", "dd", "dt")


@dataclass
class DocSection:
    """A heading anywhere in the page and the record-sized blocks that follow it up to the
    next heading, in document order; `parent` is the enclosing section (a lower level)."""

    title: str
    level: int
    heading: HtmlElement | None
    parent: DocSection | None = None
    items: list[HtmlElement] = field(default_factory=list)

    def titles(self) -> Iterator[str]:
        """Its own title, then its ancestors' (innermost first)."""
        section: DocSection | None = self
        while section is not None:
            yield section.title
            section = section.parent


def document_sections(root: HtmlElement) -> list[DocSection]:
    """Split a page of nested markup by its headings, wherever they sit.

    Hand-written pages wrap headings in their own `<div>`s, so a heading's content is not
    its siblings but what follows it in document order. Each item (list item, paragraph,
    table row, definition without a heading inside) goes to the innermost open section;
    items nested in another item are left to their outer item.
    """
    top = DocSection("", 0, None)
    out = [top]
    open_sections = [top]
    holds_heading = {above for heading in root.iter(*HEADINGS) for above in heading.iterancestors()}

    # A loop over an explicit stack, not a recursive closure: the closure would reference
    # itself, and that cycle would keep the whole lxml document alive until a full
    # garbage collection (measured: ~10 MB of dead pages held during a crawl).
    stack = [root]
    while stack:
        el = stack.pop()
        tag = el.tag if isinstance(el.tag, str) else None
        if tag in HEADINGS:
            level = int(tag[1])
            while open_sections[-1].level >= level:
                open_sections.pop()
            section = DocSection(text_of(el), level, el, open_sections[-1])
            out.append(section)
            open_sections.append(section)
        elif tag in ITEM_TAGS and el not in holds_heading:
            open_sections[-1].items.append(el)
        else:
            stack.extend(reversed(el))   # children, first one on top: document order
    return out
