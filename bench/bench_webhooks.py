"""Outbox delivery throughput: Store.apply events -> Dispatcher -> a verifying receiver.

    .venv/bin/python bench/bench_webhooks.py [--profiles 100] [--papers 10]

The receiver (aiohttp, verifying every signature with standardwebhooks) runs in its own
process on 127.0.0.1, so that it does not share the dispatcher's GIL. The store is SQLite
in a temporary directory; each delivery costs its share of a claim and one transaction.
"""
from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime

from crawler.jobs import FetchResult, FetchStatus
from crawler.records import PageRecords, Publication, SourceInfo
from storage.store import EndpointSpec, ProfileSpec, SourceSpec, Store
from sync.webhooks import Dispatcher

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
RECEIVER = """
import sys
from aiohttp import web
from standardwebhooks.webhooks import Webhook
webhook = Webhook(sys.argv[2])
async def hook(request):
    webhook.verify(await request.read(), dict(request.headers))
    return web.Response(text="ok")
app = web.Application()
app.router.add_post("/hook", hook)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, backlog=512)
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit("the receiver did not start")


def fill(store: Store, profiles: int, papers: int) -> None:
    """A baseline then `papers` added papers per profile: profiles x papers events."""
    store.upsert_profiles([ProfileSpec(f"p{i}", None, 3600, (SourceSpec(f"https://p{i}.example.org/",
                                                                        f"https://p{i}.example.org/"),))
                           for i in range(profiles)])
    for job in store.jobs():
        for titles in (["Baseline"], ["Baseline"] + [f"Paper {k} on topic {k * 7}" for k in range(papers)]):
            records = PageRecords(SourceInfo(job.url), publications=[Publication(t, ["A. B."]) for t in titles])
            store.apply(FetchResult(job.source_id, job.url, FetchStatus.FETCHED, datetime.now(UTC), records=records))


async def deliver_all(store: Store) -> int:
    attempted, dispatcher = 0, Dispatcher(store, allow_cidrs=["127.0.0.0/8"])
    while n := await dispatcher.drain():
        attempted += n
    return attempted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=100)
    parser.add_argument("--papers", type=int, default=10)
    args = parser.parse_args()
    port = free_port()
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(port), SECRET])
    try:
        wait_listening(port)
        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(f"sqlite:///{tmp}/bench.db")
            store.upsert_endpoints([EndpointSpec("bench", f"http://127.0.0.1:{port}/hook", SECRET)])
            fill(store, args.profiles, args.papers)
            started = time.monotonic()
            attempted = asyncio.run(deliver_all(store))
            elapsed = time.monotonic() - started
            stats = store.outbox_stats()
            store.close()
        print(f"{attempted} attempts in {elapsed:.2f} s = {attempted / elapsed:.0f} deliveries/s; "
              f"delivered {stats['delivered']:.0f}, pending {stats['pending']:.0f}, dead {stats['dead']:.0f}")
    finally:
        receiver.terminate()
        receiver.wait()


if __name__ == "__main__":
    main()
