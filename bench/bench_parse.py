"""Parse throughput of our HTML parsers beside BeautifulSoup(html.parser), in one run.

    .venv/bin/python bench/bench_parse.py [--seconds 3] [--rounds 5]

Pages: the real ~49 KB Barron-style homepage of the corpus (barron-dorverbin), a
~200 KB page built deterministically by concatenating real corpus pages' bodies (Barron
rows, the Wowchemy publication list and a hand-written page) under one document, and the
generated ~40 KB hand-written homepage of the crawl benchmark (`bench.pages.homepage(0)`:
20 news, 40 papers, read by the generic parser). The baseline is only tree building plus
get_text() with BeautifulSoup's html.parser, i.e. less work than our full parse (tree,
sections, records); the target is >= 10x.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bs4 import BeautifulSoup

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script, `bench.pages` is not on the path otherwise

from bench.pages import homepage  # noqa: E402
from crawler.parsers import parse_bytes  # noqa: E402

CORPUS = REPO / "tests" / "corpus" / "homepages"
BASE_URL = "https://bench.example.org/"


def page_40k() -> bytes:
    return (CORPUS / "barron-dorverbin" / "index.html").read_bytes()


def page_200k() -> bytes:
    """Real page bodies under one <html>, repeated in a fixed order to about 200 KB."""
    sources = [CORPUS / "barron-dorverbin" / "index.html", CORPUS / "hugo-afraderasola-html" / "publication" / "index.html",
               CORPUS / "plain-jhammelman" / "index.html", CORPUS / "barron-jefequien" / "index.html"]
    bodies = [re.search(rb"<body[^>]*>(.*)</body>", p.read_bytes(), re.S).group(1) for p in sources]
    out, i = [b"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Bench Page</title></head><body>"], 0
    while sum(map(len, out)) < 200_000:
        out.append(bodies[i % len(bodies)])
        i += 1
    out.append(b"</body></html>")
    return b"".join(out)


def ours(body: bytes) -> Callable[[], object]:
    return lambda: parse_bytes(BASE_URL, body, "text/html; charset=utf-8")


def baseline(body: bytes) -> Callable[[], object]:
    text = body.decode("utf-8", errors="replace")
    return lambda: BeautifulSoup(text, "html.parser").get_text()


def rate(func: Callable[[], object], seconds: float) -> float:
    """Calls per CPU second of this process over at least `seconds` of it (and at least 3
    calls): time other processes of a shared machine take is not counted against either side."""
    n, start = 0, time.process_time()
    while (elapsed := time.process_time() - start) < seconds or n < 3:
        func()
        n += 1
    return n / elapsed


def best_rates(funcs: list[Callable[[], object]], seconds: float, rounds: int) -> list[float]:
    """Each function's best rate over `rounds` alternating rounds of `seconds / rounds`:
    on a shared machine, load that comes and goes hits both sides alike, and the best
    round is the least disturbed one."""
    for func in funcs:  # warm-up
        func()
    best = [0.0] * len(funcs)
    for _ in range(rounds):
        best = [max(b, rate(func, seconds / rounds)) for b, func in zip(best, funcs)]
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="time per measurement")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds per measurement")
    args = ap.parse_args()
    print(f"{'page':<26}{'ours (parses/s)':>17}{'bs4 html.parser':>17}{'ratio':>9}")
    pages = (("barron-dorverbin", page_40k()), ("concatenated corpus", page_200k()),
             ("generated homepage", homepage(0)))
    for label, body in pages:
        records = ours(body)()
        mine, base = best_rates([ours(body), baseline(body)], args.seconds, args.rounds)
        name = f"{label} {len(body) // 1000} KB"
        print(f"{name:<26}{mine:>17.1f}{base:>17.1f}{mine / base:>8.1f}x"
              f"   ({len(records.publications)} publications, format {records.source.format})")


if __name__ == "__main__":
    main()
