"""Shared test fixtures: the labelled corpus (copied from shared/corpus) and its scoring."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

CORPUS = Path(__file__).parent / "corpus"


@dataclass
class Case:
    """One labelled corpus case: the entry file, the public URL and the expected records."""

    name: str
    folder: Path
    entry: Path
    url: str | None
    expected: dict

    def parse(self, **kwargs):
        from crawler import loader
        from crawler.parsers import parse_resource

        return parse_resource(loader.load_target(str(self.entry)), loader.fetch,
                              base_url=self.url, **kwargs)


def load_case(group: str, name: str) -> Case:
    folder = CORPUS / group / name
    source = (folder / "SOURCE.txt").read_text(errors="replace")
    m = re.search(r"^entry:\s*(\S+)", source, re.M)
    if m:
        entry = folder / m.group(1)
    else:
        entry = next(p for p in sorted(folder.iterdir())
                     if p.is_file() and p.name not in ("SOURCE.txt", "expected.json"))
    url = re.search(r"https?://\S+", source)
    return Case(name, folder, entry, url.group(0).rstrip(").,;") if url else None,
                json.loads((folder / "expected.json").read_text()))


def case_names(group: str) -> list[str]:
    return sorted(p.name for p in (CORPUS / group).iterdir() if (p / "expected.json").exists())


def norm(text: str | None) -> str:
    from crawler.identity import normalise_title

    return normalise_title(text)


def f1(expected: list[str], actual: list[str]) -> float:
    """F1 of exact normalised matches (each expected item matched at most once)."""
    pool = list(actual)
    hits = 0
    for item in expected:
        if item in pool:
            pool.remove(item)
            hits += 1
    if not expected and not actual:
        return 1.0
    precision = hits / len(actual) if actual else 0.0
    recall = hits / len(expected) if expected else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


@pytest.fixture
def case():
    return load_case
