"""A real HTTP server on 127.0.0.1 for crawl tests: serves a folder like a static host.

It answers conditional requests as GitHub Pages does (ETag from the content,
Last-Modified from the file's mtime, 304 when they match), lists folders, and can be told
to misbehave per path: a status, a delay, a content type, a redirect, a body larger than
announced. It records every request so that tests can assert what the crawler sent.
"""
from __future__ import annotations

import email.utils
import hashlib
import threading
import time
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Misbehaviour:
    status: int | None = None              # answer this status (with a short body)
    delay_s: float = 0.0                   # sleep before answering
    content_type: str | None = None        # declare this type
    redirect_to: str | None = None         # 302 to this path
    body: bytes | None = None              # serve these bytes instead of the file
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class SeenRequest:
    path: str
    headers: dict[str, str]
    status: int


class SiteServer:
    """`with SiteServer(folder) as site:` ... `site.url("page.md")`."""

    def __init__(self, root: Path, etags: bool = True) -> None:
        self.root = Path(root)
        self.etags = etags
        self.rules: dict[str, Misbehaviour] = {}
        self.requests: list[SeenRequest] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def misbehave(self, path: str, **kwargs: Any) -> None:
        """Override a path (or a path with its query string: `api?page=2`)."""
        self.rules["/" + path.lstrip("/")] = Misbehaviour(**kwargs)

    def behave(self) -> None:
        self.rules.clear()

    def seen(self, path: str) -> list[SeenRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == "/" + path.lstrip("/")]

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def __enter__(self) -> SiteServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[SimpleHTTPRequestHandler]:
        server = self

        class Handler(SimpleHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(server.root), **kwargs)

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _record(self, status: int) -> None:
                with server._lock:
                    server.requests.append(SeenRequest(self.path.split("?")[0], dict(self.headers.items()), status))

            def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None,
                      length: int | None = None) -> None:
                self._record(status)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                rule = server.rules.get(self.path) or server.rules.get(path)
                if rule and rule.delay_s:
                    time.sleep(rule.delay_s)
                if rule and rule.redirect_to:
                    self._send(302, b"", "text/html", {"Location": rule.redirect_to})
                    return
                if rule and rule.status:
                    self._send(rule.status, f"status {rule.status}".encode(), "text/plain", rule.headers)
                    return
                file = server.root / path.lstrip("/")
                if file.is_dir() and not (file / "index.html").exists() and (rule is None or rule.body is None):
                    self._record(200)
                    return super().do_GET()  # autoindex listing
                if file.is_dir():
                    file = file / "index.html"
                if rule and rule.body is not None:
                    body = rule.body
                elif file.is_file():
                    body = file.read_bytes()
                else:
                    self._send(404, b"not found", "text/plain")
                    return
                content_type = (rule.content_type if rule and rule.content_type else self.guess_type(str(file)))
                if content_type.startswith("text/") and "charset" not in content_type:
                    content_type += "; charset=utf-8"
                headers = dict(rule.headers) if rule else {}
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if server.etags:
                    headers["ETag"] = etag
                mtime = file.stat().st_mtime if file.is_file() else time.time()
                headers["Last-Modified"] = email.utils.formatdate(int(mtime), usegmt=True)
                if server.etags and self.headers.get("If-None-Match") == etag:
                    self._send(304, b"", content_type, {"ETag": etag}, length=0)
                    return
                self._send(200, body, content_type, headers)

        Handler.extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".md": "text/markdown",
                                  ".bib": "application/x-bibtex", ".yml": "text/yaml"}
        return Handler
