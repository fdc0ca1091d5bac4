"""Requests built from config entries, and the per-host limits of the listing APIs."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from crawler.parsers import get_format
from crawler.sources import HOST_LIMITS, SourceError, host_limit, orcid_checksum_ok, source_request


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_scholar_first_page_only_as_robots_allows():
    req = source_request("scholar", "https://scholar.google.com/citations?hl=pt-PT&user=P1RwlvoAAAAJ")
    assert req.format == "scholar"
    assert urlsplit(req.url).query.startswith("user=P1RwlvoAAAAJ")  # robots: Allow /citations?user=
    assert "cstart" not in req.url


@pytest.mark.parametrize("value", ["95/7448-1", "https://dblp.org/pid/95/7448-1.html"])
def test_dblp_pid_or_profile_url(value):
    assert source_request("dblp", value).url == "https://dblp.org/pid/95/7448-1.xml"


def test_arxiv_query_pages_from_start_zero():
    req = source_request("arxiv", 'au:"Li, Lei"')
    assert urlsplit(req.url).netloc == "export.arxiv.org"
    q = query(req.url)
    assert q["search_query"] == 'au:"Li, Lei"' and q["start"] == "0" and int(q["max_results"]) <= 2000
    assert query(source_request("arxiv", "Lei Li").url)["search_query"] == 'au:"Lei Li"'


def test_openalex_cursor_and_api_key():
    req = source_request("openalex", "https://openalex.org/A5003721947", api_keys={"openalex": "k3y"})
    q = query(req.url)
    assert q == {"filter": "author.id:A5003721947", "per-page": "200", "cursor": "*", "api_key": "k3y"}
    by_orcid = query(source_request("openalex", "0000-0002-4481-0115").url)
    assert by_orcid["filter"] == "author.orcid:https://orcid.org/0000-0002-4481-0115" and "api_key" not in by_orcid


def test_semanticscholar_key_goes_in_a_header():
    req = source_request("semanticscholar", "1723755", api_keys={"semanticscholar": "s2k"})
    assert req.headers == (("x-api-key", "s2k"),)
    assert urlsplit(req.url).path == "/graph/v1/author/1723755/papers"
    assert query(req.url)["offset"] == "0"


def test_orcid_json_with_checksum():
    req = source_request("orcid", "https://orcid.org/0000-0002-1825-0097")
    assert req.url == "https://pub.orcid.org/v3.0/0000-0002-1825-0097/works"
    assert ("Accept", "application/json") in req.headers
    assert orcid_checksum_ok("0000-0002-4481-0115") and not orcid_checksum_ok("0000-0002-4481-0116")


def test_scholarfeed_uses_the_json_api():
    req = source_request("scholarfeed", "https://scholarfeed.org/author/chen-cheng")
    assert req.url == "https://scholarfeed.org/api/v1/public/authors/chen-cheng/papers?page=1"


def test_url_kind_leaves_the_format_to_detection():
    assert source_request("url", "https://x.github.io/").format is None


@pytest.mark.parametrize(("kind", "value", "message"), [
    ("orcid", "0000-0002-1825-0098", "checksum"),
    ("dblp", "Lei Li", "DBLP person id"),
    ("openalex", "W2741809807", "OpenAlex author id"),
    ("semanticscholar", "abc", "Semantic Scholar author id"),
    ("scholar", "not a user", "Google Scholar user id"),
    ("url", "ftp://example.org/", r"http\(s\) URL"),
    ("arxiv", "   ", "empty"),
    ("myspace", "x", "unknown source kind"),
])
def test_bad_values_name_the_kind_and_problem(kind, value, message):
    with pytest.raises(SourceError, match=message) as err:
        source_request(kind, value)
    assert isinstance(err.value, ValueError)


def test_every_kind_maps_to_a_registered_parser():
    for kind, value in [("scholar", "P1RwlvoAAAAJ"), ("dblp", "95/7448-1"), ("arxiv", "au:x"),
                        ("openalex", "A1234"), ("semanticscholar", "1"), ("orcid", "0000-0002-1825-0097"),
                        ("scholarfeed", "x")]:
        req = source_request(kind, value)
        assert get_format(req.format).kind == "listing"


def test_host_limits_follow_the_documented_rates():
    assert host_limit("export.arxiv.org") == HOST_LIMITS["export.arxiv.org"]
    assert host_limit("export.arxiv.org").min_interval_s >= 3 and host_limit("export.arxiv.org").concurrency == 1
    assert host_limit("API.SemanticScholar.org:443").min_interval_s >= 1
    assert 1 / host_limit("api.openalex.org").min_interval_s <= 100
    assert 1 / host_limit("pub.orcid.org").min_interval_s <= 12
    assert host_limit("www.dblp.org") is not None and host_limit("example.org") is None
