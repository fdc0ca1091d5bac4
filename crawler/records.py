"""The records a page yields: what parsers produce, storage keeps and events carry.

Plain dataclasses, because parsers build thousands of them per second and storage
serialises them to JSON; `to_dict`/`from_dict` give the shape of DESIGN.md.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

#: Link kinds a publication may carry (see the corpus labelling conventions).
LINK_KINDS = ("arxiv", "pdf", "paper", "code", "project", "video", "slides", "poster",
              "supp", "doi", "page", "dataset", "demo", "blog")

#: Identifier kinds, in the order identity tries them.
ID_KINDS = ("doi", "arxiv", "dblp", "s2", "openalex", "scholar", "orcid", "pmid")


@dataclass(slots=True)
class Metrics:
    """Bibliometric counters a listing shows; `*_recent` are Scholar's "Since YEAR" column."""

    citations: int | None = None
    h_index: int | None = None
    i10_index: int | None = None
    papers: int | None = None
    citations_recent: int | None = None
    h_index_recent: int | None = None
    i10_index_recent: int | None = None
    recent_since: int | None = None

    def to_dict(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    def is_empty(self) -> bool:
        return not self.to_dict()


@dataclass(slots=True)
class Profile:
    name: str | None = None
    position: str | None = None
    affiliation: str | None = None
    email: str | None = None
    links: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    metrics: Metrics = field(default_factory=Metrics)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "position": self.position, "affiliation": self.affiliation,
                "email": self.email, "links": dict(self.links), "ids": dict(self.ids),
                "metrics": self.metrics.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        known = {f.name for f in fields(Metrics)}
        metrics = Metrics(**{k: v for k, v in (data.get("metrics") or {}).items() if k in known})
        return cls(name=data.get("name"), position=data.get("position"),
                   affiliation=data.get("affiliation"), email=data.get("email"),
                   links=dict(data.get("links") or {}), ids=dict(data.get("ids") or {}),
                   metrics=metrics)


@dataclass(slots=True)
class NewsItem:
    text: str
    date: str | None = None       # as written on the page: "2024.09", "[2024/06]", "Sep 2024"
    date_iso: str | None = None   # at the precision written: "2024-09" or "2024-09-15"
    links: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.date, "date_iso": self.date_iso, "text": self.text,
                "links": list(self.links)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NewsItem:
        return cls(text=data["text"], date=data.get("date"), date_iso=data.get("date_iso"),
                   links=list(data.get("links") or []))


@dataclass(slots=True)
class Publication:
    title: str
    authors: list[str] = field(default_factory=list)
    venue: str | None = None
    year: int | None = None
    links: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    date: str | None = None        # ISO date when the source gives more than a year
    citations: int | None = None   # listing sources only

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"title": self.title, "authors": list(self.authors),
                               "venue": self.venue, "year": self.year,
                               "links": dict(self.links), "ids": dict(self.ids)}
        if self.date is not None:
            out["date"] = self.date
        if self.citations is not None:
            out["citations"] = self.citations
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Publication:
        return cls(title=data["title"], authors=list(data.get("authors") or []),
                   venue=data.get("venue"), year=data.get("year"),
                   links=dict(data.get("links") or {}), ids=dict(data.get("ids") or {}),
                   date=data.get("date"), citations=data.get("citations"))


@dataclass(slots=True)
class SourceInfo:
    url: str
    kind: str = "homepage"         # homepage | listing
    format: str = "generic"        # the parser that read it


@dataclass(slots=True)
class PageRecords:
    """Everything one source yields in one sync: the unit storage snapshots and diffs."""

    source: SourceInfo
    profile: Profile = field(default_factory=Profile)
    news: list[NewsItem] = field(default_factory=list)
    publications: list[Publication] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"source": asdict(self.source), "profile": self.profile.to_dict(),
                "news": [n.to_dict() for n in self.news],
                "publications": [p.to_dict() for p in self.publications],
                "warnings": list(self.warnings)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PageRecords:
        return cls(source=SourceInfo(**data["source"]),
                   profile=Profile.from_dict(data.get("profile") or {}),
                   news=[NewsItem.from_dict(n) for n in data.get("news") or []],
                   publications=[Publication.from_dict(p) for p in data.get("publications") or []],
                   warnings=list(data.get("warnings") or []))

    def is_empty(self) -> bool:
        return not (self.news or self.publications)
