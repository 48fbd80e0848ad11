"""Statistics of price or index levels: relative strength against benchmarks, drawdowns from the
running peak, rolling volatility and beta, and the current valuation of listed companies.

Every function takes tidy frames or plain date-indexed series and returns a frozen result with
``summary()``; :mod:`analysis.baskets` builds the levels and re-exports these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from analysis.errors import ParameterError

def trading_days_per_year() -> int:
    """Annualisation factor for daily returns: 252 NYSE sessions a year (the usual convention)."""
    return 252


def default_vol_window() -> int:
    """Rolling volatility window: 63 sessions, one quarter of a trading year."""
    return 63


def default_rs_windows() -> dict[str, int]:
    """Look-back windows (sessions) of the relative-strength and return tables."""
    return {"1m": 21, "3m": 63, "6m": 126, "12m": 252}



def latest_shares(fundamentals: pd.DataFrame) -> pd.Series:
    """Latest positive ``shares_outstanding`` per ticker from tidy fundamentals."""
    if fundamentals is None or fundamentals.empty or "shares_outstanding" not in fundamentals:
        return pd.Series(dtype="float64")
    f = fundamentals.dropna(subset=["shares_outstanding"])
    f = f[f["shares_outstanding"] > 0].sort_values("period_end")
    return f.groupby("ticker")["shares_outstanding"].last()



# --------------------------------------------------------------------------------------------
# Relative strength, drawdown, volatility
# --------------------------------------------------------------------------------------------

def _as_frame(levels: pd.Series | pd.DataFrame) -> pd.DataFrame:
    if isinstance(levels, pd.Series):
        return levels.to_frame(levels.name or "series")
    return levels


@dataclass(frozen=True)
class RelativeStrength:
    """Each series against each benchmark on their common dates.

    ``ratios`` is tidy: ``date``, ``series``, ``benchmark``, ``ratio`` with
    ``ratio_t = (X_t / X_0) / (B_t / B_0)`` from the pair's first common date (1 = kept pace).
    ``table`` has one row per (series, benchmark): start and end dates and the relative return
    over each window (``ratio_end / ratio_{end - w} - 1``; NaN when the pair is shorter).
    """

    ratios: pd.DataFrame
    table: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        return self.table

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False, float_format=lambda x: f"{x:+.1%}")


def relative_strength(levels: pd.Series | pd.DataFrame, benchmarks: pd.Series | pd.DataFrame,
                      windows: Mapping[str, int] | None = None) -> RelativeStrength:
    """Relative strength of price or index levels against benchmark levels (QQQ, SPY).

    Parameters
    ----------
    levels : Series or DataFrame
        Dates as index, one column per series (basket levels or closes).
    benchmarks : Series or DataFrame
        Dates as index, one column per benchmark.
    windows : mapping of label to sessions, optional
        Default :func:`default_rs_windows`.
    """
    windows = default_rs_windows() if windows is None else dict(windows)
    X, B = _as_frame(levels), _as_frame(benchmarks)
    ratio_rows, table_rows = [], []
    for s in X.columns:
        for b in B.columns:
            pair = pd.concat([X[s], B[b]], axis=1, keys=["x", "b"], sort=True).dropna()
            if len(pair) < 2:
                continue
            ratio = (pair["x"] / pair["x"].iloc[0]) / (pair["b"] / pair["b"].iloc[0])
            ratio_rows.append(pd.DataFrame({"date": ratio.index, "series": s, "benchmark": b,
                                            "ratio": ratio.to_numpy()}))
            row = {"series": s, "benchmark": b, "start": pair.index[0].date(), "end": pair.index[-1].date(),
                   "since_start": ratio.iloc[-1] - 1}
            for label, w in windows.items():
                row[label] = ratio.iloc[-1] / ratio.iloc[-1 - w] - 1 if len(ratio) > w else np.nan
            table_rows.append(row)
    ratios = (pd.concat(ratio_rows, ignore_index=True) if ratio_rows
              else pd.DataFrame(columns=["date", "series", "benchmark", "ratio"]))
    return RelativeStrength(ratios, pd.DataFrame(table_rows))


@dataclass(frozen=True)
class Drawdown:
    """Drawdown from the running peak, ``P_t / max_{s<=t} P_s - 1`` (0 at a new high).

    ``drawdown`` is date x series; ``table`` has per series the current drawdown, the maximum
    drawdown with its peak and trough dates, and the recovery date (NaT if not yet recovered).
    """

    drawdown: pd.DataFrame
    table: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        return self.table

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False)


def drawdown(levels: pd.Series | pd.DataFrame) -> Drawdown:
    """Drawdowns of each column of ``levels`` (each over its own valid dates)."""
    X = _as_frame(levels)
    dd = X / X.cummax() - 1
    rows = []
    for c in X.columns:
        s, d = X[c].dropna(), dd[c].dropna()
        if s.empty:
            continue
        trough = d.idxmin()
        peak = s.loc[:trough].idxmax()
        after = s.loc[trough:]
        recovered = after[after >= s.loc[peak]]
        rows.append({"series": c, "current": d.iloc[-1], "max_drawdown": d.min(), "peak_date": peak.date(),
                     "trough_date": trough.date(),
                     "recovered": recovered.index[0].date() if len(recovered) and d.min() < 0 else None,
                     "last_date": s.index[-1].date()})
    return Drawdown(dd, pd.DataFrame(rows))


@dataclass(frozen=True)
class Volatility:
    """Rolling annualised volatility ``sqrt(252) * std(log returns over window)`` (ddof = 1)."""

    volatility: pd.DataFrame
    window: int
    table: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        return self.table

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False)


def rolling_volatility(levels: pd.Series | pd.DataFrame, window: int | None = None) -> Volatility:
    """Rolling annualised volatility of daily log returns.

    Parameters
    ----------
    levels : Series or DataFrame
        Prices or index levels, dates as index.
    window : int, optional
        Sessions (default :func:`default_vol_window`); the first ``window`` dates are NaN.

    Notes
    -----
    Returns are taken between consecutive valid observations of each series, so a missing day
    spreads over the next return instead of producing NaN.
    """
    window = default_vol_window() if window is None else int(window)
    if window < 2:
        raise ParameterError(f"window must be at least 2 sessions, got {window}")
    X = _as_frame(levels)
    out = {}
    for c in X.columns:
        s = X[c].dropna()
        r = np.log(s).diff()
        out[c] = r.rolling(window).std(ddof=1) * np.sqrt(trading_days_per_year())
    vol = pd.DataFrame(out).reindex(X.index)
    rows = []
    for c in vol.columns:
        v = vol[c].dropna()
        if v.empty:
            continue
        rows.append({"series": c, "latest": v.iloc[-1], "median": v.median(), "max": v.max(),
                     "max_date": v.idxmax().date(), "last_date": v.index[-1].date()})
    return Volatility(vol, window, pd.DataFrame(rows))


# --------------------------------------------------------------------------------------------
# Fundamentals
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Valuation:
    """Market cap and price-to-sales per ticker at the last common price date.

    ``table``: ``ticker``, ``date``, ``close``, ``shares_outstanding``, ``market_cap``,
    ``ttm_revenue`` (last four consecutive quarters on or before ``date``), ``price_to_sales``.
    """

    table: pd.DataFrame
    notes: tuple[str, ...] = ()

    def summary(self) -> pd.DataFrame:
        return self.table

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False, float_format=lambda x: f"{x:,.3g}")


def valuation_snapshot(prices: pd.DataFrame, fundamentals: pd.DataFrame, as_of=None) -> Valuation:
    """Market cap (latest shares x last close) and price-to-sales (cap / TTM revenue).

    Notes
    -----
    A *current* value only: yfinance returns about five quarters of fundamentals, so there is
    no price-to-sales history to compare with (the risk score's ``price_to_sales`` indicator is
    fed from this snapshot where fundamentals are cached, and left out of past quarters).
    Revenue is in the reporting currency (TSM reports TWD) and ADR prices meet ordinary-share
    counts, so the P/S of a non-US filer is not comparable without a conversion this function
    does not attempt.
    """
    as_of = pd.Timestamp(as_of) if as_of is not None else prices["date"].max()
    p = prices[prices["date"] <= as_of].sort_values("date").groupby("ticker").tail(1)
    shares = latest_shares(fundamentals[fundamentals["period_end"] <= as_of]) if not fundamentals.empty else \
        pd.Series(dtype="float64")
    rows = []
    for r in p.itertuples(index=False):
        f = fundamentals[(fundamentals["ticker"] == r.ticker) & (fundamentals["period_end"] <= as_of)]
        f = f.dropna(subset=["revenue_usd"]).sort_values("period_end").tail(4)
        regular = len(f) == 4 and f["period_end"].diff().dt.days.iloc[1:].between(80, 100).all()
        ttm = f["revenue_usd"].sum() if regular else np.nan
        cap = shares.get(r.ticker, np.nan) * r.close
        rows.append({"ticker": r.ticker, "date": r.date.date(), "close": r.close,
                     "shares_outstanding": shares.get(r.ticker, np.nan), "market_cap": cap,
                     "ttm_revenue": ttm, "price_to_sales": cap / ttm if ttm and ttm > 0 else np.nan})
    return Valuation(pd.DataFrame(rows))



def default_beta_window() -> int:
    """Rolling beta window: 63 sessions, one quarter (the volatility window)."""
    return default_vol_window()


def drawdown_table(levels: pd.Series | pd.DataFrame) -> pd.DataFrame:
    """Per series: peak date and level, trough date, maximum and current drawdown, recovery date
    (:func:`drawdown`'s table, the form the basket sections show)."""
    return drawdown(levels).table


@dataclass(frozen=True)
class RollingBeta:
    """Rolling OLS beta of daily log returns on a benchmark's:
    ``beta_t = cov(r_x, r_b) / var(r_b)`` over the last ``window`` sessions both are priced.

    ``beta``: date x series; ``table``: per series the latest, median and full-sample beta.
    """

    beta: pd.DataFrame
    window: int
    benchmark: str
    table: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        return self.table

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False, float_format=lambda x: f"{x:.2f}")


def rolling_beta(levels: pd.Series | pd.DataFrame, benchmark: pd.Series, window: int | None = None) -> RollingBeta:
    """Rolling beta of each column of ``levels`` to ``benchmark`` (daily log returns).

    Parameters
    ----------
    levels : Series or DataFrame
        Prices or index levels, dates as index.
    benchmark : Series
        The benchmark's prices (SPY for the basket sections).
    window : int, optional
        Sessions (default :func:`default_beta_window`); NaN until ``window`` common returns exist.

    Notes
    -----
    Each pair uses the dates on which both are priced; returns are taken between consecutive such
    dates. ``cov`` and ``var`` share ``ddof = 1``, so beta is the OLS slope of the window.
    """
    window = default_beta_window() if window is None else int(window)
    if window < 3:
        raise ParameterError(f"window must be at least 3 sessions, got {window}")
    X = _as_frame(levels)
    name = str(benchmark.name) if benchmark.name is not None else "benchmark"
    out, rows = {}, []
    for c in X.columns:
        pair = pd.concat([X[c], benchmark], axis=1, keys=["x", "b"], sort=True).dropna()
        r = np.log(pair).diff().dropna()
        cov = r["x"].rolling(window).cov(r["b"])
        var = r["b"].rolling(window).var()
        beta = cov / var
        out[c] = beta
        full = float(r["x"].cov(r["b"]) / r["b"].var()) if len(r) > 2 else np.nan
        b = beta.dropna()
        rows.append({"series": c, "latest": b.iloc[-1] if len(b) else np.nan,
                     "median": b.median() if len(b) else np.nan, "full_sample": full,
                     "last_date": b.index[-1].date() if len(b) else None})
    frame = pd.DataFrame(out).reindex(X.index)
    return RollingBeta(frame, window, name, pd.DataFrame(rows))
