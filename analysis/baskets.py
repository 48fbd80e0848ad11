"""Listed baskets: segment basket indices, relative strength, drawdowns, volatility, capex, and
the market context a page loads (the taxonomy's baskets from the cached universe).

Every analytic takes tidy frames (as :func:`analysis.data.market.load_universe` returns them)
or plain series and returns a frozen result with ``summary()``. Only :func:`market_context`
reads the cache (never the network unless asked), so the pages load market data in one place.

Dates
-----
Tickers start and end on different days (IPOs, and sources that stop on different dates). The
rules, applied everywhere in this module:

* a basket member joins at the first rebalance date on which it has a price (no back-filling);
* a basket ends on the earliest last date of its members (common end), so every member is
  priced on every day of the index; drop a delisted ticker to extend a basket past its end;
* inside a member's own date range a missing day (another exchange's holiday) carries the last
  close forward;
* comparisons between series (relative strength, summary tables) use the dates common to both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.errors import ParameterError

EQUAL, MARKET_CAP = "equal", "market_cap"
BENCHMARKS = ("QQQ", "SPY")


def trading_days_per_year() -> int:
    """Annualisation factor for daily returns: 252 NYSE sessions a year (the usual convention)."""
    return 252


def default_vol_window() -> int:
    """Rolling volatility window: 63 sessions, one quarter of a trading year."""
    return 63


def default_rs_windows() -> dict[str, int]:
    """Look-back windows (sessions) of the relative-strength and return tables."""
    return {"1m": 21, "3m": 63, "6m": 126, "12m": 252}


# --------------------------------------------------------------------------------------------
# Shapes
# --------------------------------------------------------------------------------------------

def wide_closes(prices: pd.DataFrame, tickers: Sequence[str] | None = None) -> pd.DataFrame:
    """Tidy prices (date, ticker, close) to a date x ticker frame, ascending dates."""
    missing = {"date", "ticker", "close"} - set(prices.columns)
    if missing:
        raise ParameterError(f"prices need columns date, ticker, close (missing {sorted(missing)})")
    try:
        wide = prices.pivot(index="date", columns="ticker", values="close")
    except ValueError:  # duplicate (date, ticker) rows: keep the last, as the cache merge does
        wide = prices.pivot_table(index="date", columns="ticker", values="close", aggfunc="last", observed=True)
    wide.columns = pd.Index([str(c) for c in wide.columns])  # plain labels even from a categorical column
    wide = wide.loc[:, wide.notna().any()]  # unobserved categories of a filtered frame are not tickers
    if tickers is not None:
        absent = [t for t in tickers if t not in wide.columns]
        if absent:
            raise ParameterError(f"no prices for {', '.join(absent)}")
        wide = wide[list(tickers)]
    return wide.sort_index().rename_axis(columns=None)


def _fill_inside(wide: pd.DataFrame) -> pd.DataFrame:
    """Carry the last close forward only inside each column's first..last valid date."""
    filled = wide.ffill()
    last = wide.apply(lambda s: s.last_valid_index())
    after_end = pd.DataFrame(wide.index.to_numpy()[:, None] > last.to_numpy()[None, :],
                             index=wide.index, columns=wide.columns)
    return filled.mask(after_end)


def month_end_dates(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The last date of each calendar month present in ``index`` (the rebalance dates)."""
    s = pd.Series(index, index=index)
    return pd.DatetimeIndex(s.groupby(index.to_period("M")).max().to_numpy())


# --------------------------------------------------------------------------------------------
# Basket indices
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BasketIndex:
    """A basket index rebalanced at month ends.

    Attributes
    ----------
    name : str
    weighting : {"equal", "market_cap"}
        The weighting actually used (``requested`` says what was asked for).
    level : Series
        Index level by date, ``base`` on the first date.
    weights : DataFrame
        Tidy: ``rebalance_date``, ``ticker``, ``weight`` (set at that date's close).
    members : tuple of str
    notes : tuple of str
        Fallbacks and trimming, in words (shown under the chart).
    """

    name: str
    weighting: str
    requested: str
    level: pd.Series
    weights: pd.DataFrame
    members: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def start(self) -> pd.Timestamp:
        return self.level.index[0]

    @property
    def end(self) -> pd.Timestamp:
        return self.level.index[-1]

    def summary(self) -> pd.DataFrame:
        years = (self.end - self.start).days / 365.25
        total = self.level.iloc[-1] / self.level.iloc[0] - 1
        cagr = (1 + total) ** (1 / years) - 1 if years > 0 else np.nan
        return pd.DataFrame([{
            "basket": self.name, "weighting": self.weighting, "members": len(self.members),
            "start": self.start.date(), "end": self.end.date(), "level": self.level.iloc[-1],
            "total_return": total, "cagr": cagr, "notes": "; ".join(self.notes)}])

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False, float_format=lambda x: f"{x:,.4g}")


def basket_index(prices: pd.DataFrame, tickers: Sequence[str] | None = None, *, weighting: str = EQUAL,
                 shares: Mapping[str, float] | pd.Series | None = None, start=None, end=None,
                 base: float = 100.0, name: str = "basket") -> BasketIndex:
    """Equal- or market-cap-weighted basket, rebalanced at the last session of each month.

    Parameters
    ----------
    prices : DataFrame
        Tidy ``date``, ``ticker``, ``close`` (adjusted closes, so the index is a total-return index).
    tickers : sequence of str, optional
        Members (default: every ticker in ``prices``).
    weighting : {"equal", "market_cap"}
    shares : mapping or Series, optional
        Shares outstanding per ticker, for ``market_cap``. A member without a positive count makes
        the whole basket fall back to equal weights, which ``weighting`` and ``notes`` report.
    start, end : date-like, optional
        Window; the index starts at the first date >= ``start`` on which a member has a price.
    base : float
        Level on the first date.

    Returns
    -------
    BasketIndex

    Notes
    -----
    At a formation date :math:`r_k` (the first date, then every month end) weights
    :math:`w_{i,k}` are set over the members priced at :math:`r_k`: :math:`1/n_k` (equal) or
    :math:`S_i P_{i,r_k} / \\sum_j S_j P_{j,r_k}` (market cap). Holdings then drift with prices
    until the next month end:

    .. math:: I_t = I_{r_k} \\sum_i w_{i,k} \\frac{P_{i,t}}{P_{i,r_k}}, \\quad r_k < t \\le r_{k+1}.

    Market caps use one share count per ticker (the latest reported) times the adjusted close:
    adjusted prices are on today's split basis, and so is today's share count, whereas older
    reported counts are on the basis of their date (a 10-for-1 split would misweight a member
    tenfold). Buybacks and issuance between now and a past date are therefore ignored. ADR
    prices against ordinary-share counts (TSM) overstate the cap by the ADR ratio.
    """
    if weighting not in (EQUAL, MARKET_CAP):
        raise ParameterError(f"weighting: {weighting!r} is not one of equal, market_cap")
    return _basket_from_wide(wide_closes(prices, tickers), weighting=weighting, shares=shares, start=start,
                             end=end, base=base, name=name)


def _basket_from_wide(wide: pd.DataFrame, *, weighting: str, shares, start, end, base: float,
                      name: str) -> BasketIndex:
    if start is not None:
        wide = wide[wide.index >= pd.Timestamp(start)]
    if end is not None:
        wide = wide[wide.index <= pd.Timestamp(end)]
    wide = wide.dropna(axis=1, how="all")
    if wide.empty:
        raise ParameterError(f"{name}: no prices in the selected window")
    notes: list[str] = []
    last_dates = wide.apply(lambda s: s.last_valid_index())
    common_end = last_dates.min()
    if common_end < wide.index[-1]:
        late = ", ".join(f"{t} {d.date()}" for t, d in last_dates[last_dates == common_end].items())
        notes.append(f"ends {common_end.date()}, the earliest last date of its members ({late})")
        wide = wide[wide.index <= common_end]
    wide = _fill_inside(wide)
    wide = wide[wide.notna().any(axis=1)]
    members = tuple(wide.columns)

    used = weighting
    caps_shares = None
    if weighting == MARKET_CAP:
        s = pd.Series(shares if shares is not None else {}, dtype="float64")
        s = s.reindex(list(members))
        lacking = [t for t in members if not (pd.notna(s.get(t)) and s.get(t) > 0)]
        if lacking:
            used = EQUAL
            notes.append(f"equal weights: no share count for {', '.join(lacking)} "
                         f"(market-cap weighting needs every member)")
        else:
            caps_shares = s.to_numpy()
    level, weights = _basket_levels(wide, caps_shares, base)
    return BasketIndex(name, used, weighting, level.rename(name), weights, members, tuple(notes))


def _formation_positions(index: pd.DatetimeIndex) -> np.ndarray:
    """Row positions of the formation dates: the first date, then each month's last date."""
    month_ends = month_end_dates(index)
    pos = index.get_indexer(month_ends)
    return np.unique(np.concatenate([[0], pos]))


def _basket_levels(wide: pd.DataFrame, shares: np.ndarray | None, base: float) -> tuple[pd.Series, pd.DataFrame]:
    P = wide.to_numpy(dtype="float64")
    T, N = P.shape
    form = _formation_positions(wide.index)
    # Weights per formation date; a member counts only if priced at that date.
    Pf = P[form]
    live = ~np.isnan(Pf)
    if shares is None:
        raw = live.astype("float64")
    else:
        raw = np.where(live, np.nan_to_num(Pf) * shares[None, :], 0.0)
    total = raw.sum(axis=1, keepdims=True)
    W = np.divide(raw, total, out=np.zeros_like(raw), where=total > 0)
    # Period of each row: formation k covers rows (form[k], form[k+1]]; row form[0] is the start.
    period = np.searchsorted(form, np.arange(T), side="left") - 1
    period[0] = 0
    ref = Pf[period]                                   # P at the period's formation date
    rel = np.where(W[period] > 0, P / np.where(np.isnan(ref), 1.0, ref), 0.0)
    gross = (W[period] * np.nan_to_num(rel)).sum(axis=1)
    gross[0] = 1.0
    # Level at each formation date chains the gross return of the periods before it.
    end_gross = gross[form[1:]] if len(form) > 1 else np.array([])
    level_at_form = base * np.concatenate([[1.0], np.cumprod(end_gross)])
    level = level_at_form[period] * gross
    level[0] = base
    weights = pd.DataFrame(W, index=wide.index[form], columns=wide.columns)
    weights = weights.rename_axis("rebalance_date").reset_index().melt(
        id_vars="rebalance_date", var_name="ticker", value_name="weight")
    weights = weights[weights["weight"] > 0].sort_values(["rebalance_date", "ticker"]).reset_index(drop=True)
    return pd.Series(level, index=wide.index), weights


@dataclass(frozen=True)
class SegmentBaskets:
    """One basket per segment; ``levels`` is date x segment (NaN before a basket starts)."""

    baskets: Mapping[str, BasketIndex]
    weighting: str

    @property
    def levels(self) -> pd.DataFrame:
        return pd.concat({k: b.level for k, b in self.baskets.items()}, axis=1, sort=True)

    def summary(self) -> pd.DataFrame:
        if not self.baskets:
            return pd.DataFrame()
        return pd.concat([b.summary() for b in self.baskets.values()], ignore_index=True)

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False, float_format=lambda x: f"{x:,.4g}")


def segment_baskets(prices: pd.DataFrame, tickers: pd.DataFrame, *, weighting: str = EQUAL,
                    fundamentals: pd.DataFrame | None = None, start=None, end=None,
                    min_members: int = 1) -> SegmentBaskets:
    """A basket per segment of the ticker table (benchmarks and ETFs in it excluded).

    Parameters
    ----------
    prices : DataFrame
        Tidy ``date``, ``ticker``, ``close``.
    tickers : DataFrame
        ``ticker``, ``segment`` and ``is_benchmark`` (``Universe.tickers``).
    weighting : {"equal", "market_cap"}
    fundamentals : DataFrame, optional
        Tidy ``ticker``, ``period_end``, ``shares_outstanding``; the latest count per ticker
        is used (see :func:`latest_shares`).
    min_members : int
        Segments with fewer priced tickers are skipped.
    """
    if weighting not in (EQUAL, MARKET_CAP):
        raise ParameterError(f"weighting: {weighting!r} is not one of equal, market_cap")
    wide = wide_closes(prices)  # pivot once, not once per segment
    shares = latest_shares(fundamentals) if fundamentals is not None else None
    table = tickers[~tickers["is_benchmark"].astype(bool)]
    out = {}
    for segment, group in table.groupby("segment", sort=False):
        members = [t for t in group["ticker"] if t in wide.columns]
        if len(members) < max(1, min_members):
            continue
        out[segment] = _basket_from_wide(wide[members], weighting=weighting, shares=shares, start=start,
                                         end=end, base=100.0, name=segment)
    return SegmentBaskets(out, weighting)


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


# --------------------------------------------------------------------------------------------
# The taxonomy's baskets from the cached universe, as the pages load them
# --------------------------------------------------------------------------------------------


def basket_members(tickers: pd.DataFrame, basket_id: str, taxonomy=None) -> list[str]:
    """Tickers of ``data/tickers.csv`` in the basket's ticker segments (benchmarks never);
    ``taxonomy`` defaults to the bundled one."""
    from analysis.data.taxonomy import load_taxonomy

    segments = (taxonomy or load_taxonomy()).basket(basket_id).ticker_segments
    rows = tickers[tickers["segment"].isin(segments) & ~tickers["is_benchmark"].astype(bool)]
    return rows["ticker"].tolist()


def taxonomy_baskets(universe) -> pd.DataFrame:
    """Equal-weighted levels (date x basket id) of every taxonomy basket with priced members."""
    from analysis.data.taxonomy import load_taxonomy

    levels = {}
    have = set(universe.prices["ticker"].unique())
    for b in load_taxonomy().baskets:
        members = [t for t in basket_members(universe.tickers, b.id) if t in have]
        if members:
            levels[b.id] = basket_index(universe.prices, members, name=b.id).level
    return pd.DataFrame(levels).sort_index()


def close_series(universe, ticker: str) -> pd.Series | None:
    """One ticker's closes from the universe (None when it is not priced)."""
    p = universe.prices
    s = p.loc[p["ticker"] == ticker].set_index("date")["close"]
    return s.sort_index().rename(ticker) if len(s) else None


@dataclass(frozen=True)
class MarketContext:
    """Market data for a page: basket levels (date x basket id; empty without data), the market
    benchmark's closes, the freshness banner and the cache status table."""

    levels: pd.DataFrame
    benchmark: pd.Series | None
    banner: str
    as_of_text: str
    status_table: pd.DataFrame
    universe: object = None

    @property
    def available(self) -> bool:
        return not self.levels.empty

    def summary(self) -> pd.DataFrame:
        return self.status_table


def market_context(as_of: str, offline: bool) -> MarketContext:
    """Load the cached universe (refreshing first unless ``offline``) and build the taxonomy's
    baskets. Any market-data problem degrades to "no market data" with the reason in the banner."""
    from analysis.data.market import load_universe
    from analysis.data.taxonomy import load_taxonomy
    from analysis.errors import AIBubbleError

    try:
        universe = load_universe(as_of=as_of, fetch=not offline)
    except AIBubbleError as exc:
        return MarketContext(pd.DataFrame(), None, f"No market data: {exc}", "none", pd.DataFrame())
    status = universe.status
    if not universe.available:
        return MarketContext(pd.DataFrame(), None, status.banner, "none", status.summary(), universe)
    last = status.last_date
    return MarketContext(taxonomy_baskets(universe), close_series(universe, load_taxonomy().market_benchmark),
                         status.banner, last.date().isoformat() if last is not None else "none",
                         status.summary(), universe)
