"""Crawl benchmark: `profilesync crawl` over generated homepages served on 127.0.0.1,
beside a plain Scrapy + BeautifulSoup spider on the same pages in the same run.

    .venv/bin/python bench/bench_crawl.py [--pages 2000] [--concurrency 16]

Measures, each as a whole process (start-up, config, store and all):
  - full crawl: fetch + parse + diff + store of every page (first sync: the baseline),
  - unchanged re-sync: the same again with nothing changed (conditional requests: 304s),
  - changed re-sync: every page edited (one news item, one paper more): events written,
and the baseline spider's crawl of the same pages (it has no incremental mode: its
re-sync costs what its crawl costs), and the same spider parsing nothing: Scrapy's own
cost per page, a ceiling for any crawl through it. Peak RSS is each process's own maximum.
Targets (issue 4): full crawl >= 6x the baseline; unchanged re-sync >= 400 pages/s with
>= 95% 304s and zero parses; peak RSS <= 120 MB.
"""
from __future__ import annotations

import argparse
import compileall
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    stdout: str


def timed(cmd: list[str], cwd: Path = ROOT) -> Run:
    """Run a command; wall time and the child's own peak RSS (wait4)."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        stderr = proc.stderr.read().decode() if proc.stderr else ""
        out.seek(0)
        stdout = out.read().decode()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd[:4])} failed ({proc.returncode}):\n{stderr[-2000:]}")
    return Run(seconds, usage.ru_maxrss / 1024, stdout)


def start_server(pages: int) -> tuple[subprocess.Popen[str], int]:
    server = subprocess.Popen([sys.executable, "-m", "bench.pageserver", "--pages", str(pages)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    line = server.stdout.readline() if server.stdout else ""
    if not line.startswith("PORT"):
        raise SystemExit("the page server did not start")
    return server, int(line.split()[1])


def write_config(path: Path, urls: list[str], concurrency: int) -> None:
    lines = ["crawl:", "  user_agent: 'profilesync-bench/1.0 (+https://example.org/contact)'",
             f"  concurrency: {concurrency}", f"  per_host: {concurrency}", "  autothrottle: false",
             "  retries: 1", "profiles:"]
    for i, url in enumerate(urls):
        lines += [f"  - id: p{i}", "    interval: 1d", "    sources:", f"      - url: {url}"]
    path.write_text("\n".join(lines) + "\n")


def ours(config: Path, db: str) -> tuple[Run, dict[str, int], int, int]:
    run = timed([sys.executable, "-m", "sync.cli", "crawl", "--config", str(config), "--db", db, "--json"])
    report = json.loads(run.stdout)
    statuses: dict[str, int] = {}
    for source in report["sources"]:
        statuses[source["status"]] = statuses.get(source["status"], 0) + 1
    parsed = sum(1 for s in report["sources"] if s["records"] is not None)
    errors = sorted({s["error"].split(": ", 1)[-1] for s in report["sources"] if s["error"]})
    if errors:
        print(f"  {len(errors)} kinds of failure, e.g.: {errors[:3]}", file=sys.stderr)
    return run, statuses, parsed, len(report["events"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    # Byte-compiled as `pip install` leaves an installed copy: a checkout run with
    # PYTHONDONTWRITEBYTECODE would otherwise recompile our modules in every measured
    # process (~0.6 s each, a tenth of an unchanged re-sync).
    for package in ("crawler", "sync", "storage", "bench"):
        compileall.compile_dir(ROOT / package, quiet=1)
    server, port = start_server(args.pages)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            urls = [f"http://127.0.0.1:{port}/p{i}/" for i in range(args.pages)]
            (Path(tmp) / "urls.txt").write_text("\n".join(urls))
            config = Path(tmp) / "bench.yaml"
            write_config(config, urls, args.concurrency)
            db = f"sqlite:///{tmp}/bench.db"

            spider = [sys.executable, "-m", "bench.baseline_spider", str(Path(tmp) / "urls.txt"), str(args.concurrency)]
            base = timed(spider)
            base_items = base.stdout.split()
            fetch_only = timed([*spider, "--fetch-only"])
            full, full_status, full_parsed, _ = ours(config, db)
            same, same_status, same_parsed, same_events = ours(config, db)
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/_revision/1", method="POST"))
            changed, changed_status, changed_parsed, changed_events = ours(config, db)
    finally:
        server.terminate()
        server.wait()

    n = args.pages
    base_rate = n / base.seconds
    rows = [
        ("baseline Scrapy + BeautifulSoup", base, base_rate, f"{base_items[1:]} pages/news/papers parsed"),
        ("Scrapy fetch only (ceiling)", fetch_only, n / fetch_only.seconds,
         f"{fetch_only.stdout.split()[1:2]} pages fetched, nothing parsed or stored"),
        ("profilesync full crawl", full, n / full.seconds, f"{full_status}, {full_parsed} parsed"),
        ("profilesync unchanged re-sync", same, n / same.seconds,
         f"{same_status}, {same_parsed} parsed, {same_events} events"),
        ("profilesync changed re-sync", changed, n / changed.seconds,
         f"{changed_status}, {changed_parsed} parsed, {changed_events} events"),
    ]
    print(f"{n} generated homepages (~40 KB, 20 news, 40 papers), 127.0.0.1, concurrency {args.concurrency}")
    print(f"{'run':<34} {'seconds':>8} {'pages/s':>9} {'vs base':>8} {'peak RSS':>9}  detail")
    for name, run, rate, detail in rows:
        print(f"{name:<34} {run.seconds:>8.2f} {rate:>9.1f} {rate / base_rate:>7.1f}x {run.peak_rss_mb:>6.0f} MB  {detail}")
    not_modified = same_status.get("not_modified", 0) / n
    print(f"targets: full >= 6x baseline: {n / full.seconds / base_rate:.1f}x; unchanged >= 400 pages/s: "
          f"{n / same.seconds:.0f}; 304 share >= 95%: {not_modified:.1%}; zero parses: {same_parsed == 0}; "
          f"peak RSS <= 120 MB: {max(full.peak_rss_mb, same.peak_rss_mb, changed.peak_rss_mb):.0f} MB")


if __name__ == "__main__":
    main()
