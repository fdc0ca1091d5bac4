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
    def detect(body: bytes) -> str:
        return detect_format(Resource("https://x.github.io/_pages/p.md", body, "text/markdown")).name
    assert (detect(about), detect(page)) == ("alfolio", "alfolio")
    assert detect(academicpages) == "academicpages" and detect(minima) != "alfolio"
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


NEWER_ITEM = """<html><head><meta name="author" content="Ada Lovelace"></head><body>
<div class="publications"><h2>selected publications</h2><ol class="bibliography"><li><div class="row">
<div class="col col-sm-2 abbr"><abbr class="badge rounded w-100">ICML</abbr></div>
<div id="lovelace2024" class="col-sm-8">
  <div class="title">Analytical Engines Considered Helpful</div>
  <div class="author"><em>Ada Lovelace</em>, <a href="https://babbage.org">Charles Babbage</a>, and
    <span class="more-authors" title="click to view 2 more authors" onclick="var element = $(this);
      var more_authors_text = element.text() == '2 more authors' ? 'Mary O\\'Brien, Alan Turing' : '2 more authors';"
    >2 more authors</span></div>
  <div class="periodical"><em>In Proceedings of the 41st International Conference on Machine Learning</em>,
    Jul 2024</div>
  <div class="links">
    <a class="abstract btn btn-sm z-depth-0" role="button">Abs</a>
    <a href="http://arxiv.org/abs/2401.00001" class="btn btn-sm z-depth-0" role="button">arXiv</a>
    <a class="bibtex btn btn-sm z-depth-0" role="button">Bib</a>
    <a href="https://proceedings.mlr.press/v235/a.html" class="btn btn-sm z-depth-0" role="button">HTML</a>
    <a href="/assets/pdf/engines.pdf" class="btn btn-sm z-depth-0" role="button">PDF</a>
    <a href="https://engines.example.org/" class="btn btn-sm z-depth-0" role="button">Website</a>
  </div>
  <div class="abstract hidden"><p>We consider engines.</p></div>
  <div class="bibtex hidden"><figure class="highlight"><pre><code class="language-bibtex"><span
    class="nc">@inproceedings</span>{<span class="nl">lovelace2024</span>,
  <span class="na">title</span> <span class="p">=</span> <span class="s">{Analytical Engines Considered Helpful}</span>,
  <span class="na">doi</span> <span class="p">=</span> <span class="s">{10.1000/XYZ.123}</span>
}</code></pre></figure></div>
</div></div></li></ol></div>
<footer>Powered by <a href="https://github.com/alshedivat/al-folio">al-folio</a></footer></body></html>"""


def test_built_item_of_a_newer_al_folio_with_bibtex_shown():
    records = parse_resource(Resource("https://ada.example.org/", NEWER_ITEM.encode(), "text/html"))
    assert records.source.format == "alfolio"
    (pub,) = records.publications
    assert pub.authors == ["Ada Lovelace", "Charles Babbage", "Mary O'Brien", "Alan Turing"]
    assert (pub.venue, pub.year) == ("Proceedings of the 41st International Conference on Machine Learning", 2024)
    assert pub.links == {"arxiv": "http://arxiv.org/abs/2401.00001",
                         "paper": "https://proceedings.mlr.press/v235/a.html",
                         "pdf": "https://ada.example.org/assets/pdf/engines.pdf",
                         "project": "https://engines.example.org/"}
    assert pub.ids == {"arxiv": "2401.00001", "doi": "10.1000/xyz.123"}  # the DOI only the BibTeX block shows
