"""al-folio: the source tree (_news collection, papers.bib, _config.yml), the built site
(news table, ol.bibliography, publications page), and research pages of named works."""
from __future__ import annotations

import pytest

from crawler import loader
from crawler.parsers import Resource, detect_format, parse_resource
from tests.conftest import f1, load_case, norm
from tests.static_site import serve_folder

SITE = "https://amnaalmgly.github.io/"


def _assert_records_match(records, expected) -> None:
    assert [(n.date_iso, n.text) for n in records.news] == [(n["date_iso"], n["text"]) for n in expected["news"]]
    want_pubs = expected["publications"]
    assert f1([norm(p["title"]) for p in want_pubs], [norm(p.title) for p in records.publications]) == 1.0
    by_title = {norm(p.title): p for p in records.publications}
    for want in want_pubs:
        got = by_title[norm(want["title"])]
        assert got.authors == want["authors"], want["title"]
        assert (got.venue, got.year) == (want["venue"], want["year"])
        # pdf={satbird.pdf} and the built button's /assets/pdf/satbird.pdf: one public URL
        assert got.links["pdf"] == SITE + "assets/pdf/" + want["links"]["pdf"].rsplit("/", 1)[-1]
    profile = expected["profile"]
    assert (records.profile.name, records.profile.position, records.profile.affiliation, records.profile.email) == (
        profile["name"], profile["position"], profile["affiliation"], profile["email"])


@pytest.fixture(scope="module")
def source():
    case = load_case("homepages", "alfolio-amna-src")
    return case, case.parse()


@pytest.fixture(scope="module")
def built():
    case = load_case("homepages", "alfolio-amna-html")
    return case, case.parse()


def test_source_tree_news_collection_bibliography_and_config(source):
    case, records = source
    assert records.source.format == "alfolio"
    _assert_records_match(records, case.expected)
    # front matter dates as written ("2024-08-22 " with its trailing space trimmed), newest first
    assert records.news[0].date == "2024-08-22"
    assert records.news[-1].date_iso == "2022-01-22"
    acm = next(p for p in records.publications if p.title.startswith("Understanding economic"))
    assert acm.links["paper"] == "https://dl.acm.org/doi/pdf/10.1145/3557915.3561025/"
    assert records.profile.links["github"] == "https://github.com/AMNAALMGLY"
    assert not records.warnings


def test_built_site_follows_the_publications_page_and_reveals_hidden_authors(built):
    case, records = built
    assert records.source.format == "alfolio"
    _assert_records_match(records, case.expected)
    assert len(records.publications) == 5  # four selected ones are on both pages: read once
    assert records.news[0].date == "Aug 22, 2024"
    harvest = next(p for p in records.publications if p.title.startswith("HarvestNet"))
    assert harvest.venue == "Conference on Artificial Intelligence (AAAI-24)"  # "In " dropped


def test_source_and_built_forms_of_one_site_agree(source, built):
    _, src = source
    _, html = built
    assert sorted((norm(p.title), tuple(p.authors), p.year) for p in src.publications) == \
        sorted((norm(p.title), tuple(p.authors), p.year) for p in html.publications)
    assert [(n.date_iso, n.text) for n in src.news] == [(n.date_iso, n.text) for n in html.news]


def test_research_page_of_named_works():
    case = load_case("seeds", "001_2a916692e090486b")
    records = case.parse()
    assert records.source.format == "alfolio"
    expected = case.expected["publications"]
    assert [p.title for p in records.publications] == [p["title"] for p in expected]  # LOVA<sup>3</sup> -> LOVA3
    assert [p.venue for p in records.publications] == [p["venue"] for p in expected]
    assert all(p.authors == [] and p.year is None for p in records.publications)
    by_title = {p.title: p for p in records.publications}
    assert by_title["Adan"].ids == {"arxiv": "2208.06677"}
    assert by_title["PCL"].links == {"pdf": "https://openreview.net/pdf?id=KmykpuSrjcq"}
    assert by_title["R-SPIDER"].links == {"paper": "https://ieeexplore.ieee.org/document/8792163"}
    assert by_title["EditAnything"].links == {"code": "https://github.com/sail-sg/EditAnything"}
    assert by_title["Win"].links["pdf"].endswith("/assets/pdf/2024-JMLR-win.pdf")  # relative ../assets/pdf/
    assert records.news == [] and records.profile.name is None


def test_detection_keeps_other_jekyll_themes_out():
    about = b"---\nlayout: about\nprofile:\n  align: right\nnews: true\n---\nHello."
    page = b"---\nlayout: page\ntitle: Research\nnav: true\n---\nText."
    academicpages = b"---\npermalink: /\ntitle: About me\nauthor_profile: true\n---\nHello."
    minima = b"---\nlayout: page\ntitle: About\npermalink: /about/\n---\nHello."
    detect = lambda body: detect_format(Resource("https://x.github.io/_pages/p.md", body, "text/markdown")).name  # noqa: E731
    assert (detect(about), detect(page)) == ("alfolio", "alfolio")
    assert (detect(academicpages), detect(minima)) == ("generic", "generic")
    footer = b'<html><body><footer>Powered by <a href="https://github.com/alshedivat/al-folio">al-folio</a></footer>'
    assert detect_format(Resource("https://x.github.io/", footer, "text/html")).name == "alfolio"


# --------------------------------------------------------------------------- over HTTP

def test_source_tree_over_http_lists_the_news_folder():
    """The same code over a real server: _config.yml found upwards, _news/ read from its
    autoindex page, papers.bib fetched from the site root."""
    case = load_case("homepages", "alfolio-amna-src")
    with serve_folder(case.folder) as (base, requests):
        records = parse_resource(loader.load_target(base + "_pages/about.md"), loader.fetch, base_url=SITE)
    _assert_records_match(records, case.expected)
    assert {"/_config.yml", "/_news/", "/_bibliography/papers.bib"} <= set(requests)


def test_built_site_over_http_fetches_the_publications_page():
    case = load_case("homepages", "alfolio-amna-html")
    with serve_folder(case.folder) as (base, requests):
        records = parse_resource(loader.load_target(base), loader.fetch)
    assert "/publications/" in requests
    assert len(records.publications) == 5
    assert records.publications[-1].links["pdf"].startswith(base + "assets/pdf/")
