"""When are two publication records the same paper?

Used by the diff (an edited title is `paper.updated`, not remove + add), by parsers that
list a paper twice (selected + full list) and when one profile has several sources.
Order of evidence: DOI, arXiv id, other source ids, then the normalised title with a fuzzy
match guarded by year and author overlap ("Attention Is Not All You Need" is not
"Attention Is All You Need").
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from .ids import arxiv_id, doi
from .records import ID_KINDS, PageRecords, Publication

#: Minimum rapidfuzz ratio (0-100) for two different titles to be one paper.
TITLE_THRESHOLD = 90.0

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
# The same for ASCII, as a bytes table (~3x the regex): letters lower-cased, digits kept,
# everything else ([\W_]) a space.
_ASCII_KEY = bytes(ord(c.lower()) if c.isalnum() else 32 for c in map(chr, range(128))) + bytes(128)
# Words whose presence in one title only flips its meaning.
_NEGATIONS = frozenset({"not", "no", "non", "without", "beyond", "never", "un", "vs", "versus"})
# Tokens that tell a sequel or a part apart: "Qwen-Image 2.0", "Methods I" / "Methods II".
_DISTINGUISHING = re.compile(r"^(?:\d+|[ivx]{1,4})$")
#: Years a preprint and its version of record may lie apart under the very same title.
PREPRINT_YEARS = 3
_PREPRINT_VENUE = re.compile(r"^(?:arxiv|corr|biorxiv|medrxiv|ssrn|preprint)\b", re.I)


def normalise_title(title: str | None) -> str:
    """NFKC, case-folded, punctuation and whitespace folded: the exact-match key."""
    text = title or ""
    if text.isascii():  # NFKC changes nothing, casefold is lower()
        return b" ".join(text.encode("ascii").translate(_ASCII_KEY).split()).decode("ascii")
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_PUNCT.sub(" ", text).split())


def _surname(name: str) -> str:
    parts = normalise_title(name).split()
    return parts[-1] if parts else ""


def _authors_overlap(a: Sequence[str], b: Sequence[str]) -> bool | None:
    """True/False when both lists are known; None when either is empty."""
    if not a or not b:
        return None
    sa, sb = {_surname(x) for x in a} - {""}, {_surname(x) for x in b} - {""}
    if not sa or not sb:
        return None
    return len(sa & sb) / min(len(sa), len(sb)) >= 0.5


def _years_compatible(a: int | None, b: int | None, spread: int = 1) -> bool:
    return a is None or b is None or abs(a - b) <= spread


def canonical_ids(pub: Publication) -> dict[str, str]:
    """A publication's ids in one comparable form: DOIs lower-case without resolver,
    arXiv ids without version ("2409.18042v2" -> "2409.18042", also read from an arXiv
    DOI 10.48550/arXiv.2409.18042), other ids case-folded."""
    ids: dict[str, str] = {}
    for kind, value in pub.ids.items():
        if not value:
            continue
        if kind == "doi":
            value = doi(value) or value.lower()
        elif kind == "arxiv":
            value = arxiv_id(value) or value.lower()
        ids[kind] = value.lower()
    if "arxiv" not in ids and "doi" in ids and (aid := arxiv_id(ids["doi"])):
        ids["arxiv"] = aid.lower()
    return ids


def id_verdict(a: Publication, b: Publication) -> bool | None:
    """What the ids say: True (same), False (different) or None (no shared id kind)."""
    ids_a, ids_b = canonical_ids(a), canonical_ids(b)
    for kind in ID_KINDS:
        x, y = ids_a.get(kind), ids_b.get(kind)
        if x and y:
            if x == y:
                return True
            # Two DOIs may be preprint and version of record; only other kinds are decisive.
            if kind != "doi":
                return False
    return None


def titles_match(a: Publication, b: Publication, key_a: str | None = None,
                 key_b: str | None = None) -> bool:
    """Same paper by title: equal keys, or a close fuzzy match that year and authors allow."""
    ka = key_a if key_a is not None else normalise_title(a.title)
    kb = key_b if key_b is not None else normalise_title(b.title)
    if not ka or not kb:
        return False
    overlap = _authors_overlap(a.authors, b.authors)
    if ka == kb:  # a preprint and its publication keep their title but not their year
        spread = PREPRINT_YEARS if overlap is True else 1
        return overlap is not False and _years_compatible(a.year, b.year, spread)
    if not _years_compatible(a.year, b.year):
        return False
    if fuzz.ratio(ka, kb, processor=default_process) < TITLE_THRESHOLD:
        return False
    differing = set(ka.split()) ^ set(kb.split())
    if differing & _NEGATIONS or any(_DISTINGUISHING.match(word) for word in differing):
        return False
    # A fuzzy match needs corroboration: overlapping authors, or the same known year.
    return overlap is True or (overlap is None and a.year is not None and a.year == b.year)


def same_paper(a: Publication, b: Publication) -> bool:
    verdict = id_verdict(a, b)
    return verdict if verdict is not None else titles_match(a, b)


def merge(into: Publication, other: Publication) -> Publication:
    """Fold `other` into `into`: every id and link either gave, missing fields filled."""
    for kind, value in other.ids.items():
        into.ids.setdefault(kind, value)
    for kind, url in other.links.items():
        into.links.setdefault(kind, url)
    if not into.authors and other.authors:
        into.authors = list(other.authors)
    if not into.venue or (_PREPRINT_VENUE.match(into.venue) and other.venue
                          and not _PREPRINT_VENUE.match(other.venue)):
        into.venue = other.venue  # the version of record names the venue
    into.year = into.year or other.year
    into.date = into.date or other.date
    if into.citations is None:
        into.citations = other.citations
    return into


def match(old: Sequence[Publication], new: Sequence[Publication]) -> list[tuple[int, int]]:
    """Pair indexes of `old` and `new` that are the same paper, each used at most once.

    Ids first, then exact title keys, then fuzzy titles among what is left, so the
    common case (nothing changed) costs a few dict look-ups per paper.
    """
    pairs: list[tuple[int, int]] = []
    free_old = set(range(len(old)))
    free_new = set(range(len(new)))

    by_id: dict[tuple[str, str], int] = {}
    for i, p in enumerate(old):
        for kind, value in canonical_ids(p).items():
            by_id.setdefault((kind, value), i)
    for j, p in enumerate(new):
        new_ids = canonical_ids(p)
        for kind in ID_KINDS:
            value = new_ids.get(kind)
            i = by_id.get((kind, value)) if value else None
            if i is not None and i in free_old and id_verdict(old[i], p) is not False:
                pairs.append((i, j))
                free_old.discard(i)
                free_new.discard(j)
                break

    old_keys = {i: normalise_title(old[i].title) for i in free_old}
    by_title: dict[str, list[int]] = {}
    for i in sorted(free_old):
        by_title.setdefault(old_keys[i], []).append(i)
    new_keys = {j: normalise_title(new[j].title) for j in free_new}
    for j in sorted(free_new):
        for i in by_title.get(new_keys[j], ()):
            if i in free_old and id_verdict(old[i], new[j]) is not False and titles_match(
                    old[i], new[j], old_keys[i], new_keys[j]):
                pairs.append((i, j))
                free_old.discard(i)
                free_new.discard(j)
                break

    if free_old and free_new:
        choices = {i: old_keys[i] for i in free_old}
        for j in sorted(free_new):
            if not choices:
                break
            for _, score, i in process.extract(new_keys[j], choices, scorer=fuzz.ratio,
                                               processor=None, score_cutoff=TITLE_THRESHOLD, limit=3):
                if id_verdict(old[i], new[j]) is not False and titles_match(
                        old[i], new[j], old_keys[i], new_keys[j]):
                    pairs.append((i, j))
                    del choices[i]
                    break
    return sorted(pairs)


def dedupe(publications: Iterable[Publication]) -> list[Publication]:
    """One record per paper, keeping first-seen order and merging ids and links."""
    out: list[Publication] = []
    by_id: dict[tuple[str, str], int] = {}
    keys: list[str] = []  # the title key of out[i], as first seen
    for pub in publications:
        key = normalise_title(pub.title)
        ids = canonical_ids(pub)
        target = next((i for kind_value in ids.items() if (i := by_id.get(kind_value)) is not None
                       and same_paper(out[i], pub)), None)
        if target is None:  # then the closest titles
            target = next((i for _, _, i in process.extract(key, keys, scorer=fuzz.ratio, processor=None,
                                                            score_cutoff=TITLE_THRESHOLD, limit=3)
                           if same_paper(out[i], pub)), None)
        if target is None:
            target = len(out)
            out.append(pub)
            keys.append(key)
        else:
            merge(out[target], pub)
            ids = canonical_ids(out[target])
        for kind, value in ids.items():
            by_id.setdefault((kind, value), target)
    return out


def merge_sources(sources: Sequence[PageRecords]) -> list[Publication]:
    """One publication per paper across the sources of one profile, carrying every id and
    link its sources gave. Sources are read in the order given (put the most trusted
    first: its title and authors win); the records passed in are not modified."""
    return dedupe(Publication.from_dict(p.to_dict()) for records in sources for p in records.publications)
