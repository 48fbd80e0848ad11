"""Price run-up rule of Greenwood, Shleifer and You (2019), "Bubbles for Fama".

A date is flagged when the trailing two-year return exceeds 100% both in raw terms and net
of the market. GSY apply the rule to monthly value-weighted industry returns; here it runs
on any daily or monthly price series against a benchmark series given by the caller.

Definitions used here (the choices are ours where the paper leaves room for a daily series):

* trailing return over ``years`` calendar years: ``r(t) = P(t) / P(t - years) - 1`` with
  ``P(t - years)`` the last price on or before that date (no flag until a full look-back
  exists);
* net of the market: ``r(t) - r_mkt(t)``, the difference of the two cumulative returns over
  the same look-back (market price taken as of the same dates);
* flag = raw > threshold and net > threshold (threshold 1.0 = 100%);
* episodes = maximal runs of consecutive flagged observations; for each, the peak price in
  the episode and the worst peak-to-trough drawdown within ``years`` calendar years after
  the first flag, with ``crash`` = drawdown <= -40% (GSY's crash definition), ``None`` when
  fewer than ``years`` of data follow the first flag and no crash has happened yet.

Reported crash probabilities: we did not see the paper's own table. A secondary source
(the blog post at https://theirrelevantinvestor.com/2017/03/02/can-you-predict-bubbles/,
summarising the 2017 NBER working-paper version) states that the probability of a crash
over the next two years is 20% after a 50% industry return, 53% after 100% and 80% after
150%. They are exposed, labelled as secondary, by :func:`reported_crash_probabilities`;
the functions here compute flags and episodes only and estimate no probability.

References
----------
Greenwood, R., Shleifer, A., You, Y. (2019). Bubbles for Fama. Journal of Financial
Economics 131(1), 20-43. (NBER Working Paper 23191, 2017.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.errors import MarketDataError, ParameterError

#: GSY's crash definition: a 40% drawdown within two years after the run-up.
CRASH_DRAWDOWN = -0.40


def default_runup_threshold() -> float:
    """Run-up threshold of GSY (2019): a trailing two-year return above 100% (= 1.0)."""
    return 1.0


def reported_crash_probabilities() -> pd.DataFrame:
    """Crash probabilities after a run-up as quoted by a secondary source (not the paper).

    Returns a frame with ``runup`` (two-year industry return), ``crash_probability``
    (probability of a 40% drawdown within the next two years) and the source columns. The
    numbers come from a blog summary of the 2017 working paper and were not checked against
    the published JFE tables; use them as an order of magnitude, not as a calibration.
    """
    src = "https://theirrelevantinvestor.com/2017/03/02/can-you-predict-bubbles/"
    return pd.DataFrame({
        "runup": [0.5, 1.0, 1.5],
        "crash_probability": [0.20, 0.53, 0.80],
        "source_url": src,
        "source_title": "Can You Predict Bubbles? (summary of Greenwood, Shleifer and You, NBER WP 23191)",
        "source_kind": "secondary",
    })


def _clean(prices: pd.Series, name: str) -> pd.Series:
    if not isinstance(prices, pd.Series) or not isinstance(prices.index, pd.DatetimeIndex):
        raise ParameterError(f"runup: {name} must be a pandas Series with a DatetimeIndex")
    s = prices.dropna().astype(float)
    if s.empty:
        raise MarketDataError(f"runup: {name} has no prices")
    if (s <= 0).any():
        raise MarketDataError(f"runup: {name} prices must be positive")
    if not s.index.is_monotonic_increasing or s.index.has_duplicates:
        raise MarketDataError(f"runup: {name} index must be sorted and unique")
    return s


def trailing_return(prices: pd.Series, years: float = 2.0, at: pd.DatetimeIndex | None = None) -> pd.Series:
    """``P(t) / P(t - years) - 1`` with the look-back price taken as of (on or before) the date.

    NaN where the series does not reach back a full ``years`` before ``t``. ``at`` gives
    the dates to evaluate (default: the series' own dates); prices at ``at`` are also taken
    as of the date, so a benchmark on a different calendar aligns without look-ahead.
    """
    s = prices.dropna()
    at = s.index if at is None else at
    back = at - pd.DateOffset(days=int(round(365.25 * years)))
    now = s.reindex(s.index.union(at)).ffill().reindex(at)
    # prices strictly before the first observation do not exist: asof gives NaN there
    then = pd.Series(s.asof(back).to_numpy(), index=at)
    then[back < s.index[0]] = np.nan
    return now / then - 1.0


@dataclass(frozen=True)
class RunUpResult:
    """Per-date run-up flags and the episodes they form.

    ``flags``: indexed by date with ``raw_return``, ``market_return``, ``net_return``,
    ``raw_flag``, ``net_flag`` and ``flag`` (both). ``episodes``: one row per run of flagged
    dates with ``start``, ``end``, ``peak`` (date of the highest price), ``n_obs``,
    ``max_raw_return``, ``max_net_return``, ``drawdown_2y`` and ``crash``.
    """

    flags: pd.DataFrame
    episodes: pd.DataFrame
    threshold: float
    years: float

    @property
    def latest(self) -> pd.Series:
        """The last row of ``flags``: today's run-up status."""
        return self.flags.iloc[-1]

    def summary(self) -> pd.DataFrame:
        last = self.latest
        return pd.DataFrame({"value": pd.Series({
            "as of": self.flags.index[-1], "raw return (trailing)": last["raw_return"],
            "net-of-market return": last["net_return"], "flag": bool(last["flag"]),
            "episodes": len(self.episodes),
            "crashes (40% drawdown within window)": int((self.episodes["crash"] == True).sum())  # noqa: E712
            if len(self.episodes) else 0,
            "threshold": self.threshold, "years": self.years}, dtype=object)})

    def _repr_html_(self) -> str:
        return ("<b>Run-up rule (Greenwood, Shleifer and You 2019)</b>" + self.summary().to_html()
                + self.episodes.to_html(index=False, float_format=lambda x: f"{x:.3g}"))


def runup(prices: pd.Series, market: pd.Series, *, threshold: float | None = None,
          years: float = 2.0) -> RunUpResult:
    """Flag trailing run-ups above ``threshold`` in raw and net-of-market terms.

    Parameters
    ----------
    prices : Series
        Positive prices (ideally total-return) with a sorted DatetimeIndex.
    market : Series
        Benchmark prices (e.g. a market index); taken as of each date of ``prices``.
    threshold : float, optional
        Return threshold, default :func:`default_runup_threshold` (1.0 = 100%).
    years : float
        Look-back in calendar years (GSY: two).

    Returns
    -------
    RunUpResult

    Notes
    -----
    GSY condition on the industry's two-year return both raw and in excess of the market; the
    net return here is the difference of cumulative returns. Crash = a drawdown of 40% or
    more within two years (``CRASH_DRAWDOWN``).

    References
    ----------
    Greenwood, R., Shleifer, A., You, Y. (2019). Bubbles for Fama. JFE 131(1), 20-43.
    """
    threshold = default_runup_threshold() if threshold is None else float(threshold)
    if not years > 0:
        raise ParameterError("runup: years must be > 0")
    p = _clean(prices, "prices")
    m = _clean(market, "market")
    raw = trailing_return(p, years)
    mkt = trailing_return(m, years, at=p.index)
    net = raw - mkt
    flags = pd.DataFrame({"price": p, "raw_return": raw, "market_return": mkt, "net_return": net})
    flags["raw_flag"] = (raw > threshold).fillna(False).astype(bool)
    flags["net_flag"] = (net > threshold).fillna(False).astype(bool)
    flags["flag"] = flags["raw_flag"] & flags["net_flag"]
    flags.index.name = "date"
    return RunUpResult(flags=flags, episodes=_episodes(flags, years), threshold=threshold, years=years)


def _episodes(flags: pd.DataFrame, years: float) -> pd.DataFrame:
    cols = ["start", "end", "peak", "n_obs", "max_raw_return", "max_net_return", "drawdown_2y", "crash"]
    f = flags["flag"].to_numpy()
    if not f.any():
        return pd.DataFrame(columns=cols)
    edges = np.diff(np.concatenate([[0], f.astype(int), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    price = flags["price"]
    idx = flags.index
    last_date = idx[-1]
    rows = []
    for a, b in zip(starts, stops):
        ep = flags.iloc[a:b + 1]
        horizon_end = idx[a] + pd.DateOffset(days=int(round(365.25 * years)))
        after = price[(idx >= idx[a]) & (idx <= horizon_end)]
        dd = float((after / after.cummax() - 1.0).min())
        complete = last_date >= horizon_end
        crash = True if dd <= CRASH_DRAWDOWN else (False if complete else None)
        rows.append({"start": idx[a], "end": idx[b], "peak": ep["price"].idxmax(), "n_obs": b - a + 1,
                     "max_raw_return": ep["raw_return"].max(), "max_net_return": ep["net_return"].max(),
                     "drawdown_2y": dd, "crash": crash})
    out = pd.DataFrame(rows, columns=cols)
    # True / False / None (undecided): keep Python objects rather than a lossy bool cast
    out["crash"] = pd.Series([r["crash"] for r in rows], dtype=object)
    return out


__all__ = ["RunUpResult", "runup", "trailing_return", "default_runup_threshold",
           "reported_crash_probabilities", "CRASH_DRAWDOWN"]
