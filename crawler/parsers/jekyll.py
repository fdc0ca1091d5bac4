"""What the Jekyll homepage templates share: AcadHomepage and academicpages.

Both are forks of the Minimal Mistakes theme: the person is the `author:` block of the
site's `_config.yml` (rendered as the sidebar's `.author__*` elements), and the home
page is one hand-written markdown page (`_pages/about.md`) whose headings name its
sections. Under a publications heading every entry is one paper, written in one of the
shapes these templates' users copy from each other:

- a list item: a venue tag (``` ``CVPR 2024`` ```, `<span class="conference-tag">`),
  the title as a link or in bold, then the authors on the same line or the next;
- an AcadHomepage `<div class='paper-box'>`: a venue badge, the title link, authors;
- a bold title paragraph followed by paragraphs of authors, venue and links;
- an APA-like reference without markup: `Liu, H., Zhang, W. (2024). Title. _Venue_.`
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import lxml.html
from lxml.html import HtmlElement

from ..identity import dedupe
from ..ids import ids_from_links, link_kind
from ..records import NewsItem, Profile, Publication
from ..text import clean, clean_title, split_authors, year_of
from .generic import section_kind
from .html import Line, document_sections, lines_of, links_of, parse_html, text_of
from .markdown import config_yml, expand_includes, site_markdown_tree, site_root, split_front_matter
from .site import Resource, Site
from .structure import looks_like_name, news_from_elements, profile_from_page, typed_links, venue_of

# --------------------------------------------------------------------------- the person


def site_config(site: Site) -> tuple[str, dict[str, Any]] | None:
    """(root folder URL, parsed `_config.yml`) of the source tree the entry belongs to."""
    found = site_root(site, site.entry, ("_config.yml",))
    if found is None:
        return None
    root, resource = found
    return root, config_yml(site, resource)


def source_tree(site: Site) -> HtmlElement:
    """The entry page's markdown, includes inlined, as an HTML tree; rendered once per
    distinct text (rounds that only fetch _config.yml or the collection reuse it)."""
    _, text = split_front_matter(expand_includes(site, site.entry))
    return site_markdown_tree(site, text)


def front_matter(site: Site, page: Resource) -> dict[str, Any]:
    """A collection file's front matter, parsed once per extraction."""
    return site.memo(("front-matter", page.url), lambda: split_front_matter(page.text)[0])


# `author:` keys of _config.yml and the profile link each is (a username or a URL).
_CONFIG_LINKS = {"googlescholar": ("scholar", ""), "github": ("github", "https://github.com/"),
                 "orcid": ("orcid", "https://orcid.org/"), "dblp": ("dblp", ""),
                 "linkedin": ("linkedin", "https://www.linkedin.com/in/"),
                 "twitter": ("twitter", "https://twitter.com/"), "semantic": ("semanticscholar", ""),
                 "researchgate": ("researchgate", "")}
_PLACEHOLDER = re.compile(r"YOUR_|yourprofile|xxxx", re.I)
# "PhD Student @ Warsaw University of Technology. AI Safety" -> position, affiliation
_BIO = re.compile(r"^(?P<position>[^@]*?)\s*(?:@|\bat\b)\s*(?P<affiliation>[^.;|]+)")


def config_profile(config: dict[str, Any]) -> Profile:
    """The person of the `author:` block (what the sidebar of every page shows)."""
    author = config.get("author")
    if not isinstance(author, dict):
        author = {}

    def field(key: str) -> str:
        value = author.get(key)
        return clean(str(value)) if isinstance(value, (str, int)) and not _PLACEHOLDER.search(str(value)) else ""

    profile = Profile(name=field("name") or clean(str(config.get("name") or "")) or None,
                      email=field("email") or None, affiliation=field("employer") or None)
    bio = _BIO.match(field("bio"))
    if bio:
        profile.position = bio.group("position").strip(" ,") or None
        profile.affiliation = profile.affiliation or bio.group("affiliation").strip() or None
    for key, (kind, prefix) in _CONFIG_LINKS.items():
        value = field(key)
        if value:
            profile.links[kind] = value if value.startswith("http") or not prefix else prefix + value
    return profile


# "I am currently a senior researcher at Huawei Noah’s Ark Lab in Hong Kong, working on ..."
_INTRO = re.compile(r"\bI(?: am|'m|’m) (?:currently |now )?an? (?P<position>[^,;:()]{3,60}?) (?:at|in|with) "
                    r"(?:the )?(?P<affiliation>[^,.;:()]{2,80}?)(?: (?:now )?in [A-Z][\w ]+)?(?=[,.;:(]|$)"
                    r"|\bI (?:currently |now )?work (?:at|for) (?:the )?(?P<employer>[^,.;:()]{2,80}?)"
                    r"(?: (?:now )?in [A-Z][\w ]+)?(?=[,.;:(]|$)")


def source_profile(config: dict[str, Any], root: HtmlElement, base_url: str) -> Profile:
    """The person of a source tree: `_config.yml`'s author block, with what its config
    leaves out taken from the page (an email written in the text, the intro sentence
    `I am a <position> at <affiliation>`). Links on the page are not the person's: they
    point to advisors and co-authors."""
    profile = config_profile(config)
    on_page = profile_from_page(root, base_url).email
    profile.email = on_page or profile.email  # the address the page itself shows
    intro = next((m for p in root.iter("p") if (m := _INTRO.search(text_of(p)))), None)
    if intro:
        profile.position = profile.position or intro.group("position")
        profile.affiliation = profile.affiliation or intro.group("affiliation") or intro.group("employer")
    return profile


def built_profile(root: HtmlElement, base_url: str) -> Profile:
    """The person of a built page's sidebar (`.author__name`, `.author__urls`), else of
    the page as a whole."""
    sidebar = next(iter(root.xpath("//*[contains(@class, 'author__urls') or contains(@class, 'author__content')]"
                                   "/ancestor::*[@itemscope][1]")), None)
    if sidebar is None:
        return profile_from_page(root, base_url)
    profile = profile_from_page(parse_html(lxml.html.tostring(sidebar, encoding="unicode")), base_url)
    profile.name = text_of(next(iter(sidebar.xpath(".//*[contains(@class, 'author__name')]")), None)) or profile.name
    employer = sidebar.xpath(".//li[.//i[contains(@class, 'fa-university') or contains(@class, 'fa-building')]]")
    profile.affiliation = text_of(employer[0]) if employer else None
    bio = _BIO.match(text_of(next(iter(sidebar.xpath(".//*[contains(@class, 'author__bio')]")), None)))
    if bio:
        profile.position = bio.group("position").strip(" ,") or None
        profile.affiliation = profile.affiliation or bio.group("affiliation").strip() or None
    return profile


def page_content(root: HtmlElement) -> HtmlElement:
    """The page's own text in a built page (`section.page__content`), without the
    sidebar and masthead; the whole tree when it has none."""
    return next(iter(root.xpath("//*[contains(concat(' ', normalize-space(@class), ' '), ' page__content ')]")),
                root)


# --------------------------------------------------------------------------- sections


def page_records(root: HtmlElement, base_url: str) -> tuple[list[NewsItem], list[Publication]]:
    """News and publications under the page's news and publication headings."""
    news: list[NewsItem] = []
    pubs: list[Publication] = []
    for section in document_sections(root):
        kind = section_kind(section)
        if kind == "news":
            news += news_from_elements(section.items, base_url)
        elif kind == "publications":
            pubs += [p for entry in entries(section.items) if (p := entry_publication(entry, base_url))]
    return news, dedupe(pubs)


_MAX_PARAGRAPHS = 5  # title, authors, venue, links, a note: what follows is not this paper's


def entries(items: list[HtmlElement]) -> list[list[HtmlElement]]:
    """A section's items grouped one paper each: the items of one paper box together, a
    bold title paragraph with the paragraphs that follow it, any other item alone."""
    groups: list[list[HtmlElement]] = []
    current_box: HtmlElement | None = None
    collecting = False  # the last group began with a title paragraph
    for item in items:
        box = next(iter(item.xpath("ancestor::div[contains(concat(' ', normalize-space(@class), ' '),"
                                   " ' paper-box ')][1]")), None)
        if box is not None:
            if box is not current_box:
                groups.append([box])
                current_box = box
            collecting = False
            continue
        current_box = None
        starts = item.tag == "p" and _is_title_paragraph(item)
        if item.tag == "p" and collecting and not starts and len(groups[-1]) < _MAX_PARAGRAPHS:
            groups[-1].append(item)
            continue
        groups.append([item])
        collecting = starts
    return groups


def _is_title_paragraph(p: HtmlElement) -> bool:
    title = _title_element([p], None)
    return title is not None and clean_title(text_of(title)) == clean_title(text_of(p))


# --------------------------------------------------------------------------- one paper

_VENUE_TAG = ("./descendant-or-self::code | ./descendant-or-self::*[contains(@class, 'badge')"
              " or contains(@class, '-tag') or contains(@class, 'venue')]")
_LINK_WORDS = re.compile(r"^\W*(pdf|code|arxiv|paper|project( page)?|video|slides|poster|bib(tex)?|doi|html|url|"
                         r"link|website|supp\w*|data(set)?|demo|blog|abstract|cite|citation)\W*$", re.I)
_LEGEND = re.compile(r"equal contribution|corresponding|co-first|joint first", re.I)
_MARKER_TAIL = re.compile(r"^\s*[,*#†‡✉∗^]")
_SENTENCE_END = re.compile(r"(?<=[\w)\]”\"]{2})[.?!]\s+(?=[A-Z“\"‘'(\[*])")
_YEAR_IN_PARENS = re.compile(r"\(((?:19|20)\d\d)[a-z]?\)")


def entry_publication(elements: list[HtmlElement], base_url: str) -> Publication | None:
    """One paper from the elements of one entry, or None if they do not hold one."""
    venue_el = next((el for root in elements for el in root.xpath(_VENUE_TAG) if text_of(el)), None)
    title_el = _title_element(elements, venue_el)
    if title_el is None:
        return apa_publication(elements, base_url)
    title = clean_title(text_of(title_el))
    lines = [line for el in elements for line in lines_of(el)]
    at = next((i for i, line in enumerate(lines) if title_el in line.elements), 0)
    authors, authors_at = _authors(lines[at].text.partition(text_of(title_el))[2]), at
    # else on the next line, or on the one after a venue line between title and authors
    for later in range(at + 1, min(at + 3, len(lines))):
        if authors:
            break
        authors, authors_at = _authors(lines[later].text), later
    if not authors:
        authors_at = at
    venue = (text_of(venue_el) or None) if venue_el is not None else None
    venue_line = ""
    if venue is None:
        venue = _emphasised_venue(lines[at:], title_el)
    if venue is None and authors_at + 1 < len(lines) and not _is_nested_item(lines[authors_at + 1], elements):
        venue_line = _plain(lines[authors_at + 1])
        venue = venue_of(venue_line) if venue_line and len(venue_line) < 160 else None
    if not (authors or venue):
        return None
    links = _links(elements, title_el, base_url, set(authors))
    year = year_of(venue) or year_of(venue_line)
    if year is None and (m := _YEAR_IN_PARENS.search(lines[authors_at].text)):
        year = int(m.group(1))
    ids = ids_from_links(links)
    citations = next((el.get("data") for root in elements for el in root.xpath(".//*[@data]")
                      if "show_paper_citations" in (el.get("class") or "")), None)
    if citations:
        ids["scholar"] = citations  # the "user:paper" id of Google Scholar's citation_for_view
    return Publication(title=title, authors=authors, venue=venue, year=year, links=links, ids=ids)


def _title_element(elements: list[HtmlElement], venue_el: HtmlElement | None) -> HtmlElement | None:
    """The first link or bold text long enough to be a title that is not a link button,
    an author (a name followed by a comma or a marker) or a marker legend."""
    for root in elements:
        for el in root.iter("a", "strong", "b"):
            text = clean_title(text_of(el))
            if len(text) < 12 or _LINK_WORDS.match(text) or _LEGEND.search(text) or "://" in text:
                continue
            if venue_el is not None and (el is venue_el or venue_el in el.iterancestors()):
                continue
            if el.tag != "a" and el.getparent() is not None and el.getparent().tag == "a":
                continue  # bold link text: the link itself is the candidate
            if looks_like_name(text) and _MARKER_TAIL.match(el.tail or ""):
                continue
            return el
    return None


def _authors(text: str) -> list[str]:
    """The author list at the start of a line, or [] if it is not one."""
    text = re.split(r"\s[|\\]\s|\s\|$", text.lstrip(" ,.;:|\\-–—"), maxsplit=1)[0]
    text = _SENTENCE_END.split(text, maxsplit=1)[0]
    names = split_authors(text)
    if len(names) == 1 and " " not in names[0]:
        return []  # one word ("Preprint") is not an author list
    named = sum(1 for n in names if looks_like_name(n))
    return names if names and named >= max(1, 0.7 * len(names)) else []


def _emphasised_venue(lines: list[Line], title_el: HtmlElement) -> str | None:
    """An italic venue (`*CVPR 2024*`, `***ACL 2024***`) after the title. An italic person
    name (a co-author emphasised in the author line) is not a venue; one with a year wins."""
    candidates = []
    for line in lines:
        for em in line.tagged("em", "i"):
            if title_el in em.iterancestors() or em in title_el.iterancestors():
                continue
            text = text_of(em).strip(" .,;")
            if text and len(text) < 120 and not _LEGEND.search(text) and text.lower() not in ("et al", "et al."):
                candidates.append(text)
    return (next((t for t in candidates if year_of(t)), None)
            or next((t for t in candidates if not looks_like_name(t)), None))


def _is_nested_item(line: Line, elements: list[HtmlElement]) -> bool:
    """Whether the line is a bullet of a list inside the entry (a paper box's summary)."""
    return any(el.tag == "li" and el not in elements for el in line.elements)


def _plain(line: Line) -> str:
    """A line's text without its link labels and the brackets around them."""
    text = line.text
    for a in line.tagged("a"):
        label = text_of(a)
        if label:
            text = text.replace(label, " ")
    text = re.sub(r"\(\s*[,\s]*\)", " ", re.sub(r"[\[\]|]", " ", text))
    return clean(text).strip(" ,;")


def _links(elements: list[HtmlElement], title_el: HtmlElement, base_url: str, authors: set[str]) -> dict[str, str]:
    """The title link (a github.io page is a project page), then the entry's other links
    by kind; links on author names are their homepages, not the paper's."""
    links: dict[str, str] = {}
    if title_el.tag == "a" and title_el.get("href"):
        url = links_of(title_el, base_url)[0][0]
        if url.startswith("http"):
            host = urlsplit(url).netloc.lower()
            links[link_kind(url) or ("project" if host.endswith("github.io") else "paper")] = url
    others = [(url, label) for root in elements for url, label in links_of(root, base_url)
              if label not in authors and url not in links.values()]
    for kind, url in typed_links(others).items():
        links.setdefault(kind, url)
    return links


# --------------------------------------------------------------------------- APA references

_SURNAME = r"(?:(?:van|von|de|der|den|di|da|del|le|la|du)\s)*[A-Z][\w'’-]*"
_INITIALS = r"(?:[A-Z]\.[\s-]?){1,3}"
_NAME = (rf"(?:{_SURNAME},\s?{_INITIALS}|{_INITIALS}\s?{_SURNAME}|[A-Z]\s{_SURNAME}|{_SURNAME}\s{_INITIALS}"
         r"|\.\.\.|…)")
_MARKS = r"[*#†‡§¶✉∗]*"
_NAME_SEP = r"\s*(?:,\s*(?:&\s*|and\s+)?|&\s*|\band\s+)"
_AUTHOR_LIST = re.compile(rf"^\s*(?:{_NAME}{_MARKS}{_NAME_SEP})*{_NAME}{_MARKS}")
_ONE_NAME = re.compile(rf"({_NAME}){_MARKS}")
_LEADING_YEAR = re.compile(r"^[\s.,]*\(((?:19|20)\d\d)[a-z]?\)[\s.,:]*")


def apa_authors(text: str) -> tuple[list[str], str]:
    """(authors, rest) of a reference that starts with an APA author list (`Liu, H.,
    W Zhang, Xie J., Y. Zheng, ... & Ghanem, B.`); ([], text) when it does not."""
    m = _AUTHOR_LIST.match(text)
    if not m:
        return [], text
    names = [n.group(1).strip() for n in _ONE_NAME.finditer(m.group(0)) if n.group(1) not in ("...", "…")]
    return names, text[m.end():]


def apa_publication(elements: list[HtmlElement], base_url: str) -> Publication | None:
    """A reference `Authors (Year). Title. _Venue_.` whose title has no markup."""
    text = " ".join(text_of(el) for el in elements)
    authors, rest = apa_authors(text)
    if not authors:
        return None
    year = None
    if m := _LEADING_YEAR.match(rest):
        year, rest = int(m.group(1)), rest[m.end():]
    em = next((e for root in elements for e in root.iter("em", "i")
               if text_of(e) and not _LEGEND.search(text_of(e))), None)
    venue = text_of(em) if em is not None else None
    title_text = rest[:rest.rfind(venue)] if venue and venue in rest else _SENTENCE_END.split(rest, maxsplit=1)[0]
    title = clean_title(title_text.lstrip(" .,;:"))
    if len(title) < 12:
        return None
    links = dict(typed_links([link for root in elements for link in links_of(root, base_url)]))
    return Publication(title=title, authors=authors, venue=venue, year=year or year_of(venue),
                       links=links, ids=ids_from_links(links))
