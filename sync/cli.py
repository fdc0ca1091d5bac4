"""The `profilesync` command line (see DESIGN.md, "CLI contract").

Exit status: 0 when everything worked, 1 when a source failed, 2 for bad usage,
configuration or unreadable input.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad usage, configuration or input: printed as one line, exit status 2."""


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def cmd_parse(args: argparse.Namespace) -> int:
    from crawler import loader
    from crawler.parsers import ParseError, parse_resource

    try:
        entry = loader.load_target(args.target)
    except loader.LoadError as exc:
        raise UsageError(str(exc)) from None
    try:
        records = parse_resource(entry, loader.fetch, base_url=args.base_url, format=args.format)
    except ValueError as exc:  # unknown --format
        raise UsageError(str(exc)) from None
    except ParseError as exc:
        raise UsageError(str(exc)) from None
    for warning in records.warnings:
        _warn(warning)
    json.dump(records.to_dict(), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")
    return EXIT_OK


# ---- webhooks: `profilesync webhooks test|replay` ------------------------------------------

def database_url(args: argparse.Namespace) -> str:
    """--db, else PROFILESYNC_DB (DESIGN.md's per-user default comes with sync/config.py)."""
    url = getattr(args, "db", None) or os.environ.get("PROFILESYNC_DB")
    if not url:
        raise UsageError("no database: pass --db URL or set PROFILESYNC_DB")
    return url


def _since(value: str | None) -> str | datetime | None:
    """--since: an event id, or an ISO time (UTC unless it says otherwise)."""
    if not value or value.startswith("evt_"):
        return value
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--since {value!r} is neither an event id (evt_...) nor an ISO time") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def cmd_webhooks_test(args: argparse.Namespace) -> int:
    from sync import webhooks

    secret = args.secret or os.environ.get("PROFILESYNC_WEBHOOK_SECRET")
    if not secret:
        raise UsageError("no secret: pass --secret whsec_... or set PROFILESYNC_WEBHOOK_SECRET")
    try:
        webhooks.secret_key(secret)
        webhooks.parse_cidrs(args.allow_cidr)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    event, outcome = asyncio.run(webhooks.send_test_event(args.url, secret, allow_cidrs=args.allow_cidr,
                                                          timeout_s=args.timeout))
    took = f"{outcome.elapsed_s * 1000:.0f} ms"
    if outcome.ok:
        print(f"delivered {event.id} to {webhooks.display_url(args.url)}: HTTP {outcome.status} in {took}")
        return EXIT_OK
    print(f"failed {event.id} after {took}: {outcome.error}")
    return EXIT_FAILED


def cmd_webhooks_replay(args: argparse.Namespace) -> int:
    from storage.store import Store

    store = Store.open(database_url(args))
    try:
        count = store.replay(since=_since(args.since), dead_only=args.dead)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None
    finally:
        store.close()
    print(f"re-queued {count} {'dead ' if args.dead else ''}deliver{'y' if count == 1 else 'ies'}")
    return EXIT_OK


def add_webhooks_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    hooks = commands.add_parser("webhooks", help="test a webhook receiver, replay deliveries")
    sub = hooks.add_subparsers(dest="webhooks_command", required=True, metavar="ACTION")
    p = sub.add_parser("test", help="send a signed webhook.test event to URL and print the outcome")
    p.add_argument("url", metavar="URL")
    p.add_argument("--secret", help="whsec_<base64> (better: env PROFILESYNC_WEBHOOK_SECRET, "
                                    "which other users cannot read in the process list)")
    p.add_argument("--allow-cidr", action="append", default=[], metavar="CIDR",
                   help="allow a private target in this network (repeatable), e.g. 127.0.0.0/8")
    p.add_argument("--timeout", type=float, default=15.0, metavar="SECONDS")
    p.set_defaults(func=cmd_webhooks_test)
    p = sub.add_parser("replay", help="queue deliveries again (same event ids) and print how many")
    p.add_argument("--db", metavar="URL", help="database URL (default: env PROFILESYNC_DB)")
    p.add_argument("--since", metavar="ID|TIME", help="only events after this event id, or since this ISO time")
    p.add_argument("--dead", action="store_true", help="only dead-lettered deliveries (default: dead and delivered)")
    p.set_defaults(func=cmd_webhooks_replay)

# ---- end of webhooks -----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="profilesync", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (repeatable)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("parse", help="parse a page (file or URL) and print its records as JSON")
    p.add_argument("target", metavar="TARGET", help="a file path or an http(s) URL")
    p.add_argument("--base-url", help="the public URL the file is served at (resolves relative links)")
    p.add_argument("--format", help="skip detection and use this parser")
    p.set_defaults(func=cmd_parse)

    add_webhooks_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=(logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)],
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except UsageError as exc:
        print(f"profilesync: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `profilesync parse x | head`
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
