"""Markdown sources (Jekyll, Hugo) as HTML trees, so one set of extractors reads both.

Front matter is split off and parsed; `{% include_relative %}` files are inlined from the
Site (fetched on demand); Liquid, HTML comments and kramdown attribute lists are removed;
the rest is rendered by markdown-it-py (CommonMark with raw HTML, tables) and parsed
with lxml.
"""
from __future__ import annotations

import functools
import re
import tomllib
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml
from lxml.html import HtmlElement

from ..text import strip_html_comments, strip_liquid
from .html import parse_html
from .site import Resource, Site

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

# The block may be empty ("---\n---", Jekyll's marker for "process this file").
_FRONT_MATTER = re.compile(r"\A\ufeff?(---|\+\+\+)[ \t]*\r?\n(?:(.*?)\r?\n)??\1[ \t]*(?:\r?\n|\Z)", re.S)
_INCLUDE_RELATIVE = re.compile(r"\{%-?\s*include_relative\s+([^\s%]+)[^%]*-?%\}")
_KRAMDOWN_IAL = re.compile(r"^\s*\{:[^}\n]*\}\s*$|\{:[^}\n]*\}", re.M)
# kramdown's hard line break: a line ending in two backslashes (AcadHomepage's "[Title](url) \\").
_KRAMDOWN_BREAK = re.compile(r"(?<!\\)\\\\[ \t]*$", re.M)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML without timestamp magic: dates stay the strings the author wrote. libyaml's
    parser when PyYAML has it: ~10x faster on a site's _config.yml (6 ms, not 60)."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    """YAML (front matter, _config.yml) or None when it does not parse."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError:
        return None


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """(front matter as a dict, body) for YAML `---` or TOML `+++` front matter."""
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text
    raw = m.group(2) or ""
    data: Any
    if m.group(1) == "+++":
        try:
            data = tomllib.loads(raw)
        except tomllib.TOMLDecodeError:
            data = None
    else:
        data = load_yaml(raw)
    return (data if isinstance(data, dict) else {}), text[m.end():]


def expand_includes(site: Site, resource: Resource, text: str | None = None, depth: int = 0) -> str:
    """The markdown of `resource` with `{% include_relative f %}` replaced by f's text.

    Files not fetched yet become wishes on the Site and expand to nothing this round.
    """
    text = resource.text if text is None else text

    def inline(m: re.Match[str]) -> str:
        if depth > 3:
            return ""
        included = site.get(site.resolve(m.group(1), resource))
        if included is None:
            return ""
        _, body = split_front_matter(included.text)
        return expand_includes(site, included, body, depth + 1)

    return _INCLUDE_RELATIVE.sub(inline, text)


def to_html(markdown: str) -> str:
    """Markdown with Liquid and kramdown extras to HTML; HTML comments dropped first so
    that commented-out content never reaches the records."""
    markdown = strip_html_comments(strip_liquid(markdown))
    markdown = _KRAMDOWN_IAL.sub("", markdown)
    markdown = _KRAMDOWN_BREAK.sub("<br>", markdown)
    return _renderer().render(markdown)


def markdown_tree(markdown: str) -> HtmlElement:
    """The <body> of the rendered markdown."""
    return parse_html("<html><body>" + to_html(markdown) + "</body></html>").body


def site_markdown_tree(site: Site, markdown: str) -> HtmlElement:
    """`markdown_tree`, rendered once per distinct text and extraction."""
    return site.memo(("markdown-tree", markdown), lambda: markdown_tree(markdown))


def config_yml(site: Site, resource: Resource) -> dict[str, Any]:
    """A `_config.yml` as a mapping (empty if it is not one), parsed once per extraction:
    YAML is the slowest step of a source-tree parse."""
    def load() -> dict[str, Any]:
        data = load_yaml(resource.text)
        return data if isinstance(data, dict) else {}
    return site.memo(("yaml-config", resource.url), load)


def site_root(site: Site, resource: Resource,
              markers: tuple[str, ...] = ("_config.yml", "hugo.toml", "config.toml", "config/_default/params.toml")
              ) -> tuple[str, Resource] | None:
    """The root folder of a source tree (the folder holding `_config.yml`, `hugo.toml`,
    ...), searched from the resource's folder upwards, and the marker file found there."""
    folder = resource.url.rsplit("/", 1)[0] + "/"
    for _ in range(4):
        for marker in markers:
            found = site.get(folder + marker)
            if found is not None:
                return folder, found
        if urlsplit(folder).path in ("", "/"):
            break
        folder = folder.rstrip("/").rsplit("/", 1)[0] + "/"
    return None


@functools.cache
def _renderer() -> MarkdownIt:
    """CommonMark with tables, built at the first markdown source (not at import: an
    HTML-only deployment never loads markdown-it)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable("table")
