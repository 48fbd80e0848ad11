"""``refresh``: fetch prices and fundamentals into the cache within one deadline (``aibubble fetch``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import pandas as pd

from analysis.data.market import provider as _provider
from analysis.data.market.cache import MarketCache, merge_prices
from analysis.data.market.common import CORRUPT, EMPTY, FUNDAMENTALS, OK, PRICES, TIMEOUT, today
from analysis.data.market.deadline import TickerOutcome, default_deadline_s, outcome_table
from analysis.data.market.provider import MarketDataProvider
from analysis.data.market.status import MarketDataStatus, market_status, stale_after_days
from analysis.data.market.tickers import load_tickers
from analysis.errors import MarketDataError, ParameterError


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
        fetched = outcome_table(self.outcomes).rename(columns={"rows": "fetched_rows", "status": "fetch"})
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
    provider = provider or _provider.default_provider()
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
    price_status = market_status(tickers, cache=cache)
    status_rows, problems = price_status.table, price_status.problems
    # A fund has no statements: an empty answer with nothing cached is not a missing file.
    no_statements = {o.ticker for o in outcomes if o.kind == FUNDAMENTALS and o.status == EMPTY}
    fundamentals = [t for t in fundamentals if t not in no_statements or cache.path(t, FUNDAMENTALS).exists()]
    if fundamentals:
        fund_status = market_status(fundamentals, cache=cache, kinds=(FUNDAMENTALS,))
        status_rows = pd.concat([status_rows, fund_status.table], ignore_index=True)
        problems += fund_status.problems
    status = MarketDataStatus(today(), status_rows, stale_after_days(), problems)
    return RefreshReport(tuple(outcomes), status, tuple(written), time.monotonic() - t0, tuple(notes))

