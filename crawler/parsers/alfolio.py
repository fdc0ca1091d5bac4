"""al-folio (github.com/alshedivat/al-folio) sites, from their source tree or as built HTML.

Source: the entry is a page of `_pages/` (`about.md`: `layout: about` with a `profile:`
block; other pages: `layout: page` with `nav:`). The site root is the folder holding
`_config.yml` (the name: `first_name`/`last_name`). The about page shows the news, one
markdown file per item in the `_news/` collection (date in the front matter), and the
papers of `_bibliography/papers.bib`, which the site's publications page lists in full.

Built: the about page renders the news as a table (`div.news`) and the selected papers as
`ol.bibliography` items; the full list is on the publications page of the navigation
bar, which the parser follows. Long author lists are cut by `max_author_limit`: the
hidden names are only in the "N more authors" span's onclick script.

Either form: "research" pages name representative works as bold links inside
`<details>` blocks (`<strong><a href=...>Adan</a></strong> (TPAMI, ...)`); those
are publications too, with the venue from the parenthesis after the name.
"""
from __future__ import annotations

import re
from functools import cache
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import lxml.etree
import lxml.html
from lxml.html import HtmlElement

from ..identity import merge, normalise_title
from ..ids import ids_from_links, link_kind
from ..records import NewsItem, PageRecords, Profile, Publication, SourceInfo
from ..text import clean, clean_title, normalise_date, split_authors, year_of
from .bibtex import read_bibtex
from .html import absolute_url, links_of, parse_html, text_of
from .markdown import config_yml, expand_includes, site_markdown_tree, site_root, split_front_matter
from .site import Resource, Site
from .structure import is_publication_title, profile_from_page

NAME = "alfolio"
KIND = "homepage"
MAX_SCORE = 0.85  # the most detect() returns (see parsers/__init__.py)

_BUILT_MARKERS = (b"github.com/alshedivat/al-folio", b'class="more-authors"')
_BUILT_STRUCTURE = (b'class="bibliography"', b'class="periodical"')
_LIQUID_MARKERS = re.compile(r"\{%-?\s*(?:bibliography|include\s+figure\.liquid|include\s+selected_papers)")
_BIBLIOGRAPHY_TAG = re.compile(r"\{%-?\s*bibliography\b")
_NEWS_FILE = re.compile(r"/[^/_.][^/]*\.(?:md|markdown|html)$")
_MORE_AUTHORS = re.compile(r"""\?\s*'((?:[^'\\]|\\.)*)'\s*:""")
_IN_VENUE = re.compile(r"^In\s+(?=\S)")
# al-folio's link buttons ("PDF", "HTML", "Website", ...) and the link kinds they are.
_BUTTONS = {"pdf": "pdf", "html": "paper", "code": "code", "website": "project", "arxiv": "arxiv",
            "supp": "supp", "slides": "slides", "poster": "poster", "video": "video", "blog": "blog"}
_SOCIAL = (("github_username", "github", "https://github.com/{}"),
           ("scholar_userid", "scholar", "https://scholar.google.com/citations?user={}"),
           ("twitter_username", "twitter", "https://twitter.com/{}"),
           ("linkedin_username", "linkedin", "https://www.linkedin.com/in/{}"),
           ("orcid_id", "orcid", "https://orcid.org/{}"),
           ("semanticscholar_id", "semanticscholar", "https://www.semanticscholar.org/author/{}"))


def detect(resource: Resource) -> float:
    if resource.media_type == "text/markdown":
        meta, body = split_front_matter(resource.text)
        return 0.7 if is_alfolio_page(meta, body) else 0.0
    if resource.media_type in ("text/html", "application/xhtml+xml"):
        body = resource.body
        if any(marker in body for marker in _BUILT_MARKERS) or all(m in body for m in _BUILT_STRUCTURE):
            return 0.85
    return 0.0


def is_alfolio_page(meta: dict[str, Any], body: str) -> bool:
    """The about page (`layout: about` + `profile:`), a navigation page (`layout: page`
    + `nav`), or a page using al-folio's Liquid includes or jekyll-scholar's bibliography."""
    layout = meta.get("layout")
    if layout == "about" and isinstance(meta.get("profile"), dict):
        return True
    if layout == "page" and ("nav" in meta or "nav_order" in meta):
        return True
    return bool(_LIQUID_MARKERS.search(body))


def parse(site: Site) -> PageRecords:
    if site.entry.media_type == "text/markdown":
        return parse_source(site)
    return parse_built(site)


# --------------------------------------------------------------------------- source tree

def parse_source(site: Site) -> PageRecords:
    records = PageRecords(source=SourceInfo(site.base_url, KIND, NAME))
    meta, body = split_front_matter(expand_includes(site, site.entry))
    pubs = named_works(site_markdown_tree(site, body), site.base_url)
    found = site_root(site, site.entry, ("_config.yml",))
    config = config_yml(site, found[1]) if found else {}
    records.profile = source_profile(meta, config, site.base_url)
    if found is not None:
        root = found[0]
        is_about = meta.get("layout") == "about"
        if is_about and (meta.get("news") or _enabled(meta.get("announcements"))):
            records.news = source_news(site, root)
        if is_about or _BIBLIOGRAPHY_TAG.search(body):
            bib_pubs, warnings = _bibliography(site, root, config)
            pubs += bib_pubs
            records.warnings += warnings
    records.publications = pubs
    return records


def _enabled(value: Any) -> bool:
    """Newer al-folio writes `announcements: {enabled: true}` where older wrote `news: true`."""
    return isinstance(value, dict) and bool(value.get("enabled"))


def public_root(site: Site, root: str, config: dict[str, Any]) -> str:
    """The public URL of the site root: from the entry's public URL when it was given,
    else from `_config.yml`'s `url` + `baseurl`, else the source folder itself."""
    baseurl = str(config.get("baseurl") or "").strip().strip("/")
    path = f"/{baseurl}/" if baseurl else "/"
    if site.base_url != site.entry.url:
        return urljoin(site.base_url, path)
    url = str(config.get("url") or "").strip()
    if url.startswith(("http://", "https://")):
        return url.rstrip("/") + path
    return root


def _bibliography(site: Site, root: str, config: dict[str, Any]) -> tuple[list[Publication], list[str]]:
    """The papers of the site's BibTeX file (jekyll-scholar's `source` + `bibliography`)."""
    scholar = config.get("scholar") if isinstance(config.get("scholar"), dict) else {}
    folder = str(scholar.get("source") or "/_bibliography/").strip("/")
    name = str(scholar.get("bibliography") or "papers.bib").strip("/")
    bib = site.get(f"{root}{folder}/{name}")
    if bib is None:
        return [], []
    return read_bibtex(bib.text, bib.url, file_base=public_root(site, root, config) + "assets/pdf/")


def source_news(site: Site, root: str) -> list[NewsItem]:
    """The `_news/` collection, newest first as the about page shows it."""
    items = []
    for url in site.listing(root + "_news/") or ():
        if not _NEWS_FILE.search(url) or (page := site.get(url)) is None:
            continue
        meta, body = split_front_matter(page.text)
        written = clean(str(meta.get("date") or "")) or None
        tree = site_markdown_tree(site, body)
        # An item that is not `inline` is a post of its own: the about page shows its title.
        text = clean(str(meta.get("title") or "")) if meta.get("inline") is False else ""
        text = text or text_of(tree)
        if text:
            items.append(NewsItem(text=text, date=written, date_iso=normalise_date(written),
                                  links=[u for u, _ in links_of(tree, site.base_url) if u.startswith("http")]))
    items.sort(key=lambda n: n.date_iso or "", reverse=True)
    return items


def source_profile(meta: dict[str, Any], config: dict[str, Any], base_url: str) -> Profile:
    """Name from `_config.yml`; position, affiliation and email from the about page's
    `profile.address` (or `more_info`) HTML; social links from the config usernames."""
    names = [clean(str(config.get(k) or "")) for k in ("first_name", "middle_name", "last_name")]
    profile = Profile(name=" ".join(n for n in names if n) or None)
    block = meta.get("profile") if isinstance(meta.get("profile"), dict) else {}
    address = block.get("address") or block.get("more_info")
    if isinstance(address, str) and address.strip():
        _address_fields(profile, parse_html(f"<html><body>{address}</body></html>").body, base_url)
    if profile.email is None and "@" in str(config.get("email") or ""):
        profile.email = clean(str(config["email"]))
    for key, kind, pattern in _SOCIAL:
        value = clean(str(config.get(key) or ""))
        if value:
            profile.links[kind] = pattern.format(value)
    return profile


def _address_fields(profile: Profile, address: HtmlElement, base_url: str) -> None:
    """The lines of al-folio's address block: position, affiliation, an (obfuscated) email."""
    profile.email = profile_from_page(address, base_url).email
    lines = [text_of(p) for p in address.iter("p")] or [text_of(address)]
    lines = [line for line in lines if line and "@" not in line and not re.search(r"[\[(]\s*at\s*[\])]", line)]
    profile.position = profile.position or (lines[0] if lines else None)
    profile.affiliation = profile.affiliation or (lines[1] if len(lines) > 1 else None)


# --------------------------------------------------------------------------- built HTML

def parse_built(site: Site) -> PageRecords:
    root = parse_html(site.entry.text)
    records = PageRecords(source=SourceInfo(site.base_url, KIND, NAME))
    records.profile = built_profile(root, site.base_url)
    records.news = built_news(root, site.base_url)
    keyed = built_publications(root, site.base_url)
    page_url = publications_page(root, site.base_url)
    if page_url and page_url.rstrip("/") != site.base_url.rstrip("/"):
        page = site.get(site.url_for(page_url))
        if page is not None:
            keyed += built_publications(parse_html(page.text), page_url)
    records.publications = _dedupe_keyed(keyed) + named_works(root, site.base_url)
    return records


def built_profile(root: HtmlElement, base_url: str) -> Profile:
    profile = profile_from_page(root, base_url)
    if profile.email and "%" in profile.email:  # al-folio percent-encodes its mailto links
        profile.email = unquote(profile.email)
    address = next(iter(root.xpath("//div[contains(@class, 'profile')]//div[@class='address' or "
                                   "contains(@class, 'more-info')]")), None)
    if address is not None:  # read on its own: the page's footer has a mailto link too
        mailto_email = profile.email
        _address_fields(profile, parse_html(lxml.html.tostring(address, encoding="unicode")).body, base_url)
        profile.email = profile.email or mailto_email
    return profile


def built_news(root: HtmlElement, base_url: str) -> list[NewsItem]:
    """Rows of the news table: the date in `<th>`, the item in `<td>`."""
    items = []
    for row in root.xpath("//div[contains(concat(' ', normalize-space(@class), ' '), ' news ')]//tr"):
        cells = row.xpath("./th | ./td")
        if len(cells) < 2:
            continue
        written, text = text_of(cells[0]), text_of(cells[-1])
        if text:
            items.append(NewsItem(text=text, date=written or None, date_iso=normalise_date(written),
                                  links=[u for u, _ in links_of(cells[-1], base_url) if u.startswith("http")]))
    return items


def publications_page(root: HtmlElement, base_url: str) -> str | None:
    """The navigation bar's publications page ("publications", "papers"), on this site."""
    for a in root.xpath("//nav//a[@href]"):
        url = absolute_url(base_url, a.get("href", "").strip())
        if is_publication_title(text_of(a)) and urlsplit(url).netloc == urlsplit(base_url).netloc:
            return url
    return None


def built_publications(root: HtmlElement, base_url: str) -> list[tuple[str, Publication]]:
    """The papers of a page, each with its BibTeX key (the id of its `<div>`) when shown."""
    out = []
    for li in root.xpath("//ol[contains(@class, 'bibliography')]/li"):
        if (pub := built_item(li, base_url)) is not None:
            key = next((d.get("id") for d in li.iter("div") if d.get("id")), None)
            out.append((key or normalise_title(pub.title), pub))
    return out


def _first(el: HtmlElement, css_class: str, tag: str = "*") -> HtmlElement | None:
    """The first descendant with the class (and tag): `div.bibtex` is not the "Bib" button."""
    found = _class_xpath(css_class, tag)(el)
    return found[0] if found else None


@cache
def _class_xpath(css_class: str, tag: str) -> lxml.etree.XPath:
    """Compiled once: every rendered paper asks for the same five classes."""
    return lxml.etree.XPath(f".//{tag}[contains(concat(' ', normalize-space(@class), ' '), ' {css_class} ')]")


def built_item(li: HtmlElement, base_url: str) -> Publication | None:
    """One rendered BibTeX entry: title, authors (hidden ones too), periodical, buttons."""
    title = clean_title(text_of(_first(li, "title")))
    if not title:
        return None
    pub = Publication(title=title, authors=_built_authors(_first(li, "author")))
    periodical = _first(li, "periodical")
    if periodical is not None:
        em = periodical.find(".//em")
        venue = text_of(em) if em is not None else ""
        pub.venue = _IN_VENUE.sub("", venue) or None
        # the year after the venue, not a number inside it ("arXiv:2012.01234")
        pub.year = year_of(text_of(periodical).replace(venue, "", 1) if venue else text_of(periodical))
    if pub.year is None:
        heading = li.getparent().getprevious() if li.getparent() is not None else None
        pub.year = year_of(text_of(heading)) if heading is not None and heading.tag == "h2" else None
    buttons = _first(li, "links")
    for url, label in links_of(buttons, base_url) if buttons is not None else ():
        kind = _BUTTONS.get(label.strip().lower()) or link_kind(url, label)
        if kind and not url.endswith("#"):
            pub.links.setdefault(kind, url)
    pub.ids = ids_from_links(pub.links)
    for attr, kind in (("data-doi", "doi"), ("data-arxiv-id", "arxiv")):
        value = next(iter(li.xpath(f".//@{attr}")), None)
        if value and kind not in pub.ids:
            pub.ids[kind] = str(value).strip().lower()
    bibtex = _first(li, "bibtex", "div")
    if bibtex is not None:  # `bibtex_show`: the entry's own BibTeX, the surest ids
        shown, _ = read_bibtex(text_of(bibtex), base_url)
        for kind, value in (shown[0].ids if shown else {}).items():
            pub.ids.setdefault(kind, value)
    return pub


def _built_authors(author: HtmlElement | None) -> list[str]:
    """Visible names, then the names behind "and N more authors" (from its onclick)."""
    if author is None:
        return []
    visible = text_of(author)
    hidden: list[str] = []
    more = _first(author, "more-authors")
    if more is not None:
        visible = re.sub(r",?\s*\band\s*$", "", visible.replace(text_of(more), "").strip())
        m = _MORE_AUTHORS.search(more.get("onclick") or "")
        hidden = split_authors(m.group(1).replace("\\'", "'")) if m else []
    return split_authors(visible) + hidden


def _dedupe_keyed(keyed: list[tuple[str, Publication]]) -> list[Publication]:
    """One record per BibTeX key: a selected paper is on the about page and on the
    publications page. (Not by ids: one file may give two papers the same arXiv id.)"""
    by_key: dict[str, Publication] = {}
    out = []
    for key, pub in keyed:
        if key in by_key:
            merge(by_key[key], pub)
        else:
            by_key[key] = pub
            out.append(pub)
    return out


# --------------------------------------------------------------------------- named works

def named_works(root: HtmlElement, base_url: str) -> list[Publication]:
    """Works named as bold links in `<details>` blocks ("representative works"), once each."""
    pubs: list[Publication] = []
    seen: set[str] = set()
    for details in root.iter("details"):
        for strong in details.iter("strong", "b"):
            anchors = [a for a in strong.iter("a") if (a.get("href") or "").strip()]
            title = clean_title(text_of(strong))
            if len(anchors) != 1 or not title or title != clean_title(text_of(anchors[0])):
                continue
            key = normalise_title(title)
            if key in seen:
                continue
            seen.add(key)
            url = absolute_url(base_url, anchors[0].get("href", "").strip())
            links = {link_kind(url) or "paper": url}
            pubs.append(Publication(title=title, venue=_venue_after(strong), links=links, ids=ids_from_links(links)))
    return pubs


def _venue_after(strong: HtmlElement) -> str | None:
    """The first part of the parenthesis right after a work's name: "(TPAMI, <badge>)"
    -> "TPAMI"; citation counts and badge-only parentheses are no venue."""
    text = strong.tail or ""
    if text.strip() and not text.lstrip().startswith("("):
        return None
    for sibling in strong.itersiblings():
        if sibling.tag in ("strong", "b") or ")" in text:
            break
        text += (sibling.text_content() if sibling.tag != "iframe" else "") + (sibling.tail or "")
    text = clean(text)
    if not text.startswith("("):
        return None
    first = text[1:].split(")", 1)[0].split(",", 1)[0].strip()
    return first if first and not re.search(r"\bcitations?\b|\bstars?\b", first, re.I) else None
