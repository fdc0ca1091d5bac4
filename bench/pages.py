"""Generated researcher homepages for the crawl benchmarks: deterministic, ~40 KB each,
20 news items and 40 publications, in the hand-written style most personal pages have
(a News list with dates, a Publications list with bold titles, authors, venue, links).

`homepage(i, revision)` is page i; a different `revision` adds one news item and one
paper, as an owner's edit would.
"""
from __future__ import annotations

import random

_WORDS = ("learning neural robust efficient graph language vision models diffusion sparse causal "
          "reasoning multimodal transformers retrieval adaptive scalable benchmark agents policy "
          "representation contrastive federated generative inference optimisation physics").split()
_NAMES = ("Ada Lovelace, Alan Turing, Grace Hopper, Edsger Dijkstra, Barbara Liskov, Donald Knuth, "
          "Leslie Lamport, Frances Allen, John McCarthy, Shafi Goldwasser, Tim Berners-Lee, Radia Perlman, "
          "Judea Pearl, Yoshua Bengio, Fei-Fei Li, Daphne Koller").split(", ")
_VENUES = ("NeurIPS", "ICML", "ICLR", "CVPR", "ACL", "EMNLP", "KDD", "AAAI", "SIGGRAPH", "OSDI")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

STYLE = "p{margin:0 0 .6em} li{margin-bottom:.8em} " * 200   # real pages carry CSS; ~8 KB


def _title(rng: random.Random) -> str:
    words = rng.sample(_WORDS, rng.randint(5, 9))
    return " ".join(words).capitalize() + " for " + rng.choice(_WORDS)


def homepage(i: int, revision: int = 0, news: int = 20, papers: int = 40) -> bytes:
    me = _NAMES[i % len(_NAMES)] + f" {i}"
    items_news = []
    for n in range(-revision, news):   # item -r is revision r's addition, the newest
        rng = random.Random(f"{i}/news/{n}")
        year, month = 2025 - n // 12, 12 - n % 12
        text = (f"Our paper on {' '.join(rng.sample(_WORDS, 4))} was accepted at "
                f"{rng.choice(_VENUES)} {year}! Joint work with {rng.choice(_NAMES)} and "
                f"{rng.choice(_NAMES)}; code and models are available on the project page.")
        items_news.append(f'<li><b>[{_MONTHS[month - 1]} {year}]</b> {text} '
                          f'<a href="https://example.org/news/{i}/{n}">Read more</a></li>')
    items_papers = []
    for n in range(-revision, papers):
        rng = random.Random(f"{i}/paper/{n}")
        year = 2025 - n // 8
        authors = rng.sample(_NAMES, 4)
        authors.insert(rng.randint(0, 3), f"<b>{me}</b>")
        arxiv = f"{year % 100:02d}{rng.randint(1, 12):02d}.{rng.randint(10000, 29999)}"
        items_papers.append(
            f'<li><p class="title"><strong>{_title(rng)}</strong></p>\n'
            f'<p>{", ".join(authors)}</p>\n'
            f'<p><em>{rng.choice(_VENUES)} {year}</em></p>\n'
            f'<p class="tldr">We study {" ".join(rng.sample(_WORDS, 6))} and show that '
            f'{" ".join(rng.sample(_WORDS, 5))} improves {" ".join(rng.sample(_WORDS, 3))}.</p>\n'
            f'<p><a href="https://arxiv.org/abs/{arxiv}">arXiv</a> | '
            f'<a href="https://arxiv.org/pdf/{arxiv}">PDF</a> | '
            f'<a href="https://github.com/lab{i}/repo{n}">Code</a> | '
            f'<a href="https://lab{i}.example.org/p{n}/">Project page</a></p></li>')
    html = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{me}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<style>{STYLE}</style></head>\n<body>\n<div class="container">\n'
            f'<h1>{me}</h1>\n<p>I am a PhD student at the Example Institute of Technology, working on '
            f'machine learning. Email: person{i}@example.org</p>\n'
            f'<p><a href="https://scholar.google.com/citations?user=abcdefghij{i % 100:02d}">Google Scholar</a> / '
            f'<a href="https://github.com/person{i}">GitHub</a></p>\n'
            '<h2>News</h2>\n<ul>\n' + "\n".join(items_news) + '\n</ul>\n'
            '<h2>Publications</h2>\n<ul>\n' + "\n".join(items_papers) + '\n</ul>\n'
            '<h2>Teaching</h2>\n<p>TA for Machine Learning (Fall 2023).</p>\n'
            '</div>\n</body></html>\n')
    return html.encode()
