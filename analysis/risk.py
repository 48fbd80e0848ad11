"""The bubble-risk score per segment: indicators mapped to [0, 1] against historical or absolute
anchors, scored per pillar (private markets, public markets, hyperscaler spending), combined over
the pillars that have data, shrunk toward all-AI values where a segment has few rounds, with a
bootstrap interval - computed as of any past date with only the data available then.

Indicators, anchors and sources
-------------------------------
Each indicator's raw value maps to [0, 1] by straight lines between anchor points (on the log
scale where stated); outside the anchors the end values hold. Anchors cite the sourced rows of
``data/reference_points.csv`` (``REF:id``) or say why they are absolute.

Private markets (the ledger's new money, trailing twelve months to the date):

* ``funding_growth`` - trailing-12-month new money over the 12 months before, minus one: the
  flow analogue of Greenwood, Shleifer and You's run-up, compared year on year because the
  ledger's coverage is similar in consecutive years (a two-year comparison would reach back into
  thinner years and read coverage as growth). Anchors: GSY's probability of a crash within two
  years after a two-year run-up of 50%, 100% and 150% (0.20, 0.53, 0.80;
  REF:gsy_crash_probability_net_50/100/150), at the annual growth that compounds to that run-up
  over two years (22.5%, 41.4%, 58.1%); 0 growth -> 0; and, an extrapolation beyond GSY's
  largest class so that larger run-ups still rank, 100% a year (300% over two years) -> 1.
* ``revenue_multiple`` - median across companies of their valuation over revenue public by the
  round (log scale). Anchors: 1x -> 0, 5.5x -> 0.25 (NASDAQ-100 at its 2021 peak,
  REF:peak2021_nasdaq100_price_to_sales), 14.7x -> 0.5 (median SaaS at the 2021 peak,
  REF:peak2021_saas_median_ev_ntm_revenue_nov), 35x -> 0.75 (high-growth SaaS at the 2021 peak,
  REF:peak2021_saas_high_growth_ev_ntm_revenue), 63x -> 1 (Cisco at the dot-com peak,
  REF:dotcom_peak_cisco_price_to_sales).
* ``step_up`` - time-weighted annual valuation growth (``exp(g) - 1``) of companies with a second
  priced round in the last two years, on the ``funding_growth`` anchors.
* ``mega_round_share`` and ``supplier_share`` (rounds with a cloud or chip supplier investor,
  parents excluded: ``analysis.deals``) - shares already on an absolute 0-1 scale (all money in
  $1bn+ rounds, all of it from suppliers). Concentration across companies is reported, not scored:
  in a ledger of large rounds it mostly counts how many companies the ledger covers.

Public markets: ``market_signal`` - the basket's market bubble signal
(:func:`analysis.bubbles.signal.history`: PSY margin, LPPLS confidence, run-up, distance from the
peak, calibrated on past bubbles) divided by 100.

Hyperscaler spending (LLM segments and AI infrastructure): ``capex_to_revenue`` - trailing four
quarters; 14% -> 0 (telecom carriers' long-run average, REF:telecom_carrier_capex_to_revenue_normal),
50% -> 1 (carriers at the 2000-01 peak, REF:telecom_carrier_capex_to_sales_peak); and
``capex_to_ocf``: 0 -> 0, 1 -> 1 (absolute: capex equal to operating cash flow leaves nothing
for anything else and beyond it must be financed).

Combining
---------
A pillar's score is the weighted mean of its available indicators; the composite is the weighted
mean (``PILLAR_WEIGHTS``) of the pillars a segment has. A missing pillar is left out, never
counted as zero, so adding market data moves a score only by what that data says, and a segment
with no listed basket is scored on what it has. Private indicators of a segment with ``n`` rounds
(companies for the multiple) in the window are shrunk toward the all-AI value - the median of the
segments' own values, not the dollar-pooled value, which the largest LLM rounds would decide -
keeping ``n / (n + SHRINK_K)`` of their own. The interval of the latest score comes from resampling the segment's
companies (with all their rounds) ``N_BOOT`` times, the other pillars held at their values.

References: Greenwood, R., Shleifer, A. and You, Y. (2019), "Bubbles for Fama", Journal of
Financial Economics 131(1), 20-43; Efron, B. and Morris, C. (1975), "Data analysis using Stein's
estimator and its generalizations", JASA 70(350) (shrinkage toward a grand mean).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.data.taxonomy import Taxonomy, load_taxonomy
from analysis.spending import MEGA_ROUND_USD

#: Pillar of each indicator.
PILLARS = {
    "funding_growth": "private", "revenue_multiple": "private", "step_up": "private",
    "mega_round_share": "private", "supplier_share": "private",
    "market_signal": "public",
    "capex_to_revenue": "spending", "capex_to_ocf": "spending",
}
#: Weights of the indicators within their pillar (renormalised over those available).
DEFAULT_WEIGHTS = {
    "funding_growth": 0.30, "revenue_multiple": 0.30, "step_up": 0.15, "mega_round_share": 0.15,
    "supplier_share": 0.10,
    "market_signal": 1.0,
    "capex_to_revenue": 0.5, "capex_to_ocf": 0.5,
}
#: Weights of the pillars in the composite (renormalised over those a segment has): private
#: markets first, since the thesis is about private LLM valuations; prices and capex beside them.
PILLAR_WEIGHTS = {"private": 0.5, "public": 0.3, "spending": 0.2}

#: Anchor points (raw value, score) and whether the raw value is read on a log scale.
ANCHORS = {
    # annual growth compounding to GSY's two-year run-ups of 50%, 100%, 150%: sqrt(1 + r) - 1
    "funding_growth": (((0.0, 0.0), (0.2247, 0.20), (0.4142, 0.53), (0.5811, 0.80), (1.0, 1.0)), False),
    "step_up": (((0.0, 0.0), (0.2247, 0.20), (0.4142, 0.53), (0.5811, 0.80), (1.0, 1.0)), False),
    "revenue_multiple": (((1.0, 0.0), (5.51, 0.25), (14.7, 0.5), (35.0, 0.75), (63.0, 1.0)), True),
    "mega_round_share": (((0.0, 0.0), (1.0, 1.0)), False),
    "supplier_share": (((0.0, 0.0), (1.0, 1.0)), False),
    "market_signal": (((0.0, 0.0), (1.0, 1.0)), False),
    "capex_to_revenue": (((0.14, 0.0), (0.50, 1.0)), False),
    "capex_to_ocf": (((0.0, 0.0), (1.0, 1.0)), False),
}
#: The reference rows behind each indicator's anchors ("" where the scale is absolute).
ANCHOR_SOURCES = {
    "funding_growth": "gsy_crash_probability_net_50; gsy_crash_probability_net_100; gsy_crash_probability_net_150",
    "step_up": "gsy_crash_probability_net_50; gsy_crash_probability_net_100; gsy_crash_probability_net_150",
    "revenue_multiple": "peak2021_nasdaq100_price_to_sales; peak2021_saas_median_ev_ntm_revenue_nov; "
                        "peak2021_saas_high_growth_ev_ntm_revenue; dotcom_peak_cisco_price_to_sales",
    "mega_round_share": "", "supplier_share": "", "market_signal": "",
    "capex_to_revenue": "telecom_carrier_capex_to_revenue_normal; telecom_carrier_capex_to_sales_peak",
    "capex_to_ocf": "",
}
#: Shrinkage: a segment with n rounds keeps n / (n + SHRINK_K) of its own value.
SHRINK_K = 10
#: Fewest rounds (companies for the multiple) for a segment's own private indicator at all.
MIN_ROUNDS = 3
N_BOOT = 200
#: Segments whose score includes the hyperscalers' capex intensity (the spending pillar): the
#: LLM side and AI infrastructure, the two that hyperscaler capex pays for.
CAPEX_SEGMENTS = ("llm_narrow", "llm_broad", "ai_infrastructure")
#: First quarter end of the score history.
HISTORY_START = "2020-01-01"
#: How long ledger-based indicators are carried forward past the ledger's last round.
CARRY_FORWARD_DAYS = 183


def map_value(indicator: str, raw) -> np.ndarray:
    """The 0-1 score of raw values of ``indicator`` by its anchors (NaN stays NaN)."""
    anchors, log = ANCHORS[indicator]
    x = np.asarray(raw, dtype=float)
    xs = np.array([a for a, _ in anchors], dtype=float)
    ys = np.array([b for _, b in anchors], dtype=float)
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            x, xs = np.log(np.where(x > 0, x, np.nan)), np.log(xs)
    out = np.interp(x, xs, ys)
    return np.where(np.isnan(x), np.nan, out)


def validate_weights(weights: dict | None) -> dict:
    """Defaults overridden by ``weights``; unknown names or negative weights are errors."""
    merged = dict(DEFAULT_WEIGHTS)
    for name, w in (weights or {}).items():
        if name not in PILLARS:
            raise ValueError(f"unknown risk indicator {name!r}; known: {', '.join(PILLARS)}")
        if not (isinstance(w, (int, float)) and not isinstance(w, bool) and w >= 0):
            raise ValueError(f"weight of {name} must be a number >= 0, got {w!r}")
        merged[name] = float(w)
    if sum(merged.values()) <= 0:
        raise ValueError("at least one risk weight must be positive")
    return merged


def indicator_table(weights: dict | None = None) -> pd.DataFrame:
    """Every indicator with its pillar, anchors, their sources and its weight."""
    w = validate_weights(weights)
    rows = []
    for k in PILLARS:
        anchors, log = ANCHORS[k]
        rows.append({"indicator": k, "pillar": PILLARS[k],
                     "anchors": "; ".join(f"{a:g} -> {b:g}" for a, b in anchors) + (" (log scale)" if log else ""),
                     "sources": ANCHOR_SOURCES[k] or "absolute scale", "weight": w[k],
                     "default_weight": DEFAULT_WEIGHTS[k]})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Combining mapped indicators into pillar and composite scores
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskScores:
    """Scores per (date, segment): ``score`` (0-100), each pillar's score (0-100 or NaN),
    ``pillars_used``, and for the latest date ``low``/``high`` (bootstrap interval, private pillar
    resampled). ``contributions``: date, segment, indicator, pillar, raw, score (0-1), weight
    (share of the composite) and contribution (points)."""

    scores: pd.DataFrame
    contributions: pd.DataFrame
    weights: dict = field(default_factory=dict)
    intervals: pd.DataFrame = field(default_factory=pd.DataFrame)   # segment, low, high

    def latest(self) -> pd.DataFrame:
        """Each segment's last score with its change since the previous date and its interval."""
        cols = ["segment", "date", "score", "change", "previous_date", "low", "high", "private", "public",
                "spending", "pillars_used", "n_rounds"]
        s = self.scores.dropna(subset=["score"]).sort_values("date")
        if s.empty:
            return pd.DataFrame(columns=cols)
        last = s.groupby("segment").tail(1)
        # The change is against the last score at least a quarter older (not the ledger-end row
        # that a later report date carries forward unchanged).
        cutoff = last.set_index("segment")["date"] - pd.Timedelta(days=85)
        earlier = s[s["date"] <= s["segment"].map(cutoff)]
        prev = earlier.groupby("segment").tail(1)[["segment", "score", "date"]].rename(
            columns={"score": "previous_score", "date": "previous_date"})
        out = last.merge(prev, on="segment", how="left")
        out["change"] = out["score"] - out["previous_score"]
        iv = self.intervals if len(self.intervals) else pd.DataFrame(columns=["segment", "low", "high"])
        out = out.merge(iv, on="segment", how="left")
        return out.reindex(columns=cols).sort_values("score", ascending=False).reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        return self.latest()

    def _repr_html_(self) -> str:
        return self.latest().to_html(float_format=lambda x: f"{x:.1f}", index=False)


def score_history(raw: pd.DataFrame, weights: dict | None = None,
                  pillar_weights: dict | None = None) -> RiskScores:
    """Map raw indicators (date, segment, indicator, raw) and combine them per pillar and over
    the available pillars (see the module docstring)."""
    weights = validate_weights(weights)
    pillar_weights = dict(PILLAR_WEIGHTS, **(pillar_weights or {}))
    empty_scores = pd.DataFrame({"date": pd.Series(dtype="datetime64[ns]"), "segment": pd.Series(dtype=object),
                                 "score": pd.Series(dtype=float), "private": pd.Series(dtype=float),
                                 "public": pd.Series(dtype=float), "spending": pd.Series(dtype=float),
                                 "pillars_used": pd.Series(dtype=int), "n_rounds": pd.Series(dtype=float)})
    empty_contrib = pd.DataFrame(columns=["date", "segment", "indicator", "pillar", "raw", "score", "weight",
                                          "contribution"])
    if raw.empty:
        return RiskScores(empty_scores, empty_contrib, weights)
    m = raw.copy()
    m["score"] = np.nan
    for name, idx in m.groupby("indicator").groups.items():
        m.loc[idx, "score"] = map_value(name, m.loc[idx, "raw"].to_numpy(dtype=float))
    m["pillar"] = m["indicator"].map(PILLARS)
    m["w"] = m["indicator"].map(weights)
    m = m.dropna(subset=["score"])
    m = m[m["w"] > 0]
    if m.empty:
        return RiskScores(empty_scores, empty_contrib, weights)
    m["w_in_pillar"] = m["w"] / m.groupby(["date", "segment", "pillar"])["w"].transform("sum")
    pillar = (m.assign(v=m["score"] * m["w_in_pillar"]).groupby(["date", "segment", "pillar"])["v"].sum()
              .unstack("pillar").reindex(columns=list(PILLAR_WEIGHTS)))
    pw = pd.Series(pillar_weights)[pillar.columns]
    have = pillar.notna()
    total_w = (have * pw).sum(axis=1)
    composite = (pillar.fillna(0.0) * pw).sum(axis=1) / total_w.where(total_w > 0)
    scores = (100 * pillar).assign(score=100 * composite, pillars_used=have.sum(axis=1)).reset_index()
    if "n" in raw:
        n_rounds = raw.dropna(subset=["n"]).groupby(["date", "segment"])["n"].first().rename("n_rounds").reset_index()
        scores = scores.merge(n_rounds, on=["date", "segment"], how="left")
    else:
        scores["n_rounds"] = np.nan
    share = (have * pw).div(total_w.where(total_w > 0), axis=0)
    m["weight"] = m["w_in_pillar"] * [share.at[(d, s), p] for d, s, p in zip(m["date"], m["segment"], m["pillar"])]
    m["contribution"] = 100 * m["weight"] * m["score"]
    contributions = m[["date", "segment", "indicator", "pillar", "raw", "score", "weight", "contribution"]]
    return RiskScores(scores[["date", "segment", "score", "private", "public", "spending", "pillars_used", "n_rounds"]],
                      contributions.reset_index(drop=True), weights)


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


@dataclass(frozen=True)
class _Companies:
    """Company-level aggregates of one date's windows: the unit the bootstrap resamples."""

    segment_of: dict                 # segment -> boolean mask over companies
    last: np.ndarray                 # new money, trailing 12 months
    base: np.ndarray                 # new money, the 12 months before
    mega: np.ndarray                 # of ``last``, in $1bn+ rounds
    supplier: np.ndarray             # of ``last``, in supplier-financed rounds
    rounds: np.ndarray               # rounds in the trailing 12 months
    log_multiple: np.ndarray         # company median log valuation/revenue (last 2 years), NaN if none
    growth_sum: np.ndarray           # sum of log step-ups of pairs ending in the last 2 years
    growth_years: np.ndarray         # years those pairs span


def _company_table(usable: pd.DataFrame, supplier: np.ndarray, pairs: pd.DataFrame, multiples: pd.DataFrame,
                   date: pd.Timestamp, segments: dict) -> _Companies:
    d1, d2 = date - pd.DateOffset(years=1), date - pd.DateOffset(years=2)
    day = usable["announced_on"]
    in_last = ((day > d1) & (day <= date)).to_numpy()
    in_base = ((day > d2) & (day <= d1)).to_numpy()
    codes, names = pd.factorize(usable["org_name"])
    n = len(names)
    amount = usable["raised_amount_usd"].to_numpy(dtype=float)
    last = np.bincount(codes, weights=amount * in_last, minlength=n)
    base = np.bincount(codes, weights=amount * in_base, minlength=n)
    mega = np.bincount(codes, weights=amount * in_last * (amount >= MEGA_ROUND_USD), minlength=n)
    sup = np.bincount(codes, weights=amount * in_last * supplier, minlength=n)
    rounds = np.bincount(codes, weights=in_last.astype(float), minlength=n)
    domain = usable.groupby(codes)["effective_domain"].last().reindex(range(n)).to_numpy()
    pos = pd.Series(range(n), index=names)
    log_multiple = np.full(n, np.nan)
    if len(multiples):
        mm = multiples[(multiples["announced_on"] > d2) & (multiples["announced_on"] <= date)]
        med = np.log(mm["multiple"].astype(float)).groupby(mm["org_name"]).median()
        idx = pos.reindex(med.index).dropna().astype(int)
        log_multiple[idx.to_numpy()] = med.loc[idx.index].to_numpy()
    growth_sum, growth_years = np.zeros(n), np.zeros(n)
    if len(pairs):
        pp = pairs[(pairs["second_date"] > d2) & (pairs["second_date"] <= date)]
        g = pp.assign(lr=np.log(pp["value_ratio"].astype(float))).groupby("org_name").agg(s=("lr", "sum"),
                                                                                         y=("years", "sum"))
        idx = pos.reindex(g.index).dropna().astype(int)
        growth_sum[idx.to_numpy()] = g.loc[idx.index, "s"].to_numpy()
        growth_years[idx.to_numpy()] = g.loc[idx.index, "y"].to_numpy()
    segment_of = {seg: np.isin(domain, list(doms)) for seg, doms in segments.items()}
    return _Companies(segment_of, last, base, mega, sup, rounds, log_multiple, growth_sum, growth_years)


def _indicators(c: _Companies, mask: np.ndarray, weight: np.ndarray | None = None) -> dict:
    """Raw private indicators of the companies in ``mask`` (``weight``: bootstrap multiplicity)."""
    w = mask.astype(float) if weight is None else weight * mask
    last, base = (c.last * w).sum(), (c.base * w).sum()
    out = {"funding_growth": last / base - 1 if base > 0 else np.nan,
           "mega_round_share": (c.mega * w).sum() / last if last > 0 else np.nan,
           "supplier_share": (c.supplier * w).sum() / last if last > 0 else np.nan}
    have = ~np.isnan(c.log_multiple) & (w > 0)
    out["revenue_multiple"] = float(np.exp(np.median(np.repeat(c.log_multiple[have], np.round(w[have]).astype(int)))))\
        if have.sum() >= 1 else np.nan
    years = (c.growth_years * w).sum()
    out["step_up"] = float(np.expm1((c.growth_sum * w).sum() / years)) if years > 0 else np.nan
    out["_rounds"] = float((c.rounds * w).sum())
    out["_multiples"] = float(np.round(w[have]).sum())
    return out


def _shrink(own: dict, everyone: dict, k: float = SHRINK_K) -> dict:
    """Each private indicator pulled toward the all-AI value ``everyone`` (the cross-segment
    median) keeping ``n / (n + k)`` of its own (n: the segment's rounds, or companies with a
    multiple); below ``MIN_ROUNDS`` the segment has no value."""
    out = {}
    for name in ("funding_growth", "mega_round_share", "supplier_share", "step_up", "revenue_multiple"):
        n = own["_multiples"] if name == "revenue_multiple" else own["_rounds"]
        mine, pooled = own[name], everyone[name]
        if n < MIN_ROUNDS or np.isnan(mine):
            out[name] = np.nan
            continue
        w = n / (n + k)
        if name == "revenue_multiple":  # shrink on the log scale the anchors read it on
            out[name] = float(np.exp(w * np.log(mine) + (1 - w) * np.log(pooled))) if pooled > 0 else mine
        else:
            out[name] = float(w * mine + (1 - w) * pooled) if np.isfinite(pooled) else mine
    return out


def _typical(own_values: dict) -> dict:
    """The all-AI value each segment shrinks toward: the median of the segments' own values
    (those with ``MIN_ROUNDS`` rounds, or companies with a multiple)."""
    out = {}
    for name in ("funding_growth", "mega_round_share", "supplier_share", "step_up", "revenue_multiple"):
        key = "_multiples" if name == "revenue_multiple" else "_rounds"
        vals = [v[name] for v in own_values.values() if v[key] >= MIN_ROUNDS and np.isfinite(v[name])]
        out[name] = float(np.median(vals)) if vals else np.nan
    return out


def _inputs(rounds, investors, lab_financials, relationships):
    from analysis.deals import supplier_flags
    from analysis.valuation import priced_pairs, revenue_multiples

    usable = rounds[rounds["new_money"] & rounds["raised_amount_usd"].notna()]
    supplier = supplier_flags(usable, investors, relationships)["supplier_in"].to_numpy(dtype=bool) \
        if len(usable) else np.zeros(0, dtype=bool)
    pairs = priced_pairs(rounds)
    multiples = revenue_multiples(rounds, lab_financials) if lab_financials is not None else pd.DataFrame()
    return usable, supplier, pairs, multiples


def private_indicators(rounds: pd.DataFrame, investors: pd.DataFrame, dates: pd.DatetimeIndex,
                       lab_financials: pd.DataFrame | None = None,
                       segments: dict[str, tuple[str, ...]] | None = None,
                       relationships: pd.DataFrame | None = None) -> pd.DataFrame:
    """Raw private-market indicators per segment at each date (shrunk; see the module docstring),
    from rounds announced up to the date only. Tidy: date, segment, indicator, raw, n (rounds in
    the trailing twelve months)."""
    segments = segments or private_segments()
    usable, supplier, pairs, multiples = _inputs(rounds, investors, lab_financials, relationships)
    rows = []
    for date in dates:
        past = (usable["announced_on"] <= date).to_numpy()
        if not past.any():
            continue
        c = _company_table(usable[past], supplier[past], pairs, multiples, date, segments)
        own_values = {segment: _indicators(c, c.segment_of[segment]) for segment in segments}
        everyone = _typical(own_values)
        for segment, own in own_values.items():
            if own["_rounds"] < MIN_ROUNDS:
                continue
            for name, value in _shrink(own, everyone).items():
                rows.append({"date": date, "segment": segment, "indicator": name, "raw": value, "n": own["_rounds"]})
    return pd.DataFrame(rows, columns=["date", "segment", "indicator", "raw", "n"])


def private_intervals(rounds: pd.DataFrame, investors: pd.DataFrame, date: pd.Timestamp, fixed: RiskScores,
                      lab_financials: pd.DataFrame | None = None, segments: dict | None = None,
                      relationships: pd.DataFrame | None = None, weights: dict | None = None,
                      n_boot: int = N_BOOT, level: float = 0.90, seed: int = 0) -> pd.DataFrame:
    """Bootstrap interval of each segment's score at ``date``: the segment's companies are
    resampled with all their rounds (the all-AI values they shrink toward held fixed), the private
    pillar recomputed, the other pillars kept at their values in ``fixed``."""
    segments = segments or private_segments()
    weights = validate_weights(weights)
    usable, supplier, pairs, multiples = _inputs(rounds, investors, lab_financials, relationships)
    past = (usable["announced_on"] <= date).to_numpy()
    c = _company_table(usable[past], supplier[past], pairs, multiples, date, segments)
    everyone = _typical({segment: _indicators(c, mask) for segment, mask in c.segment_of.items()})
    base = fixed.scores[fixed.scores["date"] == date].set_index("segment")
    rng = np.random.default_rng(seed)
    rows = []
    for segment, mask in c.segment_of.items():
        if segment not in base.index or not np.isfinite(base.at[segment, "score"]):
            continue
        members = np.flatnonzero(mask & ((c.rounds > 0) | (c.base > 0) | ~np.isnan(c.log_multiple)
                                         | (c.growth_years > 0)))
        picks = np.zeros((n_boot, len(c.last)))
        if len(members):
            for b in range(n_boot):  # the same random stream as one draw at a time
                picks[b] = np.bincount(rng.choice(members, len(members)), minlength=len(c.last))
        private = _private_pillar(_shrink_draws(_indicator_draws(c, picks), everyone), weights)
        fixed_pillars = [(PILLAR_WEIGHTS[p], base.at[segment, p] / 100) for p in ("public", "spending")
                         if np.isfinite(base.at[segment, p] / 100)]
        numerator, total = private * PILLAR_WEIGHTS["private"], PILLAR_WEIGHTS["private"]
        for weight, value in fixed_pillars:  # in the pillars' order, as the score adds them
            numerator, total = numerator + value * weight, total + weight
        draws = (100 * numerator / total)[np.isfinite(private)]
        if len(draws) >= n_boot // 2:
            tail = (1 - level) / 2
            lo, hi = np.quantile(draws, [tail, 1 - tail])
            rows.append({"segment": segment, "low": float(lo), "high": float(hi)})
    return pd.DataFrame(rows, columns=["segment", "low", "high"])


def _indicator_draws(c: _Companies, picks: np.ndarray) -> dict:
    """:func:`_indicators` for many bootstrap draws at once: ``picks`` holds each draw's
    multiplicity per company (rows = draws); each value is an array over draws."""
    def total(x):
        return (picks * x).sum(axis=1)

    last, base = total(c.last), total(c.base)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {"funding_growth": np.where(base > 0, last / base - 1, np.nan),
               "mega_round_share": np.where(last > 0, total(c.mega) / last, np.nan),
               "supplier_share": np.where(last > 0, total(c.supplier) / last, np.nan)}
        years = total(c.growth_years)
        out["step_up"] = np.where(years > 0, np.expm1(total(c.growth_sum) / years), np.nan)
    # the median of each draw's log multiples, every company counted as often as it was drawn
    has_multiple = np.flatnonzero(~np.isnan(c.log_multiple))
    order = has_multiple[np.argsort(c.log_multiple[has_multiple], kind="stable")]
    values = c.log_multiple[order]
    counts = np.round(picks[:, order])
    n = counts.sum(axis=1)
    out["revenue_multiple"] = np.full(len(picks), np.nan)
    if len(order):
        cum = counts.cumsum(axis=1)
        lower = (cum > np.floor((n - 1) / 2)[:, None]).argmax(axis=1)
        upper = (cum > np.floor(n / 2)[:, None]).argmax(axis=1)
        median = np.where(n % 2 == 1, values[lower], (values[lower] + values[upper]) / 2)
        out["revenue_multiple"] = np.where(n >= 1, np.exp(median), np.nan)
    out["_rounds"] = total(c.rounds)
    out["_multiples"] = n
    return out


def _shrink_draws(own: dict, everyone: dict, k: float = SHRINK_K) -> dict:
    """:func:`_shrink` for arrays of draws."""
    out = {}
    for name in ("funding_growth", "mega_round_share", "supplier_share", "step_up", "revenue_multiple"):
        n = own["_multiples"] if name == "revenue_multiple" else own["_rounds"]
        mine, pooled = own[name], everyone[name]
        w = n / (n + k)
        with np.errstate(divide="ignore", invalid="ignore"):
            if name == "revenue_multiple":
                shrunk = np.exp(w * np.log(mine) + (1 - w) * np.log(pooled)) if pooled > 0 else mine
            else:
                shrunk = w * mine + (1 - w) * pooled if np.isfinite(pooled) else mine
        out[name] = np.where((n < MIN_ROUNDS) | np.isnan(mine), np.nan, shrunk)
    out["_rounds"] = own["_rounds"]
    return out


def _private_pillar(shrunk: dict, weights: dict) -> np.ndarray:
    """The private pillar of each draw: the weighted mean of the mapped indicators it has; NaN for
    a draw with fewer than ``MIN_ROUNDS`` rounds or no indicator (the loop skipped those)."""
    draws = len(shrunk["_rounds"])
    numerator, denominator = np.zeros(draws), np.zeros(draws)
    for name in ("funding_growth", "mega_round_share", "supplier_share", "step_up", "revenue_multiple"):
        mapped = map_value(name, shrunk[name])
        use = np.isfinite(mapped) & (weights[name] > 0)
        numerator = numerator + np.where(use, mapped * weights[name], 0.0)
        denominator = denominator + np.where(use, weights[name], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        private = numerator / denominator
    return np.where((shrunk["_rounds"] >= MIN_ROUNDS) & (denominator > 0), private, np.nan)


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
            rows.append({"date": date, "segment": segment, "indicator": "capex_to_revenue",
                         "raw": last["capex_to_revenue_t4q"]})
            rows.append({"date": date, "segment": segment, "indicator": "capex_to_ocf", "raw": last["capex_to_ocf_t4q"]})
    return pd.DataFrame(rows, columns=["date", "segment", "indicator", "raw"])


def carry_forward(raw: pd.DataFrame, data_end: pd.Timestamp, dates: pd.DatetimeIndex,
                  max_days: int = CARRY_FORWARD_DAYS) -> pd.DataFrame:
    """Repeat the indicators known at ``data_end`` on later grid dates (up to ``max_days``):
    the value an analyst would still be reading then. Never uses anything after ``data_end``."""
    last = raw[raw["date"] == data_end]
    later = [d for d in dates if data_end < d <= data_end + pd.Timedelta(days=max_days)]
    return pd.concat([raw] + [last.assign(date=d) for d in later], ignore_index=True)


def public_indicators(signals: dict, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """The market signal per basket at each date: the last period end of its
    :class:`~analysis.bubbles.signal.SignalHistory` on or before the date (built from prices up
    to that period end only), as ``market_signal`` = score / 100."""
    rows = []
    for basket, hist in signals.items():
        t = hist.table["score"].dropna()
        for date in dates:
            known = t[t.index <= date]
            if len(known):
                rows.append({"date": date, "segment": basket, "indicator": "market_signal",
                             "raw": float(known.iloc[-1]) / 100})
    return pd.DataFrame(rows, columns=["date", "segment", "indicator", "raw"])


def risk_history(data, as_of: str, lab_financials: pd.DataFrame, capex, signals: dict | None,
                 weights: dict | None, relationships: pd.DataFrame | None = None, start: str = HISTORY_START,
                 taxonomy: Taxonomy | None = None, n_boot: int = N_BOOT) -> tuple[pd.DataFrame, RiskScores]:
    """Raw indicators and scores for every risk segment as of each quarter end since ``start``,
    with the bootstrap interval of the latest scores.

    ``data`` is the :class:`~analysis.data.ledger.Ledger`; ``capex`` the
    :class:`~analysis.spending.CapexFlows`; ``signals`` maps basket ids of the taxonomy to their
    :class:`~analysis.bubbles.signal.SignalHistory` (None or empty without market data); each
    basket's signal goes to the segments the taxonomy maps to it. Returns ``(raw, scores)``.
    """
    taxonomy = taxonomy or load_taxonomy()
    as_of_ts = pd.Timestamp(as_of)
    dates = quarter_ends(start, as_of)
    dates = dates[dates <= as_of_ts]
    # Ledger indicators are computed up to the last round and carried forward from there, so a
    # report dated after the data does not read the missing months as a funding collapse.
    ledger_end = min(data.last_round_date, as_of_ts)
    private_dates = dates[dates <= ledger_end].union(pd.DatetimeIndex([ledger_end]))
    segments = taxonomy.risk_segments()
    private = private_indicators(data.rounds, data.investors, private_dates, lab_financials, segments, relationships)
    dates = dates.union(pd.DatetimeIndex([ledger_end]))
    parts = [carry_forward(private, ledger_end, dates),
             spending_indicators(capex.quarterly, dates, list(CAPEX_SEGMENTS))]
    if signals:
        public = public_indicators(signals, dates)
        for basket, owners in taxonomy.basket_segments().items():
            rows = public[public["segment"] == basket]
            parts += [rows.assign(segment=seg) for seg in owners]
    parts = [x for x in parts if len(x)]
    raw = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["date", "segment", "indicator", "raw"])
    scores = score_history(raw, weights)
    if len(scores.scores) and n_boot:
        last = scores.scores["date"].max()
        intervals = private_intervals(data.rounds, data.investors, min(last, ledger_end), scores, lab_financials,
                                      segments, relationships, weights, n_boot=n_boot) \
            if last <= ledger_end else _carried_intervals(data, ledger_end, last, scores, lab_financials, segments,
                                                          relationships, weights, n_boot)
        scores = RiskScores(scores.scores, scores.contributions, scores.weights, intervals)
    return raw, scores


def _carried_intervals(data, ledger_end, last, scores, lab_financials, segments, relationships, weights, n_boot):
    """Intervals at a date after the ledger's end: the private pillar as carried forward from the
    ledger's end, the other pillars at the date's values."""
    at_last = scores.scores[scores.scores["date"] == last]
    fixed = RiskScores(at_last.assign(date=ledger_end), scores.contributions, scores.weights)
    return private_intervals(data.rounds, data.investors, ledger_end, fixed, lab_financials, segments,
                             relationships, weights, n_boot=n_boot)


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
