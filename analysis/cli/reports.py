"""``aibubble report`` and ``aibubble run``: both go through :func:`analysis.reporting.runner.run_batch`
(``report`` is a batch of one job), so staging, the lock, timeouts, the index and history are
the same for both."""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis import config


def cmd_report(args: argparse.Namespace) -> int:
    from analysis import params as P
    from analysis.errors import NotebookExecutionError, OutputError, ParameterError
    from analysis.reporting.jobs import BatchConfig, report_job
    from analysis.reporting.progress import QuietProgress
    from analysis.reporting.runner import run_batch

    notebook = Path(args.notebook) if args.notebook else config.DEFAULT_BRIEFING
    if not notebook.is_file():
        raise ParameterError(f"--notebook: file not found: {notebook.name}")
    overrides = {}
    if args.params:
        overrides.update(P.load_params_file(Path(args.params)))
    overrides.update(P.parse_assignments(args.p or []))
    if args.as_of:
        overrides["as_of"] = args.as_of
    if args.offline and "offline" in P.notebook_defaults(notebook):
        overrides["offline"] = True
    # Parameters are resolved here, once, before any kernel starts; the runner never re-parses them.
    job = report_job(notebook, overrides, cell_timeout=args.timeout)
    as_of = job.parameters.get("as_of") or P.VALIDATORS["as_of"]("")
    root = Path(args.out) if args.out else config.reports_dir()
    batch = BatchConfig(None, as_of, (job,), command=f"aibubble report {job.name}")
    result = run_batch(batch, root, wait=not args.no_wait, progress=QuietProgress()).results[0]
    if not result.ok:
        raise (OutputError if result.exit_code == OutputError.exit_code else NotebookExecutionError)(result.error)
    html = root / result.report
    inside_repo = html.resolve().is_relative_to(config.ROOT)
    print(f"wrote {config.display_path(html) if inside_repo else html} "
          f"({result.charts} charts, {result.duration_s:.1f} s)")
    return 0


def add_report_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``report``: the bubble-risk briefing (or ``--notebook``) into ``reports/<as-of>/``."""
    report = subparsers.add_parser(
        "report", help="run the bubble-risk briefing into reports/<as-of>/",
        description="Run the briefing into reports/<as-of>/bubble-risk.html. Exit 0 ok, 1 the report could not "
                    "be written (disk full, permissions), 2 bad parameters or --out, 3 the notebook failed or "
                    "timed out, 75 the reports folder is busy and --no-wait was given.")
    report.add_argument("--as-of", help="report date YYYY-MM-DD (default: today)")
    report.add_argument("-p", action="append", metavar="NAME=VALUE", help="set a notebook parameter")
    report.add_argument("--params", metavar="FILE.yaml", help="YAML mapping of parameters")
    report.add_argument("--offline", action="store_true", help="never touch the network")
    report.add_argument("--out", metavar="DIR", help="reports folder (default: reports/)")
    report.add_argument("--notebook", help=argparse.SUPPRESS)
    report.add_argument("--timeout", type=int, default=900, help="per-cell timeout in seconds (default 900)")
    report.add_argument("--no-wait", action="store_true",
                        help="exit (code 75) instead of waiting when another run holds the reports folder")
    report.set_defaults(func=cmd_report)
    return report


def cmd_run(args: argparse.Namespace) -> int:
    from analysis.errors import ParameterError
    from analysis.reporting.jobs import load_config
    from analysis.reporting.runner import run_batch

    # Everything is validated here, before the lock is taken or any kernel starts.
    batch = load_config(Path(args.config), as_of=args.as_of, only=args.only)
    if args.workers < 1:
        raise ParameterError(f"--workers: {args.workers} must be at least 1")
    result = run_batch(batch, reports_root=Path(args.out) if args.out else None, workers=args.workers,
                       scheduler=args.scheduler, keep=args.keep, wait=not args.no_wait)
    print(result.table(), flush=True)
    return result.exit_code


def add_run_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``run``: a batch of report jobs from a YAML config."""
    run = subparsers.add_parser(
        "run", help="run a batch of report jobs from a YAML config into reports/<as-of>/",
        description="Run named notebook jobs (reports.yaml) into reports/<as-of>/, update the index and "
                    "reports/history.csv. Exit 0 if every job succeeded, 3 if any failed or timed out, 1 if a "
                    "report could not be written (disk full, permissions), 2 for a bad config or --out, 75 if "
                    "the reports folder is busy and --no-wait was given.")
    run.add_argument("config", metavar="CONFIG.yaml", help="batch config (see reports.yaml)")
    run.add_argument("--only", nargs="+", action="extend", metavar="NAME", help="run only these jobs (names or patterns like 'domain-*')")
    run.add_argument("--workers", type=int, default=1, metavar="N", help="local job processes at a time (default 1)")
    run.add_argument("--scheduler", metavar="ADDRESS", help="run the jobs on a Dask cluster, e.g. tcp://host:8786")
    run.add_argument("--keep", type=int, metavar="N", help="keep the N newest as-of folders (after a fully successful run)")
    run.add_argument("--as-of", help="report date YYYY-MM-DD for every job (default: today)")
    run.add_argument("--no-wait", action="store_true", help="exit (code 75) instead of waiting when another run is active")
    run.add_argument("--out", metavar="DIR", help="reports folder (default: reports/)")
    run.set_defaults(func=cmd_run)
    return run
