"""parse_bytes never raises, whatever the bytes and the declared type (issue 2)."""
from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.parsers import FORMATS, Resource, parse_bytes
from crawler.records import PageRecords

CONTENT_TYPES = ["text/html", "text/html; charset=utf-8", "text/markdown", "application/json",
                 "application/xml", "application/atom+xml", "application/x-bibtex", None]
URLS = ["https://someone.github.io/", "https://someone.github.io/_pages/about.md",
        "https://someone.github.io/papers.bib", "https://api.example.org/works.json",
        "file:///tmp/site/content/publication/x/index.md"]
# Fragments that steer random input into the parsers' interesting paths.
FRAGMENTS = ["<html>", "<body>", "<h2>Publications</h2>", "<h2>News</h2>", "<ul>", "<li>", "</li>",
             "<br>", "<b>", "</b>", "<a href='https://arxiv.org/abs/2401.00001'>", "</a>", "<td>", "<tr>",
             "<span class=\"papertitle\">", "<papertitle>", "<div class=\"pub-list-item\">", "<em>",
             "<meta name=\"generator\" content=\"Wowchemy\">", "---\ntitle: x\n---\n", "+++\n", "## News\n",
             "- 2024.09: ", "**", "{% include_relative x.md %}", "@article{k, title={T}}", "{\"results\": [",
             "<?xml version='1.0'?>", "<feed>", "<!--", "-->", "&amp;", "\x00", "\ufeff", "‚Äô", "üí¨",
             "2024/06", "Sep 2024", "Durant, F., and Levin, M., (2016), "]

page_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40)), max_size=40).map("".join)
page_bytes = st.one_of(st.binary(max_size=2000), page_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
                       page_text.map(lambda t: t.encode("utf-16")))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=page_bytes, content_type=st.sampled_from(CONTENT_TYPES), url=st.sampled_from(URLS))
def test_parse_bytes_never_raises_and_returns_page_records(body, content_type, url):
    records = parse_bytes(url, body, content_type)
    assert isinstance(records, PageRecords)
    records.to_dict()  # and serialises


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=page_bytes, content_type=st.sampled_from(CONTENT_TYPES), url=st.sampled_from(URLS))
def test_no_detector_scores_above_its_declared_max(body, content_type, url):
    """detect_format skips a format once another scored its MAX_SCORE: it must hold."""
    resource = Resource(url, body, content_type)
    for fmt in FORMATS:
        assert fmt.detect(resource) <= fmt.max_score, fmt.name


def test_declared_max_scores_hold_on_the_corpus():
    pages = [p for p in Path(__file__).parent.joinpath("corpus").rglob("*") if p.is_file()]
    assert pages
    for path in pages:
        resource = Resource(path.as_uri(), path.read_bytes())
        for fmt in FORMATS:
            assert fmt.detect(resource) <= fmt.max_score, (fmt.name, path)
