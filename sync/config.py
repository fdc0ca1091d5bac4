"""The configuration file (`config/profiles.yaml`): loaded, validated, and turned into specs.

Validation is pydantic's; what we add is the message a user can act on: one line per
problem naming the file, the line, the key and what is wrong
(`profiles.yaml:12: profiles[1].sources[0].dblp: 'x' is not a DBLP person id ...`).
"""
from __future__ import annotations

import hashlib
import ipaddress
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError, field_validator,
                      model_validator)

from crawler.sources import KINDS, SourceError, source_request
from storage.store import EndpointSpec, ProfileSpec, SourceSpec

DEFAULT_USER_AGENT = "profilesync/0.1 (+https://github.com/profilesync/profilesync)"


#: libyaml's loader when present: a config of thousands of profiles loads in milliseconds.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ConfigError(Exception):
    """A configuration that cannot be used; the message names the file, line and key."""


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$", re.I)
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: Any, allow_zero: bool = False) -> float:
    """`90s`, `30m`, `6h`, `1d`, `2w`, or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30m, 6h or 1d")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration such as 30m, 6h or 1d")
        seconds = float(match[1]) * _UNIT_S[(match[2] or "s").lower()]
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise ValueError("a duration must be positive")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]
Pause = Annotated[float, BeforeValidator(lambda v: parse_duration(v, allow_zero=True))]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CrawlConfig(_Model):
    """How politely to fetch; see crawler/crawl.py for what each becomes in Scrapy."""

    user_agent: str = DEFAULT_USER_AGENT
    concurrency: int = Field(16, ge=1, le=512)
    per_host: int = Field(2, ge=1, le=64)             # requests in flight to one host
    github_io: int = Field(4, ge=1, le=64)            # in flight to all *.github.io sites together
    delay: Pause = 0.0                             # minimum delay between requests to one host
    autothrottle: bool = True
    timeout: Duration = 30.0
    max_bytes: int = Field(5 * 1024 * 1024, ge=1024)
    retries: int = Field(2, ge=0, le=10)
    obey_robots: bool = True

    @field_validator("user_agent")
    @classmethod
    def _contact(cls, value: str) -> str:
        if not re.search(r"https?://|@", value):
            raise ValueError("the User-Agent must say how to reach you: add a contact URL or email, "
                             "e.g. 'profilesync/1.0 (+https://example.org/contact)'")
        return value


class SourceConfig(_Model):
    """One source: exactly one of the kinds (`url:`, `dblp:`, ...), optionally a forced `format:`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str | None = None
    scholar: str | None = None
    dblp: str | None = None
    arxiv: str | None = None
    openalex: str | None = None
    semanticscholar: str | None = None
    orcid: str | None = None
    scholarfeed: str | None = None
    format: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> SourceConfig:
        given = [k for k in KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"a source needs exactly one of {', '.join(KINDS)}; got "
                             + (", ".join(given) if given else "none"))
        kind = given[0]
        try:
            source_request(kind, str(getattr(self, kind)))
        except SourceError as exc:
            raise ValueError(str(exc)) from None
        if self.format is not None:
            from crawler.parsers import get_format
            get_format(self.format)  # ValueError lists the known formats
        return self

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, k) is not None)

    @property
    def value(self) -> str:
        return str(getattr(self, self.kind))

    @property
    def key(self) -> str:
        """How the store names the source: the URL, or `kind:value`."""
        return self.value if self.kind == "url" else f"{self.kind}:{self.value}"


class ProfileConfig(_Model):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$")
    name: str | None = None
    interval: Duration = 86400.0
    sources: list[SourceConfig] = Field(min_length=1)


class WebhookConfig(_Model):
    url: str
    secret: SecretStr
    events: list[str] = ["*"]
    profiles: list[str] = []
    id: str | None = None                               # default: derived from the URL

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("secret")
    @classmethod
    def _whsec(cls, value: SecretStr) -> SecretStr:
        import base64
        raw = value.get_secret_value()
        if not raw.startswith("whsec_"):
            raise ValueError("a webhook secret looks like whsec_<base64> (Standard Webhooks)")
        try:
            key = base64.b64decode(raw.removeprefix("whsec_"), validate=True)
        except ValueError:
            raise ValueError("the part after whsec_ is not base64") from None
        if len(key) < 24:
            raise ValueError("a webhook secret needs at least 24 random bytes")
        return value

    @property
    def endpoint_id(self) -> str:
        return self.id or "wh_" + hashlib.sha256(self.url.encode()).hexdigest()[:12]


class DaemonConfig(_Model):
    tick: Duration = 15.0                 # how often the scheduler looks for due sources
    batch: int = Field(200, ge=1)         # sources claimed per tick
    listen: str = "127.0.0.1:9464"        # /healthz and /metrics; "" turns them off
    shutdown_grace: Duration = 30.0       # how long SIGTERM waits for in-flight syncs
    poll: Duration = 1.0                  # how often the dispatcher looks for due deliveries
    retry_base: Duration = 5.0            # first webhook retry after this; x4 per attempt, for ~3 days
    retention: Pause = 90 * 86400.0       # events and snapshots older than this are pruned daily; 0: keep all


class Config(_Model):
    database: str | None = None
    crawl: CrawlConfig = CrawlConfig()
    api_keys: dict[str, SecretStr] = {}
    profiles: list[ProfileConfig] = []
    webhooks: list[WebhookConfig] = []
    allow_cidrs: list[str] = []
    daemon: DaemonConfig = DaemonConfig()

    @field_validator("allow_cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            ipaddress.ip_network(cidr, strict=False)  # ValueError names the bad one
        return value

    @field_validator("api_keys")
    @classmethod
    def _key_kinds(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        unknown = set(value) - {"openalex", "semanticscholar"}
        if unknown:
            raise ValueError(f"api keys are known for openalex and semanticscholar, not {', '.join(sorted(unknown))}")
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> Config:
        seen: set[str] = set()
        for profile in self.profiles:
            if profile.id in seen:
                raise ValueError(f"profile id {profile.id!r} appears twice")
            seen.add(profile.id)
        return self


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate a config file; ConfigError says where and what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: the config must be a mapping (profiles:, webhooks:, ...)")
    _resolve_relative_urls(data, path.parent)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        node = yaml.compose(text, Loader=_LOADER)   # only now: the node tree knows the lines
        raise ConfigError("\n".join(_describe(path, node, err) for err in exc.errors())) from None


def _resolve_relative_urls(data: dict[str, Any], folder: Path) -> None:
    """`url: example/site/index.html` names a file next to the config (the offline example)."""
    for profile in data.get("profiles") or ():
        for source in (profile.get("sources") or ()) if isinstance(profile, dict) else ():
            url = source.get("url") if isinstance(source, dict) else None
            if isinstance(url, str) and url and "://" not in url:
                source["url"] = (folder / url).resolve().as_uri() + ("/" if url.endswith("/") else "")


def _describe(path: Path, root: yaml.Node | None, error: Any) -> str:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    line = _line_of(root, loc)
    key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") or "(top level)"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key"
    return f"{path}:{line}: {key}: {message}" if line else f"{path}: {key}: {message}"


def _line_of(node: yaml.Node | None, loc: Sequence[Any]) -> int | None:
    """The line of the deepest YAML node on the error's path."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def profile_specs(config: Config) -> list[ProfileSpec]:
    return [ProfileSpec(p.id, p.name, int(p.interval), tuple(source_spec(s) for s in p.sources))
            for p in config.profiles]


def source_spec(source: SourceConfig) -> SourceSpec:
    """API keys are NOT part of the spec: the crawler adds them to each request, so they
    never reach the database, the event `source` field or an error message."""
    request = source_request(source.kind, source.value)
    return SourceSpec(source.key, request.url, source.format or request.format, request.headers)


def adhoc_profile(url: str, interval_s: int = 86400) -> ProfileSpec:
    """`profilesync crawl --url URL`: the URL as a profile of its own, keyed by the URL."""
    try:
        source = SourceConfig(url=url)
    except ValidationError as exc:
        raise ConfigError(f"--url {url}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None
    return ProfileSpec(url, None, interval_s, (source_spec(source),))


def endpoint_specs(config: Config) -> list[EndpointSpec]:
    return [EndpointSpec(w.endpoint_id, w.url, w.secret.get_secret_value(), tuple(w.events), tuple(w.profiles))
            for w in config.webhooks]


def api_keys(config: Config) -> dict[str, str]:
    return {kind: key.get_secret_value() for kind, key in config.api_keys.items()}
