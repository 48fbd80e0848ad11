"""The provider interface and the yfinance provider (the only code that talks to the network)."""

from __future__ import annotations

import socket
import threading
import time
import warnings
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Callable, Mapping, Protocol, Sequence, runtime_checkable

import pandas as pd

from analysis import config
from analysis.data.market.common import BAD_SHAPE, EMPTY, ERROR, FUNDAMENTALS, OK, PRICES, RATE_LIMITED, shorten
from analysis.data.market.deadline import (
    NETWORK_TEXT, RATE_LIMIT_TEXT, Answer, TickerOutcome, default_deadline_s, install_log_capture, is_rate_limit,
    outcome_table, retry_backoff_s, run_with_deadline, said_about)
from analysis.data.market.tidy import ShapeError, tidy_fundamentals, tidy_prices
from analysis.errors import ParameterError

#: The host yfinance asks for prices; resolving it tells "no network" from "no data".
YAHOO_HOST = "query2.finance.yahoo.com"
#: Seconds the DNS probe may take (a healthy resolver answers in milliseconds).
PROBE_TIMEOUT_S = 3.0


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
        return outcome_table(self.outcomes)

    def _repr_html_(self) -> str:
        return f"<p>{self.kind} from {self.source}, {self.elapsed_s:.1f} s</p>" + self.summary().to_html(index=False)


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
    resolve : callable, optional
        ``resolve(host)`` raises ``OSError`` when the host name cannot be resolved (default
        :func:`socket.getaddrinfo`); see Notes. Tests pass a stand-in.

    Notes
    -----
    One ``yfinance.download`` call per ticker (``threads=False``) so that each ticker has its own
    worker, outcome and log messages; ``download`` swallows exceptions and only logs them, so the
    worker captures the yfinance logger's messages to tell a rate limit or a network failure from
    an unknown symbol. When a request fails before any answer (no DNS, no route), yfinance 1.7
    drops the exception without a word and reports the symbol "possibly delisted"; so before an
    empty answer is believed, one DNS lookup of Yahoo's host (per fetch, bounded by
    :data:`PROBE_TIMEOUT_S`) tells an unreachable network from a symbol without data.
    """

    name = "yfinance"

    def __init__(self, *, auto_adjust: bool = True, max_workers: int = 4, max_attempts: int = 3,
                 backoff_s: float | None = None, timeout_s: float = 10.0, yf: Any = None,
                 resolve: Callable[[str], Any] | None = None):
        if max_workers < 1 or max_attempts < 1:
            raise ParameterError("max_workers and max_attempts must be at least 1")
        self.auto_adjust = auto_adjust
        self.max_workers = max_workers
        self.max_attempts = max_attempts
        self.backoff_s = retry_backoff_s() if backoff_s is None else backoff_s
        self.timeout_s = timeout_s
        self._yf = yf
        self._resolve = resolve or (lambda host: socket.getaddrinfo(host, 443))
        self._unreachable: str | None = None  # the DNS probe's verdict, once per fetch

    @property
    def yf(self):
        if self._yf is None:
            import yfinance

            # yfinance keeps a timezone cache under the user's home; keep it with ours instead.
            tz_dir = config.cache_dir() / "yfinance"
            try:
                tz_dir.mkdir(parents=True, exist_ok=True)
                yfinance.set_tz_cache_location(str(tz_dir))
            except Exception:  # best effort only: a read-only cache is reported when it is written
                pass
            self._yf = yfinance
        # Library deprecation chatter from worker threads would interleave with our table.
        warnings.filterwarnings("ignore", module=r"yfinance(\.|$)")
        install_log_capture()
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

        def classify(ticker, raw, error, logs) -> Answer:
            said = said_about(logs, ticker)
            if error is not None:
                status = RATE_LIMITED if is_rate_limit(error) else ERROR
                return Answer(status, None, shorten(f"{type(error).__name__}: {error}"))
            if isinstance(raw, pd.DataFrame) and len(raw.index) == 0:
                # What yfinance returns for every failure it swallows: judge by its log.
                frame, adjustment = raw, self.adjustment
            else:
                try:
                    frame, adjustment = tidy_prices(raw, ticker, auto_adjust=self.auto_adjust)
                except ShapeError as exc:
                    return Answer(BAD_SHAPE, None, shorten(f"unexpected frame: {exc}"))
            if frame.empty:
                return self._judge_empty(logs, said, "no rows returned")
            return Answer(OK, frame, said, adjustment)

        return self._run(PRICES, tickers, work, classify, deadline_s)

    def fundamentals(self, tickers: Sequence[str], *, deadline_s: float | None = None) -> FetchResult:
        """Quarterly revenue, capex, cash flow and shares per ticker (see :func:`tidy_fundamentals`)."""
        yf = self.yf

        def work(ticker: str):
            handle = yf.Ticker(ticker)
            return (handle.quarterly_cashflow, handle.quarterly_income_stmt, handle.quarterly_balance_sheet)

        def classify(ticker, statements, error, logs) -> Answer:
            said = said_about(logs, ticker)
            if error is not None:
                status = RATE_LIMITED if is_rate_limit(error) else ERROR
                return Answer(status, None, shorten(f"{type(error).__name__}: {error}"))
            try:
                frame = tidy_fundamentals(statements)
            except ShapeError as exc:
                return Answer(BAD_SHAPE, None, shorten(f"unexpected statement: {exc}"))
            if frame.empty:
                return self._judge_empty(logs, said, "no quarterly statements (funds have none)")
            return Answer(OK, frame, said, "as_reported")

        return self._run(FUNDAMENTALS, tickers, work, classify, deadline_s)

    def _judge_empty(self, logs: list[str], said: str, nothing: str) -> Answer:
        """An empty answer: a rate limit, a network failure, or really no data for the symbol."""
        if RATE_LIMIT_TEXT.search(" ".join(logs)):
            return Answer(RATE_LIMITED, None, said)
        network = next((m for m in logs if NETWORK_TEXT.search(m)), None)
        if network is not None:
            return Answer(ERROR, None, shorten(f"network error: {network}"))
        if self._unreachable is None:
            self._unreachable = probe_dns(self._resolve, YAHOO_HOST)
        if self._unreachable:
            # yfinance's "possibly delisted" is a guess it makes for every failed request.
            return Answer(ERROR, None, shorten(f"network error: {self._unreachable} (yfinance returned no data)"))
        return Answer(EMPTY, None, said or nothing)

    def _run(self, kind, tickers, work, classify, deadline_s) -> FetchResult:
        t0 = time.monotonic()
        self._unreachable = None  # probe again in each fetch: the network may have come back
        answers, outcomes = run_with_deadline(
            [t.upper() for t in tickers], work, classify, kind=kind,
            deadline_s=default_deadline_s() if deadline_s is None else deadline_s,
            max_workers=self.max_workers, max_attempts=self.max_attempts, backoff_s=self.backoff_s)
        frames = MappingProxyType({tk: a.frame for tk, a in answers.items()})
        adjustments = {a.adjustment for a in answers.values()}
        adjustment = adjustments.pop() if len(adjustments) == 1 else (
            self.adjustment if kind == PRICES else "as_reported")
        return FetchResult(kind, frames, outcomes, self.source, adjustment, time.monotonic() - t0)


def probe_dns(resolve: Callable[[str], Any], host: str, timeout_s: float | None = None) -> str:
    """Why ``host`` cannot be resolved ("" when it can), within ``timeout_s`` seconds.

    The lookup runs in a daemon thread: a resolver on a broken network can block far longer
    than the refresh deadline allows, and an abandoned lookup must not keep the process alive.
    """
    timeout_s = PROBE_TIMEOUT_S if timeout_s is None else timeout_s
    verdict: list[str] = []

    def lookup() -> None:
        try:
            resolve(host)
            verdict.append("")
        except OSError as exc:
            verdict.append(f"cannot resolve {host} ({exc.strerror or exc})")
        except Exception as exc:  # noqa: BLE001 - any failure of the probe means "unreachable"
            verdict.append(f"cannot resolve {host} ({type(exc).__name__}: {exc})")

    worker = threading.Thread(target=lookup, daemon=True, name="aibubble-dns-probe")
    worker.start()
    worker.join(timeout_s)
    return verdict[0] if verdict else f"no DNS answer for {host} within {timeout_s:g} s"


def default_provider() -> MarketDataProvider:
    """The provider ``aibubble fetch`` and :func:`load_universe` use (tests replace it)."""
    return YFinanceProvider()

