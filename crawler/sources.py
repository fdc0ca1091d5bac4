"""How to fetch each kind of source named in the config, and how hard each host may be hit.

`source_request(kind, value)` turns a config entry (`dblp: 95/7448-1`, `arxiv: 'au:"Li, Lei"'`)
into the first request of that source: URL, parser format and headers. Later pages are
not built here: the listing parser computes them from the page it holds (see
crawler/parsers/listing.py). `HOST_LIMITS` are the documented limits of each API, for the
crawler to enforce per host. See docs/sources.md for the sources and their limits.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import parse_qs, quote, urlencode, urlsplit



@dataclass(frozen=True)
class SourceRequest:
    url: str
    format: str | None          # the parser to use; None: detect from the response
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class HostLimit:
    min_interval_s: float       # at least this long between two requests to the host
    concurrency: int            # at most this many requests in flight to the host


KINDS = ("url", "scholar", "dblp", "arxiv", "openalex", "semanticscholar", "orcid", "scholarfeed")

#: Requested from the S2 papers endpoint: what the parser reads, nothing more.
S2_FIELDS = "title,authors,year,venue,journal,externalIds,publicationDate,citationCount,url,openAccessPdf"
ARXIV_PAGE = 200       # arXiv asks for pages of at most 2000; smaller pages keep each request light
OPENALEX_PAGE = 200    # the API maximum
S2_PAGE = 1000         # the maximum of /author/{id}/papers

_SCHOLAR_USER = re.compile(r"^[\w-]{12}$")
_DBLP_PID = re.compile(r"^[0-9a-z]+(?:/[0-9A-Za-z-]+)+$")
_OPENALEX_AUTHOR = re.compile(r"^A\d{4,}$", re.I)
_S2_AUTHOR = re.compile(r"^\d+$")
_ORCID = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
_SCHOLARFEED_ID = re.compile(r"^[\w.-]+$")


class SourceError(ValueError):
    """A source value that cannot name a source of its kind; the message says why."""


def _last_path_part(value: str) -> str:
    """The id at the end of a profile URL (`https://orcid.org/0000-...` -> `0000-...`)."""
    return value.rstrip("/").rsplit("/", 1)[-1] if value.startswith(("http://", "https://")) else value


def orcid_checksum_ok(orcid: str) -> bool:
    """ISO 7064 MOD 11-2, the check digit every ORCID iD ends with."""
    total = 0
    for ch in orcid.replace("-", "")[:-1]:
        total = (total + int(ch)) * 2
    check = (12 - total % 11) % 11
    return orcid[-1] == ("X" if check == 10 else str(check))


def _scholar(value: str, api_keys: Mapping[str, str]) -> SourceRequest:
    user = parse_qs(urlsplit(value).query).get("user", [value])[0] if "://" in value else value
    if not _SCHOLAR_USER.match(user):
        raise SourceError(f"scholar: {value!r} is not a Google Scholar user id (12 characters, as in ?user=...)")
    # robots.txt allows /citations?user=... (user first) and disallows cstart paging;
    # pagesize=100 makes the one allowed page hold up to 100 papers.
    return SourceRequest(f"https://scholar.google.com/citations?user={user}&hl=en&pagesize=100", "scholar")


def _dblp(value: str, api_keys: Mapping[str, str]) -> SourceRequest:
    pid = value.strip()
    if pid.startswith(("http://", "https://")):
        path = urlsplit(pid).path
        pid = path.split("/pid/", 1)[1] if "/pid/" in path else ""
        pid = re.sub(r"\.(?:xml|html)$", "", pid)
    if not _DBLP_PID.match(pid):
        raise SourceError(f"dblp: {value!r} is not a DBLP person id such as 95/7448-1")
    return SourceRequest(f"https://dblp.org/pid/{pid}.xml", "dblp")


def _arxiv(value: str, api_keys: Mapping[str, str]) -> SourceRequest:
    query = value.strip()
    if not query:
        raise SourceError("arxiv: empty query; give a search query such as 'au:\"Li, Lei\"'")
    if not re.match(r"^\(?\s*(?:ti|au|abs|co|jr|cat|rn|id|all):", query):
        query = f'au:"{query}"'  # a bare name is an author query
    params = {"search_query": query, "start": 0, "max_results": ARXIV_PAGE,
              "sortBy": "submittedDate", "sortOrder": "descending"}
    return SourceRequest("https://export.arxiv.org/api/query?" + urlencode(params, quote_via=quote), "arxiv")


def _openalex(value: str, api_keys: Mapping[str, str]) -> SourceRequest:
    author = _last_path_part(value.strip())
    if _ORCID.match(author):
        author = f"https://orcid.org/{author}"
        field = "author.orcid"
    elif _OPENALEX_AUTHOR.match(author):
        author, field = author.upper(), "author.id"
    else:
        raise SourceError(f"openalex: {value!r} is not an OpenAlex author id (A5003721947) or an ORCID iD")
    params = {"filter": f"{field}:{author}", "per-page": OPENALEX_PAGE, "cursor": "*"}
    if api_keys.get("openalex"):  # required since 2026-02; OpenAlex takes it as a query parameter only
        params["api_key"] = api_keys["openalex"]
    return SourceRequest("https://api.openalex.org/works?" + urlencode(params, safe=":/*"), "openalex")


def _semanticscholar(value: str, api_keys: Mapping[str, str]) -> SourceRequest:
    author = _last_path_part(value.strip())
    if not _S2_AUTHOR.match(author):
        raise SourceError(f"semanticscholar: {value!r} is not a Semantic Scholar author id (digits)")
    headers = (("x-api-key", api_keys["semanticscholar"]),) if api_keys.get("semanticscholar") else ()
    params = {"fields": S2_FIELDS, "offset": 0, "limit": S2_PAGE}
    return SourceRequest(f"https://api.semanticscholar.org/graph/v1/author/{author}/papers?"
                         + urlencode(params, safe=","), "semanticscholar", headers)


def _orcid(value: str, api_keys: Mapping[str, str]) -> SourceRequest:
    orcid = _last_path_part(value.strip()).upper()
    if not _ORCID.match(orcid) or not orcid_checksum_ok(orcid):
        raise SourceError(f"orcid: {value!r} is not a valid ORCID iD (0000-0002-1825-0097, checksum included)")
    return SourceRequest(f"https://pub.orcid.org/v3.0/{orcid}/works", "orcid", (("Accept", "application/json"),))


def _scholarfeed(value: str, api_keys: Mapping[str, str]) -> SourceRequest:
    author = _last_path_part(value.strip())
    if not _SCHOLARFEED_ID.match(author):
        raise SourceError(f"scholarfeed: {value!r} is not a Scholar Feed author id")
    return SourceRequest(f"https://scholarfeed.org/api/v1/public/authors/{quote(author)}/papers?page=1",
                         "scholarfeed", (("Accept", "application/json"),))


def _url(value: str, api_keys: Mapping[str, str]) -> SourceRequest:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https", "file") or not (parts.netloc or parts.scheme == "file"):
        raise SourceError(f"url: {value!r} is not an http(s) URL")
    return SourceRequest(value, None)


_BUILDERS = {"url": _url, "scholar": _scholar, "dblp": _dblp, "arxiv": _arxiv, "openalex": _openalex,
             "semanticscholar": _semanticscholar, "orcid": _orcid, "scholarfeed": _scholarfeed}


def source_request(kind: str, value: str, *, api_keys: Mapping[str, str] = MappingProxyType({})) -> SourceRequest:
    """The first request of a source given as `kind: value` in the config.

    `api_keys` maps a kind to its key (openalex, semanticscholar). Raises SourceError
    (a ValueError) naming the kind and the problem for a value that cannot be right.
    """
    try:
        build = _BUILDERS[kind]
    except KeyError:
        raise SourceError(f"unknown source kind {kind!r}; known: {', '.join(KINDS)}") from None
    if not isinstance(value, str) or not value.strip():
        raise SourceError(f"{kind}: empty value")
    return build(value.strip(), api_keys)


#: Documented limits per API host (docs/sources.md). DBLP also answers 429 with
#: Retry-After, which the crawler must honour; its interval here is a polite default.
HOST_LIMITS: Mapping[str, HostLimit] = MappingProxyType({
    "export.arxiv.org": HostLimit(3.0, 1),          # "no more than one request every three seconds", one connection
    "dblp.org": HostLimit(1.0, 1),
    "api.semanticscholar.org": HostLimit(1.0, 1),   # 1 request/s (with or without a key)
    "api.openalex.org": HostLimit(0.01, 10),        # at most 100 requests/s
    "pub.orcid.org": HostLimit(1 / 12, 2),          # 12 requests/s
    "scholar.google.com": HostLimit(10.0, 1),       # blocks automated clients; one page per profile, slowly
    "scholarfeed.org": HostLimit(1.0, 1),
})


def host_limit(host: str) -> HostLimit | None:
    """The limit for a host (`HOST:PORT` and a leading `www.` ignored), or None."""
    host = host.lower().split(":", 1)[0].removeprefix("www.")
    return HOST_LIMITS.get(host)

