"""Names shared by the market-data modules: data kinds and columns, outcome and cache states."""

from __future__ import annotations

import pandas as pd

from analysis import clock

PRICES, FUNDAMENTALS = "prices", "fundamentals"
KINDS = (PRICES, FUNDAMENTALS)
PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
FUNDAMENTAL_COLUMNS = ("revenue_usd", "capex_usd", "operating_cash_flow_usd", "free_cash_flow_usd",
                       "shares_outstanding")

# Outcome of one ticker's fetch or read.
OK = "ok"
EMPTY = "empty"              # the source answered with no rows (unknown or delisted symbol)
ERROR = "error"              # an exception or a network failure
RATE_LIMITED = "rate_limited"
TIMEOUT = "timeout"          # no answer before the refresh deadline
BAD_SHAPE = "bad_shape"      # an answer we cannot interpret (columns, index, values)
RETRIABLE = frozenset({ERROR, RATE_LIMITED})

# Cache states in a status table.
FRESH, STALE, MISSING, CORRUPT = "fresh", "stale", "missing", "corrupt"

# Adjustment labels written into the metadata.
ADJUSTMENTS = ("splits_dividends", "splits", "none", "unknown")


def to_day(value) -> pd.Timestamp | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).normalize()


def iso_date(value) -> str | None:
    day = to_day(value)
    return None if day is None else day.date().isoformat()


def shorten(text: str, limit: int = 160) -> str:
    """One line of at most ``limit`` characters (messages from libraries can be long)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def today() -> pd.Timestamp:
    """Today (:func:`analysis.clock.today`) as a midnight Timestamp: the default as-of date."""
    return pd.Timestamp(clock.today())
