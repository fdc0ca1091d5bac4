"""`profilesync run` end to end: the daemon as a subprocess, a loopback site it syncs, and
a loopback receiver that verifies every delivery with the official `standardwebhooks`
package. One scenario, in the order a user lives it: quiet baseline, an edit arrives as
signed events, the receiver goes down and comes back, the daemon is killed -9 in the
middle of a delivery and restarted, and SIGTERM ends it cleanly."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.sites import SiteServer
from tests.test_webhooks import SECRET, Receiver

REPO = Path(__file__).resolve().parents[1]
SEED_002 = REPO / "tests/corpus/seeds/002_866f84e71c73bd1c/page.md"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check: Callable[[], object], timeout: float = 30.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class DaemonProcess:
    def __init__(self, config: Path, db: str, port: int, log: Path) -> None:
        self.args = [sys.executable, "-m", "sync.cli", "--log-json", "run", "--config", str(config), "--db", db]
        self.port, self.log = port, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.args, cwd=REPO, stdout=subprocess.DEVNULL,
                                     stderr=self.log.open("ab"), env={**os.environ})
        wait_for("the daemon's /healthz", self.healthy)

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as r:
                return json.load(r)["status"] == "ok"
        except OSError:
            return False

    def metric(self, name: str) -> float:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=2) as r:
            text = r.read().decode()
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


@pytest.fixture
def world(tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(SEED_002, site / "about.md")
    receiver = Receiver()
    port = free_port()
    with SiteServer(site) as server:
        config = tmp_path / "profiles.yaml"
        config.write_text(f"""
crawl:
  user_agent: "profilesync-tests/1.0 (+https://example.org/contact)"
  autothrottle: false
  retries: 0
profiles:
  - id: lei-li
    interval: 2s
    sources:
      - url: {server.url('about.md')}
webhooks:
  - url: {receiver.url('/hooks')}
    secret: {SECRET}
allow_cidrs: [127.0.0.0/8]
daemon:
  tick: 0.3s
  listen: 127.0.0.1:{port}
  poll: 0.2s
  retry_base: 0.3s
  shutdown_grace: 5s
""")
        daemon = DaemonProcess(config, f"sqlite:///{tmp_path / 'store.db'}", port, tmp_path / "daemon.log")
        yield site / "about.md", receiver, daemon
        if daemon.proc and daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait()
    receiver.close()


def add_paper(page: Path, title: str) -> None:
    text = page.read_text()
    page.write_text(text.replace("Selected Publication\n======\n\n",
                                 f"Selected Publication\n======\n\n* **{title}**  \n  **Lei Li**, Qi Liu  \n"
                                 f"  ***NeurIPS 2024***\n\n"))


def delivered(receiver: Receiver, event_type: str) -> list[dict]:
    return [r["payload"] for r in receiver.received if r["payload"]["type"] == event_type]


def test_daemon_syncs_signs_retries_survives_kill_and_stops_cleanly(world):
    page, receiver, daemon = world
    daemon.start()

    # Baseline: the first sync stores the page and says nothing.
    wait_for("the first sync", lambda: daemon.metric('profilesync_source_syncs_total{status="fetched"}') >= 1)
    wait_for("a second (304) sync", lambda: daemon.metric('profilesync_source_syncs_total{status="not_modified"}') >= 1)
    assert receiver.received == []

    # An edit arrives, signed, within an interval or two.
    add_paper(page, "A Paper the Daemon Should Announce")
    wait_for("paper.added", lambda: delivered(receiver, "paper.added"), timeout=15)
    (event,) = delivered(receiver, "paper.added")
    assert event["data"]["title"] == "A Paper the Daemon Should Announce" and event["profile"] == "lei-li"
    assert receiver.rejected == []

    # Receiver down: attempts back off; receiver up: the same event id is delivered.
    receiver.default_status = 503
    add_paper(page, "A Paper Sent While the Receiver Is Down")
    wait_for("three failed attempts", lambda: len(delivered(receiver, "paper.added")) >= 4, timeout=20)
    attempts = [r for r in receiver.received if r["payload"]["data"].get("title", "").endswith("Is Down")]
    stamps = [int(r["headers"]["webhook-timestamp"]) for r in attempts]
    assert len({r["payload"]["id"] for r in attempts}) == 1
    receiver.default_status = 200
    count = len(attempts)
    wait_for("the retry that succeeds", lambda: len([r for r in receiver.received
                                                     if r["payload"]["data"].get("title", "").endswith("Is Down")])
             > count, timeout=20)
    assert stamps == sorted(stamps)

    # kill -9 in the middle of a delivery, restart: nothing is lost (same id again is fine).
    receiver.delay_s = 30
    add_paper(page, "A Paper Delivered Across a Crash")
    wait_for("the delivery in flight", lambda: [r for r in receiver.received
                                                 if r["payload"]["data"].get("title", "").endswith("Crash")], timeout=15)
    in_flight_id = next(r["payload"]["id"] for r in receiver.received
                        if r["payload"]["data"].get("title", "").endswith("Crash"))
    daemon.proc.send_signal(signal.SIGKILL)
    daemon.proc.wait()
    receiver.delay_s = 0
    before = len(receiver.received)
    daemon.start()
    wait_for("redelivery after restart", lambda: any(r["payload"]["id"] == in_flight_id
                                                     for r in receiver.received[before:]), timeout=20)
    assert receiver.rejected == []

    # SIGTERM: a clean exit, quickly.
    started = time.monotonic()
    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=20) == 0
    assert time.monotonic() - started < 15
    log = daemon.log.read_text()
    assert "Traceback" not in log and SECRET not in log
    assert '"msg": "profilesync daemon stopped"' in log
