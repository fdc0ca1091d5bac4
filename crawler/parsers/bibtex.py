"""BibTeX publication lists, as al-folio keeps them (`_bibliography/papers.bib`) and as
hand-written pages fetch them from their scripts.

bibtexparser (v2) splits the file and survives malformed blocks: each one that fails
becomes a warning and the other entries are still read. Only the fields a record needs
are LaTeX-decoded (pylatexenc), never the abstracts, which are most of a file's bytes.
al-folio's own fields (`arxiv`, `pdf`, `code`, `html`, `website`, ...) become typed
links; relative file names (`pdf={paper.pdf}`) are files under the site's
`assets/pdf/`, as al-folio renders them.
"""
from __future__ import annotations

import logging
import re
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from ..ids import arxiv_id
from ..records import PageRecords, Publication, SourceInfo
from ..text import clean, clean_author, normalise_date
from .listing import head, paper_ids
from .markdown import split_front_matter
from .site import Resource, Site

if TYPE_CHECKING:  # bibtexparser and pylatexenc load at the first BibTeX file, not at import
    from bibtexparser.model import Entry, ParsingFailedBlock
    from pylatexenc.latex2text import LatexNodes2Text

NAME = "bibtex"
KIND = "listing"

# bibtexparser logs each broken block; the records carry them as warnings already, so
# without a configured logging setup they must not also reach stderr (Python's last resort).
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())

_ENTRY_START = re.compile(r"^\s*@(?:article|inproceedings|incollection|misc|book|phdthesis|mastersthesis|"
                          r"techreport|unpublished|conference|online|report|thesis|inbook|proceedings)\s*[{(]",
                          re.I | re.M)
_NOT_BIBTEX = ("text/html", "application/xhtml+xml", "text/markdown", "application/json",
               "application/xml", "application/atom+xml")
# al-folio fields holding a link, and the kind of link each is.
_LINK_FIELDS = (("pdf", "pdf"), ("code", "code"), ("website", "project"), ("html", "paper"),
                ("url", "paper"), ("video", "video"), ("slides", "slides"), ("poster", "poster"),
                ("supp", "supp"), ("blog", "blog"))
# Fields al-folio serves from assets/pdf/ when they hold a file name, not a URL.
_FILE_FIELDS = frozenset(("pdf", "slides", "poster", "supp"))
_VENUE_FIELDS = ("journal", "booktitle", "journaltitle", "howpublished", "school", "institution")
_LATEX_CHARS = re.compile(r"[\\{}$~]|--")


def detect(resource: Resource) -> float:
    if resource.media_type == "application/x-bibtex":
        return 0.9
    if resource.media_type in _NOT_BIBTEX:
        return 0.0
    return 0.8 if _ENTRY_START.search(head(resource)) else 0.0


def parse(site: Site) -> PageRecords:
    pubs, warnings = read_bibtex(site.entry.text, site.base_url)
    return PageRecords(source=SourceInfo(site.base_url, KIND, NAME), publications=pubs, warnings=warnings)


def read_bibtex(text: str, url: str, file_base: str | None = None) -> tuple[list[Publication], list[str]]:
    """The publications of a BibTeX file at `url` (its public URL), in file order, and a
    warning for each block that could not be read.

    `file_base` is where relative file names in `pdf`/`slides`/... live; by default the
    site's `assets/pdf/` for a file in `_bibliography/` (al-folio), else the file's folder.
    """
    import bibtexparser
    from bibtexparser.middlewares import NormalizeFieldKeys
    from bibtexparser.model import Entry, ParsingFailedBlock

    _, body = split_front_matter(text)  # Jekyll front matter ("---\n---") before the entries
    text = "\n" * text[:len(text) - len(body)].count("\n") + body  # blank lines keep line numbers
    library = bibtexparser.parse_string(text, append_middleware=[NormalizeFieldKeys()])
    if file_base is None:
        path = urlsplit(url).path
        file_base = urljoin(url, "../assets/pdf/") if "/_bibliography/" in path else urljoin(url, ".")
    pubs: list[Publication] = []
    warnings: list[str] = []
    blocks = [(b.start_line or 0, b) for b in (*library.entries, *library.failed_blocks)]
    for _, block in sorted(blocks, key=lambda pair: pair[0]):
        if isinstance(block, ParsingFailedBlock):
            entry = block.ignore_error_block
            warnings.append(f"{url}: BibTeX block at line {(block.start_line or 0) + 1} "
                            f"{'read despite' if isinstance(entry, Entry) else 'skipped:'} {_error_text(block)}")
            if not isinstance(entry, Entry):
                continue
        else:
            entry = block
        pub = entry_publication(entry, file_base)
        if pub is None:
            warnings.append(f"{url}: BibTeX entry {entry.key!r} has no title; skipped")
        else:
            pubs.append(pub)
    return pubs, warnings


def _error_text(block: ParsingFailedBlock) -> str:
    """The parser's reason in one line ("Unexpected block start: `@misc`. ...")."""
    reason = getattr(block.error, "abort_reason", None) or str(block.error) or type(block.error).__name__
    return " ".join(reason.split())


def entry_publication(entry: Entry, file_base: str) -> Publication | None:
    """One entry as a publication; None without a title."""
    from bibtexparser.middlewares.names import split_multiple_persons_names

    fields = {f.key: f.value for f in entry.fields if isinstance(f.value, str)}
    title = latex_text(fields.get("title", ""))
    if not title:
        return None
    authors = [name for raw in split_multiple_persons_names(fields.get("author", "")) if (name := person_name(raw))]
    venue = next((v for key in _VENUE_FIELDS if (v := latex_text(fields.get(key, "")))), None)
    year_match = re.search(r"(?:19|20)\d\d", fields.get("year") or fields.get("date") or "")
    year = int(year_match.group(0)) if year_match else None
    date = _date_of(fields, year)
    arxiv = _arxiv_of(fields, venue)
    links: dict[str, str] = {}
    if arxiv:
        links["arxiv"] = f"https://arxiv.org/abs/{arxiv}"
    for key, kind in _LINK_FIELDS:
        value = fields.get(key, "").strip()
        if not value or value.lower() in ("true", "false"):
            continue
        if "://" not in value:
            if key not in _FILE_FIELDS:
                continue
            value = urljoin(file_base, value)
        links.setdefault("arxiv" if arxiv_id(value) and "arxiv.org" in value else kind, value)
    if fields.get("doi", "").strip():
        links.setdefault("doi", fields["doi"].strip())
    ids = paper_ids(doi_text=fields.get("doi"), arxiv_text=arxiv)
    return Publication(title=title, authors=authors, venue=venue, year=year, links=links, ids=ids, date=date)


def _date_of(fields: dict[str, str], year: int | None) -> str | None:
    """The ISO date when the entry gives more than a year: biblatex `date`, or `month`
    as a name (`jul`, `{July}`) or a number."""
    month = fields.get("month", "").strip()
    if fields.get("date"):
        date = normalise_date(fields["date"])
    elif year and month.isdigit():
        date = f"{year}-{int(month):02d}" if 1 <= int(month) <= 12 else None
    else:
        date = normalise_date(f"{month} {year}") if year and month else None
    return date if date and len(date) > 4 else None


def _arxiv_of(fields: dict[str, str], venue: str | None) -> str | None:
    """The arXiv id of an entry: al-folio's `arxiv` field, an arXiv `eprint`, or an arXiv
    venue ("arXiv preprint arXiv:2305.01079")."""
    if found := arxiv_id(fields.get("arxiv")) or arxiv_id(f"arXiv:{fields.get('arxiv', '').strip()}"):
        return found
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "").lower()
    if fields.get("eprint") and prefix == "arxiv":
        return arxiv_id(fields["eprint"]) or arxiv_id(f"arXiv:{fields['eprint'].strip()}")
    return arxiv_id(venue) if venue and "arxiv" in venue.lower() else None


def person_name(raw: str) -> str:
    """A BibTeX name as people write it: "Last, First" and "von Last, Jr, First" to
    "First Last"; LaTeX accents decoded; markers (`Xu^{*}`) and "others" dropped."""
    parts = [latex_text(p) for p in _top_level_commas(raw)]
    if len(parts) == 2:
        name = f"{parts[1]} {parts[0]}"
    elif len(parts) >= 3:
        name = f"{parts[2]} {parts[0]} {parts[1]}"
    else:
        name = parts[0] if parts else ""
    name = clean_author(name)
    return "" if name.lower() == "others" else name


def _top_level_commas(raw: str) -> list[str]:
    """Split on commas outside braces: `{Google, Inc.}` is one part."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(raw):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(depth - 1, 0)
        elif ch == "," and depth == 0:
            parts.append(raw[start:i])
            start = i + 1
    parts.append(raw[start:])
    return [p.strip() for p in parts if p.strip()]


def latex_text(value: str) -> str:
    """A BibTeX value as plain text: accents and escapes to Unicode, braces dropped."""
    if _LATEX_CHARS.search(value):
        try:
            value = _decoder().latex_to_text(value)
        except Exception:  # noqa: BLE001 - pylatexenc on broken LaTeX: keep the text without braces
            value = re.sub(r"[{}]", "", value)
    return clean(value)


@cache
def _decoder() -> LatexNodes2Text:
    """pylatexenc's decoder, with `\\url{x}` as `x` (not `<x>`); built once."""
    from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

    context = get_default_latex_context_db()
    context.add_context_category("profilesync", prepend=True, macros=[MacroTextSpec("url", simplify_repl="%s")])
    return LatexNodes2Text(latex_context=context, math_mode="text")
