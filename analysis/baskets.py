"""Listed baskets: segment basket indices, the AI-era panel of the taxonomy's baskets against QQQ
and SPY, and the market context a page loads. The statistics of levels (relative strength,
drawdown, volatility, beta, valuation) live in :mod:`analysis.basket_stats` and are re-exported.

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
* comparisons between series (relative strength, summary tables) use the dates common to both;
* a ticker whose early history is a predecessor's (a SPAC shell, a tracking stock; column
  ``start_date`` of ``data/tickers.csv``) is priced from that date only (:func:`apply_start_dates`).

Survivorship
------------
The baskets are today's AI names looking back (:data:`SURVIVORSHIP_NOTE`): companies that
failed or were never listed are missing, so past basket returns are biased upwards and past
drawdowns downwards. The AI-era panel starts in 2019 (:data:`AI_ERA_START`) to keep that
look-back short.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis.basket_stats import (  # noqa: F401 (re-exported: one import for the pages)
    Drawdown, RelativeStrength, RollingBeta, Valuation, Volatility, default_beta_window, default_rs_windows,
    default_vol_window, drawdown, drawdown_table, latest_shares, relative_strength, rolling_beta,
    rolling_volatility, trading_days_per_year, valuation_snapshot)
from analysis.errors import ParameterError

EQUAL, MARKET_CAP = "equal", "market_cap"
BENCHMARKS = ("QQQ", "SPY")
#: First date of the AI-era baskets (before it, the baskets would mostly show the pre-AI history
#: of today's winners).
AI_ERA_START = "2019-01-01"
#: Launch of ChatGPT: the base date of the launch-normalised view.
LAUNCH_DATE = "2022-11-30"
#: Shown under every basket chart and in the methodology.
SURVIVORSHIP_NOTE = ("Survivorship: each basket holds today's listed AI companies, looking back. Companies "
                     "that failed, were acquired or never listed are missing, so past returns are biased "
                     "upwards and past drawdowns downwards.")


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


def apply_start_dates(prices: pd.DataFrame, tickers: pd.DataFrame) -> pd.DataFrame:
    """Drop each ticker's prices before its ``start_date`` (``data/tickers.csv``; no column or an
    empty value keeps the whole history). The early rows are a predecessor's (SPAC shell, tracking
    stock, pre-uplisting trades), not the company's."""
    if "start_date" not in tickers or tickers["start_date"].isna().all() or prices.empty:
        return prices
    starts = tickers.dropna(subset=["start_date"]).set_index("ticker")["start_date"]
    first = prices["ticker"].astype(str).map(pd.to_datetime(starts))
    keep = first.isna() | (prices["date"] >= first)
    return prices.loc[keep.to_numpy()]


def taxonomy_baskets(universe, start=AI_ERA_START) -> pd.DataFrame:
    """Equal-weighted levels (date x basket id) of every taxonomy basket with priced members, from
    ``start`` (default :data:`AI_ERA_START`; None = each basket's whole history), with each
    ticker's predecessor history cut off (:func:`apply_start_dates`)."""
    from analysis.data.taxonomy import load_taxonomy

    prices = apply_start_dates(universe.prices, universe.tickers)
    levels = {}
    have = set(prices["ticker"].astype(str).unique())
    wide = wide_closes(prices)  # pivoted once for every basket (as basket_index would per basket)
    for b in load_taxonomy().baskets:
        members = [t for t in basket_members(universe.tickers, b.id) if t in have]
        if not members or any(t not in wide.columns for t in members):  # a member with no close at all
            continue
        try:
            levels[b.id] = _basket_from_wide(wide[members], weighting=EQUAL, shares=None, start=start, end=None,
                                             base=100.0, name=b.id).level
        except ParameterError:  # no member priced after start
            continue
    return pd.DataFrame(levels).sort_index()


def close_series(universe, ticker: str) -> pd.Series | None:
    """One ticker's closes from the universe (None when it is not priced)."""
    p = universe.prices
    s = p.loc[p["ticker"] == ticker].set_index("date")["close"]
    return s.sort_index().rename(ticker) if len(s) else None


@dataclass(frozen=True)
class BasketPanel:
    """The taxonomy's baskets in the AI era next to QQQ and SPY.

    ``levels``: date x basket id (each basket 100 on its first date at or after ``start``).
    ``benchmarks``: date x {QQQ, SPY} closes over the same span (columns missing when not cached).
    ``members``: basket id -> tickers used. ``notes``: the survivorship note and every ticker cut
    by its start date. Baskets are disjoint (checked): no ticker is counted twice in one chart.
    """

    levels: pd.DataFrame
    benchmarks: pd.DataFrame
    members: Mapping[str, tuple[str, ...]]
    start: pd.Timestamp
    notes: tuple[str, ...]

    def with_benchmarks(self) -> pd.DataFrame:
        """Baskets and benchmarks side by side on the baskets' dates (benchmarks as of each date)."""
        bench = self.benchmarks.reindex(self.levels.index.union(self.benchmarks.index)).ffill()
        return pd.concat([self.levels, bench.reindex(self.levels.index)], axis=1)

    def launch_normalised(self, date=LAUNCH_DATE) -> pd.DataFrame:
        """Every basket and benchmark rebased to 100 at ``date`` (the ChatGPT launch by default; the
        last value on or before it), from that date on. A series not yet priced then is left out."""
        d = pd.Timestamp(date)
        both = self.with_benchmarks()
        base = both[both.index <= d]
        if base.empty:
            raise ParameterError(f"launch_normalised: no prices on or before {d.date()}")
        ref = base.ffill().iloc[-1]
        ref = ref[ref.notna() & (ref > 0)]
        return 100 * both.loc[both.index >= base.index[-1], ref.index] / ref

    def drawdown(self) -> Drawdown:
        """Drawdowns of the baskets and benchmarks (peak, trough, current) over the panel's span."""
        return drawdown(self.with_benchmarks())

    def volatility(self, window: int | None = None) -> Volatility:
        return rolling_volatility(self.with_benchmarks(), window)

    def beta(self, window: int | None = None, benchmark: str = "SPY") -> RollingBeta:
        """Rolling beta of each basket (and QQQ) to ``benchmark`` (default SPY)."""
        if benchmark not in self.benchmarks:
            raise ParameterError(f"beta: no {benchmark} prices in the cache")
        others = self.with_benchmarks().drop(columns=[benchmark])
        return rolling_beta(others, self.benchmarks[benchmark], window)

    def summary(self) -> pd.DataFrame:
        """One row per basket: display name, member count, tickers and first date."""
        from analysis.display import label

        return pd.DataFrame([{"basket": label(k), "members": len(v), "tickers": ", ".join(v),
                              "start": self.levels[k].first_valid_index().date() if k in self.levels else None}
                             for k, v in self.members.items()])

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)


def ai_era_baskets(universe, start=AI_ERA_START, levels: pd.DataFrame | None = None) -> BasketPanel:
    """The taxonomy's equal-weighted baskets from ``start`` (default 2019-01-01) and QQQ/SPY.

    ``levels``: the baskets' levels when the caller already has them
    (``taxonomy_baskets(universe, start)``), so they are not computed twice.

    Raises
    ------
    ConfigError
        Two baskets share a ticker (the taxonomy must keep baskets disjoint).
    """
    from analysis.data.taxonomy import load_taxonomy
    from analysis.errors import ConfigError

    prices = apply_start_dates(universe.prices, universe.tickers)
    have = set(prices["ticker"].astype(str).unique())
    members: dict[str, tuple[str, ...]] = {}
    owner: dict[str, str] = {}
    for b in load_taxonomy().baskets:
        tks = tuple(t for t in basket_members(universe.tickers, b.id) if t in have)
        for t in tks:
            if t in owner:
                raise ConfigError(f"data/taxonomy.yaml: {t} is in baskets {owner[t]} and {b.id}; baskets must be disjoint")
            owner[t] = b.id
        if tks:
            members[b.id] = tks
    levels = taxonomy_baskets(universe, start) if levels is None else levels
    members = {k: v for k, v in members.items() if k in levels}
    wide = wide_closes(prices, None) if not prices.empty else pd.DataFrame()
    bench = wide[[t for t in BENCHMARKS if t in wide]] if len(wide) else pd.DataFrame()
    start_ts = pd.Timestamp(start) if start is not None else (levels.index.min() if len(levels) else pd.NaT)
    bench = bench[bench.index >= start_ts].dropna(how="all") if len(bench) else bench
    notes = [SURVIVORSHIP_NOTE]
    if "start_date" in universe.tickers:
        cut = universe.tickers.dropna(subset=["start_date"])
        cut = cut[cut["ticker"].isin(owner)]
        if len(cut):
            notes.append("Priced from the company's own listing only: " + ", ".join(
                f"{r.ticker} from {pd.Timestamp(r.start_date).date()}" for r in cut.itertuples()) + ".")
    return BasketPanel(levels, bench, members, start_ts, tuple(notes))


@dataclass(frozen=True)
class MarketContext:
    """Market data for a page: basket levels (date x basket id, AI era; empty without data), the
    market benchmark's closes, the freshness banner and the cache status table."""

    levels: pd.DataFrame
    benchmark: pd.Series | None
    banner: str
    as_of_text: str
    status_table: pd.DataFrame
    universe: object = None
    problems: tuple[str, ...] = ()   # damaged cache files and skipped rows, named (the banner says so)

    @property
    def available(self) -> bool:
        return not self.levels.empty

    def panel(self, start=AI_ERA_START) -> BasketPanel:
        """The AI-era basket panel (:func:`ai_era_baskets`) of this context's universe."""
        if self.universe is None or not self.available:
            raise ParameterError("no market data: the basket panel needs cached prices")
        # market_context's levels are the AI-era baskets from AI_ERA_START: reuse them.
        same = start is not None and pd.Timestamp(start) == pd.Timestamp(AI_ERA_START)
        return ai_era_baskets(self.universe, start, levels=self.levels if same else None)

    def summary(self) -> pd.DataFrame:
        return self.status_table


def market_context(as_of: str, offline: bool) -> MarketContext:
    """Load the cached universe (refreshing first unless ``offline``) and build the taxonomy's
    AI-era baskets. Any market-data problem degrades to "no market data" with the reason in the
    banner."""
    from analysis.data.market import load_universe
    from analysis.data.taxonomy import load_taxonomy
    from analysis.errors import AIBubbleError

    try:
        universe = load_universe(as_of=as_of, fetch=not offline)
    except AIBubbleError as exc:
        return MarketContext(pd.DataFrame(), None, f"No market data: {exc}", "none", pd.DataFrame())
    status = universe.status
    problems = tuple(getattr(status, "problems", ()))
    if not universe.available:
        return MarketContext(pd.DataFrame(), None, status.banner, "none", status.summary(), universe, problems)
    last = status.last_date
    return MarketContext(taxonomy_baskets(universe), close_series(universe, load_taxonomy().market_benchmark),
                         status.banner, last.date().isoformat() if last is not None else "none",
                         status.summary(), universe, problems)
