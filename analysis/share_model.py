"""The LLM share of AI funding, told with the uncertainty it has.

Three parts, each a frozen result with ``summary()`` and ``metrics()``:

* **Annual full-market share** (:func:`full_market_share`). The ledger scaled to the published
  AI-funding totals (``spending.coverage``): the uncovered tail of each year is allocated by three
  rules (``ledger_mix``, ``small_round_mix``, ``non_llm_tail``) and each publisher's total gives
  another market size. The interval spans every publisher x allocation combination, so it
  contains the publishers-only interval of the default rule (``publisher_low/high``); the
  midpoint is the default rule's median over publishers, as in ``spending.coverage``.
* **Break test, or why not** (:func:`break_decision`). A Chow test at ChatGPT's launch compares
  the logit share before and after. It is not run when the pre-break sample cannot carry it:
  fewer than :data:`MIN_PRE_BREAK_PERIODS` quarters; more than :data:`MAX_PRE_BREAK_ZERO_SHARE`
  of them with an LLM share of exactly 0 (their logit is the clipping constant
  ``LOGIT_CLIP``, so the test would measure the clip, not the market); or a ledger that
  holds less than :data:`MIN_PRE_BREAK_COVERAGE` of the published totals in those years (the
  unrecorded rest can hold any LLM share: with coverage c the ledger bounds the market share only
  to an interval 1 - c wide). The reason is returned in words.
* **Forecast gate** (:func:`forecast_gate`). The quarterly share forecast (``forecast_share``,
  a local-linear-trend model on the logit) is headline material only if, in a rolling-origin
  back-test of at least :data:`MIN_BACKTEST_PERIODS` forecasts at the headline's horizon, its mean
  absolute error beats the last-value (naive) forecast and its 90% interval covers at least
  :data:`REQUIRED_COVERAGE` of the outcomes. Otherwise the result says which test failed.

The quarterly model is fitted on the post-break quarters when the break test is not run (the
pre-break quarters are not comparable) or rejects; on all quarters only when a valid test finds
no break.

References
----------
Chow, G. C. (1960). Econometrica 28(3), 591-605.
Tashman, L. J. (2000). Out-of-sample tests of forecasting accuracy: an analysis and review.
International Journal of Forecasting 16(4), 437-450 (rolling-origin evaluation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# Direct module imports: ``statsmodels.api`` pulls in every model (~1.4 s), which a briefing
# run would pay at every start.
from statsmodels.genmod.families import Binomial
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.regression.linear_model import OLS
from statsmodels.tsa.statespace.structural import UnobservedComponents

from analysis import spending
from analysis.display import pct_down

# --------------------------------------------------------------------------------------------
# The quarterly share model: logit trend, Chow break test, forecast, diagnostics, back-test
# --------------------------------------------------------------------------------------------

CHATGPT_LAUNCH = pd.Timestamp("2022-11-30")
#: Shares of exactly 0 or 1 have no logit; they are pulled in by this much (documented, tested).
LOGIT_CLIP = 0.01


def _logit(p):
    import numpy as np

    p = np.clip(np.asarray(p, dtype=float), LOGIT_CLIP, 1 - LOGIT_CLIP)
    return np.log(p / (1 - p))


def _elapsed(periods: pd.PeriodIndex):
    """Periods elapsed since the first one (gaps from dropped periods are kept as real time)."""
    import numpy as np

    return np.asarray(periods.asi8 - periods.asi8[0], dtype=float)


def _break_design(t, post):
    """Regressors ``[1, t, D, D (t - t0)]``: level and slope, and their shifts after the break
    (``t0`` = the first post-break period). Shared by the break test, the trend and diagnostics."""
    import numpy as np

    t0 = t[post.argmax()]
    return np.column_stack([np.ones_like(t), t, post, post * (t - t0)])


def _expit(x):
    import numpy as np

    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


@dataclass(frozen=True)
class BreakTest:
    """Chow-type F test for a break in level and slope of the logit share at ``break_date``."""

    break_date: pd.Timestamp
    first_post_period: str
    stat: float
    pvalue: float
    df_num: int
    df_denom: int

    @property
    def rejected(self) -> bool:
        return self.pvalue < 0.05

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"break_date": self.break_date.date(), "first_post_period": self.first_post_period,
                              "F": self.stat, "pvalue": self.pvalue, "df": f"({self.df_num}, {self.df_denom})"}])


def break_test(periods: pd.PeriodIndex, share, break_date: pd.Timestamp = CHATGPT_LAUNCH) -> BreakTest:
    """Test for a structural break in the LLM share at ``break_date``.

    Notes
    -----
    OLS on the logit share, ``logit(s_t) = a + b t + c D_t + d D_t (t - t0) + e_t`` with
    ``D_t = 1`` for periods starting after the break date, and an F test of ``c = d = 0`` (a Chow
    test with a known break date). Under normal i.i.d. errors the test has exact size.

    References
    ----------
    Chow, G. C. (1960). Tests of equality between sets of coefficients in two linear regressions.
    Econometrica 28(3), 591-605.
    """
    import numpy as np

    y = _logit(share)
    t = _elapsed(periods)
    post = np.asarray(periods.start_time > break_date, dtype=float)
    if post.sum() < 2 or (1 - post).sum() < 2:
        raise ValueError("the break test needs at least two periods on each side of the break date")
    fit = OLS(y, _break_design(t, post)).fit()
    test = fit.f_test(np.array([[0, 0, 1, 0], [0, 0, 0, 1.0]]))
    first_post = str(periods[int(post.argmax())])
    return BreakTest(break_date, first_post, float(np.squeeze(test.fvalue)), float(test.pvalue),
                     int(test.df_num), int(test.df_denom))


@dataclass(frozen=True)
class ShareModel:
    """The LLM share over time: trend, break test, forecast with intervals, diagnostics, backtest.

    ``trend`` is the fractional-logit slope after the break (log-odds per year) with its 95% CI;
    ``forecast`` holds the next ``horizon`` periods on the share scale (mean, lower, upper at 90%);
    ``backtest`` compares the model's forecasts for the hold-out year with a last-value baseline.
    """

    definition: str
    data: pd.DataFrame
    trend: pd.Series
    break_result: BreakTest
    forecast: pd.DataFrame
    diagnostics: pd.DataFrame
    backtest: pd.DataFrame
    backtest_errors: pd.Series

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "definition": self.definition,
            "quarters": len(self.data),
            "slope_logodds_per_year": self.trend["slope"],
            "slope_ci_low": self.trend["ci_low"],
            "slope_ci_high": self.trend["ci_high"],
            "break_F": self.break_result.stat,
            "break_pvalue": self.break_result.pvalue,
            "forecast_last": self.forecast["mean"].iloc[-1] if len(self.forecast) else float("nan"),
            "backtest_mae_model": self.backtest_errors.get("model_mae"),
            "backtest_mae_naive": self.backtest_errors.get("naive_mae"),
        }])

    def _repr_html_(self) -> str:
        return self.summary().to_html(float_format=lambda x: f"{x:.3g}")


def share_series(funding: spending.FundingByDomain, definition: str = "broad", infra_llm_share: float = 0.5,
                 min_rounds: int = 3) -> pd.DataFrame:
    """Per-period LLM share with the number of rounds; periods with too few rounds are dropped
    because one deal would decide their share."""
    share = spending.llm_share(funding, definition, infra_llm_share).table
    rounds = funding.table["rounds"].groupby(level="period").sum()
    out = share.assign(rounds=rounds)
    return out[(out["rounds"] >= min_rounds) & (out["total_usd"] > 0)]


def fit_trend(periods: pd.PeriodIndex, share, weights=None, break_date: pd.Timestamp = CHATGPT_LAUNCH) -> pd.Series:
    """Fractional-logit GLM (Papke-Wooldridge 1996) slope of the share per year after ``break_date``.

    Binomial family, logit link, robust (HC1) standard errors: consistent for a share in [0, 1]
    without assuming a binomial variance.

    References
    ----------
    Papke, L. E. and Wooldridge, J. M. (1996). Econometric methods for fractional response
    variables. Journal of Applied Econometrics 11(6), 619-632.
    """
    import numpy as np

    s = np.asarray(share, dtype=float)
    per_year = {"Q": 4.0, "M": 12.0, "Y": 1.0}[periods.freqstr[0]]
    t = _elapsed(periods) / per_year
    post = np.asarray(periods.start_time > break_date, dtype=float)
    if post.sum() >= 3 and (1 - post).sum() >= 3:
        X = _break_design(t, post)
        names = ["const", "trend", "post", "post_trend"]
    else:
        X = np.column_stack([np.ones_like(t), t])
        names = ["const", "trend"]
    fit = GLM(s, X, family=Binomial(), var_weights=weights).fit(cov_type="HC1")
    params = pd.Series(fit.params, index=names)
    cov = pd.DataFrame(fit.cov_params(), index=names, columns=names)
    if "post_trend" in names:  # slope after the break = trend + post_trend
        slope = params["trend"] + params["post_trend"]
        se = float(np.sqrt(cov.loc["trend", "trend"] + cov.loc["post_trend", "post_trend"]
                           + 2 * cov.loc["trend", "post_trend"]))
    else:
        slope, se = params["trend"], float(np.sqrt(cov.loc["trend", "trend"]))
    return pd.Series({"slope": float(slope), "se": se, "ci_low": float(slope - 1.96 * se),
                      "ci_high": float(slope + 1.96 * se)})


def forecast_share(periods: pd.PeriodIndex, share, horizon: int = 8, alpha: float = 0.10) -> pd.DataFrame:
    """Forecast the share with a local-linear-trend unobserved-components model on its logit.

    Intervals are computed on the logit scale and mapped back, so they stay inside (0, 1).
    """
    import numpy as np

    # Dropped periods become missing observations, which the Kalman filter skips.
    full = pd.period_range(periods[0], periods[-1], freq=periods.freq)
    y = pd.Series(_logit(share), index=periods).reindex(full).to_numpy()
    model = UnobservedComponents(y, level="local linear trend")
    fit = model.fit(disp=False, maxiter=500)
    fc = fit.get_forecast(horizon)
    ci = np.asarray(fc.conf_int(alpha=alpha))
    future = pd.period_range(periods[-1] + 1, periods=horizon, freq=periods.freq)
    return pd.DataFrame({"mean": _expit(fc.predicted_mean), "lower": _expit(ci[:, 0]),
                         "upper": _expit(ci[:, 1])}, index=future)


def _diagnostics(periods: pd.PeriodIndex, share) -> pd.DataFrame:
    import numpy as np
    from statsmodels.stats.diagnostic import acorr_ljungbox
    from statsmodels.stats.stattools import jarque_bera

    y = _logit(share)
    t = _elapsed(periods)
    post = np.asarray(periods.start_time > CHATGPT_LAUNCH, dtype=float)
    X = _break_design(t, post) if 2 <= post.sum() < len(y) - 1 else np.column_stack([np.ones_like(t), t])
    resid = OLS(y, X).fit().resid
    lags = max(1, min(4, len(resid) // 5))
    lb = acorr_ljungbox(resid, lags=[lags], return_df=True)
    jb_stat, jb_p, _, _ = jarque_bera(resid)
    return pd.DataFrame([
        {"test": f"Ljung-Box (lag {lags})", "stat": float(lb["lb_stat"].iloc[0]), "pvalue": float(lb["lb_pvalue"].iloc[0]),
         "reading": "residual autocorrelation" if lb["lb_pvalue"].iloc[0] < 0.05 else "no evidence of autocorrelation"},
        {"test": "Jarque-Bera", "stat": float(jb_stat), "pvalue": float(jb_p),
         "reading": "non-normal residuals" if jb_p < 0.05 else "no evidence against normality"},
    ])


def backtest(periods: pd.PeriodIndex, share, holdout_start: str = "2025-01-01") -> tuple[pd.DataFrame, pd.Series]:
    """Fit on periods before ``holdout_start``, forecast the rest; compare with the last value."""
    import numpy as np

    s = pd.Series(np.asarray(share, dtype=float), index=periods)
    train = s[s.index.start_time < pd.Timestamp(holdout_start)]
    test = s[s.index.start_time >= pd.Timestamp(holdout_start)]
    if len(train) < 8 or test.empty:
        return pd.DataFrame(columns=["actual", "model", "naive"]), pd.Series(dtype=float)
    horizon = (test.index[-1] - train.index[-1]).n
    fc = forecast_share(train.index, train.to_numpy(), horizon=horizon)
    frame = pd.DataFrame({"actual": test, "model": fc["mean"].reindex(test.index),
                          "naive": float(train.iloc[-1])})
    errors = pd.Series({"model_mae": float((frame["model"] - frame["actual"]).abs().mean()),
                        "naive_mae": float((frame["naive"] - frame["actual"]).abs().mean()),
                        "holdout_periods": float(len(frame))})
    return frame, errors


def share_model(funding: spending.FundingByDomain, definition: str = "broad", infra_llm_share: float = 0.5,
                horizon: int = 8, min_rounds: int = 3) -> ShareModel:
    """Fit the LLM-share model on a quarterly :class:`FundingByDomain` (see the parts above)."""
    data = share_series(funding, definition, infra_llm_share, min_rounds)
    if len(data) < 8:
        raise ValueError(f"the share model needs at least 8 periods with {min_rounds}+ rounds; got {len(data)}")
    periods = pd.PeriodIndex(data.index)
    share = data["share"].to_numpy()
    trend = fit_trend(periods, share)
    brk = break_test(periods, share)
    fc = forecast_share(periods, share, horizon)
    bt, errors = backtest(periods, share)
    return ShareModel(definition, data, trend, brk, fc, _diagnostics(periods, share), bt, errors)



MIN_PRE_BREAK_PERIODS = 4
MAX_PRE_BREAK_ZERO_SHARE = 0.5
MIN_PRE_BREAK_COVERAGE = 0.25
MIN_BACKTEST_PERIODS = 8
REQUIRED_COVERAGE = 0.80
FORECAST_LEVEL = 0.90
#: Periods a back-test origin needs before its first forecast (as ``backtest``).
MIN_TRAIN = 8
DEFAULT_ALLOCATION = "small_round_mix"


def _r(v, d=4):
    return None if v is None or pd.isna(v) or not np.isfinite(float(v)) else round(float(v), d)


# --------------------------------------------------------------------------------------------
# Annual full-market share
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FullMarketShare:
    """``grid``: one row per (year, publisher, allocation) with the full-market LLM ``share``, the
    publisher's total, the ledger total and ``coverage``. ``table``: per year ``share_mid``
    (default rule, median over publishers), ``share_low``/``share_high`` (every combination),
    ``publisher_low``/``publisher_high`` (default rule, over publishers), ``allocation_low``/
    ``allocation_high`` (over rules, at the median publisher total), ``publishers``,
    ``coverage`` (median ledger/published) and ``ledger_share``."""

    definition: str
    grid: pd.DataFrame
    table: pd.DataFrame

    def latest(self) -> pd.Series:
        return self.table.sort_values("year").iloc[-1]

    def summary(self) -> pd.DataFrame:
        return self.table

    def metrics(self) -> dict:
        return {str(int(r["year"])): {k: (int(r[k]) if k == "publishers" else _r(r[k]))
                                      for k in self.table.columns if k != "year"}
                for _, r in self.table.iterrows()}

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False, float_format=lambda x: f"{x:.3g}")


def full_market_share(rounds: pd.DataFrame, market_totals: pd.DataFrame, definition: str = "broad",
                      infra_llm_share: float = 0.5, taxonomy=None) -> FullMarketShare:
    """The full-market LLM share per year with the publishers x allocation-rules interval.

    Each publisher's shares come from ``spending.coverage`` restricted to that publisher (so the
    formula lives in one place); the grid is their union.
    """
    from analysis.data.taxonomy import load_taxonomy

    taxonomy = taxonomy or load_taxonomy()
    totals = spending.published_totals(market_totals)
    ledger = spending.ledger_by_year(rounds, taxonomy)
    parts = []
    for publisher in sorted(totals["publisher"].unique()):
        cov = spending.coverage_of_published(ledger, totals[totals["publisher"] == publisher], definition,
                                             infra_llm_share, taxonomy)
        if cov.full_market.empty:
            continue
        fm = cov.full_market[["year", "allocation", "share_mid", "ledger_share"]].rename(columns={"share_mid": "share"})
        parts.append(fm.merge(cov.ratios[["year", "publisher", "tier", "ledger_usd", "published_usd", "coverage"]],
                              on="year"))
    cols = ["year", "publisher", "tier", "allocation", "share", "published_usd", "ledger_usd", "coverage", "ledger_share"]
    grid = pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)
    rows = []
    for year, g in grid.groupby("year"):
        default = g[g["allocation"] == DEFAULT_ALLOCATION]["share"]
        middle = g["published_usd"].median()
        at_mid = g[(g["published_usd"] - middle).abs() == (g["published_usd"] - middle).abs().min()]
        rows.append({"year": int(year), "share_mid": float(default.median()),
                     "share_low": float(g["share"].min()), "share_high": float(g["share"].max()),
                     "publisher_low": float(default.min()), "publisher_high": float(default.max()),
                     "allocation_low": float(at_mid["share"].min()), "allocation_high": float(at_mid["share"].max()),
                     "publishers": int(g["publisher"].nunique()),
                     "coverage": float(g.drop_duplicates("publisher")["coverage"].median()),
                     "ledger_share": float(g["ledger_share"].iloc[0])})
    table = pd.DataFrame(rows, columns=["year", "share_mid", "share_low", "share_high", "publisher_low",
                                        "publisher_high", "allocation_low", "allocation_high", "publishers",
                                        "coverage", "ledger_share"])
    return FullMarketShare(definition, grid, table)


# --------------------------------------------------------------------------------------------
# Break test, or the reason it is not run
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BreakDecision:
    """Whether the break test was run (``tested``), its result, and the pre-break sample facts."""

    tested: bool
    reason: str
    pre_periods: int
    pre_zero_periods: int
    pre_coverage: float
    result: BreakTest | None = None

    @property
    def rejected(self) -> bool | None:
        return None if self.result is None else self.result.rejected

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([self.metrics()])

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)

    def metrics(self) -> dict:
        out = {"tested": self.tested, "reason": self.reason, "pre_periods": self.pre_periods,
               "pre_zero_periods": self.pre_zero_periods, "pre_coverage": _r(self.pre_coverage)}
        if self.result is not None:
            out.update({"F": _r(self.result.stat, 3), "pvalue": _r(self.result.pvalue),
                        "df": [self.result.df_num, self.result.df_denom]})
        return out


def break_decision(periods: pd.PeriodIndex, share, coverage_by_year: pd.Series | dict,
                   break_date: pd.Timestamp = CHATGPT_LAUNCH, min_periods: int = MIN_PRE_BREAK_PERIODS,
                   max_zero_share: float = MAX_PRE_BREAK_ZERO_SHARE,
                   min_coverage: float = MIN_PRE_BREAK_COVERAGE) -> BreakDecision:
    """Run ``break_test`` only when the pre-break sample can carry it (module docstring)."""
    share = np.asarray(share, dtype=float)
    pre = np.asarray(periods.start_time <= break_date)
    n_pre, zeros = int(pre.sum()), int((share[pre] == 0).sum())
    coverage_by_year = pd.Series(coverage_by_year, dtype=float)
    years = sorted(set(periods[pre].year))
    known = coverage_by_year.reindex(years).dropna()
    pre_cov = float(known.median()) if len(known) else float("nan")
    reasons = []
    if n_pre < min_periods:
        reasons.append(f"only {n_pre} quarters before {break_date.date()} (at least {min_periods} needed)")
    if n_pre and zeros / n_pre > max_zero_share:
        reasons.append(f"{zeros} of {n_pre} quarters before the break have an LLM share of exactly 0, whose logit "
                       f"is the clipping constant rather than data, so the test would measure the clip")
    if not np.isfinite(pre_cov):
        reasons.append("no published market total for the years before the break, so the ledger's coverage is "
                       "unknown")
    elif pre_cov < min_coverage:
        reasons.append(f"the ledger holds a median {pct_down(pre_cov)} of the published AI funding in "
                       f"{years[0]}-{years[-1]} (below {min_coverage:.0%}), so the LLM share of the unrecorded rest "
                       f"could be anything")
    if reasons:
        return BreakDecision(False, "Break test not run: " + "; ".join(reasons) + ".", n_pre, zeros, pre_cov)
    result = break_test(periods, share, break_date)
    return BreakDecision(True, "", n_pre, zeros, pre_cov, result)


# --------------------------------------------------------------------------------------------
# Rolling-origin back-test and the forecast gate
# --------------------------------------------------------------------------------------------


def rolling_backtest(periods: pd.PeriodIndex, share, horizon: int = 4, min_train: int = MIN_TRAIN,
                     level: float = FORECAST_LEVEL, forecaster=None) -> pd.DataFrame:
    """``horizon``-step forecasts from every origin with at least ``min_train`` periods, against
    the outcome (when that period is observed) and the last observed value.

    Columns: ``origin``, ``target``, ``actual``, ``model``, ``lower``, ``upper``, ``naive``.
    ``forecaster(periods, share, horizon, alpha)`` defaults to ``forecast_share``.
    """
    forecaster = forecaster or (lambda p, s, h, a: forecast_share(p, s, horizon=h, alpha=a))
    s = pd.Series(np.asarray(share, dtype=float), index=periods)
    rows = []
    for i in range(min_train, len(s) + 1):
        train = s.iloc[:i]
        target = train.index[-1] + horizon
        if target not in s.index:
            continue
        fc = forecaster(train.index, train.to_numpy(), horizon, 1 - level)
        last = fc.iloc[-1]
        rows.append({"origin": str(train.index[-1]), "target": str(target), "actual": float(s[target]),
                     "model": float(last["mean"]), "lower": float(last["lower"]), "upper": float(last["upper"]),
                     "naive": float(train.iloc[-1])})
    return pd.DataFrame(rows, columns=["origin", "target", "actual", "model", "lower", "upper", "naive"])


@dataclass(frozen=True)
class ForecastGate:
    """The rule that decides whether a forecast may appear in the headline, and its evidence."""

    passed: bool
    reasons: tuple[str, ...]
    horizon: int
    periods: int
    mae_model: float
    mae_naive: float
    coverage: float
    level: float
    backtest: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{k: v for k, v in self.metrics().items() if k != "reasons"}])

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)

    def metrics(self) -> dict:
        return {"headline": self.passed, "reasons": list(self.reasons), "horizon": self.horizon,
                "backtest_periods": self.periods, "mae_model": _r(self.mae_model), "mae_naive": _r(self.mae_naive),
                "interval_coverage": _r(self.coverage), "interval_level": self.level,
                "min_periods": MIN_BACKTEST_PERIODS, "required_coverage": REQUIRED_COVERAGE}


def forecast_gate(backtest: pd.DataFrame, horizon: int, min_periods: int = MIN_BACKTEST_PERIODS,
                  required_coverage: float = REQUIRED_COVERAGE, level: float = FORECAST_LEVEL) -> ForecastGate:
    """Pass only with ``min_periods`` back-test forecasts, a model MAE below the naive MAE and an
    interval coverage of at least ``required_coverage``; every failed condition is a reason."""
    n = len(backtest)
    if n:
        mae_model = float((backtest["model"] - backtest["actual"]).abs().mean())
        mae_naive = float((backtest["naive"] - backtest["actual"]).abs().mean())
        covered = float(((backtest["actual"] >= backtest["lower"]) & (backtest["actual"] <= backtest["upper"])).mean())
    else:
        mae_model = mae_naive = covered = float("nan")
    reasons = []
    if n < min_periods:
        reasons.append(f"the back-test has {n} forecasts {horizon} quarter{'s' if horizon > 1 else ''} ahead "
                       f"(at least {min_periods} needed)")
    if n and not mae_model < mae_naive:
        reasons.append(f"its mean absolute error ({mae_model:.3f}) does not beat the last value's ({mae_naive:.3f})")
    if n and covered < required_coverage:
        reasons.append(f"its {level:.0%} interval covered {covered:.0%} of the outcomes (at least "
                       f"{required_coverage:.0%} needed)")
    return ForecastGate(not reasons, tuple(reasons), horizon, n, mae_model, mae_naive, covered, level, backtest)


# --------------------------------------------------------------------------------------------
# Everything together
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShareOutlook:
    """The annual full-market share, the break decision, the quarterly trend and forecast, and
    the gate that decides whether the forecast is headline material (``headline_forecast``)."""

    definition: str
    full_market: FullMarketShare
    quarterly: pd.DataFrame          # the quarterly ledger share series (share_series)
    sample: str                      # which quarters the trend and forecast use, in words
    trend: pd.Series | None
    break_test: BreakDecision
    forecast: pd.DataFrame
    gate: ForecastGate
    notes: tuple[str, ...] = ()

    @property
    def headline_forecast(self) -> pd.DataFrame | None:
        return self.forecast if self.gate.passed and len(self.forecast) else None

    def summary(self) -> pd.DataFrame:
        latest = self.full_market.latest() if len(self.full_market.table) else None
        return pd.DataFrame([{
            "definition": self.definition,
            "year": None if latest is None else int(latest["year"]),
            "share_mid": None if latest is None else latest["share_mid"],
            "share_low": None if latest is None else latest["share_low"],
            "share_high": None if latest is None else latest["share_high"],
            "break_tested": self.break_test.tested,
            "slope_logodds_per_year": None if self.trend is None else self.trend["slope"],
            "forecast_headline": self.gate.passed,
        }])

    def metrics(self) -> dict:
        fc = self.forecast
        out = {"definition": self.definition, "full_market": self.full_market.metrics(),
               "break_test": self.break_test.metrics(), "sample": self.sample,
               "forecast_gate": self.gate.metrics(), "notes": list(self.notes)}
        if len(self.full_market.table):
            out["latest_year"] = int(self.full_market.latest()["year"])
        if self.trend is not None:
            out["trend"] = {**{k: _r(self.trend[k]) for k in ("slope", "ci_low", "ci_high")}, "level": 0.95,
                            "unit": "log-odds per year"}
        if len(fc):
            out["forecast"] = {"period": str(fc.index[-1]), "mean": _r(fc["mean"].iloc[-1]),
                               "lower": _r(fc["lower"].iloc[-1]), "upper": _r(fc["upper"].iloc[-1]),
                               "headline": self.gate.passed}
        return out

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False, float_format=lambda x: f"{x:.3g}")


def share_outlook(rounds: pd.DataFrame, market_totals: pd.DataFrame, definition: str = "broad",
                  infra_llm_share: float = 0.5, start: str = "2019-01-01", end=None, horizon: int = 4,
                  min_rounds: int = 3) -> ShareOutlook:
    """The annual full-market share, the break decision and the gated quarterly forecast."""
    full = full_market_share(rounds, market_totals, definition, infra_llm_share)
    coverage_by_year = full.grid.drop_duplicates(["year", "publisher"]).groupby("year")["coverage"].median()
    quarterly = spending.funding_by_domain(rounds, "quarter", start=start, end=end)
    data = share_series(quarterly, definition, infra_llm_share, min_rounds)
    periods = pd.PeriodIndex(data.index)
    share = data["share"].to_numpy()
    decision = break_decision(periods, share, coverage_by_year)
    post = np.asarray(periods.start_time > CHATGPT_LAUNCH)
    if decision.tested and not decision.rejected:
        use, sample = np.ones(len(periods), bool), f"all {len(periods)} quarters (no break found)"
    else:
        why = "are not comparable (see the break test)" if not decision.tested else "precede a significant break"
        use = post
        sample = f"the {int(post.sum())} quarters after ChatGPT's launch; earlier quarters {why}"
    p_use, s_use = periods[use], share[use]
    notes = []
    trend = fit_trend(p_use, s_use) if len(p_use) >= 3 else None
    forecast = pd.DataFrame(columns=["mean", "lower", "upper"])
    if len(p_use) >= MIN_TRAIN:
        forecast = forecast_share(p_use, s_use, horizon=horizon, alpha=1 - FORECAST_LEVEL)
    else:
        notes.append(f"{len(p_use)} quarters in the modelling sample: no forecast (at least {MIN_TRAIN} needed).")
    gate = forecast_gate(rolling_backtest(p_use, s_use, horizon), horizon)
    return ShareOutlook(definition, full, data, sample, trend, decision, forecast, gate, tuple(notes))
