"""AcadHomepage (github.com/RayeRen/acad-homepage.github.io), from its source or as built.

Source: everything is on `_pages/about.md`, often split into `{% include_relative
includes/news.md %}` files (inlined through the Site, fetched on demand), under emoji
headings (`# 🔥 News`, `# 📝 Publications`). News items are `- *2024.09*: text`;
papers are `<div class='paper-box'>` blocks or list items (see jekyll.py for the shapes).
The person is the `author:` block of `_config.yml` at the site root.

Built: the same content inside `section.page__content`, the person in the sidebar.
"""
from __future__ import annotations

import re

from ..records import PageRecords, SourceInfo
from .html import parse_html
from .jekyll import built_profile, page_content, page_records, site_config, source_profile, source_tree
from .site import Resource, Site

NAME = "acadhomepage"
KIND = "homepage"
MAX_SCORE = 0.85  # the most detect() returns (see parsers/__init__.py)

# The Google Scholar stats block of the template's about.md, its paper boxes and anchors.
_SOURCE_MARKERS = re.compile(r"gsDataBaseUrl|google_scholar_stats|class=['\"]paper-box['\"]"
                             r"|<span class=['\"]anchor['\"]")
# Literals found with `in` (C's fast substring search): a regex alternation of them tries
# every position of the page in Python's engine, ~300 us on a 40 KB page that has none.
_BUILT_MARKERS = (b"google-scholar-stats", b"show_paper_citations")
_PAPER_BOX = re.compile(rb"class=['\"]paper-box['\"]")


def detect(resource: Resource) -> float:
    if resource.media_type == "text/markdown":
        return 0.8 if _SOURCE_MARKERS.search(resource.text) else 0.0
    if resource.media_type in ("text/html", "application/xhtml+xml"):
        head = resource.body[:1_000_000]
        if any(marker in head for marker in _BUILT_MARKERS) or b"paper-box" in head and _PAPER_BOX.search(head):
            return 0.85
        return 0.5 if b"masthead__menu-home-item" in head and b"author__urls" in head else 0.0
    return 0.0


def parse(site: Site) -> PageRecords:
    if site.entry.media_type == "text/markdown":
        root = source_tree(site)
        found = site_config(site)
        profile = source_profile(found[1] if found else {}, root, site.base_url)
        content = root
    else:
        root = parse_html(site.entry.text)
        profile = built_profile(root, site.base_url)
        content = page_content(root)
    news, pubs = page_records(content, site.base_url)
    return PageRecords(source=SourceInfo(site.base_url, KIND, NAME), profile=profile, news=news, publications=pubs)
