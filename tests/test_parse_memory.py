"""Parsing leaves no reference cycles behind: a cycle that reaches an lxml element keeps
the whole page's tree alive until a full garbage collection, which in a crawl of
thousands of pages held ~10 MB of dead pages at any time."""
from __future__ import annotations

import gc

import pytest

from tests.conftest import case_names, load_case

HTML_CASES = [(group, name) for group in ("homepages", "listings", "seeds") for name in case_names(group)
              if load_case(group, name).entry.suffix in (".html", ".htm")]


@pytest.mark.parametrize(("group", "name"), HTML_CASES)
def test_parsing_an_html_page_creates_no_garbage_cycles(group, name):
    case = load_case(group, name)
    case.parse()   # first use fills caches and loads modules; those are not garbage
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        gc.garbage.clear()
        records = case.parse()
        gc.collect()
        garbage = sorted({type(o).__qualname__ for o in gc.garbage})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert records.publications or records.news or records.profile.name
    assert garbage == [], f"{group}/{name}: reference cycles of {garbage}"
