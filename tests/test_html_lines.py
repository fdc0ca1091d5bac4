"""Lines of an element: the walk (lines_of) and the one-pass readings of their text
(line_texts, PageLines) must agree everywhere, since parsers use whichever is cheaper."""
from __future__ import annotations

from pathlib import Path

import pytest

from crawler.parsers.html import PageLines, line_texts, lines_of, parse_html
from crawler.text import decode

CORPUS = Path(__file__).parent / "corpus" / "homepages"
PAGES = sorted(p for p in CORPUS.rglob("*.html"))

TRICKY = """<html><head><title>T</title></head><body><div id="d">lead<!-- hidden -->tail of comment
<?php echo 1 ?>after pi<p id="p">one<br>two<b> bold<br></b>three</p>between<span> </span>
<div><p> <b></b> </p></div><ul><li id="li">item <a href="#">link</a><div>nested block</div>after</li></ul>
<span id="inline">inline <i>only</i></span> &amp; entity&nbsp;space</div>end</body></html>"""


def _all_elements(root):
    return [el for el in root.iter() if isinstance(el.tag, str)]


def test_lines_split_at_blocks_and_breaks_and_skip_comments():
    root = parse_html(TRICKY)
    assert [line.text for line in lines_of(root.get_element_by_id("p"))] == ["one", "two bold", "three"]
    li = root.get_element_by_id("li")
    assert [line.text for line in lines_of(li)] == ["item link", "nested block", "after"]
    assert [el.tag for el in lines_of(li)[0].elements] == ["li", "a"]
    assert [line.text for line in lines_of(root.get_element_by_id("d"), max_lines=2)] == [
        "leadtail of comment after pi", "one"]


@pytest.mark.parametrize("text", [TRICKY, TRICKY.replace("between", "a \ufdd0 mark in the text")])
def test_one_pass_line_texts_equal_the_walk_on_every_element(text):
    root = parse_html(text)
    page = PageLines(root)
    for el in _all_elements(root):
        expected = [line.text for line in lines_of(el)]
        assert line_texts(el) == expected
        assert page.texts(el) == expected


@pytest.mark.parametrize("path", PAGES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_one_pass_line_texts_equal_the_walk_on_corpus_pages(path):
    root = parse_html(decode(path.read_bytes()))
    page = PageLines(root)
    elements = _all_elements(root)
    assert elements
    for el in elements:
        expected = [line.text for line in lines_of(el)]
        assert page.texts(el) == expected, el
    body_lines = [line.text for line in lines_of(root.body)]
    assert line_texts(root.body) == body_lines
    assert PageLines(root.body).texts(root.body) == body_lines  # the root itself, not a block
