"""Text cleaning, in one place: every parser sends the strings it extracts through here.

Decoding bytes, repairing mojibake, collapsing whitespace, dropping template syntax and
author markers, and normalising the many ways people write dates.
"""
from __future__ import annotations

import codecs
import functools
import html
import re
import unicodedata
from datetime import date


# --------------------------------------------------------------------------- decoding

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_CHARSET_PARAM = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


def _declared_charset(body: bytes, content_type: str | None) -> str | None:
    if content_type:
        m = _CHARSET_PARAM.search(content_type.encode("latin-1", "ignore"))
        if m:
            return m.group(1).decode("ascii")
    m = _CHARSET_PARAM.search(body[:2048])  # <meta charset=...> or http-equiv
    return m.group(1).decode("ascii") if m else None


def decode(body: bytes, content_type: str | None = None, *, repair: bool = True) -> str:
    """Bytes to text: BOM, then the declared charset, then UTF-8, then detection;
    mojibake repaired once for the whole document.

    A declared charset that fails is not trusted (pages lie); a file that is not UTF-8
    (ORCID dumps saved as cp1252) is decoded by charset-normalizer's best guess.
    `repair=False` skips the whole-document mojibake repair: structured data (JSON) is
    repaired string by string instead, where a repair cannot touch the syntax.
    """
    fix = repair_mojibake if repair else str
    for bom, enc in _BOMS:
        if body.startswith(bom):
            return body[len(bom):].decode(enc, errors="replace")
    declared = _declared_charset(body, content_type)
    for enc in filter(None, (declared, "utf-8")):
        try:
            return fix(body.decode(enc))
        except (LookupError, UnicodeDecodeError):
            continue
    # Not UTF-8 and undeclared: most such files are Windows-1252 (Western European);
    # take it when it decodes to Latin letters, else ask charset-normalizer.
    try:
        text = body.decode("cp1252")
        if _mostly_latin(text):
            return fix(text)
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes  # only for the rare undeclared non-Latin file

    best = from_bytes(body).best()
    return fix(str(best) if best is not None else body.decode("cp1252", errors="replace"))


def _mostly_latin(text: str) -> bool:
    high = [c for c in text if ord(c) > 0x7F]
    latin = sum(1 for c in high if c.isalpha() and ord(c) < 0x250 or c in "–—‘’“”•…€™°·§")
    return latin >= 0.9 * len(high)


# --------------------------------------------------------------------------- mojibake

# UTF-8 read as MacRoman: runs of characters MacRoman maps to bytes >= 0x80 (plus the
# Apple logo U+F8FF, MacRoman's 0xF0, the lead byte of every 4-byte emoji).
_MACROMAN_HIGH = "".join(sorted(set(bytes(range(0x80, 0x100)).decode("mac_roman"))))
_MACROMAN_RUN = re.compile("[" + re.escape(_MACROMAN_HIGH) + "]{2,}")
_MACROMAN_TELLTALE = re.compile("‚Ä|‚[úù≠òöûúî]|√[©°≠∂¥º∫®±§ß∞]|\uf8ffü|ü[éíìîïëèêñ]")
# cp1252/Latin-1 mojibake worth waking ftfy for (it is too slow to run on every string).
_CP1252_TELLTALE = re.compile("[ÃÂâÅÄ][\u0080-\u00bf\u0152-\u0192\u02c6-\u2122]")


def _repair_macroman_run(match: re.Match[str]) -> str:
    run = match.group(0)
    raw = run.encode("mac_roman")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # An emoji whose lead byte (0xF0, shown as U+F8FF) was dropped: "üí¨" is 9F 92 AC.
    out, i = [], 0
    while i < len(raw):
        for size, lead in ((4, b""), (3, b""), (2, b""), (3, b"\xf0")):
            chunk = lead + raw[i:i + size]
            try:
                ch = chunk.decode("utf-8")
            except UnicodeDecodeError:
                continue
            if len(ch) == 1 and (lead or ord(ch) > 0x7F):
                out.append(ch)
                i += size
                break
        else:
            out.append(raw[i:i + 1].decode("mac_roman"))
            i += 1
    return "".join(out)


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 that was decoded as MacRoman, cp1252 or Latin-1 (`Noah‚Äôs` -> `Noah’s`).

    ftfy handles cp1252/Latin-1 well but not MacRoman, and not emoji whose lead byte
    was lost; those are repaired here first, and only on text that shows the telltales.
    """
    if text.isascii():
        return text
    # The telltales' first characters: `in` finds them ~50x faster than the regexes scan
    # a clean document, so the regexes run only on text that may be broken.
    if ("‚" in text or "√" in text or "\uf8ff" in text or "ü" in text) and _MACROMAN_TELLTALE.search(text):
        text = _MACROMAN_RUN.sub(_repair_macroman_run, text)
    if ("Ã" in text or "Â" in text or "â" in text or "Å" in text or "Ä" in text) and _CP1252_TELLTALE.search(text):
        import ftfy  # here: ~3 MB of tables that most pages never need

        text = ftfy.fix_text(text, uncurl_quotes=False, fix_character_width=False,
                             fix_latin_ligatures=False, normalization="NFC")
    return text


# --------------------------------------------------------------------------- cleaning

_ZERO_WIDTH_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_ZERO_WIDTH = re.compile(f"[{_ZERO_WIDTH_CHARS}]")  # (str.translate: ~20x slower)
_LIQUID = re.compile(r"\{%-?.*?-?%\}|\{\{-?.*?-?\}\}", re.S)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)


def squash(text: str) -> str:
    """Collapse all whitespace (non-breaking included) to single spaces and trim."""
    if not text.isascii() and _has_zero_width(text):
        text = _ZERO_WIDTH.sub("", text)
    return " ".join(text.split())  # str.split() and the regex \s agree on what is whitespace


def _has_zero_width(text: str) -> bool:
    """Six `in` tests, ~4x faster than the regex scans a string that has none (most)."""
    for char in _ZERO_WIDTH_CHARS:
        if char in text:
            return True
    return False


def clean(text: str | None) -> str:
    """The one normal form of a string taken from a page: entities decoded, mojibake
    repaired, Unicode NFC, whitespace collapsed."""
    if not text:
        return ""
    if text.isascii() and "&" not in text:  # most strings: nothing to decode, repair or compose
        return " ".join(text.split())
    if "&" in text:
        text = html.unescape(text)
    text = repair_mojibake(text)
    return squash(unicodedata.normalize("NFC", text))


def strip_liquid(text: str) -> str:
    """Drop Jekyll/Liquid tags and output blocks (`{% ... %}`, `{{ ... }}`)."""
    return _LIQUID.sub("", text)


def strip_html_comments(text: str) -> str:
    return _HTML_COMMENT.sub("", text)


# --------------------------------------------------------------------------- authors

# Markers people put after names: equal contribution, corresponding author, affiliations.
_AUTHOR_MARKERS = re.compile(r"[*#†‡§¶✉✝⋆∗＊♠♣♥♦✦✧^]+"
                             r"|\(\s*(?:equal contribution|corresponding(?: author)?|co-first(?: author)?)\s*\)", re.I)
_TRAILING_AFFIL = re.compile(r"(?<=[^\W\d_])\s*\d+(?:\s*,\s*\d+)*$")
_INITIALS = re.compile(r"^(?:[A-Z][a-z]?\.\s*-?\s*)+$")
# One pass over the line: a comma, or `and`, `&`, `;` (and the CJK commas) with their spaces.
_AUTHOR_SEPARATOR = re.compile(r",|\s*(?:\band\s+|&|;|，|、)\s*", re.I)
_ET_AL = re.compile(r",?\s*\bet\s+al\b\.?")
_ET_AL_CORE = re.compile(r"et\s+al")  # in every _ET_AL match; a literal start is found fast


@functools.lru_cache(maxsize=8192)  # names repeat: the owner's on every paper, co-authors'
def clean_author(name: str) -> str:
    """One author name without markers: `Lei Li*`, `Kai Chen†`, `**Dazhao Du**`, `A. B.^1`."""
    name = _AUTHOR_MARKERS.sub("", clean(name))
    if name[-1:].isdecimal():  # _TRAILING_AFFIL ends in a digit (\d: the decimal digits)
        name = _TRAILING_AFFIL.sub("", name)
    return name.strip(" ,.;:").strip()


def split_authors(text: str) -> list[str]:
    """Split an author line on commas, `and`, `&` and `;`; drop markers and `et al.`."""
    text = clean(text)
    if not text:  # a citation with nothing before its title
        return []
    if _ET_AL_CORE.search(text):
        text = _ET_AL.sub("", text)
    lowered = text.lower()  # only "and", "&", ";" and the CJK commas need the regex
    if "and" in lowered or "&" in text or ";" in text or "，" in text or "、" in text:
        parts = [p for p in map(str.strip, _AUTHOR_SEPARATOR.split(text)) if p]
    else:
        parts = [p for p in map(str.strip, text.split(",")) if p]
    if len(parts) >= 2 and len(parts) % 2 == 0 and all(_INITIALS.match(p) for p in parts[1::2]):
        # "Durant, F., Lobo, D., and Levin, M.": surname, initials pairs stay one name each
        return [f"{clean_author(surname)}, {initials}" for surname, initials in zip(parts[::2], parts[1::2])]
    return [name for name in map(_author_name, parts) if name]


@functools.lru_cache(maxsize=8192)
def _author_name(part: str) -> str:
    """clean_author(part), or "" when no letter is left (a stray marker or number)."""
    name = clean_author(part)
    return name if any(c.isalpha() for c in name) else ""


# --------------------------------------------------------------------------- dates

_MONTHS = {m: i for i, names in enumerate((
    ("jan", "january", "janv", "enero", "januar"),
    ("feb", "february", "febr", "fev", "fevereiro", "februar"),
    ("mar", "march", "mars", "marzo", "märz", "marco"),
    ("apr", "april", "avr", "abril"),
    ("may", "mai", "mayo", "maio"),
    ("jun", "june", "juin", "junio", "junho", "juni"),
    ("jul", "july", "juil", "julio", "julho", "juli"),
    ("aug", "august", "aout", "agosto"),
    ("sep", "sept", "september", "septembre", "setembro", "septiembre"),
    ("oct", "october", "octobre", "octubre", "outubro", "oktober"),
    ("nov", "november", "novembre", "noviembre", "novembro"),
    ("dec", "december", "décembre", "diciembre", "dezembro", "dezember"),
), start=1) for m in names}
_MONTH_NAMES = "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True))
_MONTH_RE = "(?P<mon>" + _MONTH_NAMES + r")\.?"
_ANY_MONTH = "(?:" + _MONTH_NAMES + r")\.?"

_DATE_PATTERNS = [
    # 2024-09-15, 2024.09.15, 2024/9/15
    re.compile(r"(?P<y>(?:19|20)\d\d)[-./年](?P<m>\d{1,2})[-./月](?P<d>\d{1,2})日?(?!\d)"),
    # 2024.09, 2024/06, 2024-9, 2024年9月
    re.compile(r"(?P<y>(?:19|20)\d\d)[-./年](?P<m>\d{1,2})月?(?![\d])"),
    # 14/9/2022, 9/14/2022, 14.09.2022
    re.compile(r"(?<!\d)(?P<a>\d{1,2})[-./](?P<b>\d{1,2})[-./](?P<y>(?:19|20)\d\d)(?!\d)"),
    # 5-2025, 05/2025, 11/2021
    re.compile(r"(?<![\d.])(?P<m>\d{1,2})[-./](?P<y>(?:19|20)\d\d)(?!\d)"),
    # Sep 15, 2024 / September 15th 2024
    re.compile(_MONTH_RE + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d\d)", re.I),
    # 15 Sep 2024
    re.compile(r"(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH_RE + r",?\s+(?P<y>(?:19|20)\d\d)", re.I),
    # Sep 2024, Sept. 2024, Sep-2024, Sep, 2024
    re.compile(_MONTH_RE + r"[\s,'’-]*(?P<y>(?:19|20)\d\d)", re.I),
    # 2024 Sep
    re.compile(r"(?P<y>(?:19|20)\d\d)\s+" + _MONTH_RE, re.I),
    # 2024
    re.compile(r"(?<![\d.])(?P<y>(?:19|20)\d\d)(?![\d])"),
]


def _iso(year: int, month: int | None = None, day: int | None = None) -> str | None:
    if month is None:
        return f"{year:04d}"
    if not 1 <= month <= 12:
        return None
    if day is None:
        return f"{year:04d}-{month:02d}"
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _match_to_iso(m: re.Match[str]) -> str | None:
    g = m.groupdict()
    year = int(g["y"])
    if g.get("a"):  # day/month/year or month/day/year: the number > 12 decides, else day first
        a, b = int(g["a"]), int(g["b"])
        day, month = (b, a) if b > 12 else (a, b)
        return _iso(year, month, day)
    month = int(g["m"]) if g.get("m") else (_MONTHS[g["mon"].lower()] if g.get("mon") else None)
    day = int(g["d"]) if g.get("d") else None
    return _iso(year, month, day)


@functools.lru_cache(maxsize=4096)  # the same few dates recur on a page and across pages
def normalise_date(text: str | None) -> str | None:
    """ISO date at the precision written: `2024.09` -> `2024-09`, `14/9/2022` ->
    `2022-09-14`, `Sep 2024` -> `2024-09`, `2023` -> `2023`; None when there is none."""
    if not text:
        return None
    text = clean(text)
    for pattern in _DATE_PATTERNS:
        m = pattern.search(text)
        if m:
            iso = _match_to_iso(m)
            if iso:
                return iso
    return None


# A date at the start of a news item, then a separator: "*2024.09*: ", "[2024/06] ",
# "Sep 2024 - ", "11/2021: ", "11/2021, ", "**Aug 22, 2024**".
_LEADING_DATE = re.compile(
    r"^\s*[\[(*_`\s]*(?P<date>"
    r"(?:19|20)\d\d(?:[-./年]\d{1,2}){0,2}[月日]?"
    r"|\d{1,2}[-./]\d{1,2}[-./](?:19|20)\d\d"
    r"|\d{1,2}[-./](?:19|20)\d\d"
    r"|" + _ANY_MONTH + r"(?:\s+\d{1,2}(?:st|nd|rd|th)?,?)?[\s,'’-]*(?:19|20)\d\d"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+" + _ANY_MONTH + r",?\s+(?:19|20)\d\d"
    r")[\])*_`\s]*(?:(?!:\w+:)[:：\-–—|,]+|(?<=[\])])|\s)\s*",  # ":boom:" is an emoji, not a colon
    re.I,
)


def split_leading_date(text: str) -> tuple[str | None, str | None, str]:
    """Split `"2024.09: We released X"` into `("2024.09", "2024-09", "We released X")`.

    Returns `(None, None, text)` when the text does not start with a date.
    """
    m = _LEADING_DATE.match(text)
    if not m:
        return None, None, text
    written = m.group("date").strip()
    if len(written) == 4 and not re.search(r"[\]):：\-–—|*_`]", m.group(0)[m.start("date"):]):
        return None, None, text  # "2019 was a good year" is not a dated item
    iso = normalise_date(written)
    if iso is None:
        return None, None, text
    return written, iso, text[m.end():].strip()


# --------------------------------------------------------------------------- titles

_TITLE_EDGE = " \t\n.,;:\"“”'‘’•·-–—|"


def clean_title(text: str) -> str:
    """A title as a person reads it: no bullets, quotes or trailing template punctuation."""
    title = clean(text).strip(_TITLE_EDGE)
    return title.rstrip(" .,;:")


# (?<!\d) of the year's start, checked after its first two digits (which are digits):
# starting with a literal, the engine skips to the next "19"/"20" in C.
_YEAR = re.compile(r"(19(?<!\d\d\d)\d\d|20(?<!\d\d\d)\d\d)(?!\d)")


def year_of(text: str | None) -> int | None:
    """The last plausible publication year in a string (`CVPR 2024` -> 2024)."""
    if not text:
        return None
    years = _YEAR.findall(text)
    return int(years[-1]) if years else None
