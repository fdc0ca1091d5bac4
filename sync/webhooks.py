"""Webhook delivery: Standard Webhooks signatures, an SSRF guard, and the outbox dispatcher.

- Every request is signed as https://www.standardwebhooks.com/ says, so that receivers
  verify it with the official libraries.
- A webhook URL comes from configuration, but where its name points is up to whoever runs
  its DNS: every address is vetted (no loopback, private, link-local, ... unless inside
  `allow_cidrs`), and the request goes only to the addresses that passed, from the same
  resolution (a DNS rebinding between check and connect has nothing to exploit). Each
  delivery resolves and vets anew, on a connection of its own (sync/http11.py).
- The dispatcher drains the outbox of `storage.store.Store`: at least once, each profile's
  events in order per endpoint, failures retried on a backoff schedule stored in the
  database (so retries survive restarts), then dead-lettered until `webhooks replay`.

Endpoint secrets never appear in logs, errors or reprs; URLs are shown without their
user info and query string, where tokens usually live.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import h11
from tenacity import RetryCallState, Retrying, wait_exponential, wait_random_exponential

from storage.store import Delivery, Event, Store, new_event_id, utcnow

from . import http11

log = logging.getLogger(__name__)

USER_AGENT = "profilesync/0.1 (+https://github.com/profilesync/profilesync; webhooks)"
DEFAULT_TIMEOUT_S = 15.0
#: Deliveries claimed (and so in flight) at once; they finish well inside the store's
#: 60 s delivery lease because each is bounded by the timeout (DNS, connect and answer).
DEFAULT_CONCURRENCY = 32
#: Bytes of a response body read (for the error message); the rest is never downloaded.
MAX_RESPONSE_BYTES = 4096

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# -- signing -------------------------------------------------------------------------------

SECRET_PREFIX = "whsec_"


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret (the prefix is optional, as in the official
    libraries). The error never quotes the secret."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("webhook secret is not of the form whsec_<base64>") from None
    if not key:
        raise ValueError("webhook secret is empty")
    return key


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(secret_key(secret), signed, hashlib.sha256).digest()).decode()


def event_body(event: Event) -> bytes:
    return json.dumps(event.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()


def signed_headers(secret: str, msg_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The Standard Webhooks headers. The timestamp is the wall clock of the attempt:
    receivers reject signatures older than a few minutes."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {"webhook-id": msg_id, "webhook-timestamp": str(ts),
            "webhook-signature": signature(secret, msg_id, ts, body),
            "content-type": "application/json"}


# -- the SSRF guard ------------------------------------------------------------------------

#: NAT64 well-known prefix (RFC 6052): 64:ff9b::a.b.c.d reaches the IPv4 a.b.c.d.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class AddressRefused(OSError):
    """A webhook target is (or resolves only to) addresses the guard forbids."""


def parse_cidrs(cidrs: Iterable[str]) -> tuple[IPNetwork, ...]:
    """`allow_cidrs` of the config; ValueError names the bad entry."""
    nets = []
    for cidr in cidrs:
        try:
            nets.append(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not an IP network (CIDR): {cidr!r}") from None
    return tuple(nets)


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form reaches: IPv4-mapped, NAT64, 6to4 or Teredo."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour:
        return ip.sixtofour
    return ip.teredo[1] if ip.teredo else None


def _forbidden(ip: IPAddress) -> str | None:
    for flag in ("loopback", "link_local", "unspecified", "multicast", "reserved", "private"):
        if getattr(ip, f"is_{flag}"):
            return flag.replace("_", "-")
    return None if ip.is_global else "not globally routable"


def refusal(address: str, allow: Sequence[IPNetwork] = ()) -> str | None:
    """Why the guard refuses to connect to `address`, or None when it may.

    An IPv6 form that embeds an IPv4 address is judged by the IPv4 it reaches (a public
    NAT64 address is fine, ::ffff:127.0.0.1 is loopback). An address, or the IPv4 it
    embeds, inside `allow` is always allowed."""
    ip = ipaddress.ip_address(address)
    inner = embedded_ipv4(ip)
    if any(candidate in net for candidate in (ip, inner) if candidate for net in allow):
        return None
    # Python files ::ffff:0:0/96 and 64:ff9b::/96 as reserved: only their IPv4 tells.
    translated = isinstance(ip, ipaddress.IPv6Address) and bool(ip.ipv4_mapped or ip in NAT64)
    reason = _forbidden(inner) if inner else None
    if reason is None and not translated:
        reason = _forbidden(ip)
    if reason is None:
        return None
    via = f" (reaches {inner})" if inner else ""
    return f"{address}{via} is {reason} and not in allow_cidrs"


class Resolver(Protocol):
    async def resolve(self, host: str, port: int) -> list[str]:
        """The addresses of `host`, in the order to try them."""


class SystemResolver:
    """The operating system's resolver (getaddrinfo in asyncio's thread pool)."""

    async def resolve(self, host: str, port: int) -> list[str]:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedResolver:
    """Resolves with `inner` and returns only the addresses the guard allows: the
    connection goes to an address of this very resolution, never to a later answer."""

    def __init__(self, allow: Sequence[IPNetwork] = (), inner: Resolver | None = None) -> None:
        self.allow = tuple(allow)
        self._inner = inner or SystemResolver()

    async def resolve(self, host: str, port: int) -> list[str]:
        answers = await self._inner.resolve(host, port)
        vetted, refused = [], []
        for answer in answers:
            why = refusal(answer, self.allow)
            if why:
                refused.append(why)
            else:
                vetted.append(answer)
        if not vetted:
            raise AddressRefused(f"{host} resolves only to refused addresses: {'; '.join(refused)}"
                                 if refused else f"{host} resolves to no address")
        if refused:
            log.warning("webhook host %s: connecting only to %s; %s", host, ", ".join(vetted), "; ".join(refused))
        return vetted


def display_url(url: str) -> str:
    """The URL for logs and errors: without user info, and with the query string elided."""
    try:
        parsed = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    if not parsed.scheme or not parsed.netloc:
        return "<invalid URL>"
    return f"{parsed.scheme}://{parsed.netloc.rpartition('@')[2]}{parsed.path}" + ("?..." if parsed.query else "")


# -- one attempt ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one POST did: the HTTP status (None when no response came) and, unless 2xx,
    an error that names the URL."""

    status: int | None
    error: str | None
    elapsed_s: float

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Target:
    """Where a webhook URL sends its POST."""

    host: str           # the URL's name or address: Host header, TLS server name
    address: str | None  # the host when it is an IP address
    port: int
    tls: bool
    path: str           # path and query
    authorization: str | None   # Basic credentials of the URL's user info

    @classmethod
    def of(cls, url: str) -> Target | None:
        """None when `url` is not an http(s) URL with a host; ValueError when it is
        malformed (a port that is not a number, a name IDNA cannot encode)."""
        parsed = urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            return None
        tls = parsed.scheme == "https"
        host = parsed.hostname.encode("idna").decode("ascii")
        try:
            address: str | None = str(ipaddress.ip_address(host))
        except ValueError:
            address = None
        authorization = None
        if parsed.username is not None:
            credentials = f"{unquote(parsed.username)}:{unquote(parsed.password or '')}"
            authorization = "Basic " + base64.b64encode(credentials.encode()).decode()
        return cls(host, address, parsed.port or (443 if tls else 80), tls,
                   (parsed.path or "/") + (f"?{parsed.query}" if parsed.query else ""), authorization)

    def refusal(self, allow: Sequence[IPNetwork]) -> str | None:
        """Refusal of a literal IP address the guard forbids (a name is vetted when resolved)."""
        if self.address is not None:
            return refusal(self.address, allow)
        try:   # "127.1", "2130706433": names the C resolver would read as IPv4 addresses
            socket.inet_aton(self.host)
        except OSError:
            return None
        return f"{self.host} is an IPv4 address in a non-canonical form"


async def post_event(url: str, secret: str, event: Event, *, allow: Sequence[IPNetwork] = (),
                     resolver: Resolver | None = None, timeout_s: float = DEFAULT_TIMEOUT_S,
                     user_agent: str = USER_AGENT) -> Outcome:
    """POST one signed event to the vetted addresses of `url`'s host, within `timeout_s`
    in all; never follows redirects, reads at most MAX_RESPONSE_BYTES of the response."""
    shown = display_url(url)
    start = time.monotonic()

    def outcome(status: int | None, error: str | None) -> Outcome:
        return Outcome(status, error, time.monotonic() - start)

    try:
        target = Target.of(url)
    except ValueError:
        return outcome(None, f"{shown}: invalid URL")
    if target is None:
        return outcome(None, f"{shown}: refused: not an http(s) URL")
    if why := target.refusal(allow):
        return outcome(None, f"{shown}: refused: {why}")
    body = event_body(event)
    try:
        headers = signed_headers(secret, event.id, body)
    except ValueError as exc:
        return outcome(None, f"{shown}: {exc}")
    headers["user-agent"] = user_agent
    if target.authorization:
        headers["authorization"] = target.authorization
    try:
        async with asyncio.timeout(timeout_s):
            addresses = ([target.address] if target.address is not None
                         else await GuardedResolver(allow, resolver).resolve(target.host, target.port))
            resp = await http11.post(addresses, target.port, host=target.host, target=target.path,
                                     headers=headers, body=body, tls=target.tls, max_body=MAX_RESPONSE_BYTES)
    except TimeoutError:
        return outcome(None, f"{shown}: no response within {timeout_s:g} s")
    except AddressRefused as exc:
        return outcome(None, f"{shown}: refused: {exc}")
    except OSError as exc:
        return outcome(None, f"{shown}: cannot connect: {exc.strerror or exc}")
    except h11.ProtocolError as exc:
        return outcome(None, f"{shown}: bad HTTP answer: {exc}")
    if 200 <= resp.status < 300:
        return outcome(resp.status, None)
    detail = f"HTTP {resp.status} {resp.reason}".rstrip()
    if 300 <= resp.status < 400:
        detail += f" (redirect to {display_url(resp.headers.get('location', '?'))} not followed)"
    text = " ".join(resp.head.decode("utf-8", "replace").split())[:200]
    return outcome(resp.status, f"{shown}: {detail}" + (f": {text}" if text else ""))


# -- retries -------------------------------------------------------------------------------

#: Nominal wait after failed attempt n: 5 s x 4^(n-1), capped at 8 h
#: (5 s, 20 s, 80 s, 5 min, 21 min, 85 min, 5.7 h, 8 h, 8 h, ...).
NOMINAL_WAIT = wait_exponential(multiplier=5, exp_base=4, max=8 * 3600)
#: Plus up to a fifth of it at random, so that the deliveries that failed together (an
#: endpoint down) do not all come back at the same second.
BACKOFF = NOMINAL_WAIT + wait_random_exponential(multiplier=1, exp_base=4, max=8 * 3600 / 5)
#: Retrying stops once the schedule has spanned this long.
GIVE_UP_AFTER = timedelta(days=3)


def _retry_state(attempt: int) -> RetryCallState:
    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    return state


def retry_delay(attempt: int) -> timedelta:
    """How long to wait after failed attempt `attempt` (1-based), jitter included."""
    return timedelta(seconds=BACKOFF(_retry_state(attempt)))


def _max_attempts() -> int:
    """The attempt at which the nominal schedule reaches GIVE_UP_AFTER: the last one.

    Counted in attempts rather than wall-clock time since the event, so that a replayed
    dead letter, or a delivery that waited for a disabled endpoint, gets a full schedule
    instead of dying at its first failure."""
    attempt, spent = 1, 0.0
    while spent < GIVE_UP_AFTER.total_seconds():
        spent += NOMINAL_WAIT(_retry_state(attempt))
        attempt += 1
    return attempt


MAX_ATTEMPTS = _max_attempts()


# -- the dispatcher ------------------------------------------------------------------------


class Dispatcher:
    """Delivers the outbox: `drain` once (tests, cron), or `run` until stopped (the daemon)."""

    def __init__(self, store: Store, *, allow_cidrs: Iterable[str] = (), timeout_s: float = DEFAULT_TIMEOUT_S,
                 concurrency: int = DEFAULT_CONCURRENCY, user_agent: str = USER_AGENT,
                 resolver: Resolver | None = None, retry_scale: float = 1.0) -> None:
        self.store = store
        self.retry_scale = retry_scale   # < 1 compresses the retry schedule (tests, staging)
        self.allow = parse_cidrs(allow_cidrs)
        self.timeout_s = timeout_s
        self.concurrency = concurrency
        self.user_agent = user_agent
        self._resolver = resolver

    def __repr__(self) -> str:
        return f"Dispatcher(allow_cidrs={[str(n) for n in self.allow]}, timeout_s={self.timeout_s:g})"

    async def drain(self, now: datetime | None = None) -> int:
        """Claim the deliveries due at `now`, send them concurrently, record each outcome;
        returns how many were attempted. At most one per (endpoint, profile) is claimed, so
        the next event of a profile waits for the next drain."""
        now = now or utcnow()
        deliveries = await asyncio.to_thread(self.store.claim_deliveries, now, self.concurrency)
        await asyncio.gather(*(self._deliver(d, now) for d in deliveries))
        return len(deliveries)

    async def run(self, stop: asyncio.Event, poll_s: float = 1.0) -> None:
        """Drain until `stop` is set: at once while there is work, else every `poll_s`."""
        while not stop.is_set():
            try:
                attempted = await self.drain()
            except Exception:   # the database may be briefly unavailable: keep the daemon alive
                log.exception("webhook dispatch failed; retrying in %g s", poll_s)
                attempted = 0
            if not attempted:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), poll_s)

    async def _deliver(self, d: Delivery, now: datetime) -> None:
        try:
            outcome = await post_event(d.endpoint.url, d.endpoint.secret, d.event, allow=self.allow,
                                       resolver=self._resolver, timeout_s=self.timeout_s,
                                       user_agent=self.user_agent)
        except Exception as exc:   # a surprise from one endpoint must not cost the others their records
            log.exception("unexpected error delivering to endpoint %s", d.endpoint.id)
            outcome = Outcome(None, f"{display_url(d.endpoint.url)}: {type(exc).__name__}: {exc}", 0.0)
        await asyncio.to_thread(self._record, d, outcome, now)

    def _record(self, d: Delivery, outcome: Outcome, now: datetime) -> None:
        what = f"{d.event.type} {d.event.id} to endpoint {d.endpoint.id}"
        record: dict[str, Any] = {"delivered": outcome.ok, "status": outcome.status, "error": outcome.error,
                                  "next_attempt_at": None}
        if outcome.ok:
            log.info("delivered %s (attempt %d, HTTP %d)", what, d.attempt, outcome.status)
        elif outcome.status == 410:
            # The receiver says it is gone for good: stop sending; the deliveries wait for the
            # endpoint to be re-enabled (a new URL in the config) and then go at once.
            log.warning("endpoint %s disabled: %s", d.endpoint.id, outcome.error)
            record.update(next_attempt_at=now, disable_endpoint=True)
        elif d.attempt >= MAX_ATTEMPTS:
            log.warning("dead letter %s after %d attempts: %s", what, d.attempt, outcome.error)
            record.update(dead=True)
        else:
            record.update(next_attempt_at=now + retry_delay(d.attempt) * self.retry_scale)
            log.warning("failed %s (attempt %d of %d, next at %s): %s", what, d.attempt, MAX_ATTEMPTS,
                        record["next_attempt_at"].isoformat(timespec="seconds"), outcome.error)
        self.store.record_attempt(d.id, **record)


async def send_test_event(url: str, secret: str, *, allow_cidrs: Iterable[str] = (),
                          timeout_s: float = DEFAULT_TIMEOUT_S) -> tuple[Event, Outcome]:
    """POST a signed `webhook.test` event to `url`, through the same guard as deliveries."""
    event = Event(id=new_event_id(), type="webhook.test", profile="profilesync", source=None,
                  occurred_at=utcnow(), data={"message": "profilesync webhook test"})
    return event, await post_event(url, secret, event, allow=parse_cidrs(allow_cidrs), timeout_s=timeout_s)
