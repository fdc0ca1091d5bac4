"""`profilesync crawl` end to end: the real command in a subprocess, real HTTP on 127.0.0.1,
a real SQLite store. Each test crawls a copy of a corpus site, edits or breaks it as the
web does, and checks what the crawl reports and what the store keeps."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from storage.store import Store
from tests.sites import SiteServer

REPO = Path(__file__).resolve().parents[1]
SEED_002 = REPO / "tests/corpus/seeds/002_866f84e71c73bd1c/page.md"
BARRON = REPO / "tests/corpus/homepages/barron-dorverbin"


def profilesync(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sync.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


class Crawler:
    """Runs `profilesync crawl --url ... --json` against one database and config."""

    def __init__(self, tmp: Path, url: str, settings: str = "") -> None:
        self.db = f"sqlite:///{tmp / 'store.db'}"
        self.url = url
        self.config = tmp / "profiles.yaml"
        self.config.write_text("crawl:\n  user_agent: 'profilesync-tests/1.0 (+https://example.org/contact)'\n"
                               "  autothrottle: false\n" + (settings or "  retries: 1\n"))

    def crawl(self, expect_exit: int | None = None) -> dict:
        done = profilesync("crawl", "--config", str(self.config), "--db", self.db, "--url", self.url, "--json")
        if expect_exit is not None:
            assert done.returncode == expect_exit, done.stderr + done.stdout
        assert "Traceback" not in done.stderr, done.stderr
        report = json.loads(done.stdout)
        (source,) = report["sources"]
        return {"status": source["status"], "error": source["error"], "records": source["records"],
                "events": [(e["type"], e["data"]) for e in report["events"]], "exit": done.returncode}

    def held(self) -> int:
        store = Store.open(self.db)
        try:
            (profile,) = store.profile_states()
            return profile.sources[0].records
        finally:
            store.close()


@pytest.fixture
def seed_site(tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(SEED_002, site / "about.md")
    with SiteServer(site) as server:
        yield site / "about.md", server


def _types(result: dict) -> list[str]:
    return sorted(t for t, _ in result["events"])


def test_first_crawl_stores_a_silent_baseline_and_second_gets_304_without_parsing(seed_site, tmp_path):
    page, server = seed_site
    crawler = Crawler(tmp_path, server.url("about.md"))
    first = crawler.crawl(expect_exit=0)
    assert first["status"] == "fetched" and first["records"] == 17 and first["events"] == []
    assert crawler.held() == 17
    (request,) = server.seen("about.md")
    assert "profilesync-tests/1.0 (+https://example.org/contact)" == request.headers["User-Agent"]
    assert "If-None-Match" not in request.headers
    assert server.seen("robots.txt"), "robots.txt was not consulted"

    server.clear_log()
    second = crawler.crawl(expect_exit=0)
    assert second["status"] == "not_modified" and second["events"] == []
    (request,) = server.seen("about.md")
    assert request.status == 304 and request.headers["If-None-Match"].startswith('"')
    assert second["records"] is None          # nothing was parsed
    assert crawler.held() == 17


def test_owner_edits_give_exactly_their_events_and_removal_waits_for_a_second_sync(seed_site, tmp_path):
    """The done-when scenario of the store issue, over loopback with the real command."""
    page, server = seed_site
    crawler = Crawler(tmp_path, server.url("about.md"))
    assert crawler.crawl(expect_exit=0)["events"] == []

    text = page.read_text()
    text = text.replace("News\n=====\n",
                        "News\n=====\n* [2024/09] Our paper on visual reasoning was accepted by NeurIPS 2024!\n")
    text = text.replace("Selected Publication\n======\n\n",
                        "Selected Publication\n======\n\n* **A Brand New Benchmark for Multimodal Agents**  \n"
                        "  **Lei Li**, Qi Liu  \n  ***NeurIPS 2024*** [[arxiv](https://arxiv.org/abs/2409.01234)]\n\n")
    text = text.replace("***ACL 2019***", "***EMNLP 2019***")
    text = text.replace("\n\n\n", "\n\n").replace("   \n", "  \n")   # reformatting: no event
    page.write_text(text)
    edited = crawler.crawl(expect_exit=0)
    assert _types(edited) == ["news.added", "paper.added", "paper.updated"]
    data = dict(edited["events"])
    assert data["paper.added"]["title"] == "A Brand New Benchmark for Multimodal Agents"
    assert list(data["paper.updated"]["changes"]) == ["venue"]
    old, new = data["paper.updated"]["changes"]["venue"]
    assert old.startswith("ACL") and new.startswith("EMNLP")
    assert "NeurIPS 2024" in data["news.added"]["text"]

    assert crawler.crawl(expect_exit=0)["events"] == []          # unchanged re-crawl: nothing

    server.misbehave("about.md", status=503)
    failed = crawler.crawl(expect_exit=1)
    assert failed["status"] == "failed" and "HTTP 503" in failed["error"]
    assert _types(failed) == ["source.failed"]
    assert crawler.held() == 19
    server.behave()

    page.write_text(text.replace("* **Can Language Models Understand Physical Concepts?**", "* **REMOVED**")
                    .replace("  **Lei Li**, Jingjing Xu, Qingxiu Dong, Ce Zheng, Qi Liu, Lingpeng Kong, Xu Sun  \n"
                             "  ***EMNLP 2023*** [[arxiv](https://arxiv.org/pdf/2305.14057.pdf), "
                             "[dataset](https://github.com/TobiasLee/VEC)]", ""))
    page.write_text(page.read_text().replace("* **REMOVED**\n", ""))
    first_missing = crawler.crawl(expect_exit=0)
    assert _types(first_missing) == ["source.recovered"]          # missing once: not yet removed
    second_missing = crawler.crawl(expect_exit=0)
    assert _types(second_missing) == ["paper.removed"]
    assert dict(second_missing["events"])["paper.removed"]["title"] == "Can Language Models Understand Physical Concepts?"


BREAKAGES = [
    ({"status": 500}, "HTTP 500"),
    ({"delay_s": 2.5}, "timed out after 1 s"),
    ({"body": b"x" * 40_000}, "larger than the 30000-byte limit"),
    ({"redirect_to": "/about.md"}, "too many redirects"),
    ({"content_type": "image/png", "body": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64}, "unexpected content type image/png"),
    ({"body": b"<html><head><title>404 Not Found</title></head><body>gone</body></html>",
      "content_type": "text/html"}, "error page"),
]


def test_a_broken_fetch_is_a_clear_failure_and_removes_nothing(seed_site, tmp_path):
    """Each way a fetch breaks, one after the other on one source: a failure naming the URL
    and the reason, one source.failed per failure streak, no record lost; then recovery."""
    page, server = seed_site
    crawler = Crawler(tmp_path, server.url("about.md"), "  timeout: 1s\n  max_bytes: 30000\n  retries: 0\n")
    crawler.crawl(expect_exit=0)
    for i, (breakage, reason) in enumerate(BREAKAGES):
        server.misbehave("about.md", **breakage)
        failed = crawler.crawl(expect_exit=1)
        assert failed["status"] == "failed", breakage
        assert reason in failed["error"] and server.url("about.md") in failed["error"], failed["error"]
        assert _types(failed) == (["source.failed"] if i == 0 else []), breakage
        assert crawler.held() == 17
    server.behave()
    recovered = crawler.crawl(expect_exit=0)
    assert _types(recovered) == ["source.recovered"]
    assert crawler.held() == 17


def test_a_5xx_is_retried_with_backoff_before_it_fails(seed_site, tmp_path):
    page, server = seed_site
    crawler = Crawler(tmp_path, server.url("about.md"), "  retries: 2\n")
    server.misbehave("about.md", status=503, headers={"Retry-After": "1"})
    failed = crawler.crawl(expect_exit=1)
    assert "HTTP 503" in failed["error"]
    assert [r.status for r in server.seen("about.md")] == [503, 503, 503]


def test_robots_txt_disallow_is_obeyed(seed_site, tmp_path):
    page, server = seed_site
    (page.parent / "robots.txt").write_text("User-agent: *\nDisallow: /about.md\n")
    crawler = Crawler(tmp_path, server.url("about.md"))
    failed = crawler.crawl(expect_exit=1)
    assert "disallowed by robots.txt" in failed["error"]
    assert server.seen("about.md") == []


def test_unchanged_body_with_a_new_etag_is_unchanged(tmp_path):
    """GitHub Pages changes ETags on every redeploy: the body hash decides."""
    site = tmp_path / "site"
    shutil.copytree(BARRON, site)
    with SiteServer(site, etags=False) as server:
        crawler = Crawler(tmp_path, server.url("index.html"))
        first = crawler.crawl(expect_exit=0)
        assert first["status"] == "fetched" and first["records"] == 22
        again = crawler.crawl(expect_exit=0)
        assert again["status"] == "unchanged" and again["events"] == []


def test_bad_config_is_one_clear_line_and_exit_2(tmp_path):
    config = tmp_path / "profiles.yaml"
    config.write_text("profiles:\n  - id: ada\n    sources:\n      - dblp: not a pid\n")
    done = profilesync("crawl", "--config", str(config), "--db", f"sqlite:///{tmp_path / 'x.db'}")
    assert done.returncode == 2
    assert f"{config}:4: profiles[0].sources[0]" in done.stderr and "DBLP person id" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_paginated_listing_is_followed_page_by_page_and_then_confirmed(tmp_path):
    """Scholar Feed's JSON API in two pages: the crawl follows the parser's next-page
    request on the same host; a re-sync confirms both pages without parsing."""
    fixtures = REPO / "tests/fixtures/listings"
    site = tmp_path / "site"
    site.mkdir()
    with SiteServer(site) as server:
        api = "api/v1/public/authors/jane/papers"
        for page in (1, 2):
            server.misbehave(f"{api}?page={page}", body=(fixtures / f"scholarfeed-api-p{page}.json").read_bytes(),
                             content_type="application/json")
        config = tmp_path / "profiles.yaml"
        config.write_text("crawl:\n  user_agent: 'profilesync-tests/1.0 (+https://example.org/contact)'\n"
                          "  autothrottle: false\nprofiles:\n  - id: jane\n    sources:\n"
                          f"      - url: {server.url(api)}?page=1\n        format: scholarfeed\n")
        db = f"sqlite:///{tmp_path / 'store.db'}"
        first = profilesync("crawl", "--config", str(config), "--db", db, "--json")
        assert first.returncode == 0, first.stderr
        (source,) = json.loads(first.stdout)["sources"]
        assert source["status"] == "fetched" and source["records"] == 3
        assert [r.path for r in server.requests if r.path.endswith("/papers")] == [f"/{api}"] * 2
        server.clear_log()
        again = profilesync("crawl", "--config", str(config), "--db", db, "--json")
        (source,) = json.loads(again.stdout)["sources"]
        assert source["status"] == "not_modified" and source["records"] is None
        assert sorted(r.status for r in server.requests if r.path.endswith("/papers")) == [304, 304]


SURVEY_BIB = """@article{dong2023survey,
  title = {A Survey for In-context Learning},
  author = {Dong, Qingxiu and Li, Lei and Dai, Damai and Zheng, Ce},
  journal = {arXiv preprint arXiv:2301.00234},
  year = {2023}
}
"""
NEW_BIB = """@inproceedings{li2024bench,
  title = {A Brand New Benchmark for Multimodal Agents},
  author = {Li, Lei and Liu, Qi},
  booktitle = {NeurIPS},
  year = {2024}
}
"""


def test_a_new_paper_on_two_sources_of_one_profile_is_one_event(seed_site, tmp_path):
    """A researcher followed by homepage and BibTeX file adds a paper to both: one
    `paper.added` for the profile, not one per source."""
    page, server = seed_site
    bib = page.parent / "papers.bib"
    bib.write_text(SURVEY_BIB)
    config = tmp_path / "profiles.yaml"
    config.write_text("crawl:\n  user_agent: 'profilesync-tests/1.0 (+https://example.org/contact)'\n"
                      "  autothrottle: false\nprofiles:\n  - id: lei\n    sources:\n"
                      f"      - url: {server.url('about.md')}\n      - url: {server.url('papers.bib')}\n")
    db = f"sqlite:///{tmp_path / 'store.db'}"

    def crawl() -> dict:
        done = profilesync("crawl", "--config", str(config), "--db", db, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    first = crawl()
    assert [s["status"] for s in first["sources"]] == ["fetched", "fetched"] and first["events"] == []
    page.write_text(page.read_text().replace(
        "Selected Publication\n======\n\n",
        "Selected Publication\n======\n\n* **A Brand New Benchmark for Multimodal Agents**  \n"
        "  **Lei Li**, Qi Liu  \n  ***NeurIPS 2024***\n\n"))
    bib.write_text(SURVEY_BIB + NEW_BIB)
    edited = crawl()
    assert [s["status"] for s in edited["sources"]] == ["fetched", "fetched"]
    assert [(e["type"], e["data"]["title"]) for e in edited["events"]] == [
        ("paper.added", "A Brand New Benchmark for Multimodal Agents")]
