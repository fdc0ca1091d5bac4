"""Politeness as configured for Scrapy, and the requests one source sends (no network)."""
from __future__ import annotations

from crawler.crawl import GITHUB_IO_SLOT, CrawlSettings, SourceFetch, download_slot, scrapy_settings
from crawler.jobs import DocumentState, FetchJob
from crawler.middlewares import backoff_seconds, retry_after_seconds
from crawler.sources import HOST_LIMITS


def fetch_for(url: str, **job: object) -> SourceFetch:
    async def never(request):  # pragma: no cover - these tests send nothing
        raise AssertionError("no download expected")
    return SourceFetch(FetchJob("1", url, **job), never, CrawlSettings(user_agent="t (+https://e.org)"))


def test_all_github_io_sites_share_one_slot_with_its_own_limit():
    assert download_slot("https://alice.github.io/") == download_slot("https://bob.github.io/x") == GITHUB_IO_SLOT
    assert download_slot("https://github.com/alice") is None
    assert download_slot("https://notgithub.io/") is None
    settings = scrapy_settings(CrawlSettings(user_agent="t (+https://e.org)", github_io=3, per_host=2))
    assert settings["DOWNLOAD_SLOTS"][GITHUB_IO_SLOT]["concurrency"] == 3
    assert settings["CONCURRENT_REQUESTS_PER_DOMAIN"] == 2
    request = fetch_for("https://alice.github.io/").request("https://alice.github.io/", conditional=True)
    assert request.meta["download_slot"] == GITHUB_IO_SLOT


def test_listing_apis_get_their_documented_limits_and_autothrottle_cannot_lower_them():
    settings = scrapy_settings(CrawlSettings(user_agent="t (+https://e.org)"))
    arxiv = settings["DOWNLOAD_SLOTS"]["export.arxiv.org"]
    assert (arxiv["delay"], arxiv["concurrency"]) == (HOST_LIMITS["export.arxiv.org"].min_interval_s, 1) == (3.0, 1)
    url = "https://export.arxiv.org/api/query?search_query=au:x"
    assert fetch_for(url).request(url, conditional=False).meta["autothrottle_dont_adjust_delay"] is True
    assert settings["ROBOTSTXT_OBEY"] is True and settings["HTTPCACHE_ENABLED"] is False


def test_conditional_requests_carry_the_stored_validators_only_when_asked():
    url = "https://alice.github.io/"
    fetch = fetch_for(url, documents=(DocumentState(url, '"abc"', "Mon, 02 Nov 2026 10:00:00 GMT", "0" * 64),))
    conditional = fetch.request(url, conditional=True)
    assert conditional.headers[b"If-None-Match"] == b'"abc"'
    assert conditional.headers[b"If-Modified-Since"] == b"Mon, 02 Nov 2026 10:00:00 GMT"
    assert b"If-None-Match" not in fetch.request(url, conditional=False).headers
    assert b"If-None-Match" not in fetch.request("https://alice.github.io/other", conditional=True).headers


def test_retry_after_and_backoff():
    assert retry_after_seconds(b"120") == 120.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0   # in the past: at once
    assert retry_after_seconds(b"soon") is None
    waits = [backoff_seconds(n) for n in (1, 2, 3, 4)]
    assert all(0 <= w <= 30 for w in waits)
    assert max(backoff_seconds(6) for _ in range(50)) > max(backoff_seconds(1) for _ in range(50))


def test_error_pages_are_told_by_their_titles_and_people_are_not():
    from scrapy.http import HtmlResponse

    from crawler.crawl import _failure_of_response

    def verdict(title: str) -> bool:
        body = f"<html><head><title>{title}</title></head><body>x</body></html>".encode()
        response = HtmlResponse("https://a.github.io/", body=body, headers={"Content-Type": "text/html"})
        return _failure_of_response("https://a.github.io/", response, 10**6) is not None

    assert all(map(verdict, ["404 Not Found", "Error 503 - Service Unavailable", "Page not found · GitHub Pages",
                             "502 Bad Gateway", "Site not found &middot; GitHub Pages", "Not Found"]))
    assert not any(map(verdict, ["Alan Turing 401", "Room 404 Lab", "Jane Doe - Homepage", "CS 500: Algorithms"]))


def test_the_crawl_enables_its_own_components_and_imports_no_unused_ones():
    """Scrapy imports every component its settings name, even one set to None, so the
    unused defaults are left out of the *_BASE settings rather than switched off."""
    from scrapy.settings import Settings
    from scrapy.utils.conf import build_component_list

    settings = Settings(scrapy_settings(CrawlSettings(user_agent="t (+https://e.org)")))
    downloader = build_component_list(settings.getwithbase("DOWNLOADER_MIDDLEWARES"))
    assert "crawler.middlewares.BackoffRetryMiddleware" in downloader
    assert "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware" in downloader
    assert not any(name.endswith(("RetryMiddleware", "CookiesMiddleware", "HttpCacheMiddleware"))
                   for name in downloader if not name.startswith("crawler."))
    extensions = build_component_list(settings.getwithbase("EXTENSIONS"))
    assert "scrapy.extensions.throttle.AutoThrottle" in extensions
    assert not any("Telnet" in name or "RemoteControl" in name for name in extensions)
    for setting in ("DOWNLOADER_MIDDLEWARES", "EXTENSIONS", "SPIDER_MIDDLEWARES", "DOWNLOAD_HANDLERS"):
        assert None not in settings.getwithbase(setting).values(), setting
    assert set(settings.getwithbase("DOWNLOAD_HANDLERS")) == {"file", "http", "https"}
