"""A fast static-site stand-in for the crawl benchmarks: `/p{i}/` is `bench.pages.homepage(i)`.

    python -m bench.pageserver --port 0 --pages 2000     # prints "PORT <n>" when ready

Answers conditional requests like GitHub Pages (strong ETag of the body, 304 on
If-None-Match). `POST /_revision/{n}` changes every page to revision n (one news item and
one paper more), as a round of owners' edits would. aiohttp, so that the server is not
what the benchmark measures.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
from functools import lru_cache

from aiohttp import web

from bench.pages import homepage

ROBOTS = b"User-agent: *\nAllow: /\n"


@lru_cache(maxsize=8192)
def _page(i: int, revision: int) -> tuple[bytes, str]:
    body = homepage(i, revision)
    return body, '"' + hashlib.sha256(body).hexdigest()[:20] + '"'


def make_app(pages: int) -> web.Application:
    state = {"revision": 0}

    async def page(request: web.Request) -> web.StreamResponse:
        i = int(request.match_info["i"])
        if i >= pages:
            raise web.HTTPNotFound()
        body, etag = _page(i, state["revision"])
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, content_type="text/html", charset="utf-8",
                            headers={"ETag": etag, "Last-Modified": "Mon, 02 Nov 2026 10:00:00 GMT"})

    async def robots(request: web.Request) -> web.Response:
        return web.Response(body=ROBOTS, content_type="text/plain")

    async def revision(request: web.Request) -> web.Response:
        state["revision"] = int(request.match_info["n"])
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get(r"/p{i:\d+}/", page)
    app.router.add_get("/robots.txt", robots)
    app.router.add_post(r"/_revision/{n:\d+}", revision)
    return app


async def serve(port: int, pages: int) -> None:
    runner = web.AppRunner(make_app(pages), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    print("PORT", site._server.sockets[0].getsockname()[1], flush=True)  # type: ignore[union-attr]
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--pages", type=int, default=2000)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.port, args.pages))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
