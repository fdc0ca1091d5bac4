"""What changed between the records we hold for a source and a new snapshot of it.

Pure: no database. The store loads the current records, calls `diff`, and writes what it
returns in the same transaction as the events. The noise rules live here (DESIGN.md):
- the first successful sync is a silent baseline;
- a record is removed only when missing from two successful syncs in a row;
- a snapshot that suddenly holds far fewer records than we have (or none) is suspect, not a
  mass removal;
- reordering and formatting change no extracted field, so they produce no event.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz

from crawler.identity import dedupe, match, normalise_title
from crawler.records import PageRecords, Profile, Publication

#: Every event type there is (DESIGN.md, "Events"); the store adds source.failed/recovered.
EVENT_TYPES = ("paper.added", "paper.updated", "paper.removed", "news.added", "news.updated", "news.removed",
               "profile.updated", "metrics.updated", "source.failed", "source.recovered")

#: A record missing from this many successful syncs in a row is removed.
REMOVE_AFTER_MISSING = 2
#: A snapshot with fewer than this share of the records we hold is suspect...
SUSPECT_SHARE = 0.5
#: ...when we hold at least this many (a page of 3 papers losing 2 is plausible).
SUSPECT_MIN_RECORDS = 4
#: The same suspect content seen this many syncs in a row is accepted as the truth.
SUSPECT_CONFIRMATIONS = 3
#: Two news texts on the same date at this similarity (0-100) are one reworded item.
NEWS_REWORD_THRESHOLD = 70.0

#: Publication fields whose change is a `paper.updated` (citation counts move daily: silent).
PAPER_FIELDS = ("title", "authors", "venue", "year", "links", "ids")
NEWS_FIELDS = ("text", "date_iso", "links")
PROFILE_FIELDS = ("name", "position", "affiliation", "email", "links")


@dataclass(slots=True)
class Held:
    """A record the store holds: its row id, kind, data (DESIGN.md shape) and missing count."""

    id: int
    kind: str                     # publication | news
    data: dict[str, Any]
    missing: int = 0


@dataclass(slots=True)
class Change:
    """One event-to-be: its type and data; the store gives it an id, profile and time."""

    type: str
    data: dict[str, Any]


@dataclass(slots=True)
class Diff:
    """The writes and events one snapshot implies. Held records not named here are seen, unchanged."""

    inserts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)   # (kind, data)
    updates: dict[int, dict[str, Any]] = field(default_factory=dict)          # id -> new data
    missing: dict[int, int] = field(default_factory=dict)                     # id -> new missing count
    deletes: list[int] = field(default_factory=list)
    seen: list[int] = field(default_factory=list)                             # ids present now
    events: list[Change] = field(default_factory=list)
    profile: dict[str, Any] | None = None                                     # new profile data, if changed


def present_count(held: Sequence[Held]) -> int:
    return sum(1 for h in held if h.missing == 0)


def is_suspect(held: Sequence[Held], new: PageRecords) -> bool:
    """Far fewer records than we hold: an error page or a broken template, not a purge.
    No records at all where we hold some is what an error page looks like, however few."""
    before = present_count(held)
    after = len(new.publications) + len(new.news)
    if after == 0:
        return before > 0
    return before >= SUSPECT_MIN_RECORDS and after < before * SUSPECT_SHARE


def _changes(old: dict[str, Any], new: dict[str, Any], fields: Sequence[str]) -> dict[str, list[Any]]:
    return {f: [old.get(f), new.get(f)] for f in fields if (old.get(f) or None) != (new.get(f) or None)}


def news_key(item: dict[str, Any]) -> tuple[str | None, str]:
    return item.get("date_iso"), normalise_title(item.get("text"))


def _match_news(old: Sequence[dict[str, Any]], new: Sequence[dict[str, Any]]) -> list[tuple[int, int]]:
    """Pairs of the same news item: equal date and text, else same date and similar text."""
    pairs: list[tuple[int, int]] = []
    free_old = dict(enumerate(old))
    by_key: dict[tuple[str | None, str], list[int]] = {}
    for i, item in free_old.items():
        by_key.setdefault(news_key(item), []).append(i)
    unmatched: list[int] = []
    for j, item in enumerate(new):
        candidates = [i for i in by_key.get(news_key(item), ()) if i in free_old]
        if candidates:
            pairs.append((candidates[0], j))
            del free_old[candidates[0]]
        else:
            unmatched.append(j)
    for j in unmatched:
        date, text = news_key(new[j])
        best, best_score = None, NEWS_REWORD_THRESHOLD
        for i, item in free_old.items():
            if item.get("date_iso") != date:
                continue
            score = fuzz.token_set_ratio(news_key(item)[1], text)
            if score >= best_score:
                best, best_score = i, score
        if best is not None:
            pairs.append((best, j))
            del free_old[best]
    return pairs


def _diff_kind(diff: Diff, kind: str, held: list[Held], new: list[dict[str, Any]],
               pairs: list[tuple[int, int]], fields: Sequence[str], baseline: bool) -> None:
    prefix = "paper" if kind == "publication" else "news"
    matched_old = {i for i, _ in pairs}
    matched_new = {j for _, j in pairs}
    for i, j in pairs:
        old, now = held[i], new[j]
        diff.seen.append(old.id)
        if old.data != now:
            diff.updates[old.id] = now
            changes = _changes(old.data, now, fields)
            if changes and not baseline:
                diff.events.append(Change(f"{prefix}.updated", {**now, "changes": changes}))
    for j, data in enumerate(new):
        if j not in matched_new:
            diff.inserts.append((kind, data))
            if not baseline:
                diff.events.append(Change(f"{prefix}.added", data))
    for i, old in enumerate(held):
        if i in matched_old:
            continue
        missing = old.missing + 1
        if missing >= REMOVE_AFTER_MISSING:
            diff.deletes.append(old.id)
            if not baseline:
                diff.events.append(Change(f"{prefix}.removed", old.data))
        else:
            diff.missing[old.id] = missing


def diff(held: Sequence[Held], old_profile: dict[str, Any] | None, new: PageRecords | None,
         baseline: bool) -> Diff:
    """The changes from what we hold to a successful snapshot (`new` None: content unchanged).

    `baseline`: the source's first successful sync, which stores everything silently.
    """
    result = Diff()
    papers = [h for h in held if h.kind == "publication"]
    news = [h for h in held if h.kind == "news"]
    if new is None:  # 304 or same hash: a successful sync that saw exactly what we hold
        for h in held:
            if h.missing:
                _diff_kind(result, h.kind, [h], [], [], (), baseline)
            else:
                result.seen.append(h.id)
        return result

    new_papers = [p.to_dict() for p in dedupe(Publication.from_dict(p.to_dict()) for p in new.publications)]
    pairs = match([Publication.from_dict(h.data) for h in papers], [Publication.from_dict(p) for p in new_papers])
    _diff_kind(result, "publication", papers, new_papers, pairs, PAPER_FIELDS, baseline)

    new_news = _unique_news([n.to_dict() for n in new.news])
    _diff_kind(result, "news", news, new_news, _match_news([h.data for h in news], new_news),
               NEWS_FIELDS, baseline)

    _diff_profile(result, old_profile, new.profile, baseline)
    return result


#: Events of a record coming or going, which the profile's other sources may overrule.
PRESENCE_EVENTS = ("paper.added", "paper.removed", "news.added", "news.removed")


def drop_known_elsewhere(changes: list[Change], elsewhere: Sequence[Held]) -> list[Change]:
    """`changes` without the `*.added` of a record that another source of the profile holds
    already and the `*.removed` of one that another source still holds.

    The same paper seen by several sources of one profile is one publication (DESIGN.md),
    and the same news item on a site and its markdown source is one item: a record joins
    the profile with the first source that shows it and leaves it with the last, so a new
    paper on the homepage, DBLP and arXiv is one `paper.added`, and a paper that moves from
    one source to another is no event. `elsewhere`: the records of the profile's other
    sources, missing or not (a paper one source dropped a sync ago is still the profile's
    until that source removes it).
    """
    known: set[int] = set()
    for prefix, kind in (("paper", "publication"), ("news", "news")):
        coming_or_going = [i for i, c in enumerate(changes) if c.type in (f"{prefix}.added", f"{prefix}.removed")]
        held = [h.data for h in elsewhere if h.kind == kind]
        if not coming_or_going or not held:
            continue
        if kind == "publication":
            pairs = match([Publication.from_dict(data) for data in held],
                          [Publication.from_dict(changes[i].data) for i in coming_or_going])
        else:
            pairs = _match_news(held, [changes[i].data for i in coming_or_going])
        known.update(coming_or_going[j] for _, j in pairs)
    return [c for i, c in enumerate(changes) if i not in known]


def _unique_news(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[str | None, str]] = set()
    out = []
    for item in items:
        key = news_key(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _diff_profile(result: Diff, old: dict[str, Any] | None, new: Profile, baseline: bool) -> None:
    """Profile fields and metrics: a value the new page lacks is kept, not reported as removed."""
    now = new.to_dict()
    merged = dict(old or {})
    for key, value in now.items():
        if key == "metrics":
            merged["metrics"] = {**(merged.get("metrics") or {}), **value}
        elif value:
            merged[key] = value
    if merged == (old or {}):
        return
    result.profile = merged
    if baseline or old is None:
        return
    changes = _changes(old, merged, PROFILE_FIELDS)
    if changes:
        result.events.append(Change("profile.updated", {"profile": {k: merged.get(k) for k in PROFILE_FIELDS},
                                                       "changes": changes}))
    old_metrics, new_metrics = old.get("metrics") or {}, merged.get("metrics") or {}
    metric_changes = {k: [old_metrics.get(k), v] for k, v in new_metrics.items() if old_metrics.get(k) != v}
    if metric_changes:
        result.events.append(Change("metrics.updated", {"metrics": new_metrics, "changes": metric_changes}))
