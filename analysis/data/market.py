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
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
import logging
import os
import queue
import re
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis import config
from analysis.errors import MarketDataError, ParameterError
from analysis.files import atomic_file

log = logging.getLogger(__name__)

PRICES, FUNDAMENTALS = "prices", "fundamentals"
KINDS = (PRICES, FUNDAMENTALS)
PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
FUNDAMENTAL_COLUMNS = ("revenue_usd", "capex_usd", "operating_cash_flow_usd", "free_cash_flow_usd",
                       "shares_outstanding")
#: Bump when the file layout changes; older files are then reported as corrupt and refetched.
FORMAT_VERSION = 1
META_KEY = b"aibubble.market"

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

TICKERS_PATH = config.DATA_DIR / "tickers.csv"


# --------------------------------------------------------------------------------------------
# Named defaults
# --------------------------------------------------------------------------------------------

def default_deadline_s() -> float:
    """Wall-clock budget of one refresh, all tickers together (seconds).

    yfinance's own ``timeout`` bounds each HTTP read, not the call: on a network that drops
    packets silently one ticker can block for about 130 s. 120 s fetches ~45 tickers with four
    workers on a healthy connection with room for retries, and bounds the damage on a bad one.
    """
    return 120.0


def stale_after_days() -> int:
    """Calendar days after which the last price counts as stale.

    A Friday close is 3 days old on Monday and 4 on the Tuesday after a Monday holiday;
    5 allows one more day of publication lag before the banner calls the data stale.
    """
    return 5


def fundamentals_stale_after_days() -> int:
    """Days after which cached quarterly fundamentals count as stale (one quarter plus a month)."""
    return 120


def retry_backoff_s() -> float:
    """First retry delay; attempt k waits ``backoff * 2**(k-1)`` (x4 after a rate-limit error)."""
    return 1.0


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------

def _day(value) -> pd.Timestamp | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value).normalize()


def _iso(value) -> str | None:
    day = _day(value)
    return None if day is None else day.date().isoformat()


@dataclass(frozen=True)
class TickerOutcome:
    """What happened to one ticker in a fetch: status, rows returned and a message."""

    ticker: str
    kind: str
    status: str
    rows: int = 0
    first_date: pd.Timestamp | None = None
    last_date: pd.Timestamp | None = None
    attempts: int = 0
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == OK


@dataclass(frozen=True)
class FetchResult:
    """A provider's answer: good frames (tidy, validated) and one outcome per requested ticker.

    ``frames`` holds only the tickers whose status is ``ok``; failures appear in ``outcomes``
    with their reason, so a partial answer is never mistaken for a complete one.
    """

    kind: str
    frames: Mapping[str, pd.DataFrame]
    outcomes: tuple[TickerOutcome, ...]
    source: str
    adjustment: str
    elapsed_s: float

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(o.ticker for o in self.outcomes if not o.ok)

    def summary(self) -> pd.DataFrame:
        return _outcome_table(self.outcomes)

    def _repr_html_(self) -> str:
        return f"<p>{self.kind} from {self.source}, {self.elapsed_s:.1f} s</p>" + self.summary().to_html(index=False)


def _outcome_table(outcomes: Iterable[TickerOutcome]) -> pd.DataFrame:
    rows = [{"ticker": o.ticker, "kind": o.kind, "status": o.status, "rows": o.rows,
             "first_date": _iso(o.first_date), "last_date": _iso(o.last_date),
             "attempts": o.attempts, "message": o.message} for o in outcomes]
    return pd.DataFrame(rows, columns=["ticker", "kind", "status", "rows", "first_date", "last_date",
                                       "attempts", "message"])


# --------------------------------------------------------------------------------------------
# Provider interface
# --------------------------------------------------------------------------------------------

@runtime_checkable
class MarketDataProvider(Protocol):
    """A source of daily prices and quarterly fundamentals.

    Implementations return tidy frames (see :func:`tidy_prices` and :func:`tidy_fundamentals`
    for the columns), never raise for a single ticker's failure (they report it in the
    outcome), and return within ``deadline_s`` seconds whatever the network does.
    """

    name: str

    def prices(self, tickers: Sequence[str], start: str | None = None, end: str | None = None, *,
               deadline_s: float | None = None) -> FetchResult: ...

    def fundamentals(self, tickers: Sequence[str], *, deadline_s: float | None = None) -> FetchResult: ...


class _ShapeError(ValueError):
    """A frame whose columns, index or values are not what the source documents."""


def _flatten_columns(raw: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """One ticker's columns from a yfinance frame of any of its layouts.

    ``yfinance.download`` returns MultiIndex columns (Price, Ticker) even for one ticker
    (group_by="ticker" swaps the levels); ``Ticker.history`` and ``multi_level_index=False``
    return flat columns.
    """
    cols = raw.columns
    if not isinstance(cols, pd.MultiIndex):
        return raw
    if cols.nlevels != 2:
        raise _ShapeError(f"expected 2 column levels (Price, Ticker), got {cols.nlevels}")
    fields = {"open", "high", "low", "close", "adj close", "volume", "dividends", "stock splits",
              "capital gains", "repaired?"}
    names = [str(n).lower() if n is not None else "" for n in cols.names]
    if "price" in names:  # yfinance names the levels; trust the names first (LOW and OPEN are tickers)
        price_level = names.index("price")
    else:
        level_is_price = [all(str(v).lower() in fields for v in cols.get_level_values(i)) for i in (0, 1)]
        if level_is_price[0] == level_is_price[1]:
            raise _ShapeError(f"cannot tell the price level from the ticker level in {list(cols)[:4]}")
        price_level = 0 if level_is_price[0] else 1
    ticker_level = 1 - price_level
    symbols = list(dict.fromkeys(str(v) for v in cols.get_level_values(ticker_level)))
    if ticker.upper() in (s.upper() for s in symbols):
        chosen = next(s for s in symbols if s.upper() == ticker.upper())
    elif len(symbols) == 1:
        # yfinance renames ISIN requests to the symbol it resolved; one symbol is unambiguous.
        chosen = symbols[0]
    else:
        raise _ShapeError(f"{ticker} not among the frame's tickers {symbols}")
    return raw.xs(chosen, axis=1, level=ticker_level)


def _daily_index(index: pd.Index) -> pd.DatetimeIndex:
    if not isinstance(index, pd.DatetimeIndex):
        try:
            index = pd.DatetimeIndex(pd.to_datetime(index))
        except (ValueError, TypeError) as exc:
            raise _ShapeError(f"index is not dates ({exc})") from None
    if index.tz is not None:
        # A daily bar is stamped at local midnight of its exchange; its local date is the day.
        index = index.tz_localize(None)
    return index.normalize()


def tidy_prices(raw: Any, ticker: str, *, auto_adjust: bool = True) -> tuple[pd.DataFrame, str]:
    """One ticker's daily prices from a yfinance frame, checked for its real shape.

    Parameters
    ----------
    raw : DataFrame
        As ``yfinance.download`` (MultiIndex columns (Price, Ticker)) or ``Ticker.history``
        (flat columns, tz-aware index) return it.
    ticker : str
    auto_adjust : bool
        How ``raw`` was requested. With ``auto_adjust=True`` ``Close`` is adjusted for splits and
        dividends and there is no ``Adj Close``; with ``False`` ``Adj Close`` is preferred.

    Returns
    -------
    frame : DataFrame
        Columns ``date`` (datetime64[ns], unique, ascending), ``open``, ``high``, ``low``,
        ``close`` (> 0, no NaN), ``volume`` (float; NaN where absent). Rows without a close are
        dropped (yfinance pads a ticker with NaN rows on other tickers' trading days).
    adjustment : str
        ``"splits_dividends"`` or ``"splits"`` (Yahoo's unadjusted Close is split-adjusted).

    Raises
    ------
    _ShapeError
        Not a DataFrame, no usable close column, non-date index or non-positive prices.
    """
    if not isinstance(raw, pd.DataFrame):
        raise _ShapeError(f"expected a DataFrame, got {type(raw).__name__}")
    flat = _flatten_columns(raw, ticker)
    by_name = {str(c).strip().lower(): c for c in flat.columns}
    if not auto_adjust and "adj close" in by_name and flat[by_name["adj close"]].notna().any():
        close_col, adjustment = by_name["adj close"], "splits_dividends"
    elif "close" in by_name:
        close_col = by_name["close"]
        adjustment = "splits_dividends" if auto_adjust else "splits"
    elif "adj close" in by_name:
        close_col, adjustment = by_name["adj close"], "splits_dividends"
    else:
        raise _ShapeError(f"no Close or Adj Close column (columns: {[str(c) for c in flat.columns]})")
    index = _daily_index(flat.index)
    out = pd.DataFrame({"date": index.astype("datetime64[ns]")})
    for name in PRICE_COLUMNS:
        source = close_col if name == "close" else by_name.get(name)
        values = pd.to_numeric(pd.Series(flat[source].to_numpy(), dtype=object), errors="coerce") \
            if source is not None else pd.Series(np.nan, index=range(len(flat)))
        out[name] = values.to_numpy(dtype="float64")
    out = out[out["close"].notna()]
    if (out["close"] <= 0).any():
        bad = out.loc[out["close"] <= 0, "date"].iloc[0].date()
        raise _ShapeError(f"non-positive close on {bad}")
    out = out.drop_duplicates("date", keep="last").sort_values("date").reset_index(drop=True)
    return out, adjustment


_FUNDAMENTAL_ROWS = {
    # tidy column: Yahoo line items in order of preference (quarterly statements)
    "revenue_usd": ("Total Revenue", "Operating Revenue", "TotalRevenue"),
    "capex_usd": ("Capital Expenditure", "CapitalExpenditure"),
    "operating_cash_flow_usd": ("Operating Cash Flow", "Cash Flow From Continuing Operating Activities",
                                "OperatingCashFlow"),
    "free_cash_flow_usd": ("Free Cash Flow", "FreeCashFlow"),
    "shares_outstanding": ("Ordinary Shares Number", "Share Issued", "Diluted Average Shares",
                           "Basic Average Shares", "OrdinarySharesNumber"),
}


def tidy_fundamentals(statements: Sequence[Any]) -> pd.DataFrame:
    """Quarterly fundamentals from Yahoo statement frames (line items x period-end columns).

    Parameters
    ----------
    statements : sequence of DataFrame
        ``Ticker.quarterly_cashflow``, ``quarterly_income_stmt``, ``quarterly_balance_sheet``:
        index = line items ("Capital Expenditure", "Total Revenue", ...), columns = period ends.

    Returns
    -------
    DataFrame
        One row per quarter: ``period_end`` and :data:`FUNDAMENTAL_COLUMNS`. ``capex_usd`` is
        spending as a positive number (Yahoo reports the cash outflow as negative). Values are in
        the company's reporting currency, which Yahoo labels USD only for US filers (TSM: TWD).
    """
    found: dict[str, pd.Series] = {}
    for frame in statements:
        if frame is None:
            continue
        if not isinstance(frame, pd.DataFrame):
            raise _ShapeError(f"statement is a {type(frame).__name__}, not a DataFrame")
        if frame.empty:
            continue
        try:
            periods = _daily_index(pd.Index(frame.columns))
        except _ShapeError as exc:
            raise _ShapeError(f"statement columns are not period-end dates ({exc})") from None
        for column, names in _FUNDAMENTAL_ROWS.items():
            if column in found:
                continue
            for name in names:
                if name in frame.index:
                    row = frame.loc[name]
                    if isinstance(row, pd.DataFrame):
                        row = row.iloc[0]
                    values = pd.to_numeric(pd.Series(row.to_numpy(), index=periods), errors="coerce")
                    if values.notna().any():
                        found[column] = values
                        break
    if not found:
        return pd.DataFrame(columns=["period_end", *FUNDAMENTAL_COLUMNS])
    table = pd.DataFrame(found)
    table = table[~table.index.duplicated(keep="first")].sort_index()
    table = table.reindex(columns=list(FUNDAMENTAL_COLUMNS)).astype("float64")
    table["capex_usd"] = table["capex_usd"].abs()
    table = table.dropna(how="all")
    table.index = table.index.astype("datetime64[ns]")
    return table.rename_axis("period_end").reset_index()


# --------------------------------------------------------------------------------------------
# The deadline engine
# --------------------------------------------------------------------------------------------

class _ThreadLogCapture(logging.Handler):
    """Collects the yfinance logger's warnings per worker thread.

    ``yfinance.download`` swallows every exception (DNS failures, rate limits) and only logs
    it; with ``threads=False`` it logs from the calling thread, so the worker thread's id ties
    each message to its ticker.
    """

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self._buffers: dict[int, list[str]] = {}
        self._guard = threading.Lock()

    def start(self, ident: int) -> None:
        with self._guard:
            self._buffers[ident] = []

    def stop(self, ident: int) -> list[str]:
        with self._guard:
            return self._buffers.pop(ident, [])

    def emit(self, record: logging.LogRecord) -> None:
        buf = self._buffers.get(record.thread)
        if buf is not None:
            try:
                message = record.getMessage().strip()
            except Exception:  # a malformed record must not kill the worker
                message = str(record.msg)
            if message:
                buf.append(message)


_LOG_CAPTURE = _ThreadLogCapture()
_LOG_CAPTURE_INSTALLED = False
_INSTALL_GUARD = threading.Lock()


def _install_log_capture() -> None:
    global _LOG_CAPTURE_INSTALLED
    with _INSTALL_GUARD:
        if not _LOG_CAPTURE_INSTALLED:
            logging.getLogger("yfinance").addHandler(_LOG_CAPTURE)
            _LOG_CAPTURE_INSTALLED = True


_RATE_LIMIT_TEXT = re.compile(r"YFRateLimitError|Too Many Requests|Rate limited|\b429\b", re.I)
_NETWORK_TEXT = re.compile(r"DNSError|Could not resolve|curl: \(\d+\)|ConnectionError|timed out|Timeout|"
                           r"SSLError|Connection (?:refused|reset|aborted)|Failed to get ticker", re.I)


def _is_rate_limit(exc: BaseException) -> bool:
    try:
        from yfinance.exceptions import YFRateLimitError
    except ImportError:  # pragma: no cover - yfinance is a dependency
        YFRateLimitError = ()  # type: ignore[assignment]
    return isinstance(exc, YFRateLimitError) or bool(_RATE_LIMIT_TEXT.search(f"{type(exc).__name__} {exc}"))


def _said(logs: list[str], ticker: str) -> str:
    """The most telling yfinance message: its per-ticker summary line if any, else the last one."""
    if not logs:
        return ""
    tagged = [m for m in logs if f"['{ticker}']" in m or f"${ticker}:" in m]
    return _short((tagged or logs)[-1])


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class _Answer:
    status: str
    frame: pd.DataFrame | None
    message: str
    adjustment: str = "unknown"


def _worker(results: queue.Queue, ticker: str, attempt: int, work: Callable[[str], Any]) -> None:
    ident = threading.get_ident()
    _LOG_CAPTURE.start(ident)
    value, error = None, None
    try:
        value = work(ticker)
    except Exception as exc:  # reported per ticker, never raised through the refresh
        error = exc
    finally:
        logs = _LOG_CAPTURE.stop(ident)
    results.put((ticker, attempt, value, error, logs))


def run_with_deadline(tickers: Sequence[str], work: Callable[[str], Any],
                      classify: Callable[[str, Any, BaseException | None, list[str]], _Answer], *,
                      kind: str, deadline_s: float, max_workers: int = 4, max_attempts: int = 3,
                      backoff_s: float | None = None) -> tuple[dict[str, _Answer], tuple[TickerOutcome, ...]]:
    """Call ``work(ticker)`` for every ticker in daemon threads and stop waiting at the deadline.

    Parameters
    ----------
    tickers : sequence of str
    work : callable
        Blocking call for one ticker (a yfinance download); may hang, raise or return garbage.
    classify : callable
        ``(ticker, value, exception, log_messages) -> _Answer``.
    deadline_s : float
        Wall-clock budget for all tickers together, retries included.
    max_workers : int
        Concurrent requests (Yahoo rate-limits bursts; four keeps ~45 tickers well inside 120 s).
    max_attempts : int
        Attempts per ticker for retriable failures (errors and rate limits).
    backoff_s : float, optional
        First retry delay (:func:`retry_backoff_s`); doubles per attempt, x4 after a rate limit,
        and a rate limit also pauses new requests for that long.

    Returns
    -------
    answers : dict
        The ``ok`` answers by ticker.
    outcomes : tuple of TickerOutcome
        One per requested ticker, in request order.

    Notes
    -----
    A thread cannot be killed, so a hung call is abandoned: its thread is a daemon (it does not
    keep the interpreter alive) and whatever it returns later goes into a queue nobody reads.
    Only the calling thread ever writes to the cache, so a late answer can never overwrite data.
    """
    backoff_s = retry_backoff_s() if backoff_s is None else backoff_s
    order = list(dict.fromkeys(tickers))
    t0 = time.monotonic()
    stop = t0 + max(0.0, deadline_s)
    results: queue.Queue = queue.Queue()
    waiting: list[tuple[float, int, str, int]] = [(t0, i, tk, 1) for i, tk in enumerate(order)]
    heapq.heapify(waiting)
    running: dict[str, int] = {}
    answers: dict[str, _Answer] = {}
    final: dict[str, TickerOutcome] = {}
    last_failure: dict[str, _Answer] = {}
    cooldown_until = t0
    seq = len(order)
    while waiting or running:
        now = time.monotonic()
        if now >= stop:
            break
        while waiting and len(running) < max_workers and waiting[0][0] <= now and cooldown_until <= now:
            _, _, tk, attempt = heapq.heappop(waiting)
            running[tk] = attempt
            threading.Thread(target=_worker, args=(results, tk, attempt, work), daemon=True,
                             name=f"aibubble-{kind}-{tk}").start()
        wake = stop
        if waiting and len(running) < max_workers:
            wake = min(wake, max(waiting[0][0], cooldown_until))
        try:
            tk, attempt, value, error, logs = results.get(timeout=max(0.001, wake - now))
        except queue.Empty:
            continue
        if running.get(tk) != attempt:  # pragma: no cover - a stale answer from an abandoned thread
            continue
        del running[tk]
        try:
            answer = classify(tk, value, error, logs)
        except Exception as exc:  # a classifier bug must not lose the other tickers
            answer = _Answer(ERROR, None, f"could not interpret the answer: {exc!r}")
        if answer.status == OK:
            answers[tk] = answer
            final[tk] = _outcome(tk, kind, answer, attempt)
            continue
        if answer.status in RETRIABLE and attempt < max_attempts:
            delay = backoff_s * 2 ** (attempt - 1) * (4 if answer.status == RATE_LIMITED else 1)
            ready = time.monotonic() + delay
            if answer.status == RATE_LIMITED:
                cooldown_until = max(cooldown_until, ready)
            if ready < stop:
                last_failure[tk] = answer
                seq += 1
                heapq.heappush(waiting, (ready, seq, tk, attempt + 1))
                continue
            answer = _Answer(answer.status, None, f"{answer.message} (no time left for a retry)")
        final[tk] = _outcome(tk, kind, answer, attempt)
    for tk, attempt in running.items():
        final[tk] = TickerOutcome(tk, kind, TIMEOUT, attempts=attempt,
                                  message=f"no answer within the {deadline_s:.1f} s deadline")
    for _, _, tk, attempt in waiting:
        previous = last_failure.get(tk)
        if previous is None:
            final[tk] = TickerOutcome(tk, kind, TIMEOUT, attempts=0,
                                      message=f"not attempted within the {deadline_s:.1f} s deadline")
        else:
            final[tk] = TickerOutcome(tk, kind, previous.status, attempts=attempt - 1,
                                      message=f"{previous.message} (deadline reached before retry)")
    return answers, tuple(final[tk] for tk in order)


def _outcome(ticker: str, kind: str, answer: _Answer, attempts: int) -> TickerOutcome:
    frame = answer.frame
    if frame is not None and len(frame):
        key = "date" if kind == PRICES else "period_end"
        return TickerOutcome(ticker, kind, answer.status, len(frame), _day(frame[key].iloc[0]),
                             _day(frame[key].iloc[-1]), attempts, answer.message)
    return TickerOutcome(ticker, kind, answer.status, 0, None, None, attempts, answer.message)


# --------------------------------------------------------------------------------------------
# yfinance
# --------------------------------------------------------------------------------------------

class YFinanceProvider:
    """Daily prices and quarterly fundamentals from Yahoo Finance through yfinance.

    Parameters
    ----------
    auto_adjust : bool
        Request prices adjusted for splits and dividends (yfinance's default since 0.2.51).
    max_workers, max_attempts, backoff_s
        See :func:`run_with_deadline`.
    timeout_s : float
        yfinance's per-request timeout. It does not bound a call (see :func:`default_deadline_s`);
        the refresh deadline does.
    yf : module, optional
        The yfinance module or a stand-in with the same ``download`` and ``Ticker``; tests pass
        a fake that returns frames in the library's real shapes.

    Notes
    -----
    One ``yfinance.download`` call per ticker (``threads=False``) so that each ticker has its own
    worker, outcome and log messages; ``download`` swallows exceptions and only logs them, so the
    worker captures the yfinance logger's messages to tell a rate limit or a network failure from
    an unknown symbol.
    """

    name = "yfinance"

    def __init__(self, *, auto_adjust: bool = True, max_workers: int = 4, max_attempts: int = 3,
                 backoff_s: float | None = None, timeout_s: float = 10.0, yf: Any = None):
        if max_workers < 1 or max_attempts < 1:
            raise ParameterError("max_workers and max_attempts must be at least 1")
        self.auto_adjust = auto_adjust
        self.max_workers = max_workers
        self.max_attempts = max_attempts
        self.backoff_s = retry_backoff_s() if backoff_s is None else backoff_s
        self.timeout_s = timeout_s
        self._yf = yf

    @property
    def yf(self):
        if self._yf is None:
            import yfinance

            # yfinance keeps a timezone cache under the user's home; keep it with ours instead.
            tz_dir = config.cache_dir() / "yfinance"
            tz_dir.mkdir(parents=True, exist_ok=True)
            try:
                yfinance.set_tz_cache_location(str(tz_dir))
            except Exception:  # pragma: no cover - best effort only
                pass
            self._yf = yfinance
        # Library deprecation chatter from worker threads would interleave with our table.
        warnings.filterwarnings("ignore", module=r"yfinance(\.|$)")
        _install_log_capture()
        return self._yf

    @property
    def source(self) -> str:
        version = getattr(self.yf, "__version__", "?")
        return f"yfinance {version}"

    @property
    def adjustment(self) -> str:
        return "splits_dividends" if self.auto_adjust else "splits_dividends (Adj Close)"

    def prices(self, tickers: Sequence[str], start: str | None = None, end: str | None = None, *,
               deadline_s: float | None = None) -> FetchResult:
        """Daily prices per ticker; ``start``/``end`` inclusive ISO dates (None: full history)."""
        yf = self.yf
        # yfinance's end is exclusive; ours is inclusive.
        end_excl = (pd.Timestamp(end) + pd.Timedelta(days=1)).date().isoformat() if end else None

        def work(ticker: str):
            return yf.download(ticker, start=start, end=end_excl, auto_adjust=self.auto_adjust,
                               actions=False, progress=False, threads=False, timeout=self.timeout_s,
                               multi_level_index=True)

        def classify(ticker, raw, error, logs) -> _Answer:
            said = _said(logs, ticker)
            if error is not None:
                status = RATE_LIMITED if _is_rate_limit(error) else ERROR
                return _Answer(status, None, _short(f"{type(error).__name__}: {error}"))
            if isinstance(raw, pd.DataFrame) and len(raw.index) == 0:
                # What yfinance returns for every failure it swallows: judge by its log.
                frame, adjustment = raw, self.adjustment
            else:
                try:
                    frame, adjustment = tidy_prices(raw, ticker, auto_adjust=self.auto_adjust)
                except _ShapeError as exc:
                    return _Answer(BAD_SHAPE, None, _short(f"unexpected frame: {exc}"))
            if frame.empty:
                if _RATE_LIMIT_TEXT.search(" ".join(logs)):
                    return _Answer(RATE_LIMITED, None, said)
                if _NETWORK_TEXT.search(" ".join(logs)):
                    return _Answer(ERROR, None, f"network: {said}")
                return _Answer(EMPTY, None, said or "no rows returned")
            return _Answer(OK, frame, said, adjustment)

        return self._run(PRICES, tickers, work, classify, deadline_s)

    def fundamentals(self, tickers: Sequence[str], *, deadline_s: float | None = None) -> FetchResult:
        """Quarterly revenue, capex, cash flow and shares per ticker (see :func:`tidy_fundamentals`)."""
        yf = self.yf

        def work(ticker: str):
            handle = yf.Ticker(ticker)
            return (handle.quarterly_cashflow, handle.quarterly_income_stmt, handle.quarterly_balance_sheet)

        def classify(ticker, statements, error, logs) -> _Answer:
            said = _said(logs, ticker)
            if error is not None:
                status = RATE_LIMITED if _is_rate_limit(error) else ERROR
                return _Answer(status, None, _short(f"{type(error).__name__}: {error}"))
            try:
                frame = tidy_fundamentals(statements)
            except _ShapeError as exc:
                return _Answer(BAD_SHAPE, None, _short(f"unexpected statement: {exc}"))
            if frame.empty:
                if _RATE_LIMIT_TEXT.search(" ".join(logs)):
                    return _Answer(RATE_LIMITED, None, said)
                if _NETWORK_TEXT.search(" ".join(logs)):
                    return _Answer(ERROR, None, f"network: {said}")
                return _Answer(EMPTY, None, said or "no quarterly statements (funds have none)")
            return _Answer(OK, frame, said, "as_reported")

        return self._run(FUNDAMENTALS, tickers, work, classify, deadline_s)

    def _run(self, kind, tickers, work, classify, deadline_s) -> FetchResult:
        t0 = time.monotonic()
        answers, outcomes = run_with_deadline(
            [t.upper() for t in tickers], work, classify, kind=kind,
            deadline_s=default_deadline_s() if deadline_s is None else deadline_s,
            max_workers=self.max_workers, max_attempts=self.max_attempts, backoff_s=self.backoff_s)
        frames = MappingProxyType({tk: a.frame for tk, a in answers.items()})
        adjustments = {a.adjustment for a in answers.values()}
        adjustment = adjustments.pop() if len(adjustments) == 1 else (
            self.adjustment if kind == PRICES else "as_reported")
        return FetchResult(kind, frames, outcomes, self.source, adjustment, time.monotonic() - t0)


# --------------------------------------------------------------------------------------------
# Parquet cache
# --------------------------------------------------------------------------------------------

_SAFE_CHARS = re.compile(r"[^A-Z0-9._-]")


def _file_stem(ticker: str) -> str:
    """A file name for a symbol: ``^GSPC`` -> ``%5EGSPC`` (reversible, safe on every OS)."""
    return _SAFE_CHARS.sub(lambda m: f"%{ord(m.group()):02X}", ticker.upper())


def _ticker_from_stem(stem: str) -> str:
    return re.sub(r"%([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), stem)


@dataclass(frozen=True)
class CacheEntry:
    """One cached file as read back: its frame when ``status == "ok"``, else why not."""

    ticker: str
    kind: str
    path: Path
    status: str  # ok, missing, corrupt
    frame: pd.DataFrame | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def first_date(self) -> pd.Timestamp | None:
        return _day(self.meta.get("first_date")) if self.ok else None

    @property
    def last_date(self) -> pd.Timestamp | None:
        return _day(self.meta.get("last_date")) if self.ok else None

    @property
    def rows(self) -> int:
        return int(self.meta.get("rows", 0)) if self.ok else 0


class MarketCache:
    """Per-ticker parquet files with provenance metadata, written atomically.

    Parameters
    ----------
    root : path, optional
        Cache folder; default ``config.cache_dir()`` read when the cache is created (so the
        ``AIBUBBLE_CACHE_DIR`` override that tests set is honoured).
    """

    def __init__(self, root: os.PathLike | str | None = None):
        self.root = Path(root) if root is not None else config.cache_dir()

    def path(self, ticker: str, kind: str) -> Path:
        if kind not in KINDS:
            raise ParameterError(f"unknown market-data kind {kind!r}; expected one of {KINDS}")
        return self.root / kind / f"{_file_stem(ticker)}.parquet"

    def tickers(self, kind: str = PRICES) -> list[str]:
        """Tickers with a file of this kind (good or corrupt), sorted."""
        folder = self.root / kind
        if not folder.is_dir():
            return []
        return sorted(_ticker_from_stem(p.stem) for p in folder.glob("*.parquet"))

    def write(self, ticker: str, kind: str, frame: pd.DataFrame, *, source: str, adjustment: str,
              fetched_at: str | None = None, extra: Mapping[str, Any] | None = None) -> CacheEntry:
        """Write one frame atomically with its metadata; an empty frame is refused.

        Raises
        ------
        MarketDataError
            Empty frame, or the file could not be written (the previous file is then untouched).
        """
        key = "date" if kind == PRICES else "period_end"
        if frame is None or frame.empty:
            raise MarketDataError(f"{ticker}: refusing to cache an empty {kind} frame")
        frame = frame.reset_index(drop=True)
        meta = {
            "format_version": FORMAT_VERSION, "ticker": ticker.upper(), "kind": kind,
            "source": source, "adjustment": adjustment,
            "fetched_at": fetched_at or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "rows": int(len(frame)), "first_date": _iso(frame[key].min()), "last_date": _iso(frame[key].max()),
            "columns": [str(c) for c in frame.columns],
        }
        if extra:
            meta.update({k: v for k, v in extra.items() if k not in meta})
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               META_KEY: json.dumps(meta).encode()})
        target = self.path(ticker, kind)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with atomic_file(target, "wb", fsync=True) as handle:
                pq.write_table(table, handle)
        except Exception as exc:
            raise MarketDataError(f"{ticker}: could not write the {kind} cache "
                                  f"({config.display_path(target)}): {exc}") from exc
        return CacheEntry(ticker.upper(), kind, target, OK, frame, MappingProxyType(meta))

    def read(self, ticker: str, kind: str = PRICES) -> CacheEntry:
        """Read and verify one file; never raises for a missing or damaged file."""
        ticker = ticker.upper()
        path = self.path(ticker, kind)
        if not path.exists():
            return CacheEntry(ticker, kind, path, MISSING, problem="not cached")
        try:
            # ParquetFile.read skips the dataset machinery of read_table: ~3x faster per small file.
            table = pq.ParquetFile(path).read()
            raw_meta = (table.schema.metadata or {}).get(META_KEY)
            if raw_meta is None:
                raise ValueError("no aibubble metadata (not written by this cache)")
            meta = json.loads(raw_meta)
            frame = table.to_pandas()
            _verify(frame, meta, ticker, kind)
        except Exception as exc:
            return CacheEntry(ticker, kind, path, CORRUPT, problem=_short(f"unreadable cache file: {exc}"))
        return CacheEntry(ticker, kind, path, OK, frame, MappingProxyType(meta))


def _verify(frame: pd.DataFrame, meta: Mapping[str, Any], ticker: str, kind: str) -> None:
    """A file must agree with its own metadata; a half-written or edited one does not."""
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"format version {meta.get('format_version')} (expected {FORMAT_VERSION})")
    if meta.get("kind") != kind or str(meta.get("ticker", "")).upper() != ticker:
        raise ValueError(f"file holds {meta.get('kind')} of {meta.get('ticker')}")
    if int(meta.get("rows", -1)) != len(frame) or len(frame) == 0:
        raise ValueError(f"{len(frame)} rows, metadata says {meta.get('rows')}")
    key = "date" if kind == PRICES else "period_end"
    if key not in frame.columns:
        raise ValueError(f"no {key} column")
    dates = frame[key].to_numpy(dtype="datetime64[D]")
    if str(dates.min()) != meta.get("first_date") or str(dates.max()) != meta.get("last_date"):
        raise ValueError("dates disagree with the metadata")
    if kind == PRICES:
        if "close" not in frame.columns:
            raise ValueError("no close column")
        close = frame["close"].to_numpy(dtype="float64")
        if not (close > 0).all():  # also false for NaN
            raise ValueError("close column has empty or non-positive values")
        if not (dates[1:] > dates[:-1]).all():
            raise ValueError("dates not strictly increasing")


def merge_prices(old: pd.DataFrame | None, new: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """New rows replace old ones on their date range; old rows outside it are kept.

    Returns the merged frame and the number of old rows kept. Keeping them means a short or
    partial answer never shortens the history. Adjusted prices from two downloads can differ by
    a constant dividend factor (< 0.5% for the large caps), so a small step can appear at the seam.
    """
    if old is None or old.empty:
        return new.reset_index(drop=True), 0
    lo, hi = new["date"].min(), new["date"].max()
    kept = old[(old["date"] < lo) | (old["date"] > hi)]
    cols = list(dict.fromkeys([*new.columns, *old.columns]))
    merged = pd.concat([kept.reindex(columns=cols), new.reindex(columns=cols)], ignore_index=True)
    merged = merged.sort_values("date").reset_index(drop=True)
    return merged, len(kept)


# --------------------------------------------------------------------------------------------
# Status and freshness
# --------------------------------------------------------------------------------------------

_STATUS_COLUMNS = ["ticker", "kind", "status", "rows", "first_date", "last_date", "age_days", "source",
                   "adjustment", "fetched_at", "problem"]


@dataclass(frozen=True)
class MarketDataStatus:
    """What the cache holds for each ticker, judged against an as-of date.

    ``table`` has one row per (ticker, kind): ``status`` (fresh, stale, missing, corrupt),
    rows, first and last date, age in days, source, adjustment, fetch time and any problem.
    ``banner`` is the sentence the briefing shows above the market sections.
    """

    as_of: pd.Timestamp
    table: pd.DataFrame
    stale_after_days: int

    def _prices(self) -> pd.DataFrame:
        return self.table[self.table["kind"] == PRICES]

    @property
    def available(self) -> bool:
        return bool(self._prices()["status"].isin([FRESH, STALE]).any())

    @property
    def last_date(self) -> pd.Timestamp | None:
        dates = self._prices()["last_date"].dropna()
        return _day(max(dates)) if len(dates) else None

    def tickers_with(self, status: str, kind: str = PRICES) -> tuple[str, ...]:
        t = self.table
        return tuple(t.loc[(t["kind"] == kind) & (t["status"] == status), "ticker"])

    @property
    def all_fresh(self) -> bool:
        return bool(len(self.table)) and bool((self.table["status"] == FRESH).all())

    @property
    def banner(self) -> str:
        if not self.available:
            return "No market data cached: market sections are skipped"
        last = self.last_date
        age = (self.as_of - last).days
        state = "stale" if age > self.stale_after_days else "fresh"
        text = f"Market data as of {last.date().isoformat()} ({state}: {age} day{'s' if age != 1 else ''} old)"
        prices = self._prices()
        behind = prices[(prices["status"].isin([FRESH, STALE])) & (prices["last_date"] < last)]
        extras = []
        if len(behind):
            oldest = min(behind["last_date"]).date().isoformat()
            extras.append(f"{len(behind)} of {int(prices['status'].isin([FRESH, STALE]).sum())} tickers "
                          f"end earlier (oldest {oldest})")
        for status, label in ((MISSING, "missing"), (CORRUPT, "unreadable")):
            names = self.tickers_with(status)
            if names:
                shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
                extras.append(f"{len(names)} {label}: {shown}")
        return text + ("; " + "; ".join(extras) if extras else "")

    def summary(self) -> pd.DataFrame:
        out = self.table.copy()
        for col in ("first_date", "last_date"):
            out[col] = out[col].map(_iso)
        return out

    def _repr_html_(self) -> str:
        return f"<p><b>{self.banner}</b></p>" + self.summary().to_html(index=False, na_rep="")


def market_status(tickers: Sequence[str] | None = None, *, as_of=None, cache: MarketCache | None = None,
                  kinds: Sequence[str] = (PRICES,)) -> MarketDataStatus:
    """Freshness of the cache for ``tickers`` (default: every cached ticker) at ``as_of``.

    Parameters
    ----------
    tickers : sequence of str, optional
        Tickers to report; a requested ticker without a file is ``missing``.
    as_of : date-like, optional
        The date the data is judged against (default: today). Prices later than ``as_of`` are
        ignored, as :func:`load_universe` ignores them.
    kinds : sequence of {"prices", "fundamentals"}
    """
    cache = cache or MarketCache()
    entries = []
    for kind in kinds:
        names = [t.upper() for t in tickers] if tickers is not None else cache.tickers(kind)
        entries.extend(cache.read(ticker, kind) for ticker in dict.fromkeys(names))
    return _status_of(entries, as_of)


def _status_of(entries: Iterable[CacheEntry], as_of) -> MarketDataStatus:
    as_of = _day(as_of) or pd.Timestamp.today().normalize()
    rows = [_status_row(entry, as_of) for entry in entries]
    table = pd.DataFrame(rows, columns=_STATUS_COLUMNS)
    table["age_days"] = table["age_days"].astype("Int64")
    table["rows"] = table["rows"].astype("int64")
    return MarketDataStatus(as_of, table, stale_after_days())


def _status_row(entry: CacheEntry, as_of: pd.Timestamp) -> dict:
    row = {"ticker": entry.ticker, "kind": entry.kind, "rows": 0, "first_date": None, "last_date": None,
           "age_days": None, "source": None, "adjustment": None, "fetched_at": None, "problem": entry.problem}
    if not entry.ok:
        row["status"] = entry.status
        return row
    meta = entry.meta
    row.update(source=meta.get("source"), adjustment=meta.get("adjustment"), fetched_at=meta.get("fetched_at"))
    key = "date" if entry.kind == PRICES else "period_end"
    dates = entry.frame[key].to_numpy(dtype="datetime64[ns]")
    dates = dates[dates <= as_of.to_datetime64()]
    if len(dates) == 0:
        row.update(status=MISSING, problem=f"no data on or before {as_of.date()}")
        return row
    row.update(rows=int(len(dates)), first_date=_day(dates.min()), last_date=_day(dates.max()))
    if entry.kind == PRICES:
        age = (as_of - row["last_date"]).days
        row.update(age_days=age, status=FRESH if age <= stale_after_days() else STALE)
    else:
        fetched = _day(str(meta.get("fetched_at", ""))[:10]) or row["last_date"]
        age = (as_of - fetched).days
        row.update(age_days=age, status=FRESH if age <= fundamentals_stale_after_days() else STALE)
    return row


# --------------------------------------------------------------------------------------------
# Refresh and load
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RefreshReport:
    """Result of :func:`refresh`: what each ticker's fetch did and what the cache now holds."""

    outcomes: tuple[TickerOutcome, ...]
    status: MarketDataStatus
    written: tuple[str, ...]
    elapsed_s: float
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Everything requested is fresh and no fetch failed."""
        failures = [o for o in self.outcomes if o.status not in (OK, EMPTY) or
                    (o.kind == PRICES and o.status == EMPTY)]
        return self.status.all_fresh and not failures

    def summary(self) -> pd.DataFrame:
        fetched = _outcome_table(self.outcomes).rename(columns={"rows": "fetched_rows", "status": "fetch"})
        cached = self.status.summary()[["ticker", "kind", "status", "rows", "first_date", "last_date"]]
        cached = cached.rename(columns={"status": "cache"})
        table = cached.merge(fetched[["ticker", "kind", "fetch", "fetched_rows", "attempts", "message"]],
                             on=["ticker", "kind"], how="outer")
        table["fetch"] = table["fetch"].fillna("-")
        order = {(o.ticker, o.kind): i for i, o in enumerate(self.outcomes)}
        table["_order"] = [order.get((t, k), len(order)) for t, k in zip(table["ticker"], table["kind"])]
        table = table.sort_values(["_order", "ticker", "kind"]).reset_index(drop=True)
        return table[["ticker", "kind", "rows", "first_date", "last_date", "cache", "fetch", "attempts",
                      "message"]]

    def _repr_html_(self) -> str:
        return f"<p><b>{self.status.banner}</b></p>" + self.summary().to_html(index=False, na_rep="")


def refresh(tickers: Sequence[str] | None = None, *, start: str | None = None, end: str | None = None,
            fundamentals: Sequence[str] | None = None, provider: MarketDataProvider | None = None,
            cache: MarketCache | None = None, deadline_s: float | None = None) -> RefreshReport:
    """Fetch prices (and fundamentals) into the cache, within one wall-clock deadline.

    Parameters
    ----------
    tickers : sequence of str, optional
        Default: every ticker of ``data/tickers.csv``.
    start, end : str, optional
        Inclusive ISO dates; default the full history up to today.
    fundamentals : sequence of str, optional
        Tickers whose quarterly fundamentals to fetch; default the non-benchmark tickers among
        ``tickers`` when they come from ``data/tickers.csv``, none otherwise. Pass ``[]`` to skip.
    provider : MarketDataProvider, optional
        Default :class:`YFinanceProvider`.
    deadline_s : float, optional
        Budget for prices and fundamentals together (:func:`default_deadline_s`); prices go
        first with at most 70% of it, fundamentals get what is left.

    Returns
    -------
    RefreshReport

    Notes
    -----
    A fetched frame is merged into the cached one (:func:`merge_prices`): it replaces the rows
    of its own date range and keeps older ones. Empty answers, errors and timeouts write
    nothing, so good cached data survives every failure; a corrupt file is replaced by a good
    answer and left (and reported) otherwise.
    """
    t0 = time.monotonic()
    cache = cache or MarketCache()
    provider = provider or default_provider()
    deadline_s = default_deadline_s() if deadline_s is None else float(deadline_s)
    if deadline_s <= 0:
        raise ParameterError(f"deadline must be positive, got {deadline_s:g} s")
    for name, value in (("start", start), ("end", end)):
        if value is not None:
            try:
                pd.Timestamp(value)
            except (ValueError, TypeError):
                raise ParameterError(f"{name}: {value!r} is not a date in YYYY-MM-DD form") from None
    if tickers is None:
        universe = load_tickers()
        tickers = list(universe["ticker"])
        if fundamentals is None:
            fundamentals = list(universe.loc[~universe["is_benchmark"], "ticker"])
    tickers = [t.strip().upper() for t in tickers if t.strip()]
    if not tickers:
        raise ParameterError("no tickers to fetch")
    fundamentals = [t.upper() for t in (fundamentals or [])]
    notes: list[str] = []
    written: list[str] = []

    # One hung price request must not starve the fundamentals: prices get 70% of the budget
    # when both are asked for (and finish early on a healthy network, leaving the rest).
    price_budget = deadline_s * (0.7 if fundamentals else 1.0)
    price_result = provider.prices(tickers, start, end, deadline_s=price_budget)
    outcomes = list(price_result.outcomes)
    for ticker, frame in price_result.frames.items():
        previous = cache.read(ticker, PRICES)
        if previous.status == CORRUPT:
            notes.append(f"{ticker}: replaced a corrupt cache file ({previous.problem})")
        merged, kept = merge_prices(previous.frame if previous.ok else None, frame)
        extra = {"merged_old_rows": kept}
        try:
            cache.write(ticker, PRICES, merged, source=price_result.source,
                        adjustment=price_result.adjustment, extra=extra)
            written.append(f"{ticker}/{PRICES}")
        except MarketDataError as exc:
            notes.append(str(exc))

    remaining = deadline_s - (time.monotonic() - t0)
    if fundamentals:
        if remaining > 0.1:
            fund_result = provider.fundamentals(fundamentals, deadline_s=remaining)
            outcomes.extend(fund_result.outcomes)
            for ticker, frame in fund_result.frames.items():
                try:
                    cache.write(ticker, FUNDAMENTALS, frame, source=fund_result.source,
                                adjustment=fund_result.adjustment)
                    written.append(f"{ticker}/{FUNDAMENTALS}")
                except MarketDataError as exc:
                    notes.append(str(exc))
        else:
            outcomes.extend(TickerOutcome(t, FUNDAMENTALS, TIMEOUT, message="no time left after prices")
                            for t in fundamentals)
    status_rows = market_status(tickers, cache=cache).table
    # A fund has no statements: an empty answer with nothing cached is not a missing file.
    no_statements = {o.ticker for o in outcomes if o.kind == FUNDAMENTALS and o.status == EMPTY}
    fundamentals = [t for t in fundamentals if t not in no_statements or cache.path(t, FUNDAMENTALS).exists()]
    if fundamentals:
        fund_status = market_status(fundamentals, cache=cache, kinds=(FUNDAMENTALS,)).table
        status_rows = pd.concat([status_rows, fund_status], ignore_index=True)
    status = MarketDataStatus(pd.Timestamp.today().normalize(), status_rows, stale_after_days())
    return RefreshReport(tuple(outcomes), status, tuple(written), time.monotonic() - t0, tuple(notes))


def default_provider() -> MarketDataProvider:
    """The provider ``aibubble fetch`` and :func:`load_universe` use (tests replace it)."""
    return YFinanceProvider()


def load_tickers(path: os.PathLike | str | None = None) -> pd.DataFrame:
    """The validated ticker universe (``data/tickers.csv``) with boolean flag columns.

    Raises
    ------
    DataValidationError
        The file fails its schema (every problem reported).
    MarketDataError
        The file does not exist.
    """
    from analysis.data.ledger import read_table

    path = Path(path) if path is not None else TICKERS_PATH
    if not path.exists():
        raise MarketDataError(f"ticker list not found: {config.display_path(path)}")
    table = read_table(path, "tickers")
    return table.assign(
        is_benchmark=table["is_benchmark"].eq("true"),
        llm_exposed=table["llm_exposed"].map({"true": True, "false": False}).astype("boolean"),
    )


@dataclass(frozen=True)
class Universe:
    """Cached market data for a set of tickers, cut at ``as_of``.

    Attributes
    ----------
    prices : DataFrame
        Tidy: one row per (date, ticker) with ``close`` (adjusted as the cache says) and ``volume``;
        ``ticker`` is categorical, ordered as requested.
    fundamentals : DataFrame
        Tidy quarterly: ``ticker``, ``period_end`` and :data:`FUNDAMENTAL_COLUMNS`.
    tickers : DataFrame
        The reference table (segment, benchmark flag, ...); tickers not in ``data/tickers.csv``
        have segment ``"unclassified"``.
    status : MarketDataStatus
    notes : tuple of str
        What went wrong in a requested refresh (the data are then the cached ones).
    """

    prices: pd.DataFrame
    fundamentals: pd.DataFrame
    tickers: pd.DataFrame
    status: MarketDataStatus
    notes: tuple[str, ...] = ()

    @property
    def available(self) -> bool:
        return not self.prices.empty

    def closes(self, tickers: Sequence[str] | None = None) -> pd.DataFrame:
        """Wide closes: dates as rows, tickers as columns (NaN before a ticker's first date)."""
        wide = self.prices.pivot(index="date", columns="ticker", values="close")
        wide.columns = pd.Index([str(c) for c in wide.columns])
        if tickers is not None:
            wide = wide.reindex(columns=[t.upper() for t in tickers])
        return wide.rename_axis(columns=None)

    def segment(self, segment: str) -> tuple[str, ...]:
        t = self.tickers
        have = {str(t) for t in self.prices["ticker"].unique()}
        return tuple(tk for tk in t.loc[t["segment"] == segment, "ticker"] if tk in have)

    def summary(self) -> pd.DataFrame:
        return self.status.summary()

    def _repr_html_(self) -> str:
        return self.status._repr_html_()


def load_universe(tickers: Sequence[str] | None = None, *, as_of=None, fetch: bool = False,
                  provider: MarketDataProvider | None = None, deadline_s: float | None = None,
                  cache: MarketCache | None = None, tickers_path: os.PathLike | str | None = None) -> Universe:
    """Everything the market sections need, from the cache (network only if asked).

    Parameters
    ----------
    tickers : sequence of str, optional
        Default: the tickers of ``data/tickers.csv``, or every cached ticker when that file is
        absent.
    as_of : date-like, optional
        Report date: prices after it and fundamentals for quarters ending after it are dropped,
        so a report for a past date is reproducible from a newer cache. Default today.
    fetch : bool
        Run :func:`refresh` before reading (the briefing passes ``fetch=not offline``). With
        False (offline) the network is never touched. A failed refresh is never raised: the
        cached data is used and ``notes`` says what went wrong.
    provider, deadline_s, cache, tickers_path
        See :func:`refresh`.

    Returns
    -------
    Universe
        Empty frames (``available`` False) when nothing is cached; corrupt files are skipped and
        listed in ``status``.
    """
    cache = cache or MarketCache()
    as_of = _day(as_of) or pd.Timestamp.today().normalize()
    reference = _reference_table(tickers_path)
    if tickers is None:
        tickers = list(reference["ticker"]) if len(reference) else cache.tickers(PRICES)
    tickers = [t.upper() for t in tickers]
    notes: list[str] = []
    if fetch and tickers:
        benchmarks = set(reference.loc[reference["is_benchmark"], "ticker"]) if len(reference) else set()
        try:
            report = refresh(tickers, fundamentals=[t for t in tickers if t not in benchmarks],
                             provider=provider, cache=cache, deadline_s=deadline_s)
            failed = [o.ticker for o in report.outcomes if o.kind == PRICES and not o.ok]
            if failed:
                notes.append(f"refresh failed for {len(failed)} ticker(s): {', '.join(failed[:8])}"
                             f"{', ...' if len(failed) > 8 else ''} (cached data used)")
        except Exception as exc:  # noqa: BLE001 - a report must still render from the cache
            log.warning("market-data refresh failed: %s", exc)
            notes.append(f"refresh failed ({type(exc).__name__}: {_short(str(exc))}); cached data used")
    columns: dict[str, list[np.ndarray]] = {"date": [], "close": [], "volume": []}
    names, counts, fund_frames, entries = [], [], [], []
    for ticker in tickers:
        entry = cache.read(ticker, PRICES)
        entries.append(entry)
        if entry.ok:
            keep = (entry.frame["date"] <= as_of).to_numpy()
            for col in columns:
                columns[col].append(entry.frame[col].to_numpy()[keep])
            names.append(ticker)
            counts.append(int(keep.sum()))
        fund = cache.read(ticker, FUNDAMENTALS)
        if fund.ok:
            fund_frames.append(fund.frame[fund.frame["period_end"] <= as_of].assign(ticker=ticker))
    # Built from arrays: concatenating 45 frames with a string column costs more than reading them.
    prices = pd.DataFrame({
        "date": np.concatenate(columns["date"]) if names else np.array([], dtype="datetime64[ns]"),
        # Categorical: 45 labels repeated 200k times cost 0.07 s as strings and 2 ms as codes.
        "ticker": pd.Categorical.from_codes(np.repeat(np.arange(len(names)), counts), categories=names)
        if names else pd.Categorical([]),
        "close": np.concatenate(columns["close"]) if names else np.array([], dtype="float64"),
        "volume": np.concatenate(columns["volume"]) if names else np.array([], dtype="float64"),
    })
    fundamentals = (pd.concat(fund_frames, ignore_index=True) if fund_frames
                    else pd.DataFrame(columns=["period_end", *FUNDAMENTAL_COLUMNS, "ticker"]))
    fundamentals = fundamentals[["ticker", "period_end", *FUNDAMENTAL_COLUMNS]]
    known = reference[reference["ticker"].isin(tickers)] if len(reference) else reference
    extra = [t for t in tickers if t not in set(known["ticker"])]
    if extra:
        known = pd.concat([known, pd.DataFrame({"ticker": extra, "segment": "unclassified",
                                                "is_benchmark": False})], ignore_index=True)
    status = _status_of(entries, as_of)
    return Universe(prices, fundamentals, known.reset_index(drop=True), status, tuple(notes))


def _reference_table(path) -> pd.DataFrame:
    target = Path(path) if path is not None else TICKERS_PATH
    if not target.exists():
        return pd.DataFrame(columns=["ticker", "segment", "is_benchmark"])
    return load_tickers(target)
