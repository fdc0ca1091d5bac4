"""Finding records by page structure: which sections hold news or publications, and how
a dated list item becomes a news item. Shared by the template parsers and the generic one.
"""
from __future__ import annotations

import re

from lxml.html import HtmlElement

from ..records import NewsItem
from ..text import clean, split_leading_date
from .html import Section, iter_blocks, links_of, text_of

_NEWS_TITLE = re.compile(r"\b(news|updates?|announcements?|what'?s new|recent|latest|highlights)\b", re.I)
_PUB_TITLE = re.compile(r"\b(publications?|papers?|preprints?|selected works|articles|"
                        r"conference|journals?|manuscripts?)\b", re.I)
# Sections that look dated or listy but hold no news or papers.
_OTHER_TITLE = re.compile(r"\b(talks?|teaching|services?|honou?rs?|awards?|education|experience|"
                          r"internships?|visitors?|blog|posts?|software|projects?|students?|"
                          r"reviewer|grants?|patents?|media|press|presentations?)\b", re.I)


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
