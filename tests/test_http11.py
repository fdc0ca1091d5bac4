"""The daemon's own HTTP (sync/http11.py) on real sockets: the /healthz-/metrics server
against urllib and raw bytes, and the webhook client over TLS and with URL credentials."""
from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from storage.store import Event, utcnow
from sync import http11, webhooks

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
LOOPBACK = webhooks.parse_cidrs(["127.0.0.0/8"])


# -- the server -------------------------------------------------------------------------------


def serving(routes: dict[str, http11.Route], requests: list[bytes]) -> list[tuple[int, dict[str, str], bytes]]:
    """Start the server on a free port, send each raw request on its own connection, and
    return (status, headers, body) of each answer (status 0: the connection closed)."""

    async def go() -> list[tuple[int, dict[str, str], bytes]]:
        server = await http11.serve("127.0.0.1", 0, routes)
        port = server.sockets[0].getsockname()[1]
        answers = []
        for raw in requests:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(raw)
            await writer.drain()
            data = await asyncio.wait_for(reader.read(), 5)
            writer.close()
            head, _, body = data.partition(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            status = int(lines[0].split()[1]) if data else 0
            headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
            answers.append((status, headers, body))
        server.close()
        await server.wait_closed()
        return answers

    return asyncio.run(go())


async def hello() -> tuple[int, str, bytes]:
    return 200, "text/plain", b"hello\n"


def test_server_answers_its_routes_and_refuses_the_rest() -> None:
    answers = serving({"/hello": hello}, [
        b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /hello?verbose=1 HTTP/1.0\r\n\r\n",
        b"HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
        b"GET /elsewhere HTTP/1.1\r\nHost: x\r\n\r\n",
        b"NOT HTTP AT ALL\r\n\r\n",
        b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n",   # still serving after the garbage
    ])
    assert [(status, body) for status, _, body in answers] == [
        (200, b"hello\n"), (200, b"hello\n"), (200, b""), (405, b"method not allowed\n"), (404, b"not found\n"),
        (0, b""), (200, b"hello\n")]
    assert answers[2][1]["content-length"] == "6" and answers[0][1]["content-type"] == "text/plain"


def test_server_drops_a_client_that_sends_half_a_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http11, "SERVER_READ_TIMEOUT_S", 0.2)
    assert serving({"/hello": hello}, [b"GET /hel"]) == [(0, {}, b"")]


# -- the client -------------------------------------------------------------------------------


class Recorder(ThreadingHTTPServer):
    """A loopback HTTP(S) server that records each POST's headers and answers 200."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.seen: list[dict[str, str]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["content-length"]))
                recorder.seen.append({k.lower(): v for k, v in self.headers.items()})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        super().__init__(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, args=(0.02,), daemon=True).start()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1 (certificate, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def tls_recorder(certificate: tuple[Path, Path]) -> Iterator[Recorder]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server = Recorder(context)
    yield server
    server.shutdown()
    server.server_close()


def post(url: str) -> webhooks.Outcome:
    event = Event(id="evt_test", type="webhook.test", profile="p", source=None, occurred_at=utcnow(), data={})
    return asyncio.run(webhooks.post_event(url, SECRET, event, allow=LOOPBACK, timeout_s=5))


def test_tls_certificates_are_verified(tls_recorder: Recorder) -> None:
    outcome = post(f"https://localhost:{tls_recorder.port}/hook")
    assert outcome.status is None and "cannot connect" in outcome.error and "certificate verify failed" in outcome.error
    assert tls_recorder.seen == []


def test_tls_delivery_to_a_trusted_certificate(tls_recorder: Recorder, certificate: tuple[Path, Path],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    trusted = ssl.create_default_context(cafile=str(certificate[0]))
    monkeypatch.setattr(http11, "tls_context", lambda: trusted)
    assert post(f"https://localhost:{tls_recorder.port}/hook").ok
    assert post(f"https://127.0.0.1:{tls_recorder.port}/hook").ok
    assert [seen["host"] for seen in tls_recorder.seen] == [f"localhost:{tls_recorder.port}",
                                                            f"127.0.0.1:{tls_recorder.port}"]


def test_credentials_of_the_url_go_as_basic_auth_and_nowhere_else() -> None:
    server = Recorder()
    try:
        outcome = post(f"http://hook%40user:s3cr%3At@127.0.0.1:{server.port}/in?token=abc")
        assert outcome.ok
        [seen] = server.seen
        assert seen["authorization"] == "Basic aG9va0B1c2VyOnMzY3I6dA=="   # hook@user:s3cr:t
        assert seen["user-agent"] == webhooks.USER_AGENT and seen["webhook-id"] == "evt_test"
        failed = post(f"http://hook%40user:s3cr%3At@127.0.0.1:{server.port + 1 if server.port < 65535 else 1}/in")
        assert "s3cr" not in (failed.error or "") and failed.error.startswith("http://127.0.0.1:")
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_that_closes_without_answering_is_a_clear_failure() -> None:
    async def go() -> webhooks.Outcome:
        async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.close()

        server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        event = Event(id="evt_test", type="webhook.test", profile="p", source=None, occurred_at=utcnow(), data={})
        try:
            return await webhooks.post_event(f"http://127.0.0.1:{port}/hook", SECRET, event, allow=LOOPBACK)
        finally:
            server.close()

    outcome = asyncio.run(go())
    assert outcome.status is None and outcome.error.startswith("http://127.0.0.1:")
    assert "bad HTTP answer" in outcome.error
