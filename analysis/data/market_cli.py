"""``aibubble fetch`` and ``aibubble import-prices``: thin handlers over the market-data layer.

``analysis/cli.py`` registers them with :func:`add_fetch_parser` and
:func:`add_import_prices_parser`; each sets ``func(args) -> int`` for its dispatcher, which turns
:class:`~analysis.errors.AIBubbleError` into one-line messages.
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
