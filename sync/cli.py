"""The `profilesync` command line (see DESIGN.md, "CLI contract").

Exit status: 0 when everything worked, 1 when a source failed, 2 for bad usage,
configuration or unreadable input.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="profilesync", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (repeatable)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("parse", help="parse a page (file or URL) and print its records as JSON")
    p.add_argument("target", metavar="TARGET", help="a file path or an http(s) URL")
    p.add_argument("--base-url", help="the public URL the file is served at (resolves relative links)")
    p.add_argument("--format", help="skip detection and use this parser")
    p.set_defaults(func=cmd_parse)
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
