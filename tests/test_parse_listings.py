"""Paper-listing parsers on the labelled corpus and on built fixtures: records, ids,
metrics, detection, pagination through Site wishes, and the `parse` command."""
from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import case_names, f1, load_case, norm
from crawler.ids import doi
from crawler.parsers import Resource, Wish, detect_format, parse_bytes, parse_resource
from sync.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "listings"
LISTINGS = [name for name in case_names("listings") if name != "bibtex-1"]  # bibtex: the alfolio helper's
FORMAT_OF = {"scholar-1": "scholar", "scholar-2": "scholar", "dblp-1": "dblp", "arxiv-1": "arxiv",
             "openalex-1": "openalex", "s2-1": "semanticscholar", "orcid-1": "orcid"}

# Labels this code disagrees with on purpose (reported, not tuned to).
LABEL_DISAGREEMENTS = {
    ("orcid-1", "Apache sustained competitive advantage in the web server industry", "doi"):
        "ORCID marks this DOI `part-of`: it is the book's DOI, not the chapter's, so it is no id of the paper",
}


def label_key(title: str) -> str:
    """A label's title as the parsers give it: OpenAlex's inline <i> markup is dropped."""
    return norm(re.sub(r"</?[a-z]+>", "", title))


@pytest.fixture(scope="module")
def parsed():
    cache = {}

    def get(name: str):
        if name not in cache:
            case = load_case("listings", name)
            cache[name] = (case, case.parse())
        return cache[name]
    return get


@pytest.mark.parametrize("name", LISTINGS)
def test_corpus_case_matches_labels(name, parsed):
    case, records = parsed(name)
    assert records.source.format == FORMAT_OF[name]
    expected = case.expected["publications"]
    got: dict[str, list] = {}
    for pub in records.publications:  # listings may hold one title twice (S2, ORCID): pair in order
        got.setdefault(norm(pub.title), []).append(pub)
    assert f1([label_key(p["title"]) for p in expected], [norm(p.title) for p in records.publications]) == 1.0
    for label in expected:
        pub = got[label_key(label["title"])].pop(0)
        if label.get("authors"):
            assert [norm(a) for a in pub.authors] == [norm(a) for a in label["authors"]], label["title"]
        assert pub.year == label.get("year"), label["title"]
        for kind, value in (label.get("ids") or {}).items():
            if value and (name, label["title"], kind) not in LABEL_DISAGREEMENTS:  # DOIs compared canonical: a label may keep "%2F" where the DOI has "/"
                want = doi(value) if kind == "doi" else value.lower()
                assert pub.ids.get(kind, "").lower() == want, (label["title"], kind)
    for key, value in (case.expected["profile"].get("metrics") or {}).items():
        assert records.profile.metrics.to_dict().get(key) == value, key
    if case.expected["profile"].get("name"):
        assert records.profile.name == case.expected["profile"]["name"]


def test_scholar_reads_since_column_and_flags_unread_pages(parsed):
    _, one = parsed("scholar-1")
    _, two = parsed("scholar-2")
    assert one.profile.metrics.recent_since == 2021 and one.profile.metrics.citations_recent == 38
    assert one.profile.ids == {"scholar": "P1RwlvoAAAAJ"}
    assert not one.warnings                                   # 5 rows, nothing more to read
    assert any("robots.txt" in w for w in two.warnings)       # "Show more" enabled, cstart disallowed
    assert all(p.ids["scholar"].startswith("amIMrIEAAAAJ:") for p in two.publications)


def test_scholar_parses_any_ui_language(parsed):
    case, english = parsed("scholar-1")
    html = case.entry.read_text(encoding="utf-8")
    for en, pt in (("Cited by", "Citado por"), (">Citations<", ">Citações<"), (">All<", ">Todos<"),
                   ("Since 2021", "Desde 2021"), ("hl=en", "hl=pt-PT")):
        html = html.replace(en, pt)
    assert "Desde 2021" in html and ">Citations<" not in html
    portuguese = parse_bytes(case.url.replace("hl=en", "hl=pt-PT"), html.encode(), "text/html")
    assert portuguese.profile.metrics == english.profile.metrics
    assert [p.to_dict() | {"links": {}} for p in portuguese.publications] == \
           [p.to_dict() | {"links": {}} for p in english.publications]


def test_dblp_drops_homonym_suffix_and_keeps_record_keys(parsed):
    _, records = parsed("dblp-1")
    assert records.profile.ids == {"dblp": "95/7448-1"}
    assert not any("0001" in a for p in records.publications for a in p.authors)
    assert all(p.ids["dblp"] and not p.title.endswith(".") for p in records.publications)


def test_arxiv_both_serialisations_give_the_same_fields(parsed):
    _, legacy = parsed("arxiv-1")
    current = parse_bytes("https://export.arxiv.org/api/query?search_query=au:Vaswani&start=0&max_results=2",
                          (FIXTURES / "arxiv-current-p1.atom").read_bytes(), "application/atom+xml")
    assert current.source.format == legacy.source.format == "arxiv"
    attention = current.publications[0]
    assert attention.title == "Attention Is All You Need"
    assert attention.ids == {"arxiv": "1706.03762"}              # version suffix v7 stripped
    assert attention.authors == ["Ashish Vaswani", "Noam Shazeer"] and attention.year == 2017
    assert current.publications[1].venue == "Advances in Neural Information Processing Systems 33 (2020)"
    old = next(p for p in legacy.publications if p.ids["arxiv"] == "cond-mat/0412498")
    assert old.ids["doi"] == "10.1103/physrevb.71.184511" and old.year == 2004


def test_arxiv_error_feed_is_a_warning_not_papers():
    feed = (b'<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            b'<title>arXiv Query</title><link href="https://arxiv.org/api/query?id_list=1234.12345"/>'
            b'<entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_1234.12345</id>'
            b'<title>Error</title><summary>incorrect id format for 1234.12345</summary></entry></feed>')
    records = parse_bytes("https://export.arxiv.org/api/query?id_list=1234.12345", feed, "application/atom+xml")
    assert records.publications == []
    assert any("incorrect id format" in w for w in records.warnings)


def test_openalex_with_and_without_meta_envelope(parsed):
    case, bare = parsed("openalex-1")
    works = json.loads(case.entry.read_bytes())
    envelope = {"meta": {"count": len(works), "page": None, "per_page": 200, "next_cursor": None},
                "results": works, "group_by": []}
    wrapped = parse_bytes(case.url, json.dumps(envelope).encode(), "application/json")
    assert wrapped.source.format == "openalex"
    assert [p.to_dict() for p in wrapped.publications] == [p.to_dict() for p in bare.publications]
    html_title = next(p for p in bare.publications if "Ralstonia" in p.title)
    assert "<i>" not in html_title.title


def test_orcid_file_in_cp1252_decodes(parsed):
    case, records = parsed("orcid-1")
    with pytest.raises(UnicodeDecodeError):
        case.entry.read_bytes().decode("utf-8")
    assert records.profile.ids == {"orcid": "0000-0002-4481-0115"}
    assert any("Colaboração" in p.title for p in records.publications)


def test_scholarfeed_page_text_seed():
    case = load_case("seeds", "004_247bf0bcdcae1f0b")
    records = case.parse()
    assert records.source.format == "scholarfeed"
    assert records.profile.metrics.to_dict() == case.expected["profile"]["metrics"]
    assert [p.title for p in records.publications] == [p["title"] for p in case.expected["publications"]]
    assert [p.year for p in records.publications] == [p["year"] for p in case.expected["publications"]]
    undated = next(p for p in records.publications if p.title.startswith("Evaluating the Progression"))
    assert undated.year is None and undated.authors == ["Shriram Chennakesavalu", "Kirill Shmilovich", "Hayley Weir"]


# --------------------------------------------------------------------------- pagination

def _serve(pages: dict[str, tuple[Path | bytes, str]]):
    """A driver's fetch over a dict of URL -> (file or bytes, content type)."""
    asked: list[str] = []

    def fetch(wishes: set[Wish]):
        out = {}
        for wish in wishes:
            asked.append(wish.url)
            body, ctype = pages.get(wish.url, (None, ""))
            data = body.read_bytes() if isinstance(body, Path) else body
            out[wish] = Resource(wish.url, data, ctype) if data is not None else None
        return out
    return fetch, asked


def test_scholarfeed_api_follows_pages():
    first = "https://scholarfeed.org/api/v1/public/authors/chen-cheng/papers?page=1"
    second = "https://scholarfeed.org/api/v1/public/authors/chen-cheng/papers?page=2"
    fetch, asked = _serve({second: (FIXTURES / "scholarfeed-api-p2.json", "application/json")})
    records = parse_resource(Resource(first, (FIXTURES / "scholarfeed-api-p1.json").read_bytes(),
                                      "application/json"), fetch)
    assert records.source.format == "scholarfeed" and asked == [second]
    assert records.profile.metrics.to_dict() == {"h_index": 33, "papers": 30, "citations": 1527}
    assert [p.ids.get("arxiv") for p in records.publications] == ["2308.14256", "2206.12325", "2402.14034"]
    assert records.publications[0].links["code"] == "https://github.com/modelscope/facechain"


def test_openalex_follows_the_cursor(parsed):
    case, _ = parsed("openalex-1")
    works = json.loads(case.entry.read_bytes())
    base = "https://api.openalex.org/works?filter=author.id:A5003721947&per-page=50&cursor=*"

    def page(chunk, cursor):
        return json.dumps({"meta": {"count": len(works), "per_page": 50, "next_cursor": cursor},
                           "results": chunk}).encode()
    second = base.replace("cursor=*", "cursor=IlsxNjk")
    fetch, asked = _serve({second: (page(works[50:], None), "application/json")})
    records = parse_resource(Resource(base, page(works[:50], "IlsxNjk"), "application/json"), fetch)
    assert asked == [second]
    assert len(records.publications) == len(works) == 82


def test_semanticscholar_follows_offset_next(parsed):
    case, first_page = parsed("s2-1")
    body = json.loads(case.entry.read_bytes())
    url = "https://api.semanticscholar.org/graph/v1/author/1723755/papers?fields=title&offset=0&limit=100"
    second = url.replace("offset=0", "offset=100")
    last = json.dumps({"offset": 100, "data": body["data"][:3]}).encode()  # no "next": the last page
    fetch, asked = _serve({second: (last, "application/json")})
    records = parse_resource(Resource(url, case.entry.read_bytes(), "application/json"), fetch)
    assert asked == [second]
    assert len(records.publications) == len(first_page.publications) + 3 == 103


class _ArxivPages(BaseHTTPRequestHandler):
    """export.arxiv.org stand-in: answers /api/query by its start parameter."""

    def do_GET(self):  # noqa: N802 - http.server's name
        start = parse_qs(urlsplit(self.path).query).get("start", ["0"])[0]
        path = FIXTURES / {"0": "arxiv-current-p1.atom", "2": "arxiv-current-p2.atom"}.get(start, "missing")
        self.server.requests.append(self.path)
        if not path.exists():
            self.send_error(404)
            return
        body = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_parse_command_pages_an_arxiv_query_over_http(capsys):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ArxivPages)
    server.requests = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/api/query?search_query=au:Vaswani&start=0&max_results=2"
        assert main(["parse", url]) == 0
    finally:
        server.shutdown()
        server.server_close()
    out = json.loads(capsys.readouterr().out)
    assert [p["ids"]["arxiv"] for p in out["publications"]] == ["1706.03762", "2005.14165", "1810.04805"]
    assert len(server.requests) == 2 and "start=2" in server.requests[1]


def test_saved_page_does_not_page_on_disk(parsed):
    _, records = parsed("arxiv-1")  # totalResults 31, but the next pages are not files
    assert len(records.publications) == 10


# --------------------------------------------------------------------------- detection and CLI

@pytest.mark.parametrize("name", LISTINGS)
def test_detection_on_content_alone(name):
    case = load_case("listings", name)
    resource = Resource("https://example.org/saved", case.entry.read_bytes(), "application/octet-stream")
    assert detect_format(resource).name == FORMAT_OF[name]


@pytest.mark.parametrize("name", ["dblp-1", "s2-1", "scholar-2"])
def test_parse_command_prints_ids_and_metrics(name, capsys):
    case = load_case("listings", name)
    assert main(["parse", str(case.entry), "--base-url", case.url]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["source"]["format"] == FORMAT_OF[name]
    assert all(p["ids"] for p in out["publications"])
    if case.expected["profile"].get("metrics"):
        assert out["profile"]["metrics"].items() >= case.expected["profile"]["metrics"].items()


def test_parse_command_reports_bad_json_without_traceback(tmp_path, capsys):
    broken = tmp_path / "works.json"
    broken.write_text('{"meta": {}, "results": [{"id": "https://openalex.org/W1", "publication_year": 2020,')
    assert main(["parse", str(broken), "--format", "openalex"]) == 2
    err = capsys.readouterr().err
    assert "works.json" in err and "not valid JSON" in err and "Traceback" not in err

