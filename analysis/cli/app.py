"""The ``aibubble`` parser and dispatcher.

Every failure the user can act on is an :class:`~analysis.errors.AIBubbleError`, printed as one
line with a non-zero exit code; tracebacks only with ``--debug``.
"""

from __future__ import annotations

import argparse
import sys

from analysis.cli import data, market, reports
from analysis.errors import AIBubbleError, DataValidationError, os_error_message

EXIT_INTERRUPTED = 130
EXIT_OS_ERROR = 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aibubble", description="AI bubble-risk workbook: reports, data, market data")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    reports.add_report_parser(sub)
    data.add_validate_parser(sub)
    market.add_fetch_parser(sub)
    market.add_import_prices_parser(sub)
    data.add_import_parser(sub)
    reports.add_run_parser(sub)
    market.add_sweep_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    return dispatch(build_parser().parse_args(argv))


def dispatch(args: argparse.Namespace) -> int:
    """Run a parsed command: errors the user can act on become one line and an exit code."""
    try:
        return args.func(args)
    except DataValidationError as exc:
        if args.debug:
            raise
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return exc.exit_code
    except AIBubbleError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:  # read-only, not a folder, disk full, permissions: the path and the fix
        if args.debug:
            raise
        print(f"error: {os_error_message(exc)}", file=sys.stderr)
        return EXIT_OS_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
