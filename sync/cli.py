"""The `profilesync` command line (see DESIGN.md, "CLI contract").

Exit status: 0 when everything worked, 1 when a source failed, 2 for bad usage,
configuration or unreadable input.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.store import Event, ProfileState, Store

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


# ==============================================================================================
# Store commands: `events`, `profiles`, `db upgrade`, and the database URL every command uses.
# ==============================================================================================

def database_url(arg: str | None, config_db: str | None = None) -> str:
    """The database: --db, else $PROFILESYNC_DB, else the config's `database`, else a SQLite
    file in the user's data directory (so that `crawl --url` twice works with no setup)."""
    for url in (arg, os.environ.get("PROFILESYNC_DB"), config_db):
        if url:
            return url
    import platformdirs

    return f"sqlite:///{Path(platformdirs.user_data_dir('profilesync')) / 'profilesync.db'}"


def open_store(url: str) -> Store:
    """The store at `url`, migrated; an unusable URL or an unreachable server is a UsageError."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from storage.store import Store

    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        raise UsageError(f"not a database URL: {url!r} (e.g. sqlite:///profilesync.db, "
                         "postgresql+psycopg://user@host/db)") from None
    try:
        return Store.open(url)
    except (SQLAlchemyError, OSError) as exc:
        cause = getattr(exc, "orig", None) or exc
        first_line = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        raise UsageError(f"cannot open database {shown}: {first_line}") from None


def _since(value: str | None) -> str | datetime | None:
    """--since: an event id, or an ISO time (UTC unless it says otherwise)."""
    if value is None or value.startswith("evt_"):
        return value
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--since {value!r}: expected an event id (evt_...) or an ISO time "
                         "(2026-11-22, 2026-11-22T10:00:00Z)") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _types(patterns: Sequence[str]) -> list[str]:
    """--type values, each of which must name or match an event type (a typo is an error, not silence)."""
    from fnmatch import fnmatchcase

    from storage.diff import EVENT_TYPES

    for pattern in patterns:
        if not any(fnmatchcase(t, pattern) for t in EVENT_TYPES):
            raise UsageError(f"--type {pattern!r} matches no event type; known: {', '.join(EVENT_TYPES)}")
    return list(patterns)


def _iso(when: datetime | None) -> str | None:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


def _summary(event: Event) -> str:
    """One line for a person: what the event is about, and what changed."""
    data = event.data
    about = data.get("title") or data.get("text") or data.get("error") or data.get("url") or ""
    changes = data.get("changes") or {}
    if changes:
        shown = "; ".join(f"{field}: {_short(old)} -> {_short(new)}" for field, (old, new) in changes.items())
        about = f"{about} ({shown})" if about else shown
    return str(about)


def _short(value: Any, width: int = 40) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[:width - 1] + "…"


def cmd_events(args: argparse.Namespace) -> int:
    since, types = _since(args.since), _types(args.type or ())
    store = open_store(database_url(args.db))
    try:
        events = store.events(since=since, types=types, profile=args.profile, limit=args.limit)
    except KeyError as exc:   # an unknown event id
        raise UsageError(f"--since: {exc.args[0]}") from None
    finally:
        store.close()
    if args.json:
        for event in events:
            sys.stdout.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(events)} events")
    for name in ("time", "type", "profile"):
        table.add_column(name, no_wrap=True)
    table.add_column("what", ratio=1)
    table.add_column("id", no_wrap=True)
    for event in events:
        table.add_row(_iso(event.occurred_at), event.type, event.profile, _summary(event), event.id)
    Console().print(table)
    return EXIT_OK


def _profile_dict(profile: ProfileState) -> dict[str, Any]:
    return {"id": profile.id, "name": profile.name, "interval_s": profile.interval_s,
            "sources": [{"key": s.key, "url": s.url, "format": s.format, "enabled": s.enabled,
                         "records": s.records, "last_success_at": _iso(s.last_success_at),
                         "last_failure_at": _iso(s.last_failure_at), "last_error": s.last_error,
                         "consecutive_failures": s.consecutive_failures, "next_due_at": _iso(s.next_due_at)}
                        for s in profile.sources]}


def cmd_profiles(args: argparse.Namespace) -> int:
    store = open_store(database_url(args.db))
    try:
        profiles = [_profile_dict(p) for p in store.profile_states()]
    finally:
        store.close()
    if args.json:
        for profile in profiles:
            sys.stdout.write(json.dumps(profile, ensure_ascii=False) + "\n")
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    table = Table("profile", "source", "records", "last success", "last failure", "failures", "next due",
                  title=f"{len(profiles)} profiles")
    for profile in profiles:
        for i, src in enumerate(profile["sources"] or [{}]):
            table.add_row(profile["id"] if i == 0 else "",
                          (src.get("key") or "(no sources)") + ("" if src.get("enabled", True) else " (disabled)"),
                          str(src.get("records", "")), src.get("last_success_at") or "-",
                          src.get("last_failure_at") or "-", str(src.get("consecutive_failures", "")),
                          src.get("next_due_at") or "-")
    Console().print(table)
    return EXIT_OK


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from alembic.migration import MigrationContext
    from sqlalchemy.engine import make_url

    url = database_url(args.db)
    store = open_store(url)   # opening migrates to the newest revision
    try:
        with store.engine.connect() as conn:
            revision = MigrationContext.configure(conn).get_current_revision()
    finally:
        store.close()
    print(f"{make_url(url).render_as_string(hide_password=True)}: schema at revision {revision}")
    return EXIT_OK


def add_store_commands(commands: Any) -> None:
    """Register `events`, `profiles` and `db upgrade` on the sub-command parser."""
    db_help = "database URL (default: $PROFILESYNC_DB, else a SQLite file in the user data directory)"

    p = commands.add_parser("events", help="list stored events, oldest first")
    p.add_argument("--db", help=db_help)
    p.add_argument("--since", metavar="ID|TIME", help="events after this event id, or at/after this ISO time")
    p.add_argument("--type", nargs="+", action="extend", metavar="T",
                   help="only these types; patterns allowed (paper.*); repeatable")
    p.add_argument("--profile", metavar="ID", help="only this profile's events")
    p.add_argument("--limit", type=int, metavar="N", help="at most N events (the oldest matching)")
    p.add_argument("--json", action="store_true", help="one event JSON per line, as webhooks receive it")
    p.set_defaults(func=cmd_events)

    p = commands.add_parser("profiles", help="profiles and the state of their sources")
    p.add_argument("--db", help=db_help)
    p.add_argument("--json", action="store_true", help="one profile JSON per line")
    p.set_defaults(func=cmd_profiles)

    p = commands.add_parser("db", help="database maintenance")
    db_commands = p.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    p = db_commands.add_parser("upgrade", help="bring the schema to the newest revision")
    p.add_argument("--db", help=db_help)
    p.set_defaults(func=cmd_db_upgrade)

# ============================================================================ end store commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="profilesync", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (repeatable)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("parse", help="parse a page (file or URL) and print its records as JSON")
    p.add_argument("target", metavar="TARGET", help="a file path or an http(s) URL")
    p.add_argument("--base-url", help="the public URL the file is served at (resolves relative links)")
    p.add_argument("--format", help="skip detection and use this parser")
    p.set_defaults(func=cmd_parse)
    add_store_commands(commands)
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
