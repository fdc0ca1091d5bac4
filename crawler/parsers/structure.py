"""Finding records by page structure: which sections hold news or publications, and how
a dated list item becomes a news item. Shared by the template parsers and the generic one.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import lxml.etree
from lxml.html import HtmlElement

from ..ids import link_kind
from ..records import NewsItem, Profile
from ..text import clean, clean_title, split_authors, split_leading_date, year_of
from .html import PageLines, Section, absolute_url, iter_blocks, links_of, text_of

_NEWS_TITLE = re.compile(r"\b(news|updates?|announcements?|what'?s new|recent|latest|highlights)\b", re.I)
_PUB_TITLE = re.compile(r"\b(publications?|papers?|preprints?|selected works|articles|"
                        r"conference|journals?|manuscripts?)\b", re.I)
# Sections that look dated or listy but hold no news or papers ("Post-Training" is a topic).
_OTHER_TITLE = re.compile(r"\b(talks?|teaching|services?|honou?rs?|awards?|education|experience|"
                          r"internships?|visitors?|blog|posts?|software|projects?|students?|"
                          r"reviewer|grants?|patents?|media|press|presentations?)\b(?!-)", re.I)


def is_news_title(title: str) -> bool:
    return bool(_NEWS_TITLE.search(title)) and not _PUB_TITLE.search(title)


def is_publication_title(title: str) -> bool:
    """"Publications", "Selected Papers", "Recent Publications" (but not "Talks")."""
    return bool(_PUB_TITLE.search(title))


def is_other_title(title: str) -> bool:
    return bool(_OTHER_TITLE.search(title)) and not _PUB_TITLE.search(title) and not _NEWS_TITLE.search(title)


def news_sections(all_sections: list[Section]) -> list[Section]:
    return [s for s in all_sections if s.heading is not None and is_news_title(s.title)]


def publication_sections(all_sections: list[Section]) -> list[Section]:
    return [s for s in all_sections if s.heading is not None and is_publication_title(s.title)]


def news_item(el: HtmlElement, base_url: str, require_date: bool = True) -> NewsItem | None:
    """A list item or paragraph that starts with a date, as a news item."""
    text = text_of(el)
    written, iso, rest = split_leading_date(text)
    if written is None and require_date:
        return None
    rest = clean(rest)
    if not rest:
        return None
    links = [url for url, _ in links_of(el, base_url) if url.startswith("http")]
    return NewsItem(text=rest, date=written, date_iso=iso, links=links)


def news_from_elements(elements: list[HtmlElement], base_url: str) -> list[NewsItem]:
    """Dated list items (or, without lists, dated paragraphs) under the given elements."""
    items = [n for el in iter_blocks(elements, ("li",)) if (n := news_item(el, base_url))]
    if not items:
        items = [n for el in iter_blocks(elements, ("p", "tr", "div")) if (n := news_item(el, base_url))]
    return items


# --------------------------------------------------------------------------- citations

# "Durant, F., Lobo, D., and Levin, M.," : surname, initials; the form many CVs use.
_INVERTED_AUTHORS = re.compile(
    r"^\s*(?:[A-Z][\w'’-]+(?:[ -][A-Z][\w'’-]+)*,\s*(?:[A-Z][a-z]?\.\s*-?)+"
    r"(?:,\s*(?:and\s+|&\s*)?|\s+(?:and|&)\s+|\s*(?=\(|$|[A-Z][a-z]))?)+")
# A sentence end: a period after a word of two or more letters (not an initial). The
# punctuation comes first and the letters are looked behind from it, so that the regex
# engine skips to the next [.?!] instead of trying every position.
_SENTENCE_END = re.compile(r"[.?!](?<=[\w)\]”\"]{2}[.?!])\s+(?=[A-Z“\"‘'(\[])")
_LEADING_YEAR = re.compile(r"^[\s,;:.]*\(?(?:19|20)\d\d[a-z]?\)?[\s,;:.]*")
_TRAILING_YEAR = re.compile(r"\(?\b(?:19|20)\d\d[a-z]?\b\)?[\s,.;:]*$")
_FULL_MONTHS = "|".join(("January", "February", "March", "April", "May", "June", "July", "August",
                         "September", "October", "November", "December"))
_VENUE_END = re.compile(r"\b(?:DOI|doi)\s*:|https?://|\barXiv:|\bPoster abstract\b|"
                        r",?\s*\(?\b(?:19|20)\d\d\b|,\s*(?:" + _FULL_MONTHS + r")\b")
# Where each _VENUE_END alternative begins (the year: after an optional comma, spaces and
# parenthesis); every alternative starts with a literal, so the engine skips to the
# first candidate at C speed, where _VENUE_END itself tries every position.
_VENUE_END_ANCHOR = re.compile(r"DOI|doi|https?://|arXiv:|Poster abstract|19\d\d|20\d\d|,\s*(?:" + _FULL_MONTHS + ")")


@dataclass
class Citation:
    """A free-text reference split into its parts (each may be missing)."""

    authors: list[str]
    title: str
    venue: str | None
    year: int | None


def split_citation(text: str, title: str | None = None) -> Citation | None:
    """Split `Authors, (Year), Title, Venue, DOI: ...` or `Authors. Title. In: Venue, date.`

    With `title` known (a linked or bold title), the authors are before it and the venue
    after it; without, the author list is recognised by its shape and the title is the
    sentence after it.
    """
    text = clean(text)
    if title:
        before, found, after = text.partition(title)
        if not found:
            return None
    else:
        m = _INVERTED_AUTHORS.match(text)
        if m and m.end() > 0:
            before, rest = text[:m.end()], text[m.end():]
        else:
            parts = _SENTENCE_END.split(text, maxsplit=1)
            if len(parts) < 2:
                return None
            before, rest = parts
        rest = _LEADING_YEAR.sub("", rest)
        pieces = _SENTENCE_END.split(rest, maxsplit=1)
        title, after = pieces[0], (pieces[1] if len(pieces) > 1 else "")
    title = clean_title(title)
    if not title:
        return None
    authors_text = _LEADING_YEAR.sub("", _TRAILING_YEAR.sub("", before.strip()))
    authors = split_authors(authors_text)
    if _name_like(authors):
        venue = venue_of(after)
    else:  # "Title. Authors. Venue" and "VENUE 2023 · Title · Authors" layouts
        pieces = _SENTENCE_END.split(after.strip(" .,;:|"), maxsplit=1)
        swapped = split_authors(pieces[0])
        if _name_like(swapped):
            authors = swapped
            venue = venue_of(before) or (venue_of(pieces[1]) if len(pieces) > 1 else None)
        else:
            authors, venue = [], venue_of(after)
    return Citation(authors=authors, title=title, venue=venue, year=year_of(before) or year_of(after))


# A name word: capitalised (initials included), or a short particle ("de", "van").
_NAME_WORD = r"(?:[A-Z\u00c0-\u024f][\w'’.-]*|[a-z]{1,3})"
# Every word (split on spaces and commas) a name word, in one match; the alternatives
# never match the same word, so a long non-name fails fast.
_NAME_WORDS = re.compile(r"[\s,]*(?:" + _NAME_WORD + r"(?:[\s,]+" + _NAME_WORD + r")*[\s,]*)?")


def _name_like(names: list[str]) -> bool:
    """Whether every string looks like a person's name (1-5 capitalised words, no digits)."""
    return bool(names) and all(map(_is_name, names))


@functools.lru_cache(maxsize=8192)  # names repeat: the owner's on every paper, co-authors'
def _is_name(text: str) -> bool:
    return 0 < len(text.split()) <= 5 and not any(map(str.isdigit, text)) and _NAME_WORDS.fullmatch(text) is not None


_VENUE_START = re.compile(r"^[\s.,;:]*(?:In\s*:|in\s+)?\s*")


def _venue_end(text: str) -> int | None:
    """Where `_VENUE_END` first matches (None: nowhere), searched from the first anchor:
    a match starts at its anchor, or before it only over a comma, spaces and a "(" ."""
    anchor = _VENUE_END_ANCHOR.search(text)
    if anchor is None:
        return None
    start = anchor.start()
    while start and (text[start - 1] in ",(" or text[start - 1].isspace()):
        start -= 1
    end = _VENUE_END.search(text, start)
    return end.start() if end else None


def looks_like_name(text: str) -> bool:
    """Whether a string looks like one person's name (`Dit-Yan Yeung`, `Liu, H.`, `B Li`)."""
    return _name_like([text])


def venue_of(text: str) -> str | None:
    """The venue at the start of the text after a title: `, in Venue, 2016. DOI: ...`."""
    if not text:
        return None
    text = text[:_venue_end(text)]
    text = _VENUE_START.sub("", text)
    text = text.strip(" .,;:")
    return text or None


# --------------------------------------------------------------------------- the person

_PROFILE_HOSTS = (("scholar", "scholar.google."), ("github", "github.com"), ("twitter", "twitter.com"),
                  ("twitter", "x.com"), ("linkedin", "linkedin.com"), ("orcid", "orcid.org"),
                  ("dblp", "dblp."), ("semanticscholar", "semanticscholar.org"))
# An href with a profile host in it (one regex: an XPath with a contains() per host took
# ~4 us per link).
_PROFILE_HREF = re.compile("|".join(re.escape(marker) for _, marker in _PROFILE_HOSTS))
_DOT = r"(?:\.|\s*[\[({]\s*dot\s*[\])}]\s*)"
# The user part starts where a run of [\w.+-] starts, the only place the leftmost match can
# start: the lookbehind spares the engine retrying from inside every long word.
_EMAIL_AT = r"(?:@|[\[({]\s*at\s*[\])}])"
_OBFUSCATED_EMAIL = re.compile(
    r"(?<![\w.+-])([\w.+-]+)\s*" + _EMAIL_AT + r"\s*([\w-]+(?:" + _DOT + r"[\w-]+)+)", re.I)
# Its "at" alone: found at C speed, where the whole regex costs ~70 ns a character of a
# page without an address (it enters every word).
_EMAIL_AT_ONLY = re.compile(_EMAIL_AT, re.I)
# Every link target of the page, in document order.
_HREFS = lxml.etree.XPath("//a/@href", smart_strings=False)


def profile_from_page(root: HtmlElement, base_url: str, page: PageLines | None = None) -> Profile:
    """Name, email and profile links a personal page shows: the author meta tag or the
    page title, the first mailto link (or an obfuscated address), links by host.
    `page`: the lines of the page's body, when the caller has read them already."""
    profile = Profile()
    meta = next((content for el in root.getroottree().iter("meta")  # //meta[@name='author']/@content
                 if el.get("name") == "author" and (content := el.get("content")) is not None), None)
    title = text_of(next(iter(root.iter("title")), None))
    name = clean(meta) if meta is not None else re.split(r"\s+[|·–—-]\s+", title)[0] if title else ""
    profile.name = name or None
    for href in _HREFS(root):
        if not (href.startswith("mailto:") or _PROFILE_HREF.search(href)):
            continue
        url = absolute_url(base_url, href.strip())
        if url.startswith("mailto:"):
            profile.email = profile.email or url.removeprefix("mailto:").split("?")[0].strip() or None
            continue
        host = urlsplit(url).netloc.lower()
        for key, marker in _PROFILE_HOSTS:
            if marker in host:
                profile.links.setdefault(key, url)
    if profile.email is None:
        page = page or PageLines(root.body if root.find("body") is not None else root)
        m = _obfuscated_email(" ".join(page.texts(page.root)))
        if m:
            domain = re.sub(_DOT, ".", m.group(2), flags=re.I)
            profile.email = f"{m.group(1)}@{domain}"
    return profile


def _obfuscated_email(text: str) -> re.Match[str] | None:
    """`_OBFUSCATED_EMAIL.search(text)`, started where a match can first begin: the run of
    user characters and spaces before the first "at" (a later "at" cannot extend a match
    back over an earlier one, which is not a user character)."""
    at = _EMAIL_AT_ONLY.search(text)
    if at is None:
        return None
    start = at.start()
    while start and text[start - 1].isspace():  # \s
        start -= 1
    while start and (text[start - 1].isalnum() or text[start - 1] in "_.+-"):  # [\w.+-]
        start -= 1
    return _OBFUSCATED_EMAIL.search(text, start)


def typed_links(links: list[tuple[str, str]]) -> dict[str, str]:
    """A publication's (URL, label) links by kind (ids.link_kind); the first of a kind wins."""
    out: dict[str, str] = {}
    for url, label in links:
        kind = link_kind(url, label)
        if kind:
            out.setdefault(kind, url)
    return out
