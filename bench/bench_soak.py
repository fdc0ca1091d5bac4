"""Soak benchmark of the daemon: many sync cycles over many local profiles, watching memory.

    .venv/bin/python bench/bench_soak.py [--profiles 500] [--cycles 200] [--change-every 20]

Starts the generated-homepage server (bench/pageserver.py), a webhook receiver that
verifies every delivery (bench/bench_webhooks.py's) and `profilesync run` with every
profile due each cycle (interval 1 s, one tick claims them all), lets it run `--cycles`
full cycles, editing every page every `--change-every` cycles (so that parses, diffs,
events and deliveries happen too), and samples the daemon's RSS from /proc. Prints RSS after
warm-up (cycle 5) and at the end, the growth between them, the peak, and the per-cycle
time. Targets (issue 6): growth <= 5%, peak <= 120 MB.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_crawl import start_server  # noqa: E402
from bench.bench_webhooks import RECEIVER, SECRET, free_port, wait_listening  # noqa: E402


def rss_mb(pid: int) -> tuple[float, float]:
    """Current and peak resident set size of a process, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def metric(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + " ")
               or line.startswith(name + "{"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=500)
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--change-every", type=int, default=20)
    args = parser.parse_args()
    server, port = start_server(args.profiles)
    receiver_port = free_port()
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(receiver_port), SECRET])
    wait_listening(receiver_port)
    with tempfile.TemporaryDirectory() as tmp:
        metrics_port = free_port()   # after the servers have theirs
        config = Path(tmp) / "soak.yaml"
        lines = ["crawl:", "  user_agent: 'profilesync-soak/1.0 (+https://example.org/contact)'",
                 "  concurrency: 16", "  per_host: 16", "  autothrottle: false", "profiles:"]
        for i in range(args.profiles):
            lines += [f"  - id: p{i}", "    interval: 1s", "    sources:", f"      - url: http://127.0.0.1:{port}/p{i}/"]
        lines += ["webhooks:", f"  - url: http://127.0.0.1:{receiver_port}/hook", f"    secret: {SECRET}",
                  "allow_cidrs: [127.0.0.0/8]"]
        lines += ["daemon:", "  tick: 0.2s", f"  batch: {args.profiles}", f"  listen: 127.0.0.1:{metrics_port}"]
        config.write_text("\n".join(lines) + "\n")
        daemon = subprocess.Popen([sys.executable, "-m", "sync.cli", "run", "--config", str(config),
                                   "--db", f"sqlite:///{tmp}/soak.db"], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=open(Path(tmp) / "daemon.log", "wb"))
        try:
            samples: list[tuple[int, float, float]] = []
            revision, started, warm_at = 0, time.perf_counter(), None
            syncs_name = "profilesync_source_syncs_total"
            while True:
                try:
                    done = metric(metrics_port, syncs_name)
                except OSError:
                    if daemon.poll() is not None:
                        raise SystemExit((Path(tmp) / "daemon.log").read_text()[-3000:]) from None
                    time.sleep(0.2)
                    continue
                cycle = int(done // args.profiles)
                if not samples or samples[-1][0] != cycle:
                    samples.append((cycle, *rss_mb(daemon.pid)))
                    if cycle == 5:
                        warm_at = time.perf_counter()
                    if cycle and cycle % args.change_every == 0 and cycle // args.change_every > revision:
                        revision = cycle // args.change_every
                        urllib.request.urlopen(urllib.request.Request(
                            f"http://127.0.0.1:{port}/_revision/{revision}", method="POST"))
                if cycle >= args.cycles:
                    break
                time.sleep(0.1)
            elapsed = time.perf_counter() - (warm_at or started)
            events = metric(metrics_port, "profilesync_events_total")
            delivered = metric(metrics_port, 'profilesync_deliveries{state="delivered"}')
        finally:
            daemon.terminate()
            daemon.wait(timeout=60)
            for process in (server, receiver):
                process.terminate()
                process.wait()
    warm = next(s for s in samples if s[0] >= 5)
    end = samples[-1]
    peak = max(s[2] for s in samples)
    print(f"{args.profiles} profiles x {args.cycles} cycles (pages edited every {args.change_every} cycles); "
          f"{events:.0f} events, {delivered:.0f} delivered to the webhook receiver")
    print(f"RSS after warm-up (cycle {warm[0]}): {warm[1]:.1f} MB; at the end (cycle {end[0]}): {end[1]:.1f} MB; "
          f"growth {100 * (end[1] - warm[1]) / warm[1]:+.1f}% (target <= 5%)")
    print(f"peak RSS {peak:.1f} MB (target <= 120 MB); per cycle {elapsed / max(1, end[0] - warm[0]):.2f} s "
          f"({args.profiles * max(1, end[0] - warm[0]) / elapsed:.0f} syncs/s)")


if __name__ == "__main__":
    main()
