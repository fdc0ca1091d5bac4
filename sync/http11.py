"""The daemon's own HTTP: one webhook POST as a client, `/healthz` and `/metrics` as a server.

h11 speaks the protocol (framing, parsing, the rules of HTTP/1.1) and asyncio streams
move the bytes; neither side needs more. The client sends one request per connection
to an address the caller has already vetted (sync/webhooks.py's SSRF guard), so there
is no resolver, pool, proxy or redirect handling here to get around that guard. An
aiohttp session and app did the same job before, at ~9 MB of RSS in a daemon whose
budget is 120 MB.
"""
from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

import h11

READ_SIZE = 64 * 1024
#: A request to the server must arrive whole within this time.
SERVER_READ_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Response:
    """What came back: status line, headers (names lower-cased) and at most the first
    `max_body` bytes of the body."""

    status: int
    reason: str
    headers: dict[str, str]
    head: bytes


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The system's trust store, certificate and host name verified (made once: loading
    the CA bundle costs milliseconds)."""
    return ssl.create_default_context()


async def _next_event(conn: h11.Connection, reader: asyncio.StreamReader) -> object:
    """The next h11 event, reading from `reader` as h11 needs (an EOF is passed on)."""
    while (event := conn.next_event()) is h11.NEED_DATA:
        conn.receive_data(await reader.read(READ_SIZE))
    return event


async def post(addresses: Sequence[str], port: int, *, host: str, target: str, headers: Mapping[str, str],
               body: bytes, tls: bool, max_body: int) -> Response:
    """POST `body` to `target` on the first of `addresses` that accepts a connection.

    `host` is the name of the URL: the Host header and, over TLS, the name the
    certificate must show. The connection is dropped once `max_body` bytes of the
    response body are read, so that a flood of an answer is never downloaded. Raises
    OSError (connection, TLS), h11.RemoteProtocolError (a malformed or missing answer);
    the caller bounds the time."""
    failure: OSError = OSError(f"no address for {host}")
    for address in addresses:
        try:
            reader, writer = await asyncio.open_connection(address, port, ssl=tls_context() if tls else None,
                                                           server_hostname=host if tls else None)
            break
        except OSError as exc:
            failure = exc
    else:
        raise failure
    try:
        conn = h11.Connection(h11.CLIENT)
        default_port = 443 if tls else 80
        authority = (f"[{host}]" if ":" in host else host) + ("" if port == default_port else f":{port}")
        request = h11.Request(method="POST", target=target, headers=[
            ("Host", authority), ("Content-Length", str(len(body))), ("Connection", "close"), *headers.items()])
        writer.write(conn.send(request) + conn.send(h11.Data(data=body)) + conn.send(h11.EndOfMessage()))
        await writer.drain()
        while not isinstance(event := await _next_event(conn, reader), h11.Response):
            if not isinstance(event, h11.InformationalResponse):   # 100 Continue and the like
                raise h11.RemoteProtocolError("connection closed without a response")
        head = b""
        while len(head) < max_body and isinstance(data := await _next_event(conn, reader), h11.Data):
            head += data.data
        return Response(event.status_code, event.reason.decode("latin-1"),
                        {name.decode("latin-1"): value.decode("latin-1") for name, value in event.headers},
                        head[:max_body])
    finally:
        writer.transport.abort()   # Connection: close; whatever is unread stays unread


Route = Callable[[], Awaitable[tuple[int, str, bytes]]]


async def serve(host: str, port: int, routes: Mapping[str, Route]) -> asyncio.Server:
    """Serve GET (and HEAD) of `routes`: path -> coroutine giving (status, content type,
    body). One request per connection; other paths are 404, other methods 405."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        try:
            async with asyncio.timeout(SERVER_READ_TIMEOUT_S):
                request = await _next_event(conn, reader)
                if not isinstance(request, h11.Request):
                    return   # the client left without asking
                while not isinstance(event := await _next_event(conn, reader), h11.EndOfMessage):
                    if isinstance(event, h11.ConnectionClosed):   # a request body, if any, is skipped
                        return
            path = request.target.decode("latin-1").split("?", 1)[0]
            route = routes.get(path)
            if request.method not in (b"GET", b"HEAD"):
                status, content_type, body = 405, "text/plain", b"method not allowed\n"
            elif route is None:
                status, content_type, body = 404, "text/plain", b"not found\n"
            else:
                status, content_type, body = await route()
            writer.write(conn.send(h11.Response(status_code=status, headers=[
                ("Content-Type", content_type), ("Content-Length", str(len(body))), ("Connection", "close")])))
            if request.method != b"HEAD":
                writer.write(conn.send(h11.Data(data=body)))
            writer.write(conn.send(h11.EndOfMessage()))
            await writer.drain()
        except (h11.ProtocolError, OSError, TimeoutError):
            pass   # a malformed or vanished client is nothing for the daemon to report
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)
