"""``aibubble``: a thin command line over the package's functions.

Every failure the user can act on is an :class:`~analysis.errors.AIBubbleError`, printed as one
line with a non-zero exit code; tracebacks only with ``--debug``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from analysis import config
from analysis.errors import AIBubbleError, DataValidationError

EXIT_INTERRUPTED = 130


def _cmd_report(args: argparse.Namespace) -> int:
    from analysis import params as P
    from analysis.reporting.execute import run_notebook

    notebook = Path(args.notebook) if args.notebook else config.DEFAULT_BRIEFING
    overrides = {}
    if args.params:
        overrides.update(P.load_params_file(Path(args.params)))
    overrides.update(P.parse_assignments(args.p or []))
    if args.as_of:
        overrides["as_of"] = args.as_of
    if args.offline and "offline" in P.notebook_defaults(notebook):
        overrides["offline"] = True
    values = P.resolve(notebook, overrides)  # rejects bad names/values before any kernel starts
    run = run_notebook(notebook, values, as_of=values.get("as_of") or P.VALIDATORS["as_of"](""),
                       reports_root=Path(args.out) if args.out else None, cell_timeout=args.timeout)
    from analysis.reporting.batch import JobResult, append_history

    finished = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    append_history(run.folder.parent, [JobResult(run.job, run.as_of, "ok", run.duration_s, finished,
                                                 report=f"{run.as_of}/{run.html.name}", charts=run.chart_count,
                                                 metrics=run.metrics)])
    inside_repo = run.html.resolve().is_relative_to(config.ROOT)
    print(f"wrote {config.display_path(run.html) if inside_repo else run.html} "
          f"({run.chart_count} charts, {run.duration_s:.1f} s)")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from analysis.data.ledger import check_files, guess_dataset

    # Files are checked in groups of at most one per dataset (the cross-file rules pair a ledger
    # with its companies), so two ledgers given together are both checked, each on its own.
    groups: list[dict[str, Path]] = []
    if args.files:
        for name in args.files:
            path = Path(name)
            dataset = args.dataset or guess_dataset(path)
            if dataset is None:
                raise AIBubbleError(f"{path.name}: cannot tell which dataset this is; pass --dataset")
            group = next((g for g in groups if dataset not in g), None)
            if group is None:
                group = {}
                groups.append(group)
            group[dataset] = path
    else:
        groups.append(dict(config.DATASET_FILES))
    reports = [check_files(group) for group in groups]
    problems = [problem for report in reports for problem in report.problems]
    for problem in problems:
        print(problem)
    for note in (note for report in reports for note in report.notes):
        print(f"note: {note}")
    checked = ", ".join(config.display_path(p) for group in groups for p in group.values())
    if problems:
        print(f"{len(problems)} problem(s) in {checked}", file=sys.stderr)
        return 1
    print(f"ok: {checked}")
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    import pandas as pd

    from analysis.bubbles.sweep import sweep
    from analysis.data.market import load_universe
    from analysis.errors import MarketDataError

    universe = load_universe(args.tickers, as_of=args.as_of)
    if not universe.available:
        raise MarketDataError(f"{universe.status.banner}; fill the cache with aibubble fetch or import-prices")
    closes = universe.closes()
    benchmarks = set(universe.tickers.loc[universe.tickers["is_benchmark"].astype(bool), "ticker"])
    prices = {t: closes[t].dropna() for t in closes.columns if t not in benchmarks}
    market = closes[args.market].dropna() if args.market in closes else None
    result = sweep(prices, market, workers=args.workers, address=args.scheduler)
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(result.latest.to_string(index=False))
    for ticker, error in result.errors.items():
        print(f"error: {ticker}: {error}", file=sys.stderr)
    print(f"{len(prices)} tickers in {result.wall_seconds:.1f} s ({args.workers} worker(s)"
          f"{', scheduler ' + args.scheduler if args.scheduler else ''})")
    return 1 if len(result.errors) else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aibubble", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)

    report = sub.add_parser("report", help="run the bubble-risk briefing into reports/<as-of>/")
    report.add_argument("--as-of", help="report date YYYY-MM-DD (default: today)")
    report.add_argument("-p", action="append", metavar="NAME=VALUE", help="set a notebook parameter")
    report.add_argument("--params", metavar="FILE.yaml", help="YAML mapping of parameters")
    report.add_argument("--offline", action="store_true", help="never touch the network")
    report.add_argument("--out", metavar="DIR", help="reports folder (default: reports/)")
    report.add_argument("--notebook", help=argparse.SUPPRESS)
    report.add_argument("--timeout", type=int, default=900, help="per-cell timeout in seconds")
    report.set_defaults(func=_cmd_report)

    validate = sub.add_parser("validate", help="validate the curated datasets or given files")
    validate.add_argument("files", nargs="*", help="CSV files (default: all bundled datasets)")
    validate.add_argument("--dataset", help="schema to use for the files (default: from the name)")
    validate.set_defaults(func=_cmd_validate)

    from analysis.data.market_cli import add_fetch_parser, add_import_prices_parser

    add_fetch_parser(sub)
    add_import_prices_parser(sub)

    from analysis.data.import_cli import add_import_parser
    from analysis.reporting.batch_cli import add_run_parser

    add_import_parser(sub)
    add_run_parser(sub)

    sweep = sub.add_parser("sweep", help="PSY date-stamping, LPPLS confidence and run-up flags for every cached ticker")
    sweep.add_argument("--tickers", nargs="+", help="default: every ticker in data/tickers.csv")
    sweep.add_argument("--as-of", help="cut the data at this date (default: today)")
    sweep.add_argument("--market", default="SPY", help="benchmark for the run-up rule (default SPY)")
    sweep.add_argument("--workers", type=int, default=1, help="local worker processes")
    sweep.add_argument("--scheduler", metavar="ADDRESS", help="an existing Dask scheduler, e.g. tcp://host:8786")
    sweep.set_defaults(func=_cmd_sweep)
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
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
