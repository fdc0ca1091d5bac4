"""Publication identifiers and typed links, read from URLs and strings.

One place decides what an arXiv id or a DOI looks like, and what kind of link a
(URL, label) pair is, so every parser names links the same way.
"""
from __future__ import annotations

import functools
import re
from urllib.parse import unquote, urlsplit

# New-style ids (0704.0001 .. 2409.18042) and old-style (hep-th/9901001, math.GT/0309136).
_ARXIV_NEW = r"(?<![\d.])(\d{4}\.\d{4,5})(?:v\d+)?(?![\d])"
_ARXIV_OLD = r"([a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?"
_ARXIV_URL = re.compile(
    r"arxiv\.org/(?:abs|pdf|html|format)/(?:" + _ARXIV_NEW + "|" + _ARXIV_OLD + r")", re.I)
_ARXIV_TEXT = re.compile(r"\barxiv[\s:./]*(?:" + _ARXIV_NEW + "|" + _ARXIV_OLD + ")", re.I)
_ARXIV_DOI = re.compile(r"10\.48550/arxiv\.(" + _ARXIV_NEW[len(r"(?<![\d.])"):] + ")", re.I)
_BARE_ARXIV = re.compile(r"^\s*" + _ARXIV_NEW + r"\s*$")
_ARXIV_PATTERNS = (_ARXIV_URL, _ARXIV_TEXT, _ARXIV_DOI, _BARE_ARXIV)
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"'<>]+)", re.I)
_DOI_RESOLVER = re.compile(r"^(?:https?://)?(?:dx\.)?doi\.org/|^doi:\s*", re.I)


def arxiv_id(text: str | None) -> str | None:
    """The arXiv id in a URL, a DOI or a string like `arXiv:2409.18042v2`, without version."""
    if not text:
        return None
    # all but a bare id need "arxiv" in some case: most URLs and DOIs skip three searches
    patterns = _ARXIV_PATTERNS if not text.isascii() or "arxiv" in text.lower() else (_BARE_ARXIV,)
    for pattern in patterns:
        m = pattern.search(text)
        if m:
            return next(g for g in m.groups() if g)
    return None


def doi(text: str | None) -> str | None:
    """A DOI, lower-cased, without resolver prefix or trailing punctuation."""
    if not text:
        return None
    text = unquote(_DOI_RESOLVER.sub("", text.strip()))
    m = _DOI.search(text)
    if not m:
        return None
    value = m.group(1).rstrip(".,;)]}")
    # PDF/landing suffixes publishers append to a DOI URL are not part of the DOI.
    value = re.sub(r"/(?:full|abstract|pdf|epdf|meta)$", "", value, flags=re.I)
    return value.lower()


# --------------------------------------------------------------------------- links

_CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "huggingface.co/spaces", "codeberg.org")
_VIDEO_HOSTS = ("youtube.com", "youtu.be", "vimeo.com", "bilibili.com")
_PAPER_HOSTS = ("openaccess.thecvf.com", "openreview.net", "aclanthology.org", "ieeexplore.ieee.org",
                "dl.acm.org", "link.springer.com", "sciencedirect.com", "proceedings.neurips.cc",
                "papers.nips.cc", "proceedings.mlr.press", "ojs.aaai.org", "ijcai.org", "nature.com",
                "science.org", "wiley.com", "academic.oup.com", "iopscience.iop.org", "mdpi.com",
                "frontiersin.org", "biorxiv.org", "medrxiv.org", "pubmed.ncbi.nlm.nih.gov",
                "ncbi.nlm.nih.gov", "semanticscholar.org", "researchgate.net", "jmlr.org",
                "ecva.net", "tandfonline.com", "cell.com", "pnas.org", "aps.org", "journals.aps.org")

_LABELS = [  # (kind, label pattern); first match wins
    ("arxiv", r"arxiv"),
    ("code", r"code|github|source|implementation|software|repo"),
    ("project", r"project|website|homepage|home page|webpage|web page|demo page|site"),
    ("video", r"video|talk recording|youtube"),
    ("slides", r"slides?|presentation"),
    ("poster", r"poster"),
    ("supp", r"supp|supplement|appendix"),
    ("dataset", r"data ?set|data"),
    ("demo", r"demo"),
    ("blog", r"blog"),
    ("doi", r"doi"),
    ("pdf", r"pdf"),
    ("paper", r"paper|publisher|journal|proceedings|link|article|abstract|openreview|acl|ieee|acm"),
]
_LABEL_RES = [(kind, re.compile(r"(?:^|[^a-z])(?:" + pat + r")(?:$|[^a-z])", re.I)) for kind, pat in _LABELS]


# A plain http(s) URL: its netloc and path as urlsplit() reads them, without its cost.
_PLAIN_HTTP_URL = re.compile(r"https?://([^/?#\[\]]*)(?=[/?#]|$)([^?#]*)")


def _netloc_and_path(url: str) -> tuple[str, str]:
    if url.isascii() and url.isprintable() and " " not in url and (m := _PLAIN_HTTP_URL.match(url)):
        return m.group(1), m.group(2)
    parts = urlsplit(url)  # other schemes, spaces and controls to strip, IPv6 hosts
    return parts.netloc, parts.path


@functools.lru_cache(maxsize=4096)
def _label_kind(label: str) -> str | None:
    """The first kind whose pattern the label matches (labels repeat: "PDF", "Code")."""
    return next((kind for kind, pattern in _LABEL_RES if pattern.search(label)), None)


def link_kind(url: str, label: str | None = None) -> str | None:
    """The kind of a publication link from its URL and visible label, or None if it is
    not a link of interest (mailto, anchors, badges, images)."""
    if not url or url.startswith(("mailto:", "#", "javascript:", "tel:")):
        return None
    netloc, path = _netloc_and_path(url)
    host = netloc.lower().removeprefix("www.")
    path = path.lower()
    if host in ("img.shields.io", "badgen.net") or path.endswith((".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")):
        return None
    if host.endswith("arxiv.org"):
        return "arxiv"
    if host in ("doi.org", "dx.doi.org"):
        return "doi"
    lab = (label or "").strip()
    if lab and (kind := _label_kind(lab)):
        if kind == "paper" and path.endswith(".pdf"):
            return "pdf"
        return kind
    if path.endswith(".pdf") or (host == "openreview.net" and path == "/pdf"):  # OpenReview serves PDFs at /pdf?id=
        return "pdf"
    if (host + path).startswith(_CODE_HOSTS):  # a code host by its path: huggingface.co/spaces
        return "code"
    return _host_kind(host)


@functools.lru_cache(maxsize=4096)  # hosts repeat: github.com, a co-author's site
def _host_kind(host: str) -> str | None:
    """"code", "video" or "paper" when the host is one of those hosts or under its domain."""
    domains = _domains(host)
    if not domains.isdisjoint(_CODE_HOSTS):
        return "code"
    if not domains.isdisjoint(_VIDEO_HOSTS):
        return "video"
    if not domains.isdisjoint(_PAPER_HOSTS):
        return "paper"
    return None


def _domains(host: str) -> set[str]:
    """The host and every domain it is under: h is one iff host == h or host.endswith("." + h)."""
    parts = host.split(".")
    return {".".join(parts[i:]) for i in range(len(parts))}


def ids_from_links(links: dict[str, str]) -> dict[str, str]:
    """The ids a publication's links reveal: arXiv from an arXiv link, DOI from a DOI link."""
    ids: dict[str, str] = {}
    for url in links.values():
        if "arxiv" not in ids and (aid := arxiv_id(url)):
            ids["arxiv"] = aid
        if "doi" not in ids and "doi.org/" in url and (d := doi(url)):
            ids["doi"] = d
    if "doi" in ids and "arxiv" not in ids and (aid := arxiv_id(ids["doi"])):
        ids["arxiv"] = aid
    return ids
