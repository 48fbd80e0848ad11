"""A scripted stand-in for yfinance and helpers shared by the market-data tests.

No test touches the network: ``FakeYF`` stands in for the yfinance module and returns frames in
the shapes yfinance 1.7 really returns (checked against the installed library: ``download``
gives MultiIndex (Price, Ticker) columns even for one ticker, ``Adj Close`` only with
``auto_adjust=False``, an empty frame with all six price columns for a failed ticker, and it
logs instead of raising), plus the faults a real network produces.
"""

from __future__ import annotations

import logging
import threading

import numpy as np
import pandas as pd

from analysis import clock
from analysis.data import market as M

TODAY = pd.Timestamp(clock.today())
# Tests name their tickers; the curated data/tickers.csv (whatever it holds today) stays out of them.
NO_TICKERS = "/nonexistent/tickers.csv"
# yfinance's own messages for the faults it swallows (copied from yfinance 1.7 runs without DNS).
RATE_LIMIT_LOG = "['{t}']: YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')"
DNS_LOG = ("['{t}']: DNSError('Failed to perform, curl: (6) Could not resolve host: "
           "query2.finance.yahoo.com.')")


def yf_frame(ticker: str, dates, close, auto_adjust: bool = True, adj_factor: float = 0.9) -> pd.DataFrame:
    """A ``yfinance.download`` answer: MultiIndex (Price, Ticker), sorted fields, index "Date"."""
    idx = pd.DatetimeIndex(pd.to_datetime(dates), name="Date")
    close = np.asarray(close, dtype=float)
    fields = {"Close": close, "High": close * 1.01, "Low": close * 0.99, "Open": close, "Volume": np.full(len(close), 1e6)}
    if not auto_adjust:
        fields["Adj Close"] = close * adj_factor
    fields = dict(sorted(fields.items()))
    cols = pd.MultiIndex.from_tuples([(f, ticker) for f in fields], names=["Price", "Ticker"])
    return pd.DataFrame(np.column_stack(list(fields.values())), index=idx, columns=cols)


def yf_empty(ticker: str) -> pd.DataFrame:
    """What ``yfinance.download`` returns for a failed ticker (0 rows, six price columns)."""
    cols = pd.MultiIndex.from_tuples([(f, ticker) for f in ["Adj Close", "Close", "High", "Low", "Open", "Volume"]],
                                     names=["Price", "Ticker"])
    return pd.DataFrame(index=pd.DatetimeIndex([], name="Date"), columns=cols)


def recent_dates(n: int = 30) -> pd.DatetimeIndex:
    return pd.bdate_range(end=TODAY - pd.Timedelta(days=1), periods=n)


class FakeYF:
    """Scripted stand-in for the yfinance module.

    ``script[ticker]`` is a list of actions consumed one per call (the last one repeats):
    a DataFrame (returned), an exception instance (raised), ``("log", text, frame)`` (logged on
    the yfinance logger like ``download`` does for swallowed errors, then ``frame`` returned) or
    ``("wait", event, frame)`` (block until the event is set: a hung socket).
    """

    __version__ = "1.7.0-fake"

    def __init__(self, script: dict, fundamentals: dict | None = None):
        self.script = {k.upper(): list(v) for k, v in script.items()}
        self.fund = fundamentals or {}
        self.calls: list[tuple[str, dict]] = []
        self._lock = threading.Lock()

    def _next(self, ticker):
        with self._lock:
            actions = self.script[ticker]
            return actions.pop(0) if len(actions) > 1 else actions[0]

    def download(self, tickers, start=None, end=None, actions=False, threads=True, ignore_tz=None,
                 group_by="column", auto_adjust=True, back_adjust=False, repair=False, keepna=False,
                 progress=True, period="max", interval="1d", prepost=False, rounding=False, timeout=10,
                 session=None, multi_level_index=True):
        ticker = tickers.upper()
        self.calls.append((ticker, {"start": start, "end": end, "auto_adjust": auto_adjust}))
        return self._act(ticker, self._next(ticker))

    def _act(self, ticker, action):
        if isinstance(action, BaseException):
            raise action
        if isinstance(action, tuple) and action[0] == "log":
            logging.getLogger("yfinance").error(action[1].format(t=ticker))
            return action[2]
        if isinstance(action, tuple) and action[0] == "wait":
            action[1].wait(30)
            return action[2]
        return action

    def Ticker(self, ticker):  # noqa: N802 - the library's name
        fake = self

        class _T:
            def __init__(self):
                self.ticker = ticker.upper()
                spec = fake.fund[self.ticker]
                if isinstance(spec, BaseException):
                    raise spec
                self.quarterly_cashflow, self.quarterly_income_stmt, self.quarterly_balance_sheet = spec
        return _T()


def provider(fake, **kw) -> M.YFinanceProvider:
    kw.setdefault("backoff_s", 0.01)
    kw.setdefault("resolve", lambda host: None)   # the DNS probe of an empty answer: never the network
    return M.YFinanceProvider(yf=fake, **kw)


def seed_cache(ticker: str, dates, close, cache=None) -> M.CacheEntry:
    cache = cache or M.MarketCache()
    frame, adj = M.tidy_prices(yf_frame(ticker, dates, close), ticker)
    return cache.write(ticker, M.PRICES, frame, source="seed", adjustment=adj)


def write_unchecked(ticker: str, frame: pd.DataFrame, cache=None, kind: str = M.PRICES):
    """Write a cache file as an older version or a hand edit may have left it: the metadata
    agrees with the frame, but nothing checks the values (MarketCache.write would refuse them)."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    cache = cache or M.MarketCache()
    key = "date" if kind == M.PRICES else "period_end"
    meta = {"format_version": M.FORMAT_VERSION, "ticker": ticker, "kind": kind, "source": "hand edit",
            "adjustment": "unknown", "fetched_at": "2026-01-01T00:00:00+00:00", "rows": len(frame),
            "first_date": str(frame[key].min().date()), "last_date": str(frame[key].max().date()),
            "columns": list(frame.columns)}
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.replace_schema_metadata({M.META_KEY: json.dumps(meta).encode()})
    path = cache.path(ticker, kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path
