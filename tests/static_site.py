"""A real HTTP server on 127.0.0.1 serving a folder, for end-to-end parses over HTTP."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        self.server.requests.append(self.path)  # type: ignore[attr-defined]


@contextmanager
def serve_folder(folder: Path) -> Iterator[tuple[str, list[str]]]:
    """(base URL ending in "/", the request paths seen) while the folder is served,
    with autoindex pages for folders as a plain static web server gives them."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(folder)))
    server.requests = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/", server.requests  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
