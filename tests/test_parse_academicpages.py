"""academicpages: about.md sections, the _publications/ collection, built pages, HTTP."""
from __future__ import annotations

import functools
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler import loader
from crawler.parsers import detect_format, parse_bytes, parse_resource
from crawler.records import PageRecords
from sync.cli import main
from tests.conftest import load_case, norm

FIXTURES = Path(__file__).parent / "fixtures" / "jekyll"


def _assert_collection_matches(records, expected):
    assert sorted(norm(p.title) for p in records.publications) == sorted(norm(p["title"]) for p in expected)
    got = {norm(p.title): p for p in records.publications}
    for want in expected:
        pub = got[norm(want["title"])]
        assert pub.authors == want["authors"], want["title"]
        assert (pub.venue, pub.year) == (want["venue"], want["year"]), want["title"]
        assert pub.links == want["links"], want["title"]


def test_papers_come_from_the_publications_collection():
    case = load_case("homepages", "apages-jandubinski")
    records = case.parse()
    assert records.source.format == "academicpages"
    _assert_collection_matches(records, case.expected["publications"])
    got = {norm(p.title): p for p in records.publications}
    # the year is the front matter date's, not the file name's (2024-11-19-cdi-...)
    cdi = got[norm("CDI: Copyrighted Data Identification in Diffusion Models")]
    assert (cdi.date, cdi.year, cdi.ids) == ("2025-06-11", 2025, {"arxiv": "2411.12858"})
    assert got[norm("Maybe I Should Not Answer That, but… Do LLMs Understand The Safety of Their Inputs?")]
    profile = records.profile  # _config.yml's author block
    assert (profile.name, profile.email) == ("Jan Dubiński", "jan.dubinski.dokt@pw.edu.pl")
    assert profile.links["scholar"] == "https://scholar.google.com/citations?user=iG319iwAAAAJ&hl=en"
    assert profile.links["github"] == "https://github.com/jandubinski"


def test_one_collection_file_is_one_paper():
    case = load_case("homepages", "apages-jandubinski")
    page = case.folder / "_publications" / "2025-10-09-backdoor-vectors-task-arithmetic.md"
    records = parse_resource(loader.load_target(str(page)), loader.fetch)
    assert records.source.format == "academicpages"
    [paper] = records.publications
    want = next(p for p in case.expected["publications"] if p["title"].startswith("Backdoor Vectors"))
    assert (paper.title, paper.authors, paper.venue, paper.year) == (want["title"], want["authors"], want["venue"],
                                                                     want["year"])


def test_setext_news_keeps_every_dated_item():
    case = load_case("homepages", "apages-wugangwu")
    records = case.parse()
    assert records.source.format == "academicpages"
    assert [(n.date, n.date_iso, n.text) for n in records.news] == [
        (n["date"], n["date_iso"], n["text"]) for n in case.expected["news"]]
    # same text on different dates is five news items, not one
    assert sum(n.text == "One patent application filed." for n in records.news) == 5
    assert records.publications == []  # no _publications/ files in this checkout
    assert records.profile.email == "gawu@adobe.com"  # shown on the page as gawu[AT]adobe.com


def test_seed_002_about_page_lists():
    case = load_case("seeds", "002_866f84e71c73bd1c")
    records = case.parse()
    assert records.source.format == "academicpages"
    _by_title = {norm(p.title): p for p in records.publications}
    assert sorted(_by_title) == sorted(norm(p["title"]) for p in case.expected["publications"])
    for want in case.expected["publications"]:
        pub = _by_title[norm(want["title"])]
        assert (pub.authors, pub.venue, pub.year) == (want["authors"], want["venue"], want["year"])
    assert [(n.date_iso, n.text) for n in records.news] == [(n["date_iso"], n["text"]) for n in case.expected["news"]]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_template_examples_are_dropped_and_citations_give_authors(tmp_path):
    _write(tmp_path / "_config.yml", 'author:\n  name: "Ann Author"\n')
    _write(tmp_path / "_pages" / "about.md", "---\npermalink: /\nauthor_profile: true\n---\nHello.\n")
    _write(tmp_path / "_publications" / "2009-10-01-paper-title-number-1.md", """---
title: "Paper Title Number 1"
collection: publications
date: 2009-10-01
venue: 'Journal 1'
paperurl: 'http://academicpages.github.io/files/paper1.pdf'
citation: 'Your Name, You. (2009). &quot;Paper Title Number 1.&quot; <i>Journal 1</i>. 1(1).'
---
""")
    _write(tmp_path / "_publications" / "2021-03-02-a-real-paper.md", """---
title: "A Real Paper About *Robust* Things"
collection: publications
date: 2021-03-02
venue: '<i>Journal of Things</i>'
paperurl: '/files/real.pdf'
slidesurl: 'https://example.org/slides.pdf'
doi: 'https://doi.org/10.1000/XYZ.123'
citation: 'Author, A., &amp; Builder, B. (2021). &quot;A Real Paper About Robust Things.&quot; <i>Journal</i>.'
---
Abstract.
""")
    records = parse_resource(loader.load_target(str(tmp_path / "_pages" / "about.md")), loader.fetch,
                             base_url="https://ann.github.io/")
    [paper] = records.publications
    assert (paper.title, paper.venue, paper.year, paper.date) == (
        "A Real Paper About Robust Things", "Journal of Things", 2021, "2021-03-02")
    assert paper.authors == ["Author, A.", "Builder, B."]
    assert paper.links == {"pdf": "https://ann.github.io/files/real.pdf", "slides": "https://example.org/slides.pdf",
                           "doi": "https://doi.org/10.1000/xyz.123"}
    assert paper.ids == {"doi": "10.1000/xyz.123"}


def test_built_home_page_follows_the_publications_page():
    entry = loader.load_target(str(FIXTURES / "academicpages-built" / "index.html"))
    assert detect_format(entry).name == "academicpages"
    records = parse_resource(entry, loader.fetch, base_url="https://jandubinski.github.io/")
    assert [(n.date_iso, n.text) for n in records.news] == [
        ("2025-11", "Our paper On Stealing Graph Neural Network Models is accepted to AAAI 2026."),
        ("2026-01", "Universal Properties of Activation Sparsity is accepted to ICLR 2026.")]
    stealing, bucks = records.publications  # "Paper Title Number 1", the template's example, is not one
    assert (stealing.venue, stealing.year) == ("AAAI Conference on Artificial Intelligence (AAAI)", 2026)
    assert stealing.authors == ["Podhajski, M.", "Dubiński, J.", "Boenisch, F.", "Dziedzic, A.", "Pręgowska, A.",
                                "Michalak, T. P."]
    assert stealing.links == {"page": "https://jandubinski.github.io/publication/"
                                      "2025-11-10-on-stealing-graph-neural-network-models",
                              "arxiv": "https://arxiv.org/abs/2511.07170"}
    assert bucks.links["slides"] == "https://jandubinski.github.io/files/b4b-slides.pdf"
    profile = records.profile  # the sidebar, not the advisor linked in the text
    assert (profile.name, profile.email, profile.affiliation) == (
        "Jan Dubiński", "jan.dubinski.dokt@pw.edu.pl", "Warsaw University of Technology & NASK")
    assert profile.links["scholar"] == "https://scholar.google.com/citations?user=iG319iwAAAAJ&hl=en"


def test_built_publications_page_on_its_own():
    entry = loader.load_target(str(FIXTURES / "academicpages-built" / "publications" / "index.html"))
    records = parse_resource(entry, loader.fetch, base_url="https://jandubinski.github.io/publications/")
    assert [p.title for p in records.publications] == [
        "On Stealing Graph Neural Network Models", "Bucks for Buckets (B4B): Active Defenses Against Stealing Encoders"]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        pass


@pytest.fixture
def served_case():
    """The jandubinski checkout on a real 127.0.0.1 server (directory listings on)."""
    case = load_case("homepages", "apages-jandubinski")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(case.folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield case, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_collection_is_listed_and_fetched_over_http(served_case, capsys):
    """`profilesync parse http://.../_pages/about.md`: _config.yml is found one folder up,
    `_publications/` is listed from the server's directory page, each paper fetched."""
    case, base = served_case
    assert main(["parse", base + "_pages/about.md", "--base-url", case.url]) == 0
    records = PageRecords.from_dict(json.loads(capsys.readouterr().out))
    assert records.source.format == "academicpages"
    _assert_collection_matches(records, case.expected["publications"])
    assert records.profile.name == "Jan Dubiński"


# Fragments that steer random input into both Jekyll parsers' paths (sections, entry
# shapes, APA lists, front matter, built archive items and sidebars).
FRAGMENTS = ["---\nauthor_profile: true\n---\n", "News\n=====\n", "Publications\n======\n", "# 📝 Publications\n",
             "- *2024.09*: ", "11/2021, ", "<div class='paper-box'>", "<div class=\"badge\">", "</div>",
             "<div class='paper-box-text' markdown=\"1\">\n\n", "[A Title Long Enough](https://arxiv.org/abs/2401.00001)",
             " \\\\\n", "**Ann Author**\\*, ", "Liu, H., W Zhang, Xie J., ... & Ghanem, B. (2024). ", "_TMLR_.",
             "``CVPR 2024`` ", "<span class=\"conference-tag\">", "<section class=\"page__content\">",
             "<article class=\"archive__item\"><h2 class=\"archive__item-title\"><a href=\"/publication/x\">",
             "<p>Published in <i>", "Recommended citation: ", "<h3 class=\"author__name\">", "itemscope ",
             "<ul class=\"author__urls\">", "google-scholar-stats", "\n\n", "<li>", "<p>", "<strong>", "</strong>"]
_pages = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30)), max_size=40).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_pages, content_type=st.sampled_from(["text/markdown", "text/html"]),
       format=st.sampled_from(["acadhomepage", "academicpages"]))
def test_jekyll_parsers_never_raise(text, content_type, format):  # noqa: A002 - the CLI's option name
    records = parse_bytes("https://someone.github.io/_pages/about.md", text.encode("utf-8", "surrogatepass"),
                          content_type, format=format)
    assert all(p.title for p in records.publications)
    records.to_dict()
