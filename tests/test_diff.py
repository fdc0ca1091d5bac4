"""The diff rules of storage/diff.py on their own (no database): identity of papers and
news, the events and their `changes`, and the noise rules of DESIGN.md."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from crawler.records import Metrics, NewsItem, PageRecords, Profile, Publication, SourceInfo
from storage.diff import Diff, Held, diff, is_suspect

ATTENTION = Publication("Attention Is All You Need", ["Ashish Vaswani", "Noam Shazeer"], "NeurIPS", 2017,
                        {"arxiv": "https://arxiv.org/abs/1706.03762"}, {"arxiv": "1706.03762"})
SYNC = Publication("Profile Sync: Watching Researcher Homepages", ["Lei Li", "Jane Doe"], "arXiv", 2025,
                   {"pdf": "https://example.org/sync.pdf"})
LABELS = Publication("Label Words are Anchors", ["Lean Wang", "Lei Li"], "EMNLP", 2023,
                     ids={"doi": "10.18653/v1/2023.emnlp-main.609"})
NEWS = [NewsItem("Our paper Label Words are Anchors won the Best Long Paper Award.", "2023/12", "2023-12"),
        NewsItem("Five papers accepted by ACL 2024.", "2024/05", "2024-05")]


def page(*pubs: Publication, news: list[NewsItem] | None = None, profile: Profile | None = None) -> PageRecords:
    return PageRecords(SourceInfo("https://lei.example.org/"), profile or Profile(name="Lei Li"),
                       list(NEWS if news is None else news), [replace(p) for p in pubs])


class Source:
    """The records of one source kept in memory exactly as the store keeps them, so that a
    test can run several syncs through `diff`."""

    def __init__(self, first: PageRecords) -> None:
        self.held: dict[int, Held] = {}
        self.profile: dict[str, Any] | None = None
        self.next_id = 1
        result = self.sync(first, baseline=True)
        assert result.events == []

    def sync(self, new: PageRecords | None, baseline: bool = False) -> Diff:
        result = diff(list(self.held.values()), self.profile, new, baseline)
        for record_id in result.seen:
            self.held[record_id].missing = 0
        for record_id, data in result.updates.items():
            self.held[record_id].data = data
        for record_id, missing in result.missing.items():
            self.held[record_id].missing = missing
        for record_id in result.deletes:
            del self.held[record_id]
        for kind, data in result.inserts:
            self.held[self.next_id] = Held(self.next_id, kind, data)
            self.next_id += 1
        if result.profile is not None:
            self.profile = result.profile
        return result

    def titles(self) -> set[str]:
        return {h.data.get("title") or h.data["text"] for h in self.held.values()}


def types(result: Diff) -> list[str]:
    return [e.type for e in result.events]


def test_first_sync_is_a_silent_baseline_that_stores_everything() -> None:
    result = diff([], None, page(ATTENTION, SYNC), baseline=True)
    assert result.events == []
    assert sorted(kind for kind, _ in result.inserts) == ["news", "news", "publication", "publication"]
    assert result.profile is not None and result.profile["name"] == "Lei Li"


def test_new_paper_is_added_with_its_record() -> None:
    src = Source(page(ATTENTION))
    result = src.sync(page(ATTENTION, SYNC))
    assert types(result) == ["paper.added"]
    assert result.events[0].data == SYNC.to_dict()


def test_arxiv_preprint_published_at_cvpr_is_one_update_naming_the_venue() -> None:
    src = Source(page(ATTENTION, SYNC))
    result = src.sync(page(ATTENTION, replace(SYNC, venue="CVPR 2025")))
    assert types(result) == ["paper.updated"]
    assert result.events[0].data["changes"] == {"venue": ["arXiv", "CVPR 2025"]}
    assert result.events[0].data["venue"] == "CVPR 2025"
    assert len(src.held) == 4 and "CVPR 2025" in {h.data.get("venue") for h in src.held.values()}


@pytest.mark.parametrize(("field", "new"), [
    ("authors", ["Lei Li", "Jane Doe", "Max Roe"]),
    ("year", 2026),
    ("links", {"pdf": "https://example.org/sync.pdf", "code": "https://github.com/x/sync"}),
    ("title", "Profile Sync: Watching Researcher Homepage"),        # a typo fixed: fuzzy match
    ("title", "profile sync - watching researcher homepages"),      # same normalised title
])
def test_field_edit_is_paper_updated_with_old_and_new(field: str, new: Any) -> None:
    src = Source(page(ATTENTION, SYNC))
    result = src.sync(page(ATTENTION, replace(SYNC, **{field: new})))
    assert types(result) == ["paper.updated"]
    assert result.events[0].data["changes"] == {field: [getattr(SYNC, field), new]}


def test_title_rewritten_with_the_same_doi_is_the_same_paper() -> None:
    src = Source(page(LABELS))
    new_title = "Label Words Are Anchors: An Information Flow Perspective for Understanding In-Context Learning"
    result = src.sync(page(replace(LABELS, title=new_title)))
    assert types(result) == ["paper.updated"]
    assert result.events[0].data["changes"] == {"title": [LABELS.title, new_title]}


def test_negated_title_is_another_paper_not_an_edit() -> None:
    src = Source(page(ATTENTION))
    # Same year, a shared author, a title within the fuzzy threshold: only the negation differs.
    other = Publication("Attention Is Not All You Need", ["Noam Shazeer", "Yihe Dong"], "ICML", 2017)
    result = src.sync(page(ATTENTION, other))
    assert types(result) == ["paper.added"]
    assert result.events[0].data["title"] == other.title


def test_paper_removed_only_when_missing_from_two_successful_syncs_in_a_row() -> None:
    src = Source(page(ATTENTION, SYNC))
    first = src.sync(page(ATTENTION))
    assert first.events == [] and SYNC.title in src.titles()
    second = src.sync(page(ATTENTION))
    assert types(second) == ["paper.removed"]
    assert second.events[0].data == SYNC.to_dict()
    assert SYNC.title not in src.titles()


def test_unchanged_content_counts_as_the_second_successful_sync() -> None:
    src = Source(page(ATTENTION, SYNC))
    src.sync(page(ATTENTION))
    result = src.sync(None)          # 304 / same hash: what we hold, seen again
    assert types(result) == ["paper.removed"]
    assert src.titles() == {ATTENTION.title, *(n.text for n in NEWS)}


def test_record_back_after_one_miss_is_kept_silently() -> None:
    src = Source(page(ATTENTION, SYNC))
    src.sync(page(ATTENTION))
    back = src.sync(page(ATTENTION, SYNC))
    assert back.events == []
    assert all(h.missing == 0 for h in src.held.values())
    assert src.sync(page(ATTENTION)).events == []     # the miss count started over


def test_reordering_and_citation_counts_make_no_event() -> None:
    src = Source(page(ATTENTION, SYNC, LABELS))
    result = src.sync(page(LABELS, replace(ATTENTION, citations=150_000), SYNC, news=NEWS[::-1]))
    assert result.events == []
    assert [h.data.get("citations") for h in src.held.values() if h.data.get("citations")] == [150_000]


def test_paper_listed_twice_on_a_page_is_one_record() -> None:
    """Selected + full publication lists: one paper, merged links, no event when it stays."""
    full = replace(SYNC, links={"code": "https://github.com/x/sync"})
    src = Source(page(SYNC, ATTENTION, full))
    papers = [h.data for h in src.held.values() if h.kind == "publication"]
    assert len(papers) == 2
    assert next(p for p in papers if p["title"] == SYNC.title)["links"] == {**SYNC.links, **full.links}
    assert src.sync(page(SYNC, ATTENTION, full)).events == []


def test_reworded_news_is_news_updated_not_remove_and_add() -> None:
    src = Source(page(ATTENTION))
    reworded = NewsItem("Five of our papers were accepted by ACL 2024!", "2024/05", "2024-05")
    result = src.sync(page(ATTENTION, news=[NEWS[0], reworded]))
    assert types(result) == ["news.updated"]
    assert result.events[0].data["changes"] == {"text": [NEWS[1].text, reworded.text]}


def test_news_on_a_new_date_is_added_and_the_old_item_removed_after_two_syncs() -> None:
    src = Source(page(ATTENTION))
    new = NewsItem("Our survey on profile syncing is out.", "2025/01", "2025-01")
    assert types(src.sync(page(ATTENTION, news=[new, NEWS[0]]))) == ["news.added"]
    result = src.sync(page(ATTENTION, news=[new, NEWS[0]]))
    assert types(result) == ["news.removed"]
    assert result.events[0].data["text"] == NEWS[1].text


def test_unrelated_news_on_the_same_date_is_an_addition() -> None:
    src = Source(page(ATTENTION))
    other = NewsItem("I will give a keynote at a workshop in Vienna.", "2024/05", "2024-05")
    result = src.sync(page(ATTENTION, news=[*NEWS, other]))
    assert types(result) == ["news.added"]


def test_profile_and_metrics_changes_and_values_a_page_omits() -> None:
    before = Profile(name="Lei Li", position="PhD student", affiliation="HKU",
                     metrics=Metrics(citations=1500, h_index=20))
    src = Source(page(ATTENTION, profile=before))
    moved = Profile(name="Lei Li", position="Assistant Professor", metrics=Metrics(citations=1527, h_index=20))
    result = src.sync(page(ATTENTION, profile=moved))
    assert types(result) == ["profile.updated", "metrics.updated"]
    assert result.events[0].data["changes"] == {"position": ["PhD student", "Assistant Professor"]}
    assert result.events[0].data["profile"]["affiliation"] == "HKU"     # not on the page: kept
    assert result.events[1].data["changes"] == {"citations": [1500, 1527]}
    assert src.sync(page(ATTENTION, profile=moved)).events == []


@pytest.mark.parametrize(("held", "after", "suspect"), [
    (10, 4, True),     # under half of what we hold
    (10, 5, False),    # exactly half: an owner pruning a list
    (3, 1, False),     # few records: losing two of three is plausible
    (3, 0, True),      # none at all: an error page
    (0, 0, False),     # nothing held, nothing found
])
def test_suspect_snapshot_thresholds(held: int, after: int, suspect: bool) -> None:
    records = [Held(i, "publication", Publication(f"Paper number {i} on a topic").to_dict()) for i in range(held)]
    new = page(*(Publication(f"Paper number {i} on a topic") for i in range(after)), news=[])
    assert is_suspect(records, new) is suspect


def test_records_already_missing_do_not_count_towards_the_suspect_threshold() -> None:
    records = [Held(i, "publication", Publication(f"Paper number {i} on a topic").to_dict(), missing=int(i >= 4))
               for i in range(10)]
    assert not is_suspect(records, page(*(Publication(f"Paper number {i} on a topic") for i in range(3)), news=[]))
