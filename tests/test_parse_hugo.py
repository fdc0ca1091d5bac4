"""Hugo Blox / Wowchemy / Hugo Academic: source tree and built HTML."""
from __future__ import annotations

from crawler import loader
from crawler.parsers import parse_resource
from tests.conftest import f1, load_case, norm


def test_source_tree_reads_every_publication_bundle_from_the_site_root():
    case = load_case("homepages", "hugo-0cooper-src")
    records = case.parse()
    assert records.source.format == "hugo"
    expected = case.expected["publications"]
    assert f1([norm(p["title"]) for p in expected], [norm(p.title) for p in records.publications]) == 1.0
    by_title = {norm(p.title): p for p in records.publications}
    for want in expected:
        got = by_title[norm(want["title"])]
        assert got.authors == want["authors"]  # "admin" resolved to the author page's name
        assert (got.venue, got.year) == (want["venue"], want["year"])
    rubies = by_title[norm(expected[0]["title"])]
    assert rubies.ids == {"arxiv": "2410.08387"}  # its doi field holds an arXiv URL
    werls = by_title[norm(expected[1]["title"])]
    assert werls.ids["doi"] == "10.3847/1538-4357/ad4c6c"
    assert werls.links["pdf"] == "https://iopscience.iop.org/article/10.3847/1538-4357/ad4c6c/pdf"


def test_source_profile_comes_from_the_author_page_and_params():
    profile = load_case("homepages", "hugo-0cooper-src").parse().profile
    assert profile.name == "Olivia Cooper"
    assert profile.affiliation == "UT Austin Astronomy"
    assert profile.email == "oliviaraecooper@gmail.com"


def test_built_site_merges_citation_and_card_views_without_duplicates():
    case = load_case("homepages", "hugo-afraderasola-html")
    records = case.parse()
    assert records.source.format == "hugo"
    expected = case.expected["publications"]
    assert sorted(norm(p.title) for p in records.publications) == sorted(norm(p["title"]) for p in expected)
    by_title = {norm(p.title): p for p in records.publications}
    for want in expected:
        got = by_title[norm(want["title"])]
        assert got.authors == want["authors"]
        assert (got.venue, got.year) == (want["venue"], want["year"])
        assert got.links["page"] == "https://afraderasola.github.io" + want["links"]["page"]
    assert by_title[norm(expected[0]["title"])].ids == {"doi": "10.1038/s41467-023-43397-7"}


def _item(slug: str, title: str) -> str:
    return f"""<div class="pub-list-item view-citation">
      <span class="article-metadata li-cite-author"><span>Ann Author</span>, <span>Bob Builder</span></span>
      (2021). <a href="/publication/{slug}/">{title}</a>. In <em>Some Journal</em>.
      <p><a class="btn" href="/publication/{slug}/{slug}.pdf">PDF</a>
         <a href="#" class="btn js-cite-modal">Cite</a></p></div>"""


def test_built_site_follows_the_publication_section_page(tmp_path):
    head = '<html><head><meta name="generator" content="Wowchemy 5.5.0 for Hugo"></head><body>'
    (tmp_path / "index.html").write_text(head + _item("one", "The Featured Paper On The Home Page") + "</body></html>")
    (tmp_path / "publication").mkdir()
    (tmp_path / "publication" / "index.html").write_text(
        head + _item("one", "The Featured Paper On The Home Page") + _item("two", "An Older Paper Only Listed There")
        + "</body></html>")
    records = parse_resource(loader.load_target(str(tmp_path / "index.html")), loader.fetch,
                             base_url="https://someone.github.io/")
    assert [p.title for p in records.publications] == ["The Featured Paper On The Home Page",
                                                       "An Older Paper Only Listed There"]
    older = records.publications[1]
    assert older.links == {"page": "https://someone.github.io/publication/two/",
                           "pdf": "https://someone.github.io/publication/two/two.pdf"}
    assert (older.authors, older.venue, older.year) == (["Ann Author", "Bob Builder"], "Some Journal", 2021)
