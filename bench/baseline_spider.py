"""The baseline of bench_crawl.py: a plain Scrapy spider with BeautifulSoup(html.parser),
as a first attempt at this product would be written. Same politeness settings as ours
(robots.txt, concurrency), no conditional requests, no store: it fetches and parses every
page every time. With --fetch-only it parses nothing: what Scrapy alone costs per page,
the ceiling of any crawl that goes through it.

    python -m bench.baseline_spider URLS_FILE CONCURRENCY [--fetch-only]   # prints "ITEMS <n> <news> <papers>"
"""
from __future__ import annotations

import sys
from typing import Any

import scrapy
from bs4 import BeautifulSoup
from scrapy.crawler import AsyncCrawlerProcess


class BaselineSpider(scrapy.Spider):
    name = "baseline"

    def __init__(self, urls: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls
        self.counts = [0, 0, 0]

    async def start(self):  # type: ignore[no-untyped-def]
        for url in self.urls:
            yield scrapy.Request(url, dont_filter=True)

    def parse(self, response: scrapy.http.Response) -> Any:
        soup = BeautifulSoup(response.text, "html.parser")
        news, papers = [], []
        for heading in soup.find_all("h2"):
            items = heading.find_next_sibling("ul")
            if items is None:
                continue
            entries = [li.get_text(" ", strip=True) for li in items.find_all("li")]
            if "news" in heading.get_text().lower():
                news = entries
            elif "publication" in heading.get_text().lower():
                papers = [{"title": li.find("strong").get_text(strip=True) if li.find("strong") else None,
                           "links": [a["href"] for a in li.find_all("a", href=True)]} for li in items.find_all("li")]
        self.counts[0] += 1
        self.counts[1] += len(news)
        self.counts[2] += len(papers)
        yield {"url": response.url, "news": news, "papers": papers}


class FetchOnlySpider(BaselineSpider):
    name = "fetch-only"

    def parse(self, response: scrapy.http.Response) -> Any:
        self.counts[0] += 1
        return None


def main() -> None:
    urls = open(sys.argv[1]).read().split()
    concurrency = int(sys.argv[2])
    spider_class = FetchOnlySpider if "--fetch-only" in sys.argv[3:] else BaselineSpider
    process = AsyncCrawlerProcess({
        "ROBOTSTXT_OBEY": True, "USER_AGENT": "baseline-bench (+https://example.org)",
        "CONCURRENT_REQUESTS": concurrency, "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "LOG_LEVEL": "ERROR", "TELNETCONSOLE_ENABLED": False, "COOKIES_ENABLED": False,
    })
    crawler = process.create_crawler(spider_class)
    process.crawl(crawler, urls=urls)
    process.start()
    spider = crawler.spider
    print("ITEMS", *spider.counts, flush=True)


if __name__ == "__main__":
    main()
