"""Google Scholar author profile pages (scholar.google.com/citations?user=ID).

Read by element ids and classes, never by label text, so every UI language parses the
same (the metrics table says "Citations"/"Citações", the "Since 2021" header
"Desde 2021"). Only the first page is read: Scholar's robots.txt allows
`/citations?user=` but disallows `cstart` paging, so a longer list is cut at the first
page (up to `pagesize=100` rows, see sources.py) and the records say so in a warning.
"""
from __future__ import annotations

from urllib.parse import urljoin

from lxml.html import HtmlElement

from ..ids import arxiv_id
from ..records import Metrics, PageRecords, Profile, Publication, SourceInfo
from ..text import clean_title, split_authors, year_of
from .html import parse_html, text_of
from .listing import head, int_or_none, query_param
from .site import Resource, Site

NAME = "scholar"
KIND = "listing"

_MARKERS = ('id="gsc_prf_in"', 'class="gsc_a_tr"', 'id="gsc_rsb_st"')


def detect(resource: Resource) -> float:
    if "scholar.google." in resource.url and "/citations" in resource.url:
        return 0.9
    text = resource.text if len(resource.body) < 600_000 else head(resource)
    return 0.95 if sum(marker in text for marker in _MARKERS) >= 2 else 0.0


def _first(root: HtmlElement, xpath: str) -> HtmlElement | None:
    found = root.xpath(xpath)
    return found[0] if found else None


def _metrics(root: HtmlElement) -> Metrics:
    """The "Cited by" table: rows citations, h-index, i10-index; columns All, Since YEAR."""
    metrics = Metrics()
    rows = root.xpath('//table[@id="gsc_rsb_st"]/tbody/tr')
    for row, (total, recent) in zip(rows, (("citations", "citations_recent"), ("h_index", "h_index_recent"),
                                           ("i10_index", "i10_index_recent"))):
        cells = [int_or_none(text_of(td)) for td in row.xpath('./td[contains(@class, "gsc_rsb_std")]')]
        if cells:
            setattr(metrics, total, cells[0])
        if len(cells) > 1:
            setattr(metrics, recent, cells[1])
    since = root.xpath('//table[@id="gsc_rsb_st"]/thead//th')
    if len(since) >= 3:
        metrics.recent_since = year_of(text_of(since[2]))
    return metrics


def _profile(root: HtmlElement, url: str) -> Profile:
    name = _first(root, '//*[@id="gsc_prf_in"]')
    affiliation = _first(root, '//div[contains(concat(" ", @class, " "), " gsc_prf_il ")][not(@id)]')
    homepage = _first(root, '//*[@id="gsc_prf_ivh"]//a[@href]')
    links = {"homepage": homepage.get("href")} if homepage is not None else {}
    user = query_param(url, "user")
    return Profile(name=text_of(name) or None, affiliation=text_of(affiliation) or None,
                   links=links, ids={"scholar": user} if user else {}, metrics=_metrics(root))


def _row(row: HtmlElement, base_url: str) -> Publication | None:
    title_link = _first(row, './/a[contains(@class, "gsc_a_at")]')
    title = clean_title(text_of(title_link))
    if not title:
        return None
    gray = row.xpath('.//div[contains(@class, "gs_gray")]')
    authors = split_authors(text_of(gray[0]).replace("…", "")) if gray else []
    venue = None
    if len(gray) > 1:
        for hidden in gray[1].xpath('.//span[contains(@class, "gs_oph")]'):  # ", 2024" for small screens
            hidden.drop_tree()
        venue = text_of(gray[1]).rstrip(" ,") or None
    href = title_link.get("href") or ""
    url = urljoin(base_url, href) if href else None
    cited = _first(row, './/a[contains(@class, "gsc_a_ac")]')
    ids = {"scholar": cid} if (cid := query_param(url or "", "citation_for_view")) else {}
    if aid := arxiv_id(venue):
        ids["arxiv"] = aid
    return Publication(title=title, authors=authors, venue=venue,
                       year=int_or_none(text_of(_first(row, './/span[contains(@class, "gsc_a_h")]'))),
                       links={"page": url} if url else {}, ids=ids,
                       citations=int_or_none(text_of(cited)) if cited is not None else None)


def parse(site: Site) -> PageRecords:
    root = parse_html(site.entry.text)
    records = PageRecords(source=SourceInfo(site.base_url, KIND, NAME),
                          profile=_profile(root, site.base_url))
    records.publications = [p for row in root.xpath('//tr[contains(@class, "gsc_a_tr")]')
                            if (p := _row(row, site.base_url))]
    more = _first(root, '//button[@id="gsc_bpf_more"]')
    if more is not None and more.get("disabled") is None:
        records.warnings.append(f"{site.base_url}: Google Scholar lists more papers than the first page; "
                                "robots.txt disallows paging (cstart), so only these "
                                f"{len(records.publications)} are read")
    return records

