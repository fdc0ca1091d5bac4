"""Re-sync cost through Store.apply on SQLite (diff + record and event writes), beside a
naive pairwise identity match measured in the same run.

    .venv/bin/python bench/bench_diff.py [--profiles 2000 --papers 300 --changed 0.01]

1. N profiles with one source of M publications each (deterministic synthetic records: a
   third carry an arXiv id, a fifth a DOI, the rest only a title) get their silent baseline.
2. The database is copied. On each copy, every source is synced again as the crawler
   reports a re-parsed page (FETCHED): ~1% of the profiles changed (3 papers added, one
   preprint got its venue, one title typo fixed, one paper dropped), the rest are identical.
3. "ours" is Store.apply as shipped (ids, then exact title keys, then fuzzy titles among
   what is left). "naive" is the same Store.apply with storage.diff's matcher replaced by
   an O(n*m) loop of crawler.identity.same_paper over every (held, new) pair.
Figures: ms per profile for the whole re-sync, for the changed and unchanged profiles, the
pure in-memory diff of one changed profile (the new page's own de-duplication included, the
same in both) and its identity match alone, and the naive/ours ratios.
"""
from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.identity import same_paper  # noqa: E402
from crawler.jobs import FetchResult, FetchStatus  # noqa: E402
from crawler.records import PageRecords, Publication, SourceInfo  # noqa: E402
from storage import diff as differ  # noqa: E402
from storage.store import ProfileSpec, SourceSpec, Store  # noqa: E402

WORDS = ("learning neural networks graph attention diffusion models language vision transformer robust "
         "efficient scalable inference reasoning retrieval generative contrastive representation sparse "
         "multimodal benchmark dataset agents planning policy optimisation federated privacy causal "
         "uncertainty calibration distillation pruning quantisation alignment preference reward video "
         "audio speech segmentation detection tracking depth pose reconstruction rendering fields "
         "molecular protein climate forecasting time series anomaly compression memory long context "
         "instruction tuning evaluation fairness interpretability adversarial continual meta few shot").split()
SURNAMES = ("Li Wang Zhang Chen Liu Yang Huang Zhao Wu Zhou Smith Garcia Müller Rossi Kim Park Nguyen "
            "Kumar Singh Cohen Silva Dubois Novak Ivanov Tanaka Sato Olsen Jansen Costa Murphy").split()
GIVEN = "Lei Wei Anna Jon Maria Yuki Omar Sara Ivan Chen Priya Tom Lena Ravi Mei Paul Nora Ali".split()
VENUES = ("NeurIPS ICML ICLR CVPR ICCV ECCV ACL EMNLP NAACL AAAI IJCAI KDD WWW SIGGRAPH TPAMI JMLR "
          "Nature Science").split()
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def publication(rng: random.Random, serial: int) -> Publication:
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 12))).capitalize() + f" {serial}"
    authors = [f"{rng.choice(GIVEN)} {rng.choice(SURNAMES)}" for _ in range(rng.randint(2, 8))]
    year = rng.randint(2012, 2025)
    ids, links = {}, {"pdf": f"https://papers.example.org/{serial}.pdf"}
    kind = rng.random()
    if kind < 1 / 3:
        ids["arxiv"] = f"{year % 100:02d}{rng.randint(1, 12):02d}.{serial % 100000:05d}"
        links["arxiv"] = f"https://arxiv.org/abs/{ids['arxiv']}"
    elif kind < 1 / 3 + 1 / 5:
        ids["doi"] = f"10.5555/bench.{serial}"
    if rng.random() < 0.4:
        links["code"] = f"https://github.com/lab/project-{serial}"
    return Publication(title, authors, f"{rng.choice(VENUES)} {year}", year, links, ids)


def page(profile: int, papers: Sequence[Publication]) -> PageRecords:
    return PageRecords(SourceInfo(f"https://p{profile}.example.org/"), publications=list(papers))


def changed(rng: random.Random, papers: list[Publication], serial: int) -> list[Publication]:
    """An owner's edit: 3 new papers on top, a preprint published, a title typo fixed, one dropped."""
    out = [publication(rng, serial + k) for k in range(3)] + [replace(p) for p in papers]
    preprint = next(i for i, p in enumerate(out) if i >= 3 and "arxiv" in p.ids)
    out[preprint] = replace(out[preprint], venue="CVPR 2025", year=2025)
    plain = next(i for i, p in enumerate(out) if i > preprint and not p.ids)
    out[plain] = replace(out[plain], title=out[plain].title.replace(" ", "  ", 1)[:-1] + "x")
    del out[-1]
    return out


def pairwise_match(old: Sequence[Publication], new: Sequence[Publication]) -> list[tuple[int, int]]:
    """The naive matcher: every (held, new) pair through same_paper, no index."""
    pairs, used = [], set()
    for j, pub in enumerate(new):
        for i, held in enumerate(old):
            if i not in used and same_paper(held, pub):
                pairs.append((i, j))
                used.add(i)
                break
    return sorted(pairs)


@contextmanager
def matcher(func: Callable[[Sequence[Publication], Sequence[Publication]], list[tuple[int, int]]]) -> Iterator[None]:
    original = differ.match
    differ.match = func  # type: ignore[assignment]  # the same signature, another algorithm
    try:
        yield
    finally:
        differ.match = original


@dataclass
class Timing:
    changed_s: float = 0.0
    unchanged_s: float = 0.0
    changed_n: int = 0
    unchanged_n: int = 0
    events: int = 0

    @property
    def total_s(self) -> float:
        return self.changed_s + self.unchanged_s


def resync(url: str, pages: dict[int, PageRecords], sources: dict[int, str], when: datetime,
           changed_ids: set[int]) -> Timing:
    store = Store.open(url)
    timing = Timing()
    try:
        for profile, records in pages.items():
            result = FetchResult(sources[profile], records.source.url, FetchStatus.FETCHED, when, records=records)
            start = time.perf_counter()
            timing.events += len(store.apply(result))
            elapsed = time.perf_counter() - start
            if profile in changed_ids:
                timing.changed_s += elapsed
                timing.changed_n += 1
            else:
                timing.unchanged_s += elapsed
                timing.unchanged_n += 1
    finally:
        store.close()
    return timing


def best_of(func: Callable[[], object], repeat: int = 10) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def pure_diff_s(held_papers: list[Publication], new: PageRecords) -> float:
    held = [differ.Held(i, "publication", p.to_dict()) for i, p in enumerate(held_papers)]
    return best_of(lambda: differ.diff(held, None, new, baseline=False))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=2000)
    parser.add_argument("--papers", type=int, default=300)
    parser.add_argument("--changed", type=float, default=0.01, help="share of profiles that changed")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--dir", type=Path, help="keep the databases here (default: a temporary directory)")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    workdir = args.dir or Path(tempfile.mkdtemp(prefix="bench_diff_"))
    workdir.mkdir(parents=True, exist_ok=True)
    ours_db, naive_db = workdir / "ours.db", workdir / "naive.db"
    for path in workdir.glob("*.db*"):
        path.unlink()

    papers = {p: [publication(rng, p * 100_000 + k) for k in range(args.papers)] for p in range(args.profiles)}
    changed_ids = set(rng.sample(range(args.profiles), max(1, round(args.profiles * args.changed))))
    second = {p: page(p, changed(rng, papers[p], p * 100_000 + args.papers) if p in changed_ids else papers[p])
              for p in range(args.profiles)}

    print(f"{args.profiles} profiles x {args.papers} papers, {len(changed_ids)} changed; SQLite in {workdir}")
    store = Store.open(f"sqlite:///{ours_db}")
    store.upsert_profiles([ProfileSpec(f"p{p}", None, 86400, (SourceSpec(f"https://p{p}.example.org/",
                                                                           f"https://p{p}.example.org/"),))
                           for p in range(args.profiles)])
    sources = {int(job.url.split("//p")[1].split(".")[0]): job.source_id for job in store.jobs()}
    start = time.perf_counter()
    for p in range(args.profiles):
        store.apply(FetchResult(sources[p], f"https://p{p}.example.org/", FetchStatus.FETCHED, T0,
                                records=page(p, papers[p])))
    baseline_s = time.perf_counter() - start
    store.close()
    print(f"baseline (silent first sync):  {baseline_s:8.1f} s  {1000 * baseline_s / args.profiles:8.2f} ms/profile")
    shutil.copyfile(ours_db, naive_db)

    when = T0 + timedelta(days=1)
    ours = resync(f"sqlite:///{ours_db}", second, sources, when, changed_ids)
    with matcher(pairwise_match):
        naive = resync(f"sqlite:///{naive_db}", second, sources, when, changed_ids)
    assert ours.events == naive.events, (ours.events, naive.events)

    sample = next(iter(sorted(changed_ids)))
    diff_ours = pure_diff_s(papers[sample], second[sample])
    with matcher(pairwise_match):
        diff_naive = pure_diff_s(papers[sample], second[sample])
    match_ours = best_of(lambda: differ.match(papers[sample], second[sample].publications))
    match_naive = best_of(lambda: pairwise_match(papers[sample], second[sample].publications))

    def ms(seconds: float, n: int) -> float:
        return 1000 * seconds / max(n, 1)

    print(f"re-sync events: {ours.events} (both runs)")
    print(f"{'':34}{'ours':>10}{'naive':>10}{'naive/ours':>12}")
    rows = [("re-sync, ms per profile (all)", ms(ours.total_s, args.profiles), ms(naive.total_s, args.profiles)),
            ("re-sync, ms per changed profile", ms(ours.changed_s, ours.changed_n),
             ms(naive.changed_s, naive.changed_n)),
            ("re-sync, ms per unchanged profile", ms(ours.unchanged_s, ours.unchanged_n),
             ms(naive.unchanged_s, naive.unchanged_n)),
            ("pure diff of a changed profile, ms", 1000 * diff_ours, 1000 * diff_naive),
            ("  of which identity match, ms", 1000 * match_ours, 1000 * match_naive)]
    for label, a, b in rows:
        print(f"{label:34}{a:10.2f}{b:10.2f}{b / a:11.1f}x")
    print(f"re-sync total: ours {ours.total_s:.1f} s, naive {naive.total_s:.1f} s")
    if not args.dir:
        shutil.rmtree(workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
