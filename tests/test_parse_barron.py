"""Jon Barron-style table pages: both markups, real corpus pages."""
from __future__ import annotations

from crawler.parsers import parse_bytes
from tests.conftest import f1, load_case, norm


def _titles(records) -> list[str]:
    return [norm(p.title) for p in records.publications]


def test_old_papertitle_markup_gives_every_paper_with_authors_venue_year_and_links():
    case = load_case("homepages", "barron-dorverbin")
    records = case.parse()
    assert records.source.format == "barron"
    expected = case.expected["publications"]
    assert f1([norm(p["title"]) for p in expected], _titles(records)) == 1.0
    by_title = {norm(p.title): p for p in records.publications}
    for want in expected:
        got = by_title[norm(want["title"])]
        assert [norm(a) for a in got.authors] == [norm(a) for a in want["authors"]]
        assert (got.venue, got.year) == (want["venue"], want["year"])
        assert got.links.get("arxiv") == want["links"].get("arxiv")
        assert got.links.get("code") == want["links"].get("code")
    eclipse = by_title[norm("Eclipse: Disambiguating Illumination and Materials using Unintended Shadows")]
    assert eclipse.ids == {"arxiv": "2305.16321"}
    assert records.profile.name == "Dor Verbin"
    assert records.profile.email == "dorverbin@gmail.com"


def test_placeholder_link_text_gives_no_links():
    records = load_case("homepages", "barron-dorverbin").parse()
    rogr = next(p for p in records.publications if p.title.startswith("ROGR"))
    assert rogr.links == {}


def test_rows_without_an_author_line_are_not_the_owners_papers():
    case = load_case("homepages", "barron-jefequien")
    records = case.parse()
    assert _titles(records) == [norm(p["title"]) for p in case.expected["publications"]]
    gsplat = records.publications[0]
    assert gsplat.venue == "JMLR" and gsplat.year == 2024
    assert "Jeffrey Hu" in gsplat.authors


def test_rows_under_a_talks_heading_are_skipped():
    page = b"""<html><body><table>
      <tr><td><h2>Publications</h2></td></tr>
      <tr><td><a href="https://p.org/x"><span class="papertitle">A Real Paper About Things</span></a><br>
        Ann Author, <strong>Me Myself</strong><br><em>CVPR</em>, 2023<br>
        <a href="https://arxiv.org/abs/2301.00001v2">arXiv</a> / <a href="https://github.com/a/b">code</a></td></tr>
      <tr><td><h2>Talks</h2></td></tr>
      <tr><td><span class="papertitle">A Keynote I Gave Once</span><br>Me Myself, Someone Else<br>
        <em>Workshop</em>, 2022</td></tr>
    </table></body></html>"""
    records = parse_bytes("https://me.github.io/", page, "text/html")
    assert [p.title for p in records.publications] == ["A Real Paper About Things"]
    paper = records.publications[0]
    assert paper.links == {"arxiv": "https://arxiv.org/abs/2301.00001v2", "code": "https://github.com/a/b",
                           "project": "https://p.org/x"}
    assert paper.ids == {"arxiv": "2301.00001"}
