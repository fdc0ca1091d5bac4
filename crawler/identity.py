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

from .records import ID_KINDS, Publication

#: Minimum rapidfuzz ratio (0-100) for two different titles to be one paper.
TITLE_THRESHOLD = 90.0

_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
# Words whose presence in one title only flips its meaning.
_NEGATIONS = frozenset({"not", "no", "non", "without", "beyond", "never", "un", "vs", "versus"})


def normalise_title(title: str | None) -> str:
    """NFKC, case-folded, punctuation and whitespace folded: the exact-match key."""
    text = unicodedata.normalize("NFKC", title or "").casefold()
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


def _years_compatible(a: int | None, b: int | None) -> bool:
    return a is None or b is None or abs(a - b) <= 1


def id_verdict(a: Publication, b: Publication) -> bool | None:
    """What the ids say: True (same), False (different) or None (no shared id kind)."""
    for kind in ID_KINDS:
        x, y = a.ids.get(kind), b.ids.get(kind)
        if x and y:
            if x.lower() == y.lower():
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
    if not ka or not kb or not _years_compatible(a.year, b.year):
        return False
    overlap = _authors_overlap(a.authors, b.authors)
    if ka == kb:
        return overlap is not False
    if fuzz.ratio(ka, kb, processor=default_process) < TITLE_THRESHOLD:
        return False
    if (set(ka.split()) ^ set(kb.split())) & _NEGATIONS:
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
    into.venue = into.venue or other.venue
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
        for kind, value in p.ids.items():
            by_id.setdefault((kind, value.lower()), i)
    for j, p in enumerate(new):
        for kind in ID_KINDS:
            value = p.ids.get(kind)
            i = by_id.get((kind, value.lower())) if value else None
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
    keys: dict[int, str] = {}
    for pub in publications:
        key = normalise_title(pub.title)
        candidates = [by_id[(k, v.lower())] for k, v in pub.ids.items() if (k, v.lower()) in by_id]
        candidates += [i for i, _, i in process.extract(key, keys, scorer=fuzz.ratio, processor=None,
                                                         score_cutoff=TITLE_THRESHOLD, limit=3)]
        target = next((i for i in candidates if same_paper(out[i], pub)), None)
        if target is None:
            target = len(out)
            out.append(pub)
            keys[target] = key
        else:
            merge(out[target], pub)
        for kind, value in out[target].ids.items():
            by_id.setdefault((kind, value.lower()), target)
    return out
