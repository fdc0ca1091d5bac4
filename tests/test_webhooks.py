"""Webhook delivery end to end: a SQLite store whose events come from `Store.apply`, the
dispatcher, and real receivers on 127.0.0.1 that verify every request with the official
`standardwebhooks` library."""
from __future__ import annotations

import asyncio
import base64
import logging
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook

from crawler.jobs import FetchResult, FetchStatus
from crawler.records import PageRecords, Publication, SourceInfo
from storage.models import DeliveryRow, EndpointRow
from storage.store import EndpointSpec, Event, ProfileSpec, SourceSpec, Store
from sync import cli, webhooks
from sync.webhooks import Dispatcher

SECRET = "whsec_" + base64.b64encode(b"profilesync-test-key-0123456789ab").decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"another-endpoint-key-9876543210").decode()
LOOPBACK = ["127.0.0.0/8"]


# -- a real receiver --------------------------------------------------------------------------


class Receiver:
    """An HTTP server on `host` that verifies each POST with standardwebhooks (secret per
    path) and answers the scripted statuses in turn, then `default_status`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.secrets: dict[str, str] = {}
        self.script: list[int] = []
        self.default_status = 200
        self.delay_s = 0.0
        self.error_body_size = 0                    # >0: error answers carry this many bytes
        self.unsent_bodies = 0                      # answers the client stopped reading
        self.received: list[dict[str, Any]] = []    # verified: path, headers, payload
        self.rejected: list[str] = []               # why a request failed verification
        self.other_hits: list[str] = []             # requests to paths without a secret (redirect targets)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.host = host
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def url(self, path: str, secret: str = SECRET) -> str:
        self.secrets[path] = secret
        return f"http://{self.host}:{self.port}{path}"

    def ids(self, path: str | None = None) -> list[str]:
        return [r["payload"]["id"] for r in self.received if path is None or r["path"] == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                receiver.other_hits.append(self.path)
                self._answer(200)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                secret = receiver.secrets.get(self.path)
                if secret is None:
                    receiver.other_hits.append(self.path)
                    self._answer(200)
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    payload = Webhook(secret).verify(body, headers)
                except Exception as exc:  # recorded, and asserted empty by the tests
                    receiver.rejected.append(f"{self.path}: {exc}")
                    self._answer(400)
                    return
                with receiver._lock:
                    receiver.received.append({"path": self.path, "headers": headers, "payload": payload})
                    status = receiver.script.pop(0) if receiver.script else receiver.default_status
                time.sleep(receiver.delay_s)
                self._answer(status)

            def _answer(self, status: int) -> None:
                try:
                    self.send_response(status)
                    if 300 <= status < 400:
                        self.send_header("Location", "/elsewhere")
                    body = b"" if status in (204, 304) else b"receiver says no" if status >= 300 else b"ok"
                    if status >= 300 and receiver.error_body_size:
                        body = b"x" * receiver.error_body_size
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    receiver.unsent_bodies += 1   # the client left: timed out, or read enough

        return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()
    assert not r.rejected, r.rejected


# -- a store with events made by Store.apply ----------------------------------------------------

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'profilesync.db'}"


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    s.upsert_profiles([ProfileSpec(p, p.title(), 3600, (SourceSpec(f"https://{p}.example.org/",
                                                                   f"https://{p}.example.org/"),))
                       for p in ("alice", "bob")])
    yield s
    s.close()


def publish(store: Store, profile: str, titles: list[str]) -> list[Event]:
    """One successful fetch of the profile's source that lists these papers."""
    job = next(j for j in store.jobs([profile]))
    records = PageRecords(SourceInfo(job.url), publications=[Publication(t, ["A. Author"], year=2025)
                                                             for t in titles])
    return store.apply(FetchResult(job.source_id, job.url, FetchStatus.FETCHED, T0, records=records))


def added_papers(store: Store, profile: str, new: list[str]) -> list[Event]:
    """A baseline (silent) then a fetch with `new` papers added: one paper.added each."""
    assert publish(store, profile, ["Baseline paper on graphs"]) == []
    events = publish(store, profile, ["Baseline paper on graphs", *new])
    assert [e.type for e in events] == ["paper.added"] * len(new)
    return events


def deliveries(store: Store) -> list[DeliveryRow]:
    with Session(store.engine) as s:
        return list(s.scalars(select(DeliveryRow).order_by(DeliveryRow.id)))


def endpoint_row(store: Store, endpoint_id: str) -> EndpointRow:
    with Session(store.engine) as s:
        return s.get_one(EndpointRow, endpoint_id)


def drain(store: Store, now: datetime, **kwargs: Any) -> int:
    return asyncio.run(Dispatcher(store, **kwargs).drain(now))


def drain_all(store: Store, now: datetime, **kwargs: Any) -> list[int]:
    """Drain with one dispatcher until nothing is due at `now`; the attempts per drain."""
    async def go() -> list[int]:
        counts, d = [], Dispatcher(store, **kwargs)
        while n := await d.drain(now):
            counts.append(n)
        return counts
    return asyncio.run(go())


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- signing ------------------------------------------------------------------------------------


def test_signature_matches_the_official_library() -> None:
    body = '{"id":"evt_1","data":{"title":"Über graphs"}}'.encode()
    ours = webhooks.signature(SECRET, "evt_1", 1767600000, body)
    theirs = Webhook(SECRET).sign("evt_1", datetime.fromtimestamp(1767600000, UTC), body.decode())
    assert ours == theirs
    assert webhooks.signature(SECRET.removeprefix("whsec_"), "evt_1", 1767600000, body) == ours


@pytest.mark.parametrize("bad", ["whsec_", "whsec_not base64!", "whsec_@@@@"])
def test_bad_secret_is_refused_without_quoting_it(bad: str) -> None:
    with pytest.raises(ValueError) as err:
        webhooks.secret_key(bad)
    assert bad.removeprefix("whsec_") not in str(err.value) or bad == "whsec_"


# -- delivery -----------------------------------------------------------------------------------


def test_signed_deliveries_reach_each_endpoint_in_order_per_profile(store: Store, receiver: Receiver) -> None:
    store.upsert_endpoints([EndpointSpec("all", receiver.url("/all"), SECRET),
                            EndpointSpec("bob-papers", receiver.url("/bob", OTHER_SECRET), OTHER_SECRET,
                                         events=("paper.*",), profiles=("bob",))])
    alice = added_papers(store, "alice", ["Alice one", "Alice two on trees", "Alice three on forests"])
    bob = added_papers(store, "bob", ["Bob one on lattices", "Bob two on rings"])

    counts = drain_all(store, T0 + timedelta(seconds=1), allow_cidrs=LOOPBACK)

    # One head per (endpoint, profile) per drain: all three queues start at once.
    assert counts[0] == 3 and sum(counts) == 3 + 2 + 2
    for path, events in (("/all", alice), ("/all", bob), ("/bob", bob)):
        got = [r["payload"] for r in receiver.received if r["path"] == path
               and r["payload"]["profile"] == events[0].profile]
        assert [p["id"] for p in got] == [e.id for e in events]          # ids are event ids, in order
        assert got == [e.to_dict() for e in events]                      # the body is the event JSON
    for r in receiver.received:
        assert r["headers"]["webhook-id"] == r["payload"]["id"]
        assert r["headers"]["content-type"] == "application/json"
        assert r["headers"]["user-agent"] == webhooks.USER_AGENT
    assert store.outbox_stats()["delivered"] == 7 and store.outbox_stats()["pending"] == 0


def test_failure_is_retried_at_the_stored_time_even_after_a_restart(store: Store, db_url: str,
                                                                    receiver: Receiver) -> None:
    store.upsert_endpoints([EndpointSpec("hook", receiver.url("/hook"), SECRET)])
    [event] = added_papers(store, "alice", ["A paper that fails once"])
    receiver.script = [500]
    now = T0 + timedelta(seconds=1)

    assert drain(store, now, allow_cidrs=LOOPBACK) == 1
    [row] = deliveries(store)
    assert (row.state, row.attempts, row.last_status) == ("pending", 1, 500)
    assert "HTTP 500" in row.last_error and "/hook" in row.last_error
    first_wait = row.next_attempt_at - now
    assert timedelta(seconds=5) <= first_wait <= timedelta(seconds=6)   # 5 s + up to a fifth
    assert drain(store, row.next_attempt_at - timedelta(seconds=1), allow_cidrs=LOOPBACK) == 0

    restarted = Store.open(db_url)   # a new process: only the database remembers the retry
    try:
        assert drain(restarted, row.next_attempt_at, allow_cidrs=LOOPBACK) == 1
    finally:
        restarted.close()
    [row] = deliveries(store)
    assert (row.state, row.attempts, row.last_status) == ("delivered", 2, 200)
    assert receiver.ids() == [event.id, event.id]


def test_backoff_grows_from_seconds_to_hours_then_dead_letter_and_replay(store: Store, db_url: str,
                                                                        receiver: Receiver,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    store.upsert_endpoints([EndpointSpec("hook", receiver.url("/hook"), SECRET)])
    [event] = added_papers(store, "alice", ["A paper nobody accepts"])
    receiver.default_status = 503
    now, waits = T0, []
    while True:
        assert drain(store, now, allow_cidrs=LOOPBACK) == 1
        [row] = deliveries(store)
        if row.state == "dead":
            break
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at

    assert row.attempts == webhooks.MAX_ATTEMPTS == len(receiver.received)
    assert waits[0] < timedelta(seconds=10) and timedelta(minutes=1) < waits[2] < timedelta(minutes=5)
    assert max(waits) <= timedelta(hours=8) * 1.2 and waits == sorted(waits[:7]) + waits[7:]
    assert timedelta(days=3) <= now - T0 <= timedelta(days=3) * 1.2 + timedelta(hours=8)
    assert drain(store, now + timedelta(days=30), allow_cidrs=LOOPBACK) == 0   # dead: never again
    assert store.outbox_stats()["dead"] == 1

    receiver.default_status = 204
    assert cli.main(["webhooks", "replay", "--db", db_url, "--dead"]) == 0
    assert capsys.readouterr().out.strip() == "re-queued 1 dead delivery"
    assert drain(store, datetime.now(UTC) + timedelta(seconds=1), allow_cidrs=LOOPBACK) == 1
    [row] = deliveries(store)
    assert (row.state, row.attempts) == ("delivered", 1)
    assert set(receiver.ids()) == {event.id}                 # the replay carries the same id


def test_410_gone_disables_the_endpoint(store: Store, receiver: Receiver) -> None:
    store.upsert_endpoints([EndpointSpec("hook", receiver.url("/hook"), SECRET)])
    added_papers(store, "alice", ["First paper", "Second paper on other things"])
    receiver.script = [410]

    assert drain_all(store, T0 + timedelta(seconds=1), allow_cidrs=LOOPBACK) == [1]
    endpoint = endpoint_row(store, "hook")
    assert not endpoint.enabled and "410" in endpoint.disabled_reason
    assert drain(store, T0 + timedelta(days=1), allow_cidrs=LOOPBACK) == 0
    assert [r.state for r in deliveries(store)] == ["pending", "pending"]   # waiting for a new URL
    assert len(receiver.received) == 1


def test_redirects_are_failures_and_not_followed(store: Store, receiver: Receiver) -> None:
    store.upsert_endpoints([EndpointSpec("hook", receiver.url("/hook"), SECRET)])
    added_papers(store, "alice", ["A redirected paper"])
    receiver.script = [307]

    assert drain(store, T0 + timedelta(seconds=1), allow_cidrs=LOOPBACK) == 1
    [row] = deliveries(store)
    assert (row.state, row.last_status) == ("pending", 307)
    assert "not followed" in row.last_error
    assert receiver.other_hits == []


def test_timeout_is_a_failed_attempt(store: Store, receiver: Receiver) -> None:
    store.upsert_endpoints([EndpointSpec("hook", receiver.url("/slow"), SECRET)])
    added_papers(store, "alice", ["A slow paper"])
    receiver.delay_s = 5.0

    started = time.monotonic()
    assert drain(store, T0 + timedelta(seconds=1), allow_cidrs=LOOPBACK, timeout_s=0.2) == 1
    assert time.monotonic() - started < 4   # gave up long before the answer
    [row] = deliveries(store)
    assert (row.state, row.last_status, row.attempts) == ("pending", None, 1)
    assert "no response within 0.2 s" in row.last_error and "/slow" in row.last_error


def test_connection_refused_is_a_failed_attempt(store: Store) -> None:
    url = f"http://127.0.0.1:{closed_port()}/hook"
    store.upsert_endpoints([EndpointSpec("hook", url, SECRET)])
    added_papers(store, "alice", ["A paper for nobody"])

    assert drain(store, T0 + timedelta(seconds=1), allow_cidrs=LOOPBACK) == 1
    [row] = deliveries(store)
    assert row.state == "pending" and row.next_attempt_at > T0
    assert row.last_error.startswith(f"{url}: cannot connect")


# -- the SSRF guard -----------------------------------------------------------------------------

PRIVATE = [("127.0.0.1", "127.0.0.0/8"), ("10.20.30.40", "10.0.0.0/8"), ("::ffff:127.0.0.1", "127.0.0.0/8"),
           ("64:ff9b::7f00:1", "127.0.0.0/8"), ("169.254.169.254", "169.254.169.254/32"), ("::1", "::1/128"),
           ("0.0.0.0", "0.0.0.0/32"), ("fe80::1", "fe80::/10"), ("fd00::2", "fc00::/7"),
           ("224.0.0.251", "224.0.0.0/4"), ("100.64.1.1", "100.64.0.0/10"), ("2002:a00:1::1", "10.0.0.0/8"),
           ("::ffff:192.168.1.1", "192.168.0.0/16")]


@pytest.mark.parametrize(("address", "cidr"), PRIVATE)
def test_private_addresses_are_refused_unless_allowed(address: str, cidr: str) -> None:
    why = webhooks.refusal(address)
    assert why and why.startswith(address)
    assert webhooks.refusal(address, webhooks.parse_cidrs([cidr])) is None
    assert webhooks.refusal(address, webhooks.parse_cidrs(["203.0.113.0/24"])) == why


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::1111", "64:ff9b::808:808", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert webhooks.refusal(address) is None


@pytest.mark.parametrize("host", ["127.0.0.1", "[::ffff:127.0.0.1]", "localhost"])
def test_loopback_receiver_refused_without_allow_cidrs_and_reached_with_it(store: Store, receiver: Receiver,
                                                                           host: str) -> None:
    url = receiver.url("/hook").replace("127.0.0.1", host)
    store.upsert_endpoints([EndpointSpec("hook", url, SECRET)])
    [event] = added_papers(store, "alice", ["A paper behind the firewall"])

    assert drain(store, T0 + timedelta(seconds=1)) == 1
    [row] = deliveries(store)
    assert row.state == "pending" and receiver.received == []
    assert row.last_error.startswith(f"{webhooks.display_url(url)}: refused: ") and "loopback" in row.last_error
    assert "127.0.0.1" in row.last_error or "::1" in row.last_error

    assert drain(store, row.next_attempt_at, allow_cidrs=["127.0.0.0/8", "::1/128"]) == 1
    assert receiver.ids() == [event.id]


@pytest.mark.parametrize("url", ["http://10.1.2.3/hook", "http://169.254.169.254/latest/meta-data/",
                                 "http://[64:ff9b::a9fe:a9fe]/", "http://[::]:8080/", "ftp://127.0.0.1/x",
                                 "http://127.1:8080/", "http://2130706433/"])
def test_refused_targets_are_never_contacted(store: Store, url: str) -> None:
    store.upsert_endpoints([EndpointSpec("hook", url, SECRET)])
    added_papers(store, "alice", ["A paper for the metadata service"])
    assert drain(store, T0 + timedelta(seconds=1), allow_cidrs=LOOPBACK) == 1
    [row] = deliveries(store)
    # "refused:" is the guard's verdict before any request; a connection attempt would
    # fail as "cannot connect" or time out instead.
    assert row.state == "pending" and row.last_error.startswith(f"{webhooks.display_url(url)}: refused: ")


class ScriptedDNS:
    """DNS that answers these addresses for any name, and counts the questions."""

    def __init__(self, addresses: list[str]) -> None:
        self.addresses, self.questions = addresses, 0

    async def resolve(self, host: str, port: int) -> list[str]:
        self.questions += 1
        return self.addresses


def test_connection_goes_only_to_the_vetted_addresses_of_the_name(store: Store, receiver: Receiver) -> None:
    """The name answers a refused address first: a guard that checked and then let the
    connector resolve (or try every answer) would reach the decoy."""
    decoy = Receiver("127.0.0.2", port=receiver.port)
    try:
        url = f"http://hooks.example.test:{receiver.port}/hook"
        receiver.secrets["/hook"] = decoy.secrets["/hook"] = SECRET
        dns = ScriptedDNS(["127.0.0.2", "127.0.0.1"])
        store.upsert_endpoints([EndpointSpec("hook", url, SECRET)])
        [event] = added_papers(store, "alice", ["A paper with a tricky DNS name"])

        assert drain(store, T0 + timedelta(seconds=1), allow_cidrs=["127.0.0.1/32"], resolver=dns) == 1
        assert dns.questions == 1
        assert receiver.ids() == [event.id] and decoy.received == [] and decoy.other_hits == []
    finally:
        decoy.close()


def test_only_the_head_of_a_large_error_body_is_read(store: Store, receiver: Receiver) -> None:
    store.upsert_endpoints([EndpointSpec("hook", receiver.url("/hook"), SECRET)])
    added_papers(store, "alice", ["A paper answered with a flood"])
    receiver.script, receiver.error_body_size = [500], 64 * 1024 * 1024

    assert drain(store, T0 + timedelta(seconds=1), allow_cidrs=LOOPBACK) == 1
    [row] = deliveries(store)
    assert row.last_status == 500 and len(row.last_error) < 300
    deadline = time.monotonic() + 5
    while not receiver.unsent_bodies and time.monotonic() < deadline:
        time.sleep(0.01)
    assert receiver.unsent_bodies == 1        # the connection was dropped, not drained


def test_run_delivers_until_stopped(store: Store, receiver: Receiver) -> None:
    store.upsert_endpoints([EndpointSpec("hook", receiver.url("/hook"), SECRET)])
    events = added_papers(store, "alice", ["Run paper one", "Run paper two on sets"])

    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(Dispatcher(store, allow_cidrs=LOOPBACK).run(stop, poll_s=0.02))
        deadline = time.monotonic() + 10
        while len(receiver.received) < len(events) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(task, 5)

    asyncio.run(go())
    assert receiver.ids() == [e.id for e in events]


# -- secrets ------------------------------------------------------------------------------------


def test_secrets_appear_in_no_repr_log_error_or_output(store: Store, receiver: Receiver, db_url: str,
                                                       caplog: pytest.LogCaptureFixture,
                                                       capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = (SECRET, SECRET.removeprefix("whsec_"), OTHER_SECRET.removeprefix("whsec_"))
    store.upsert_endpoints([EndpointSpec("ok", receiver.url("/ok"), SECRET),
                            EndpointSpec("gone", receiver.url("/gone", OTHER_SECRET), OTHER_SECRET),
                            EndpointSpec("private", "http://10.0.0.7/hook", SECRET)])
    added_papers(store, "alice", ["A paper with secrets around"])
    receiver.script = [410]   # whichever endpoint comes first is gone; the other gets 200

    async def go() -> list[str]:
        d = Dispatcher(store, allow_cidrs=LOOPBACK)
        claimed = store.claim_deliveries(T0, 10)
        shown = [repr(claimed), repr(d), str(claimed)]
        await d.drain(T0 + timedelta(minutes=2))   # after the claim's lease expired
        return shown

    shown = asyncio.run(go())
    assert {r.state for r in deliveries(store)} == {"pending", "delivered"}
    monkeypatch.setenv("PROFILESYNC_WEBHOOK_SECRET", SECRET)
    assert cli.main(["webhooks", "test", receiver.url("/ok"), "--allow-cidr", "127.0.0.0/8"]) == 0
    assert cli.main(["webhooks", "test", "http://10.0.0.7/", "--secret", SECRET]) == 1
    assert cli.main(["webhooks", "test", receiver.url("/ok"), "--secret", "whsec_!!" + SECRET[6:]]) == 2
    out = capsys.readouterr()

    texts = shown + [out.out, out.err] + [r.getMessage() for r in caplog.records]
    texts += [r.last_error or "" for r in deliveries(store)]
    texts += [endpoint_row(store, "gone").disabled_reason or "", endpoint_row(store, "ok").disabled_reason or ""]
    assert len(caplog.records) >= 2 and "HTTP 200" in out.out and "refused" in out.out
    for text in texts:
        for secret in secrets:
            assert secret not in text


def test_urls_are_shown_without_credentials_or_query() -> None:
    shown = webhooks.display_url("https://user:hunter2@hooks.example.org:8443/in/T0K3N?sig=abc#frag")
    assert shown == "https://hooks.example.org:8443/in/T0K3N?..."
    assert webhooks.display_url("https://hooks.example.org/in") == "https://hooks.example.org/in"


# -- the CLI ------------------------------------------------------------------------------------


def test_cli_webhooks_test_reports_the_outcome(receiver: Receiver, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    url = receiver.url("/cli")
    assert cli.main(["webhooks", "test", url, "--secret", SECRET, "--allow-cidr", "127.0.0.0/8"]) == 0
    [got] = receiver.received
    assert got["payload"]["type"] == "webhook.test" and got["headers"]["webhook-id"] == got["payload"]["id"]
    assert f"{got['payload']['id']} to {url}: HTTP 200 in " in capsys.readouterr().out

    receiver.script = [500]
    assert cli.main(["webhooks", "test", url, "--secret", SECRET, "--allow-cidr", "127.0.0.0/8"]) == 1
    assert f"{url}: HTTP 500" in capsys.readouterr().out

    assert cli.main(["webhooks", "test", url, "--secret", SECRET]) == 1        # no allow_cidrs: refused
    assert "refused: 127.0.0.1 is loopback" in capsys.readouterr().out
    assert len(receiver.received) == 2

    monkeypatch.delenv("PROFILESYNC_WEBHOOK_SECRET", raising=False)
    assert cli.main(["webhooks", "test", url]) == 2
    assert cli.main(["webhooks", "test", url, "--secret", SECRET, "--allow-cidr", "localhost"]) == 2
    assert "not an IP network" in capsys.readouterr().err


def test_cli_replay_since_an_event_or_a_time(store: Store, db_url: str, receiver: Receiver,
                                            capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    store.upsert_endpoints([EndpointSpec("hook", receiver.url("/hook"), SECRET)])
    events = added_papers(store, "alice", ["Replay one", "Replay two on loops", "Replay three on knots"])
    assert sum(drain_all(store, T0 + timedelta(seconds=1), allow_cidrs=LOOPBACK)) == 3

    monkeypatch.setenv("PROFILESYNC_DB", db_url)
    assert cli.main(["webhooks", "replay", "--dead"]) == 0
    assert capsys.readouterr().out.strip() == "re-queued 0 dead deliveries"
    assert cli.main(["webhooks", "replay", "--since", events[0].id]) == 0
    assert capsys.readouterr().out.strip() == "re-queued 2 deliveries"
    assert sum(drain_all(store, datetime.now(UTC) + timedelta(seconds=1), allow_cidrs=LOOPBACK)) == 2
    assert receiver.ids() == [e.id for e in events] + [e.id for e in events[1:]]

    assert cli.main(["webhooks", "replay", "--since", (T0 - timedelta(hours=1)).isoformat()]) == 0
    assert capsys.readouterr().out.strip() == "re-queued 3 deliveries"
    assert cli.main(["webhooks", "replay", "--since", "evt_NOSUCHEVENT"]) == 2
    assert cli.main(["webhooks", "replay", "--since", "last tuesday"]) == 2
