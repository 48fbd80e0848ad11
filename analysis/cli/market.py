"""``aibubble fetch``, ``aibubble import-prices`` and ``aibubble sweep``: thin handlers over the
market-data layer and the bubble tests.

:mod:`analysis.cli.app` registers them with :func:`add_fetch_parser`,
:func:`add_import_prices_parser` and :func:`add_sweep_parser`; each sets ``func(args) -> int``
for its dispatcher, which turns :class:`~analysis.errors.AIBubbleError` into one-line messages.
"""

from __future__ import annotations

import argparse
import re
import sys

import pandas as pd

from analysis import config
from analysis.data import market
from analysis.data.market import ADJUSTMENTS
from analysis.errors import ParameterError


def _date(text: str) -> str:
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return pd.Timestamp(text).date().isoformat()
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a date in YYYY-MM-DD form")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"deadline must be positive, got {text}")
    return value


def add_fetch_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``fetch``: refresh the market-data cache from Yahoo Finance."""
    p = subparsers.add_parser(
        "fetch", help="refresh the market-data cache (prices, quarterly fundamentals) from Yahoo Finance",
        description="Download daily prices (and quarterly fundamentals for non-benchmark tickers) into "
                    "the parquet cache. Failures never overwrite cached data. Exit code 0 only if every "
                    "requested ticker is fresh afterwards.")
    p.add_argument("--tickers", nargs="+", metavar="T", help="symbols (default: all in data/tickers.csv)")
    p.add_argument("--start", type=_date, metavar="DATE", help="first date YYYY-MM-DD (default: full history)")
    p.add_argument("--deadline", type=_seconds, default=market.default_deadline_s(), metavar="SECONDS",
                   help=f"wall-clock budget for the whole refresh (default {market.default_deadline_s():g})")
    p.add_argument("--no-fundamentals", action="store_true", help="prices only")
    p.set_defaults(func=cmd_fetch)
    return p


def cmd_fetch(args: argparse.Namespace) -> int:
    tickers = [t.upper() for t in args.tickers] if args.tickers else None
    fundamentals = [] if args.no_fundamentals else None
    if tickers is not None and fundamentals is None:
        benchmarks = _benchmarks()
        fundamentals = [t for t in tickers if t not in benchmarks]
    report = market.refresh(tickers, start=args.start, fundamentals=fundamentals, deadline_s=args.deadline)
    table = report.summary().fillna("")
    print(table.to_string(index=False, max_colwidth=70))
    for note in report.notes:
        print(f"note: {note}")
    print(f"{report.status.banner} (cache: {config.display_path(market.MarketCache().root)}, "
          f"{report.elapsed_s:.1f} s)")
    if report.ok:
        return 0
    bad = sorted({o.ticker for o in report.outcomes if not o.ok}
                 | set(report.status.table.loc[report.status.table["status"] != market.FRESH, "ticker"]))
    print(f"not fresh or failed: {', '.join(bad)}", file=sys.stderr)
    return 1


def _benchmarks() -> set[str]:
    try:
        table = market.load_tickers()
    except Exception:  # no ticker list: fetch fundamentals for everything requested
        return set()
    return set(table.loc[table["is_benchmark"], "ticker"])


def add_import_prices_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``import-prices``: load price CSV files into the cache."""
    p = subparsers.add_parser(
        "import-prices", help="load price CSV files (yfinance, Yahoo, Nasdaq, Stooq, FRED exports) into the cache",
        description="Each file needs a date column and a Close or Adj Close column (yfinance's multi-row "
                    "headers are understood). The ticker is the file name (NVDA.csv -> NVDA) unless the file "
                    "names it or --ticker is given. Every problem is reported with file, line and column; "
                    "nothing is written unless all files pass.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--ticker", help="ticker for a single file (or the one to take from a multi-ticker file)")
    p.add_argument("--adjustment", choices=ADJUSTMENTS,
                   help="what a plain Close column is adjusted for (default: unknown)")
    p.add_argument("--replace", action="store_true",
                   help="replace cached prices instead of merging (default: file rows win on their dates)")
    p.set_defaults(func=cmd_import_prices)
    return p


def cmd_import_prices(args: argparse.Namespace) -> int:
    from analysis.data.prices_import import import_prices

    if args.ticker is not None and not args.ticker.strip():
        raise ParameterError("--ticker is empty")
    report = import_prices(args.files, args.ticker, adjustment=args.adjustment, replace=args.replace)
    print(report.summary().to_string(index=False, max_colwidth=60))
    status = market.market_status(list(report.written))
    print(f"imported {len(report.written)} ticker(s) into {config.display_path(market.MarketCache().root)}; "
          f"{status.banner}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from analysis.bubbles.sweep import sweep
    from analysis.data.market import load_universe
    from analysis.errors import MarketDataError

    universe = load_universe(args.tickers, as_of=args.as_of)
    if not universe.available:
        raise MarketDataError(f"{universe.status.banner}; fill the cache with aibubble fetch or import-prices")
    closes = universe.closes()
    benchmarks = set(universe.tickers.loc[universe.tickers["is_benchmark"].astype(bool), "ticker"])
    prices = {t: closes[t].dropna() for t in closes.columns if t not in benchmarks}
    benchmark = closes[args.market].dropna() if args.market in closes else None
    result = sweep(prices, benchmark, workers=args.workers, address=args.scheduler)
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(result.latest.to_string(index=False))
    for ticker, error in result.errors.items():
        print(f"error: {ticker}: {error}", file=sys.stderr)
    print(f"{len(prices)} tickers in {result.wall_seconds:.1f} s ({args.workers} worker(s)"
          f"{', scheduler ' + args.scheduler if args.scheduler else ''})")
    return 1 if len(result.errors) else 0


def add_sweep_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``sweep``: PSY, LPPLS and the run-up rule for every cached ticker."""
    p = subparsers.add_parser("sweep", help="PSY date-stamping, LPPLS confidence and run-up flags for every cached ticker")
    p.add_argument("--tickers", nargs="+", help="default: every ticker in data/tickers.csv")
    p.add_argument("--as-of", help="cut the data at this date (default: today)")
    p.add_argument("--market", default="SPY", help="benchmark for the run-up rule (default SPY)")
    p.add_argument("--workers", type=int, default=1, help="local worker processes")
    p.add_argument("--scheduler", metavar="ADDRESS", help="an existing Dask scheduler, e.g. tcp://host:8786")
    p.set_defaults(func=cmd_sweep)
    return p
