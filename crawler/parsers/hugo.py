"""Hugo Blox / Wowchemy / Hugo Academic sites, from their source tree or as built HTML.

Source: the site root is the folder with `hugo.toml`, `config.toml` or `config/_default/`;
each paper is `content/publication/<slug>/index.md` (or `<slug>.md`) with YAML/TOML front
matter (title, authors, date, publication, doi, url_pdf, ...). Author usernames such as
`admin` are resolved to the name in `content/authors/<username>/_index.md`, which is
also the profile.

Built: the home page's publication widgets render each paper as a `.pub-list-item`
(citation/list view), `.card-simple` (card view) or `.media.stream-item` (compact view);
the papers' own pages live under the section list page (`/publication/`), which the
parser follows because it lists every paper, not only the featured or recent ones.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement

from ..identity import dedupe
from ..ids import arxiv_id, doi, ids_from_links, link_kind
from ..records import PageRecords, Profile, Publication, SourceInfo
from ..text import clean, clean_title, normalise_date, year_of
from .html import links_of, parse_html, text_of
from .markdown import site_root, split_front_matter
from .site import Resource, Site
from .structure import profile_from_page, typed_links

NAME = "hugo"
KIND = "homepage"
MAX_SCORE = 0.9  # the most detect() returns (see parsers/__init__.py)

_ROOT_MARKERS = ("hugo.toml", "config.toml", "config/_default/params.toml", "config/_default/hugo.toml",
                 "config/_default/config.toml")
_GENERATOR = re.compile(rb"""<meta\s+name=["']generator["']\s+content=["'](?:Wowchemy|Hugo Blox|Source Themes Academic)""", re.I)
_ITEM_XPATH = ("//*[contains(concat(' ', normalize-space(@class), ' '), ' pub-list-item ')"
               " or contains(concat(' ', normalize-space(@class), ' '), ' card-simple ')"
               " or contains(concat(' ', normalize-space(@class), ' '), ' stream-item ')]")
# Front matter link fields and the link kinds they are.
_URL_FIELDS = {"url_pdf": "pdf", "url_code": "code", "url_dataset": "dataset", "url_poster": "poster",
               "url_project": "project", "url_slides": "slides", "url_source": "paper", "url_video": "video",
               "url_arxiv": "arxiv", "url_preprint": "paper"}


def detect(resource: Resource) -> float:
    if resource.media_type == "text/markdown":
        return 0.6 if "/content/" in urlsplit(resource.url).path else 0.0
    if resource.media_type in ("text/html", "application/xhtml+xml"):
        return 0.9 if _GENERATOR.search(resource.body[:20_000]) else 0.0
    return 0.0


def parse(site: Site) -> PageRecords:
    if site.entry.media_type == "text/markdown":
        return parse_source(site)
    return parse_built(site)


# --------------------------------------------------------------------------- source tree

def parse_source(site: Site) -> PageRecords:
    records = PageRecords(source=SourceInfo(site.base_url, KIND, NAME))
    found = site_root(site, site.entry, _ROOT_MARKERS)
    if found is None:
        return records
    root, _ = found
    records.profile = _source_profile(site, root)
    names: dict[str, str] = {}
    pubs = []
    for page in _section_pages(site, root + "content/publication/"):
        meta, _ = split_front_matter(page.text)
        if meta and not meta.get("draft") and (pub := _front_matter_publication(site, root, page, meta, names)):
            pubs.append(pub)
    records.publications = dedupe(pubs)
    return records


def _section_pages(site: Site, folder: str) -> list[Resource]:
    """The pages of a content section: `<slug>/index.md` bundles and `<slug>.md` files."""
    pages = []
    for entry in site.listing(folder) or ():
        name = entry.rstrip("/").rsplit("/", 1)[-1]
        if name.startswith(("_", ".")):
            continue
        url = entry + "index.md" if entry.endswith("/") else entry
        if url.endswith(".md") and (page := site.get(url)) is not None:
            pages.append(page)
    return pages


def _author_name(site: Site, root: str, author: str, names: dict[str, str]) -> str:
    """A username (`admin`) as its display name; a written-out name as it is."""
    author = clean(str(author))
    if " " in author or not author:
        return author
    if author not in names:
        page = site.get(f"{root}content/authors/{author}/_index.md")
        meta = split_front_matter(page.text)[0] if page is not None else {}
        names[author] = clean(str(meta.get("name") or meta.get("title") or author))
    return names[author]


def _front_matter_publication(site: Site, root: str, page: Resource, meta: dict[str, Any],
                              names: dict[str, str]) -> Publication | None:
    title = clean_title(str(meta.get("title") or ""))
    if not title:
        return None
    authors = [_author_name(site, root, a, names) for a in meta.get("authors") or [] if a]
    venue = _markdown_text(meta.get("publication")) or _markdown_text(meta.get("publication_short"))
    date = normalise_date(str(meta.get("date") or meta.get("publishDate") or ""))
    links: dict[str, str] = {}
    for key, kind in _URL_FIELDS.items():
        url = _field(meta, key)
        if url:
            links.setdefault(link_kind(url) if kind in ("pdf", "paper") and "arxiv.org" in url else kind,
                             site.public_url(url, page))
    for extra in meta.get("links") or []:
        if isinstance(extra, dict) and extra.get("url"):
            kind = link_kind(str(extra["url"]), str(extra.get("name") or ""))
            if kind:
                links.setdefault(kind, site.public_url(str(extra["url"]), page))
    raw_doi = _field(meta, "doi")
    if raw_doi:
        links.setdefault("doi", raw_doi)
    ids = ids_from_links(links)
    if raw_doi and (d := doi(raw_doi)):
        ids.setdefault("doi", d)
    if raw_doi and "arxiv" not in ids and (a := arxiv_id(raw_doi)):
        ids["arxiv"] = a
    return Publication(title=title, authors=authors, venue=venue, year=int(date[:4]) if date else None,
                       links=links, ids=ids, date=date if date and len(date) > 4 else None)


def _field(meta: dict[str, Any], key: str) -> str | None:
    """A front matter string, case-insensitively (`url_arXiv`), empty as None."""
    for k, v in meta.items():
        if k.lower() == key and isinstance(v, str) and v.strip():
            return v.strip()
    return None


def _markdown_text(value: Any) -> str | None:
    """`*Astrophysical Journal*` -> `Astrophysical Journal`."""
    if not isinstance(value, str):
        return None
    return clean(re.sub(r"[*_`]+", "", value)) or None


def _source_profile(site: Site, root: str) -> Profile:
    """The superuser's author page (`admin`, else the entry if it is an author page)."""
    entry_meta = split_front_matter(site.entry.text)[0]
    page = site.entry if "/content/authors/" in site.entry.url else site.get(root + "content/authors/admin/_index.md")
    meta = split_front_matter(page.text)[0] if page is not None else entry_meta
    orgs = meta.get("organizations") or []
    affiliation = next((clean(str(o.get("name"))) for o in orgs if isinstance(o, dict) and o.get("name")), None)
    profile = Profile(name=clean(str(meta.get("name") or meta.get("title") or "")) or None,
                      position=clean(str(meta.get("role") or "")) or None, affiliation=affiliation,
                      email=clean(str(meta.get("email") or "")) or None)
    for social in meta.get("social") or []:
        if isinstance(social, dict) and isinstance(social.get("link"), str):
            link = social["link"]
            if link.startswith("mailto:"):
                profile.email = profile.email or link.removeprefix("mailto:")
            elif link.startswith("http"):
                profile.links.setdefault(str(social.get("icon") or "link"), link)
    if profile.email is None:
        params = site.get(root + "config/_default/params.toml")
        if params is not None:
            m = re.search(r'^\s*email\s*=\s*"([^"]+@[^"]+)"', params.text, re.M)
            profile.email = m.group(1) if m else None
    return profile


# --------------------------------------------------------------------------- built HTML

def parse_built(site: Site) -> PageRecords:
    root = parse_html(site.entry.text)
    pubs = _built_publications(root, site.base_url)
    section = _publication_section_url(pubs)
    if section and section.rstrip("/") != site.base_url.rstrip("/"):
        listing = site.get(site.url_for(section))
        if listing is not None:
            pubs += _built_publications(parse_html(listing.text), section)
    return PageRecords(source=SourceInfo(site.base_url, KIND, NAME),
                       profile=profile_from_page(root, site.base_url), publications=dedupe(pubs))


def _built_publications(root: HtmlElement, base_url: str) -> list[Publication]:
    return [p for item in root.xpath(_ITEM_XPATH) if (p := built_item(item, base_url))]


def _has_class(el: HtmlElement, name: str) -> bool:
    return name in (el.get("class") or "").split()


def built_item(item: HtmlElement, base_url: str) -> Publication | None:
    """One rendered paper, whatever the widget view."""
    title_el = next(iter(item.xpath(".//*[contains(@class, 'article-title')]//a[normalize-space()]")), None)
    if title_el is None:  # citation view: the title is the first plain link with text
        title_el = next((a for a in item.iter("a") if text_of(a) and not _has_class(a, "btn")
                         and (a.get("href") or "#") != "#"), None)
    if title_el is None:
        return None
    title = clean_title(text_of(title_el))
    author_box = next(iter(item.xpath(".//*[contains(@class, 'li-cite-author')] | .//*[contains(@class, 'article-metadata')]/div")), None)
    authors = [text_of(s) for s in author_box.xpath("./span")] if author_box is not None else []
    venue_el = next(iter(item.xpath(".//*[contains(@class, 'pub-publication')]//em")), None)
    if venue_el is None:
        venue_el = next((em for em in item.iter("em") if author_box is None or em not in author_box.iter()), None)
    date_el = next(iter(item.xpath(".//*[contains(@class, 'article-date')]")), None)
    year = year_of(text_of(date_el)) if date_el is not None else None
    if year is None:
        m = re.search(r"\(((?:19|20)\d\d)\)", text_of(item))
        year = int(m.group(1)) if m else None
    links: dict[str, str] = {}
    page = title_el.get("href")
    if page:
        links["page"] = urljoin(base_url, page)
    buttons = [(url, label) for url, label in links_of(item, base_url)
               if not url.endswith("#") and url != links.get("page")]
    for kind, url in typed_links(buttons).items():
        links.setdefault(kind, url)
    return Publication(title=title, authors=[a for a in authors if a], venue=text_of(venue_el) or None,
                       year=year, links=links, ids=ids_from_links(links))


def _publication_section_url(pubs: list[Publication]) -> str | None:
    """The list page of the section the papers' own pages belong to (`/publication/`)."""
    for pub in pubs:
        page = pub.links.get("page")
        if page and page.rstrip("/").count("/") >= 4:
            return page.rstrip("/").rsplit("/", 1)[0] + "/"
    return None
