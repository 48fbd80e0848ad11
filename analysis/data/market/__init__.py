"""Market data: a provider interface, the yfinance provider and a parquet cache.

Notebooks and the briefing never call yfinance. They read the cache through :func:`load_universe`
and show :func:`market_status`'s banner; only ``aibubble fetch`` (:func:`refresh`) and
``aibubble import-prices`` (:mod:`analysis.data.prices_import`) write to it.

Layout of the cache (``config.cache_dir()``; ``AIBUBBLE_CACHE_DIR`` overrides)::

    <cache>/prices/<TICKER>.parquet        date, open, high, low, close, volume (close adjusted)
    <cache>/fundamentals/<TICKER>.parquet  period_end, revenue_usd, capex_usd, ... (quarterly)

Every file carries its provenance in the parquet schema metadata (key ``aibubble.market``:
fetched_at, source, adjustment, rows, first/last date) and is written atomically (temporary file
in the same folder, then ``os.replace``), so a reader sees the old file or the new one, never half
of one. A file that is unreadable or disagrees with its own metadata is reported as ``corrupt``,
treated as missing and replaced by the next good fetch; it never raises in a notebook.

Modules, in the order data flows: :mod:`.provider` (the provider interface and yfinance, over
:mod:`.deadline`, the threads-with-a-deadline engine, and :mod:`.tidy`, which checks each answer's
shape), :mod:`.fetch` (``refresh``: provider -> cache), :mod:`.cache` (parquet files with
metadata), :mod:`.status` (freshness and the banner), :mod:`.tickers` and :mod:`.universe` (what
the notebooks read). Everything callers use is re-exported here.
"""

from __future__ import annotations

from analysis.data.market.cache import FORMAT_VERSION, META_KEY, CacheEntry, MarketCache, merge_prices
from analysis.data.market.common import (
    ADJUSTMENTS, BAD_SHAPE, CORRUPT, EMPTY, ERROR, FRESH, FUNDAMENTAL_COLUMNS, FUNDAMENTALS, KINDS, MISSING, OK,
    PRICE_COLUMNS, PRICES, RATE_LIMITED, RETRIABLE, STALE, TIMEOUT)
from analysis.data.market.deadline import TickerOutcome, default_deadline_s, retry_backoff_s, run_with_deadline
from analysis.data.market.fetch import RefreshReport, refresh
from analysis.data.market.provider import FetchResult, MarketDataProvider, YFinanceProvider, default_provider
from analysis.data.market.status import (
    MarketDataStatus, fundamentals_stale_after_days, market_status, stale_after_days)
from analysis.data.market.tickers import TICKERS_PATH, load_tickers
from analysis.data.market.tidy import ShapeError, tidy_fundamentals, tidy_prices
from analysis.data.market.universe import Universe, load_universe

__all__ = [
    "ADJUSTMENTS", "BAD_SHAPE", "CORRUPT", "EMPTY", "ERROR", "FORMAT_VERSION", "FRESH", "FUNDAMENTAL_COLUMNS",
    "FUNDAMENTALS", "KINDS", "META_KEY", "MISSING", "OK", "PRICE_COLUMNS", "PRICES", "RATE_LIMITED", "RETRIABLE",
    "STALE", "TICKERS_PATH", "TIMEOUT", "CacheEntry", "FetchResult", "MarketCache", "MarketDataProvider",
    "MarketDataStatus", "RefreshReport", "ShapeError", "TickerOutcome", "Universe", "YFinanceProvider",
    "default_deadline_s", "default_provider", "fundamentals_stale_after_days", "load_tickers", "load_universe",
    "market_status", "merge_prices", "refresh", "retry_backoff_s", "run_with_deadline", "stale_after_days",
    "tidy_fundamentals", "tidy_prices",
]
