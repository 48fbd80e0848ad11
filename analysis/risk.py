"""The composite bubble-risk score per AI segment: documented indicators, each mapped to [0, 1]
by a stated rule, weighted into a 0-100 score with its contributions, computed as of any past
date with only the data available then.

Indicators and their rules
--------------------------
Private markets (from the funding ledger, trailing four quarters):

* ``funding_growth`` - year-on-year growth of trailing-four-quarter funding; percentile.
* ``concentration`` - Herfindahl index across the segment's companies; percentile.
* ``mega_round_share`` - share of funding in $1bn+ rounds; percentile.
* ``step_up`` - median annualised valuation step-up of repeat rounds closing in the window; percentile.
* ``revenue_multiple`` - median valuation/revenue at priced rounds in the window; percentile.
* ``supplier_share`` - share of funding in rounds with a cloud/chip supplier investor; percentile.

Public markets (from the segment's price basket):

* ``psy_explosive`` - 1 when the basket is in a PSY explosive episode at the date (Phillips, Shi
  and Yu 2015; :func:`analysis.bubbles.psy.explosive_now`, the package's one definition), else 0.
* ``lppls_confidence`` - the multi-window LPPLS confidence indicator itself (already in [0, 1]).
* ``runup`` - 1 when the two-year return exceeds 100% raw and net of the market (Greenwood,
  Shleifer and You 2019), else 0.
* ``near_peak`` - 1 at the all-time high, falling linearly to 0 at a 50% drawdown.
* ``price_to_sales`` - percentile of the basket's price-to-sales ratio. yfinance gives about
  five quarters of fundamentals, so this is a *current* value only (no history to rank it
  against) and it is left out of the score history until a price-to-sales history is cached.

Spending (hyperscalers; LLM segments and AI infrastructure only):

* ``capex_to_revenue`` and ``capex_to_ocf`` - trailing-four-quarter ratios; percentile.

A *percentile* is the empirical CDF of the value among the indicator's own values at or before
the date (so no look-ahead), once at least ``MIN_HISTORY`` values exist; before that the indicator
is unavailable and drops out of the composite, whose weights are renormalised over the indicators
present. References: Phillips, P. C. B., Shi, S. and Yu, J. (2015), International Economic Review
56(4); Greenwood, R., Shleifer, A. and You, Y. (2019), Journal of Financial Economics 131(1);
Sornette, D. et al. (2015), "Real-time prediction and post-mortem analysis of the Shanghai 2015
stock market bubble and crash", Journal of Investment Strategies 4(4).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.data.taxonomy import Taxonomy, load_taxonomy
from analysis.spending import MEGA_ROUND_USD, SUPPLIER_TYPES, herfindahl, split_names

MIN_HISTORY = 4
NEAR_PEAK_FLOOR = 0.5  # a 50% drawdown scores 0 on near_peak

PILLARS = {
    "funding_growth": "private", "concentration": "private", "mega_round_share": "private",
    "step_up": "private", "revenue_multiple": "private", "supplier_share": "private",
    "psy_explosive": "public", "lppls_confidence": "public", "runup": "public", "near_peak": "public",
    "price_to_sales": "public",
    "capex_to_revenue": "spending", "capex_to_ocf": "spending",
}

#: Default weights (sum to 1). Private-market signals carry half, public markets 35%, spending 15%:
#: the thesis is about private LLM valuations first, and public signals are noisier per segment.
DEFAULT_WEIGHTS = {
    "funding_growth": 0.10, "concentration": 0.08, "mega_round_share": 0.08, "step_up": 0.10,
    "revenue_multiple": 0.08, "supplier_share": 0.06,
    "psy_explosive": 0.10, "lppls_confidence": 0.08, "runup": 0.07, "near_peak": 0.05, "price_to_sales": 0.05,
    "capex_to_revenue": 0.075, "capex_to_ocf": 0.075,
}

#: Rules by indicator: "percentile" (against own history), "flag" (0/1), "level" (already 0-1),
#: "near_peak" (linear in drawdown).
RULES = {name: "percentile" for name in PILLARS}
RULES.update({"psy_explosive": "flag", "runup": "flag", "lppls_confidence": "level", "near_peak": "near_peak"})


def percentile_score(history: pd.Series, min_history: int = MIN_HISTORY) -> pd.Series:
    """Expanding empirical CDF: each value's rank among the values at or before it, in [0, 1].

    Ties count half (mid-rank), so a constant series scores 0.5, and the first value of a
    history is never 1 by construction. NaN until ``min_history`` non-missing values exist.
    """
    values = history.to_numpy(dtype=float)
    out = np.full(len(values), np.nan)
    seen: list[float] = []
    for i, v in enumerate(values):
        if np.isnan(v):
            continue
        seen.append(v)
        if len(seen) >= min_history:
            arr = np.asarray(seen)
            out[i] = ((arr < v).sum() + 0.5 * (arr == v).sum()) / len(arr)
    return pd.Series(out, index=history.index)


def near_peak_score(drawdown: float | pd.Series, floor: float = NEAR_PEAK_FLOOR):
    """1 at the peak (drawdown 0), falling linearly to 0 at ``-floor`` (drawdown as a negative
    fraction, e.g. -0.2 for 20% below the peak)."""
    return np.clip(1.0 + np.asarray(drawdown, dtype=float) / floor, 0.0, 1.0)


def map_indicators(raw: pd.DataFrame) -> pd.DataFrame:
    """Add the 0-1 ``score`` to a tidy frame of raw indicators.

    ``raw`` columns: ``date``, ``segment``, ``indicator``, ``raw``. Percentiles are taken per
    (segment, indicator) over dates in order, so each date sees only its past.
    """
    raw = raw.sort_values(["segment", "indicator", "date"]).reset_index(drop=True)
    scores = pd.Series(np.nan, index=raw.index)
    for (segment, indicator), g in raw.groupby(["segment", "indicator"], sort=False):
        rule = RULES[indicator]
        if rule == "percentile":
            scores.loc[g.index] = percentile_score(g["raw"]).to_numpy()
        elif rule == "flag":
            scores.loc[g.index] = (g["raw"] > 0).astype(float).where(g["raw"].notna()).to_numpy()
        elif rule == "level":
            scores.loc[g.index] = g["raw"].clip(0, 1).to_numpy()
        elif rule == "near_peak":
            scores.loc[g.index] = near_peak_score(g["raw"])
    return raw.assign(score=scores, pillar=raw["indicator"].map(PILLARS), rule=raw["indicator"].map(RULES))


@dataclass(frozen=True)
class RiskScores:
    """Composite 0-100 scores per (date, segment) with each indicator's contribution.

    ``scores``: date, segment, score, indicators_used, coverage (weight share available).
    ``contributions``: date, segment, indicator, pillar, raw, score, weight (renormalised),
    contribution (points of the 0-100 score).
    """

    scores: pd.DataFrame
    contributions: pd.DataFrame
    weights: dict = field(default_factory=dict)

    def latest(self) -> pd.DataFrame:
        last = self.scores.sort_values("date").groupby("segment").tail(1)
        prev = self.scores.sort_values("date").groupby("segment").nth(-2)[["segment", "score"]]
        out = last.merge(prev.rename(columns={"score": "previous_score"}), on="segment", how="left")
        out["change"] = out["score"] - out["previous_score"]
        return out.sort_values("score", ascending=False).reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        return self.latest()

    def _repr_html_(self) -> str:
        return self.latest().to_html(float_format=lambda x: f"{x:.1f}")


def validate_weights(weights: dict | None) -> dict:
    """Defaults overridden by ``weights``; unknown names or negative weights are errors."""
    merged = dict(DEFAULT_WEIGHTS)
    for name, w in (weights or {}).items():
        if name not in PILLARS:
            raise ValueError(f"unknown risk indicator {name!r}; known: {', '.join(PILLARS)}")
        if not (isinstance(w, (int, float)) and w >= 0):
            raise ValueError(f"weight of {name} must be a number >= 0, got {w!r}")
        merged[name] = float(w)
    if sum(merged.values()) <= 0:
        raise ValueError("at least one risk weight must be positive")
    return merged


_EMPTY_SCORES = pd.DataFrame({"date": pd.Series(dtype="datetime64[ns]"), "segment": pd.Series(dtype=object),
                              "score": pd.Series(dtype=float), "indicators_used": pd.Series(dtype=int),
                              "coverage": pd.Series(dtype=float)})
_EMPTY_CONTRIBUTIONS = pd.DataFrame({"date": pd.Series(dtype="datetime64[ns]"), "segment": pd.Series(dtype=object),
                                     "indicator": pd.Series(dtype=object), "pillar": pd.Series(dtype=object),
                                     "raw": pd.Series(dtype=float), "score": pd.Series(dtype=float),
                                     "weight": pd.Series(dtype=float), "contribution": pd.Series(dtype=float)})


def composite(mapped: pd.DataFrame, weights: dict | None = None, min_coverage: float = 0.35) -> RiskScores:
    """Weighted average of available indicator scores, scaled to 0-100.

    Weights are renormalised over the indicators available for each (date, segment); a score
    based on less than ``min_coverage`` of the total weight is withheld (NaN) rather than shown
    with false precision.
    """
    weights = validate_weights(weights)
    total = sum(weights.values())
    m = mapped.dropna(subset=["score"]).copy()
    m["weight_raw"] = m["indicator"].map(weights)
    m = m[m["weight_raw"] > 0]
    if m.empty:  # nothing scoreable yet (an early as-of date): no scores, not an error
        return RiskScores(_EMPTY_SCORES.copy(), _EMPTY_CONTRIBUTIONS.copy(), weights)
    sums = m.groupby(["date", "segment"])["weight_raw"].transform("sum")
    m["weight"] = m["weight_raw"] / sums
    m["contribution"] = 100 * m["weight"] * m["score"]
    g = m.groupby(["date", "segment"])
    scores = g.agg(score=("contribution", "sum"), indicators_used=("indicator", "count"),
                   weight_available=("weight_raw", "sum")).reset_index()
    scores["coverage"] = scores["weight_available"] / total
    scores.loc[scores["coverage"] < min_coverage, "score"] = np.nan
    contributions = m[["date", "segment", "indicator", "pillar", "raw", "score", "weight", "contribution"]]
    return RiskScores(scores.drop(columns="weight_available"), contributions.reset_index(drop=True), weights)


# --------------------------------------------------------------------------------------------
# Raw indicators from the data, as of each date (no look-ahead)
# --------------------------------------------------------------------------------------------


def quarter_ends(start: str, end: str) -> pd.DatetimeIndex:
    """Quarter ends from ``start`` to ``end``, plus ``end`` itself (today's score)."""
    ends = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="QE")
    return ends.union(pd.DatetimeIndex([pd.Timestamp(end).normalize()]))


def private_segments(taxonomy: Taxonomy | None = None) -> dict[str, tuple[str, ...]]:
    """Segments scored from the ledger: the taxonomy's risk segments (the LLM segment under each
    definition, then every domain). The attributed definition's private side equals broad:
    attribution only moves money shares."""
    return (taxonomy or load_taxonomy()).risk_segments()


def private_indicators(rounds: pd.DataFrame, investors: pd.DataFrame, dates: pd.DatetimeIndex,
                       lab_financials: pd.DataFrame | None = None,
                       segments: dict[str, tuple[str, ...]] | None = None,
                       min_rounds: int = 3) -> pd.DataFrame:
    """Raw private-market indicators per segment at each date, from rounds announced up to the
    date only (trailing four quarters; growth compares with the four quarters before)."""
    from analysis.valuation import priced_pairs, revenue_multiples

    segments = segments or private_segments()
    usable = rounds[rounds["new_money"] & rounds["raised_amount_usd"].notna()]
    suppliers = {n.lower() for n in investors.loc[investors["investor_type"].isin(SUPPLIER_TYPES), "name"]}
    supplier_round = (usable["lead_investors"].map(split_names) + usable["other_investors"].map(split_names)).map(
        lambda xs: any(x.lower() in suppliers for x in xs))
    # Only the columns used below: filtering a narrow frame per date is many times faster.
    usable = usable.assign(supplier=supplier_round)[
        ["announced_on", "effective_domain", "org_name", "raised_amount_usd", "supplier"]]
    # Computed once: a pair needs only its two rounds (both at or before its second date) and a
    # multiple only revenue dated at or before its round, so filtering these by date below gives
    # exactly what an analyst could have computed on that date.
    pairs = priced_pairs(rounds)
    pairs = pairs[["domain", "second_date", "annualised"]] if len(pairs) else pairs
    multiples = revenue_multiples(rounds, lab_financials) if lab_financials is not None else pd.DataFrame()
    multiples = multiples[["domain", "announced_on", "multiple"]] if len(multiples) else multiples
    # Plain arrays and precomputed segment masks: the loop below runs dates x segments times.
    day = usable["announced_on"].to_numpy()
    amount = usable["raised_amount_usd"].to_numpy(dtype=float)
    supplier = usable["supplier"].to_numpy(dtype=bool)
    org_codes, _ = pd.factorize(usable["org_name"])
    in_segment = {seg: usable["effective_domain"].isin(doms).to_numpy() for seg, doms in segments.items()}
    pair_day = pairs["second_date"].to_numpy() if len(pairs) else None
    pair_seg = {seg: pairs["domain"].isin(doms).to_numpy() for seg, doms in segments.items()} if len(pairs) else {}
    mult_day = multiples["announced_on"].to_numpy() if len(multiples) else None
    mult_seg = {seg: multiples["domain"].isin(doms).to_numpy() for seg, doms in segments.items()} if len(multiples) else {}
    rows = []
    for date in dates:
        d0, d1, d2 = (np.datetime64(x) for x in (date - pd.DateOffset(years=2), date - pd.DateOffset(years=1), date))
        in_window = (day > d1) & (day <= d2)
        in_before = (day > d0) & (day <= d1)
        for segment in segments:
            w = in_window & in_segment[segment]
            if w.sum() < min_rounds:
                continue
            b = amount[in_before & in_segment[segment]].sum()
            total = amount[w].sum()
            by_org = np.bincount(org_codes[w], weights=amount[w])
            values = {
                "funding_growth": total / b - 1 if b > 0 else np.nan,
                "concentration": herfindahl(by_org),
                "mega_round_share": amount[w & (amount >= MEGA_ROUND_USD)].sum() / total,
                "supplier_share": amount[w & supplier].sum() / total,
            }
            if pair_day is not None:
                sel = pair_seg[segment] & (pair_day > d1) & (pair_day <= d2)
                values["step_up"] = float(np.median(pairs["annualised"].to_numpy()[sel])) if sel.any() else np.nan
            if mult_day is not None:
                sel = mult_seg[segment] & (mult_day > d1) & (mult_day <= d2)
                values["revenue_multiple"] = float(np.median(multiples["multiple"].to_numpy()[sel])) if sel.any() else np.nan
            rows += [{"date": date, "segment": segment, "indicator": k, "raw": v} for k, v in values.items()]
    return pd.DataFrame(rows, columns=["date", "segment", "indicator", "raw"])


def spending_indicators(capex_quarterly: pd.DataFrame, dates: pd.DatetimeIndex, segments: list[str],
                        report_lag_days: int = 45) -> pd.DataFrame:
    """Capex/revenue and capex/OCF as known at each date: a quarter counts once its results are
    out (``report_lag_days`` after quarter end, the usual 10-Q deadline), applied to ``segments``."""
    q = capex_quarterly.copy()
    known_from = q.index.to_timestamp(how="end").normalize() + pd.Timedelta(days=report_lag_days)
    rows = []
    for date in dates:
        visible = q[known_from <= date].dropna(subset=["capex_to_revenue_t4q", "capex_to_ocf_t4q"])
        if visible.empty:
            continue
        last = visible.iloc[-1]
        for segment in segments:
            rows.append({"date": date, "segment": segment, "indicator": "capex_to_revenue", "raw": last["capex_to_revenue_t4q"]})
            rows.append({"date": date, "segment": segment, "indicator": "capex_to_ocf", "raw": last["capex_to_ocf_t4q"]})
    return pd.DataFrame(rows, columns=["date", "segment", "indicator", "raw"])


#: How long ledger-based indicators are carried forward past the ledger's last round.
CARRY_FORWARD_DAYS = 183


def carry_forward(raw: pd.DataFrame, data_end: pd.Timestamp, dates: pd.DatetimeIndex,
                  max_days: int = CARRY_FORWARD_DAYS) -> pd.DataFrame:
    """Repeat the indicators known at ``data_end`` on later grid dates (up to ``max_days``):
    the value an analyst would still be reading then. Never uses anything after ``data_end``."""
    last = raw[raw["date"] == data_end]
    later = [d for d in dates if data_end < d <= data_end + pd.Timedelta(days=max_days)]
    return pd.concat([raw] + [last.assign(date=d) for d in later], ignore_index=True)


def score_history(raw: pd.DataFrame, weights: dict | None = None, min_coverage: float = 0.35) -> RiskScores:
    """Map and combine raw indicators into scores for every (date, segment) in ``raw``."""
    if raw.empty:
        return RiskScores(_EMPTY_SCORES.copy(), _EMPTY_CONTRIBUTIONS.copy(), validate_weights(weights))
    return composite(map_indicators(raw), weights, min_coverage=min_coverage)


#: A coarse LPPLS window set for the score history (6 windows, 500 to 125 days); the current
#: status in notebook 03 uses the full 16-window set.
LPPLS_HISTORY_WINDOWS = (500, 425, 350, 275, 200, 125)


#: LPPLS fits cost ~15 ms each; the history computes the confidence for the last 8 quarter ends
#: only (earlier dates score without it, with weights renormalised, as for any missing indicator).
LPPLS_HISTORY_QUARTERS = 8


def public_indicators(levels: pd.DataFrame, market: pd.Series | None, dates: pd.DatetimeIndex,
                      lppls_windows: tuple[int, ...] | None = LPPLS_HISTORY_WINDOWS,
                      price_to_sales: pd.DataFrame | None = None,
                      lppls_last: int | None = LPPLS_HISTORY_QUARTERS) -> pd.DataFrame:
    """Raw public-market indicators per basket (column of ``levels``) at each date, each computed
    from prices up to that date only.

    ``market`` is the benchmark for the run-up rule (net-of-market return); without it the
    run-up indicator is left out. ``price_to_sales`` (same columns, any dates) is taken as of
    each date when given. PSY is :func:`analysis.bubbles.psy.explosive_now` on the prices up to
    each date (from the first date with 100 prices).
    """
    from analysis.bubbles import lppls as lp
    from analysis.bubbles import psy
    from analysis.bubbles.runup import runup

    min_prices = min(psy.DEFAULT_TABLE_N)  # the shortest series PSY tests (explosive_now)
    lppls_dates = set(dates[-lppls_last:]) if lppls_last else set(dates)
    rows = []
    for segment in levels.columns:
        s = levels[segment].dropna()
        s = s[s > 0]
        if len(s) < min_prices:
            continue
        flags = runup(s, market).flags["flag"] if market is not None else None
        for date in dates:
            past = s[s.index <= date]
            if len(past) < min_prices:
                continue
            values = {"near_peak": float(past.iloc[-1] / past.max() - 1)}
            values["psy_explosive"] = float(psy.explosive_now(past).explosive)
            if flags is not None:
                values["runup"] = float(flags[flags.index <= date].iloc[-1])
            if lppls_windows and date in lppls_dates:
                conf = lp.confidence(past, end_dates=[past.index[-1]], windows=lppls_windows)
                values["lppls_confidence"] = float(conf.table["pos_conf"].iloc[-1])
            if price_to_sales is not None and segment in price_to_sales:
                ps = price_to_sales[segment].dropna()
                ps = ps[ps.index <= date]
                if len(ps):
                    values["price_to_sales"] = float(ps.iloc[-1])
            rows += [{"date": date, "segment": segment, "indicator": k, "raw": v} for k, v in values.items()]
    return pd.DataFrame(rows, columns=["date", "segment", "indicator", "raw"])


#: Segments whose score includes the hyperscalers' capex intensity (the spending pillar): the
#: LLM side and AI infrastructure, the two that hyperscaler capex pays for.
CAPEX_SEGMENTS = ("llm_narrow", "llm_broad", "ai_infrastructure")
#: First quarter end of the score history.
HISTORY_START = "2020-01-01"


def risk_history(data, as_of: str, lab_financials: pd.DataFrame, capex, levels: pd.DataFrame | None,
                 market: pd.Series | None, weights: dict | None, start: str = HISTORY_START,
                 taxonomy: Taxonomy | None = None) -> tuple[pd.DataFrame, RiskScores]:
    """Raw indicators and scores for every risk segment as of each quarter end since ``start``.

    ``data`` is the :class:`~analysis.data.ledger.Ledger`; ``capex`` the
    :class:`~analysis.spending.CapexFlows`; ``levels`` the basket levels (date x basket id of the
    taxonomy; None without market data), each basket's indicators going to the segments the
    taxonomy maps to it. Returns ``(raw, scores)``.
    """
    taxonomy = taxonomy or load_taxonomy()
    as_of_ts = pd.Timestamp(as_of)
    dates = quarter_ends(start, as_of)
    dates = dates[dates <= as_of_ts]
    # Ledger indicators are computed up to the last round and carried forward from there, so a
    # report dated after the data does not read the missing months as a funding collapse.
    ledger_end = min(data.last_round_date, as_of_ts)
    private_dates = dates[dates <= ledger_end].union(pd.DatetimeIndex([ledger_end]))
    private = private_indicators(data.rounds, data.investors, private_dates, lab_financials,
                                 segments=taxonomy.risk_segments())
    dates = dates.union(pd.DatetimeIndex([ledger_end]))
    parts = [carry_forward(private, ledger_end, dates),
             spending_indicators(capex.quarterly, dates, list(CAPEX_SEGMENTS))]
    if levels is not None and not levels.empty:
        public = public_indicators(levels, market, dates)
        for basket, segments in taxonomy.basket_segments().items():
            rows = public[public["segment"] == basket]
            parts += [rows.assign(segment=seg) for seg in segments]
    raw = pd.concat([x for x in parts if len(x)], ignore_index=True) if any(len(x) for x in parts) else \
        pd.DataFrame(columns=["date", "segment", "indicator", "raw"])
    return raw, score_history(raw, weights)


def indicator_table(weights: dict | None = None) -> pd.DataFrame:
    """Every indicator with its pillar, mapping rule and weight (defaults overridden by ``weights``)."""
    w = validate_weights(weights)
    return pd.DataFrame([{"indicator": k, "pillar": PILLARS[k], "rule": RULES[k], "weight": w[k],
                          "default_weight": DEFAULT_WEIGHTS[k]} for k in PILLARS])


def weight_sensitivity(raw: pd.DataFrame, segment: str, weights: dict | None = None) -> pd.DataFrame:
    """The segment's latest score with each indicator's weight doubled in turn."""
    base_w = validate_weights(weights)
    base = score_history(raw, base_w).latest().set_index("segment")
    if segment not in base.index:
        return pd.DataFrame(columns=["indicator", "score", "change_vs_default"])
    ref = float(base.loc[segment, "score"])
    rows = [{"indicator": "(defaults)", "score": ref, "change_vs_default": 0.0}]
    for k in PILLARS:
        w = dict(base_w)
        w[k] = 2 * w[k]
        s = score_history(raw, w).latest().set_index("segment").loc[segment, "score"]
        rows.append({"indicator": k, "score": float(s), "change_vs_default": float(s) - ref})
    return pd.DataFrame(rows)
