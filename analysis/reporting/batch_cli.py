"""``aibubble run CONFIG.yaml``: the command-line layer over :mod:`analysis.reporting.batch`.

Wire it in ``analysis/cli.py`` with ``add_run_parser(sub)`` inside ``build_parser``; errors are
:class:`~analysis.errors.AIBubbleError` subclasses, so ``main`` prints them as one line.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _cmd_run(args: argparse.Namespace) -> int:
    from analysis.reporting import batch

    # Everything is validated here, before the lock is taken or any kernel starts.
    config = batch.load_config(Path(args.config), as_of=args.as_of, only=args.only)
    if args.workers < 1:
        from analysis.errors import ParameterError

        raise ParameterError(f"--workers: {args.workers} must be at least 1")
    result = batch.run_batch(config, reports_root=Path(args.out) if args.out else None, workers=args.workers,
                             scheduler=args.scheduler, keep=args.keep, wait=not args.no_wait)
    print(result.table(), flush=True)
    return result.exit_code


def add_run_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``run`` sub-command to ``aibubble``'s sub-parsers; returns the new parser."""
    run = subparsers.add_parser(
        "run", help="run a batch of report jobs from a YAML config into reports/<as-of>/",
        description="Run named notebook jobs (reports.yaml) into reports/<as-of>/, update the index and "
                    "reports/history.csv. Exit 0 if every job succeeded, 3 if any failed or timed out, "
                    "2 for a bad config, 75 if the reports folder is busy and --no-wait was given.")
    run.add_argument("config", metavar="CONFIG.yaml", help="batch config (see reports.yaml)")
    run.add_argument("--only", nargs="+", action="extend", metavar="NAME", help="run only these jobs (names or patterns like 'domain-*')")
    run.add_argument("--workers", type=int, default=1, metavar="N", help="local job processes at a time (default 1)")
    run.add_argument("--scheduler", metavar="ADDRESS", help="run the jobs on a Dask cluster, e.g. tcp://host:8786")
    run.add_argument("--keep", type=int, metavar="N", help="keep the N newest as-of folders (after a fully successful run)")
    run.add_argument("--as-of", help="report date YYYY-MM-DD for every job (default: today)")
    run.add_argument("--no-wait", action="store_true", help="exit (code 75) instead of waiting when another run is active")
    run.add_argument("--out", metavar="DIR", help="reports folder (default: reports/)")
    run.set_defaults(func=_cmd_run)
    return run


def main(argv: list[str] | None = None) -> int:
    """``python -m analysis.reporting.batch_cli CONFIG.yaml ...``: the same command before it is
    wired into ``aibubble`` (and for tests that need a separate process)."""
    import sys

    from analysis.cli import dispatch

    parser = argparse.ArgumentParser(prog="aibubble")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    add_run_parser(parser.add_subparsers(dest="command", required=True))
    return dispatch(parser.parse_args(["run", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":
    raise SystemExit(main())
