"""The ticker universe and :func:`load_universe`: everything the market sections read, from the cache."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from analysis.data.market.cache import MarketCache
from analysis.data.market.common import FUNDAMENTAL_COLUMNS, FUNDAMENTALS, PRICES, shorten, to_day, today
from analysis.data.market.fetch import refresh
from analysis.data.market.provider import MarketDataProvider
from analysis.data.market.status import MarketDataStatus, status_of
from analysis.data.market.tickers import TICKERS_PATH, load_tickers

log = logging.getLogger(__name__)


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
        Empty frames (``available`` False) when nothing is cached. Corrupt files are skipped,
        rows with an unusable close left out and infinite values blanked (see
        :meth:`MarketCache.read`); ``status.problems`` and ``status.banner`` name each such file.
    """
    cache = cache or MarketCache()
    as_of = to_day(as_of) or today()
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
            notes.append(f"refresh failed ({type(exc).__name__}: {shorten(str(exc))}); cached data used")
    columns: dict[str, list[np.ndarray]] = {"date": [], "close": [], "volume": []}
    names, counts, fund_frames, entries, fund_entries = [], [], [], [], []
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
        fund_entries.append(fund)
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
    # Damaged or cleaned fundamentals files are named in the status problems (and the banner).
    status = status_of(entries, as_of, also=fund_entries)
    return Universe(prices, fundamentals, known.reset_index(drop=True), status, tuple(notes))


def _reference_table(path) -> pd.DataFrame:
    target = Path(path) if path is not None else TICKERS_PATH
    if not target.exists():
        return pd.DataFrame(columns=["ticker", "segment", "is_benchmark"])
    return load_tickers(target)
