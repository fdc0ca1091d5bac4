"""The generic fallback: news and publication lists found by page structure."""
from __future__ import annotations

from crawler.parsers import parse_bytes
from tests.conftest import load_case, norm


def test_free_text_citations_under_nested_headings():
    case = load_case("homepages", "plain-jhammelman")
    records = case.parse()
    assert records.source.format == "generic"
    expected = case.expected["publications"]
    assert [norm(p.title) for p in records.publications] == [norm(p["title"]) for p in expected]
    for want, got in zip(expected, records.publications):
        assert got.authors == want["authors"]
        assert got.year == want["year"]
        assert norm(got.venue) == norm(want["venue"])
    first = records.publications[0]
    assert first.ids == {"doi": "10.1002/reg2.54"}
    assert first.links == {"paper": expected[0]["links"]["paper"]}
    assert records.profile.name == "Jen Hammelman"


def test_portfolio_placeholders_and_other_sections_are_not_publications():
    titles = {p.title for p in load_case("homepages", "plain-jhammelman").parse().publications}
    assert not any("Project Title" in t for t in titles)


PAGE = """<html><head><title>Ada Lovelace | Home</title></head><body>
<div class="row"><div><h2>News</h2></div>
  <ul><li>[2024/06] Our paper on engines was accepted to <a href="https://conf.org">ICML</a>!</li>
      <li>Sep 2023: Started my PhD.</li>
      <li>Not a dated item, so not news.</li></ul></div>
<div><h2>Publications</h2></div>
<div><h3>Conference</h3>
  <ul><li><b>Analytical Engines Considered Helpful</b><br>Ada Lovelace, Charles Babbage<br>
      <i>NeurIPS 2023</i> <a href="https://arxiv.org/abs/2310.01234v3">arXiv</a> <a href="https://github.com/ada/ae">code</a></li>
      <li>Lovelace, A., and Babbage, C. (2021). A Note on Bernoulli Numbers. In: Proceedings of Notes, May 3, 2021.</li></ul></div>
<div><h3>Talks</h3><ul><li><b>Invited Talk About Engines</b>, Somewhere University, 2022</li></ul></div>
<!-- <ul><li><b>A Commented Out Paper Title</b>, Ada Lovelace, 2020</li></ul> -->
<h2>Contact</h2><p>ada [at] example [dot] org</p>
</body></html>"""


def test_dated_items_under_a_news_heading_become_news():
    records = parse_bytes("https://ada.example.org/", PAGE.encode(), "text/html")
    assert [(n.date, n.date_iso, n.text) for n in records.news] == [
        ("2024/06", "2024-06", "Our paper on engines was accepted to ICML!"),
        ("Sep 2023", "2023-09", "Started my PhD."),
    ]
    assert records.news[0].links == ["https://conf.org"]


def test_publication_shapes_under_sub_headings_but_not_talks_or_comments():
    records = parse_bytes("https://ada.example.org/", PAGE.encode(), "text/html")
    assert [p.title for p in records.publications] == ["Analytical Engines Considered Helpful",
                                                       "A Note on Bernoulli Numbers"]
    engines, note = records.publications
    assert engines.authors == ["Ada Lovelace", "Charles Babbage"]
    assert engines.links == {"arxiv": "https://arxiv.org/abs/2310.01234v3", "code": "https://github.com/ada/ae"}
    assert engines.ids == {"arxiv": "2310.01234"}
    assert (note.authors, note.year, note.venue) == (["Lovelace, A.", "Babbage, C."], 2021, "Proceedings of Notes")


def test_profile_name_from_title_and_obfuscated_email():
    profile = parse_bytes("https://ada.example.org/", PAGE.encode(), "text/html").profile
    assert (profile.name, profile.email) == ("Ada Lovelace", "ada@example.org")


def test_an_item_holding_a_zero_width_only_paragraph_still_parses():
    # editors leave <p>&#8203;</p> behind; it cleans to an empty line, which once crashed the parser
    html = (b"<html><body><h2>Publications</h2><ul>"
            b"<li><p>&#8203;</p><b>A Paper Title About Things</b>, A. Author, B. Author. CVPR 2024.</li>"
            b"<li><b>Another Paper On Stuff</b>, C. Author. ICCV 2023.</li></ul></body></html>")
    records = parse_bytes("https://x.example.org/", html, "text/html")
    assert [(p.title, p.year) for p in records.publications] == [
        ("A Paper Title About Things", 2024), ("Another Paper On Stuff", 2023)]
