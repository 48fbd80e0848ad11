"""The LLM-bust stress test: shocks to LLM valuations, LLM funding, the market and hyperscaler
capex, propagated through channels that each state their expected sign, their interval and
their effective sample size, with scenarios calibrated on sourced historical analogues.

Channels
--------
* ``funding`` - elasticity of each non-LLM domain's venture funding to LLM funding, on log
  changes of non-overlapping quarters (:func:`analysis.contagion.funding_comovement`): a drop
  ``d`` moves the domain by ``exp(beta log(1 - d)) - 1``. Expected sign: positive (in the
  analogues every segment's funding fell together).
* ``public`` - beta of each listed basket to the LLM basket's market-neutral weekly return, with
  its own market (SPY) beta (:func:`analysis.contagion.basket_betas`). An LLM haircut ``h`` with
  a market fall ``m`` moves the basket by ``exp(c log(1 - m) + beta (log(1 - h) - b log(1 - m))) - 1``
  (``c`` the basket's and ``b`` the LLM basket's market beta; the LLM basket's own fall is split
  into its market part and its LLM-specific part). Expected sign: positive.
* ``capex`` - elasticity of the supplier basket's quarterly log return to the year-on-year log
  change of hyperscaler capex (SPY's quarterly return held fixed when given): a cut ``c`` moves
  the basket by ``exp(beta log(1 - c)) - 1``. Expected sign: positive.
* ``exposure`` - supplier revenue: ``-(hyperscalers' share of the supplier's revenue) x cut``,
  from sourced shares (``supplier_exposure`` rows of ``data/reference_points.csv``), the share's
  sourced range as its interval. Expected sign: positive (revenue falls with the cut).

Estimated channels carry a 90% interval and n_eff from :mod:`analysis.hac` (Newey-West,
dependent wild bootstrap); the Monte Carlo draws each slope from a split normal that matches its
interval and each sourced share uniformly from its range.

Sign checks
-----------
Every shock is adverse, so an outcome above zero contradicts its channel's expected sign. Such
an outcome is flagged (``sign_check = "contradicts"``), left out of the headline
(``headline = False``) and explained in words from the channel's estimate, interval and n_eff
(whether the data cannot tell the sign, or the sample ran against the expected direction).

Scenarios
---------
:data:`ANALOGUES` is the one place that maps scenario parameters to rows of
``data/reference_points.csv`` (sourced figures: dot-com 2000-2002 drawdowns, the 2001 telecom
capex cut, the 2022 growth drawdown). A parameter whose reference row is missing is absent
from that scenario (the channels it drives are not run; an absent LLM figure with a market fall
means no LLM-specific shock) and listed; nothing is filled in from memory or from price data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config
from analysis.contagion import RETURNS_START, basket_betas, funding_comovement
from analysis.errors import DataValidationError, Problem
from analysis.hac import Slope, slope
from analysis.inference import INTERVAL_LEVEL

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
_Z90 = 1.6448536269514722  # standard normal 95% quantile: a 90% interval is +-1.645 sd

#: Expected sign of each channel's coefficient and why (an adverse shock should not help).
EXPECTED_SIGNS = {
    "funding": (+1, "in the dot-com bust venture funding fell in every segment together, so LLM and other AI "
                    "funding should move the same way"),
    "public": (+1, "a fall in LLM-specific valuations should not lift other AI stocks"),
    "capex": (+1, "a cut in hyperscaler capex reduces the suppliers' orders"),
    "exposure": (+1, "suppliers lose the hyperscalers' share of their revenue times the cut"),
}
DRIVERS = {"funding": "LLM funding", "public": "LLM-specific return", "capex": "hyperscaler capex growth",
           "exposure": "hyperscaler capex"}
#: The shock each channel responds to (a parameter of :func:`stress_test`).
SHOCKS = {"funding": "llm_funding_drop", "public": "llm_valuation_haircut", "capex": "capex_cut",
          "exposure": "capex_cut"}
PARAMETERS = ("llm_valuation_haircut", "llm_funding_drop", "capex_cut", "market_drop")

REFERENCE_POINTS = config.DATA_DIR / "reference_points.csv"
REFERENCE_COLUMNS = ("id", "category", "subject", "metric", "value", "unit", "period", "low", "high",
                     "definition", "source_url", "source_title", "source_publisher", "source_date", "notes")
_FRACTION_UNITS = {"fraction": 1.0, "share": 1.0, "ratio": 1.0, "percent": 0.01, "pct": 0.01, "%": 0.01}

#: Scenario parameters -> ids of data/reference_points.csv: the ONE place the analogues are
#: mapped. Each parameter is a fall (its magnitude is used); ``targets`` names, per stress
#: target, the analogue segment's own sourced fall shown next to the outcome as a cross-check.
ANALOGUES = {
    "dotcom_2000_2002": {
        "label": "Dot-com bust, 2000-2002",
        "llm_valuation_haircut": "dotcom_drawdown_nasdaq_composite",
        "capex_cut": "telecom_na_wireline_capex_change_2001",
        "targets": {},
    },
    "telecom_capex_2001": {
        "label": "Telecom capex cut, 2001-2002",
        "capex_cut": "telecom_carrier_capex_cut_2002",
        "llm_valuation_haircut": "dotcom_drawdown_cisco",
        "targets": {},
    },
    "growth_2022": {
        "label": "Growth-stock drawdown, 2022",
        "llm_valuation_haircut": "drawdown2022_arkk",
        "market_drop": "drawdown2022_nasdaq100_12m",
        "targets": {},
    },
}


# --------------------------------------------------------------------------------------------
# Channels
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    """One relationship: ``target`` responds to ``driver`` with ``beta`` (log-log, or a revenue
    share for ``exposure``), its 90% interval ``(low, high)`` and effective sample size."""

    channel: str
    target: str
    beta: float
    se: float
    nobs: int
    r2: float
    n_eff: float = float("nan")
    low: float | None = None
    high: float | None = None
    market_beta: float = 0.0        # public: the basket's SPY beta
    market_beta_se: float = 0.0
    llm_market_beta: float = 0.0    # public: the LLM basket's SPY beta
    source: str = "estimated"       # or "sourced" (a reference_points row)
    reference: str = ""
    note: str = ""

    @property
    def expected_sign(self) -> int:
        return EXPECTED_SIGNS[self.channel][0]

    @property
    def interval(self) -> tuple[float, float]:
        """The 90% interval (bootstrap inversion for estimates, the sourced range for shares)."""
        if self.low is not None and self.high is not None:
            return self.low, self.high
        return self.beta - _Z90 * self.se, self.beta + _Z90 * self.se

    @property
    def ci(self) -> tuple[float, float]:
        """Normal 95% interval ``beta +- 1.96 se`` (kept for callers of the old interface)."""
        return self.beta - 1.96 * self.se, self.beta + 1.96 * self.se

    @property
    def sign_check(self) -> str:
        """"as expected", "opposite, interval includes 0" or "opposite, interval excludes 0"."""
        if self.beta * self.expected_sign >= 0:
            return "as expected"
        lo, hi = self.interval
        return "opposite, interval includes 0" if lo <= 0 <= hi else "opposite, interval excludes 0"


def from_slope(s: Slope, channel: str, target: str, **kw) -> Channel:
    lo, hi = s.interval(INTERVAL_LEVEL)
    return Channel(channel, target, s.beta, s.se, s.n, s.r2, s.n_eff, lo, hi, **kw)


def estimate(y: pd.Series, x: pd.Series, channel: str, target: str, min_obs: int = 8,
             controls: pd.Series | None = None) -> Channel | None:
    """Slope of ``y`` on ``x`` (constant and optional ``controls``) over their common dates, with
    Newey-West error, bootstrap interval and n_eff; None with fewer than ``min_obs`` periods."""
    parts = [y.rename("y"), x.rename("x")] + ([] if controls is None else [controls.rename("z")])
    both = pd.concat(parts, axis=1).replace([np.inf, -np.inf], np.nan).dropna()
    if len(both) < min_obs or both["x"].std() == 0:
        return None
    z = None if controls is None else both["z"].to_numpy()
    return from_slope(slope(both["y"].to_numpy(), both["x"].to_numpy(), z), channel, target)


def funding_channels(rounds: pd.DataFrame, llm_domains: tuple[str, ...], freq: str = "Q", end=None) -> list[Channel]:
    """Per non-LLM domain: elasticity of funding to LLM funding on non-overlapping periods."""
    fc = funding_comovement(rounds, llm_domains, freq, end)
    return [Channel("funding", r.domain, r.beta, r.se, int(r.changes), r.r2, r.n_eff, r.ci_low, r.ci_high)
            for r in fc.table.itertuples() if pd.notna(r.beta)]


def return_channels(levels: pd.DataFrame, llm_column: str, market: pd.Series | None = None,
                    start=RETURNS_START, end=None) -> list[Channel]:
    """Per basket: beta to the LLM basket's market-neutral weekly return (2019 on), with its
    market beta. Without ``market`` the beta is to the raw LLM return (noted on the channel)."""
    res = basket_betas(levels, llm_column, market, start=start, end=end)
    llm_mb = res.llm_market_beta.beta if res.llm_market_beta is not None else 0.0
    note = "" if res.market else "no market factor: the beta includes market co-movement"
    return [Channel("public", r.basket, r.beta, r.se, int(r.weeks), r.r2, r.n_eff, r.ci_low, r.ci_high,
                    0.0 if pd.isna(r.beta_market) else float(r.beta_market),
                    0.0 if pd.isna(r.beta_market_se) else float(r.beta_market_se), llm_mb, note=note)
            for r in res.table.itertuples() if pd.notna(r.beta)]


def capex_channels(levels: pd.DataFrame, capex_quarterly: pd.Series, supplier_columns: list[str],
                   market: pd.Series | None = None, companies: pd.Series | None = None) -> list[Channel]:
    """Quarterly log returns of the supplier baskets on the year-on-year log change of capex.

    ``companies`` (companies reporting per quarter) drops year-on-year changes between quarters
    with different company sets, whose growth is a change of coverage, not of spending.
    """
    q_levels = levels.resample("QE").last()
    q_levels.index = q_levels.index.to_period("Q")
    growth = np.log(capex_quarterly.where(capex_quarterly > 0)).diff(4)
    if companies is not None:
        growth = growth.where(companies == companies.shift(4))
    mkt = None
    if market is not None and len(market.dropna()):
        m = market.resample("QE").last()
        m.index = m.index.to_period("Q")
        mkt = np.log(m).diff()
    out = []
    for col in supplier_columns:
        if col not in q_levels:
            continue
        ch = estimate(np.log(q_levels[col]).diff(), growth, "capex", col, controls=mkt)
        if ch is not None:
            out.append(ch)
    return out


#: How each supplier's hyperscaler share of revenue is built from sourced reference points: the
#: estimate, and the other end of its range (``low`` or ``high``), each a sum or a product of
#: reference rows. NVIDIA: large cloud providers' share of data-centre revenue times data-centre's
#: share of revenue (44%), down to its two largest direct customers (36%); Arista: Microsoft plus
#: Meta in 2025 (42%), up to the two customers' earlier peaks (44%).
SUPPLIER_EXPOSURE = {
    "NVIDIA": {"value": ("product", ("nvidia_q2fy2026_csp_share_of_datacenter",
                                     "nvidia_q2fy2026_datacenter_share_of_revenue")),
               "low": ("sum", ("nvidia_fy2026_largest_direct_customer_share",
                               "nvidia_fy2026_second_direct_customer_share"))},
    "Arista Networks": {"value": ("sum", ("arista_2025_microsoft_share", "arista_2025_meta_share")),
                        "high": ("sum", ("arista_2018_microsoft_share_peak", "arista_2019_facebook_share_peak"))},
}


def _combine(points: pd.DataFrame, rule: tuple[str, tuple[str, ...]]) -> tuple[float, float, float] | None:
    """(value, low, high) of a sum or product of reference rows (each row's own range kept)."""
    how, ids = rule
    rows = points.set_index("id").reindex(list(ids))
    if rows["value"].isna().any():
        return None
    scale = rows["unit"].map(_FRACTION_UNITS).astype(float)
    mid = rows["value"].astype(float) * scale
    lo = rows["low"].astype(float).fillna(rows["value"].astype(float)) * scale
    hi = rows["high"].astype(float).fillna(rows["value"].astype(float)) * scale
    agg = (lambda v: float(v.prod())) if how == "product" else (lambda v: float(v.sum()))
    return agg(mid), agg(lo), agg(hi)


def exposure_channels(points: pd.DataFrame, exposure: dict | None = None) -> list[Channel]:
    """Sourced supplier exposure: per supplier of ``exposure`` (default :data:`SUPPLIER_EXPOSURE`),
    the hyperscalers' share of its revenue (a cut of ``c`` in their capex costs it about
    ``share x c``), with the sourced range as its interval; a supplier whose reference rows are
    missing is left out."""
    out = []
    if not len(points):
        return out
    for target, spec in (SUPPLIER_EXPOSURE if exposure is None else exposure).items():
        combined = _combine(points, spec["value"])
        if combined is None:
            continue
        value = combined[0]
        other = [combined[1], combined[2]] + [v for key in ("low", "high") if key in spec
                                               for c in [_combine(points, spec[key])] if c is not None for v in c]
        lo, hi = min([value, *other]), max([value, *other])
        ids = ", ".join(i for key in ("value", "low", "high") if key in spec for i in spec[key][1])
        out.append(Channel("exposure", target, value, float("nan"), 1, float("nan"), float("nan"), lo, hi,
                           source="sourced", reference=ids, note="hyperscalers' share of revenue"))
    return out


def channel_table(channels: list[Channel]) -> pd.DataFrame:
    """Every channel with its expected sign, interval and n_eff next to the estimate."""
    cols = ["channel", "target", "driver", "beta", "se", "ci_low", "ci_high", "interval_level", "nobs", "n_eff", "r2",
            "expected_sign", "sign_check", "source", "reference", "note"]
    return pd.DataFrame([{"channel": c.channel, "target": c.target, "driver": DRIVERS[c.channel], "beta": c.beta,
                          "se": c.se, "ci_low": c.interval[0], "ci_high": c.interval[1],
                          "interval_level": INTERVAL_LEVEL, "nobs": c.nobs, "n_eff": c.n_eff, "r2": c.r2,
                          "expected_sign": "+" if c.expected_sign > 0 else "-", "sign_check": c.sign_check,
                          "source": c.source, "reference": c.reference, "note": c.note} for c in channels],
                        columns=cols)


# --------------------------------------------------------------------------------------------
# Reference points and analogue scenarios
# --------------------------------------------------------------------------------------------


def load_reference_points(path: Path | str | None = None) -> pd.DataFrame:
    """Sourced reference figures (``data/reference_points.csv``), validated by their schema
    (``aibubble validate`` rules: a value or a low-high range, ids unique); an empty frame when
    the file does not exist. A malformed file raises :class:`DataValidationError` naming file,
    row and field."""
    from analysis.data.tables import read_table

    path = Path(path) if path else REFERENCE_POINTS
    if not path.exists():
        return pd.DataFrame(columns=REFERENCE_COLUMNS)
    return read_table(path, "reference_points")


@dataclass(frozen=True)
class Scenario:
    """Shock ranges ``name -> (mid, low, high)`` (fractions, falls as positive numbers) and the
    reference id behind each; ``missing`` lists parameters whose reference row is absent (they
    are not in ``values`` and the scenario does not shock them)."""

    id: str
    label: str
    values: dict
    references: dict
    missing: tuple[str, ...] = ()
    targets: dict = field(default_factory=dict)   # stress target -> (analogue fall, reference id)

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"scenario": self.id, "parameter": k, "value": v[0], "low": v[1], "high": v[2],
                              "reference": self.references.get(k, "")} for k, v in self.values.items()])


def _as_fall(row) -> tuple[float, float, float] | None:
    scale = _FRACTION_UNITS.get(str(row["unit"]).strip().lower())
    if scale is None:
        return None
    if pd.isna(row["value"]) and (pd.isna(row["low"]) or pd.isna(row["high"])):
        return None
    lo_raw = abs(float(row["low"])) * scale if pd.notna(row["low"]) else None
    hi_raw = abs(float(row["high"])) * scale if pd.notna(row["high"]) else None
    # A point given only as a range (a planned 30-35% cut) is read at the range's midpoint.
    mid = abs(float(row["value"])) * scale if pd.notna(row["value"]) else (lo_raw + hi_raw) / 2
    lo = mid if lo_raw is None else lo_raw
    hi = mid if hi_raw is None else hi_raw
    return mid, min(lo, hi), max(lo, hi)


def analogue_scenarios(points: pd.DataFrame, analogues: dict | None = None) -> tuple[list[Scenario], list[str]]:
    """Scenarios from the reference points; the notes say which references are missing and
    which scenarios could not be built at all."""
    analogues = ANALOGUES if analogues is None else analogues
    by_id = {r["id"]: r for r in points.to_dict("records")} if len(points) else {}
    scenarios, notes = [], []
    for sid, spec in analogues.items():
        values, refs, missing = {}, {}, []
        for name in PARAMETERS:
            ref = spec.get(name)
            if ref is None:
                continue
            fall = _as_fall(by_id[ref]) if ref in by_id else None
            if fall is None:
                missing.append(name)
                continue
            if not fall[2] < 1.0:
                notes.append(f"{spec['label']}: {ref} is a fall of 100% or more; not usable as a shock.")
                missing.append(name)
                continue
            values[name], refs[name] = fall, ref
        targets = {t: (_as_fall(by_id[r])[0], r) for t, r in spec.get("targets", {}).items()
                   if r in by_id and _as_fall(by_id[r]) is not None}
        if not values:
            notes.append(f"{spec['label']}: no reference point found ({', '.join(spec.get(p, '') for p in PARAMETERS if p in spec)}); "
                         "scenario not run.")
            continue
        if missing:
            notes.append(f"{spec['label']}: no sourced figure for {', '.join(missing)}; the channels it drives "
                         "are not run in this scenario.")
        scenarios.append(Scenario(sid, spec["label"], values, refs, tuple(missing), targets))
    return scenarios, notes


# --------------------------------------------------------------------------------------------
# The Monte Carlo
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StressResult:
    """Monte Carlo outcome distribution per (scenario, channel, target), fractional change.

    ``outcomes`` columns: ``scenario``, ``channel``, ``target``, ``beta``, ``beta_se``,
    ``beta_low``/``beta_high`` (90%), ``n_eff``, ``q05`` .. ``q95``, ``mean``,
    ``prob_loss_over_20pct``, ``expected_sign``, ``sign_check`` ("ok" or "contradicts"),
    ``headline`` (False for a contradicting outcome), ``explanation``, ``analogue`` (the analogue
    segment's sourced fall, where mapped). ``channels``: :func:`channel_table`.
    """

    parameters: dict
    channels: pd.DataFrame
    outcomes: pd.DataFrame
    draws: pd.DataFrame = None
    scenarios: pd.DataFrame = None
    notes: tuple[str, ...] = ()

    def summary(self) -> pd.DataFrame:
        return self.outcomes

    def flagged(self) -> pd.DataFrame:
        return self.outcomes[self.outcomes["sign_check"] != "ok"]

    def _repr_html_(self) -> str:
        cols = [c for c in self.outcomes.columns if c not in ("explanation",)]
        return self.outcomes[cols].to_html(index=False, float_format=lambda x: f"{x:.1%}")


def _shock_range(value: float, spread: float) -> tuple[float, float]:
    return max(0.0, value * (1 - spread)), min(0.99, value * (1 + spread))


def _draw_coefficient(rng, ch: Channel, n: int) -> np.ndarray:
    """Estimates: a split normal with the 90% interval's halves (the bootstrap interval may be
    asymmetric); sourced shares: uniform over the sourced range."""
    lo, hi = ch.interval
    if ch.source == "sourced":
        return rng.uniform(lo, hi, n) if hi > lo else np.full(n, ch.beta)
    z = rng.standard_normal(n)
    lower, upper = max(ch.beta - lo, 0.0) / _Z90, max(hi - ch.beta, 0.0) / _Z90
    return ch.beta + np.where(z < 0, lower, upper) * z


def _applies(ch: Channel, shocks: dict) -> bool:
    """Whether a scenario shocks what the channel responds to (a scenario without a sourced
    funding figure says nothing about funding)."""
    if ch.channel == "public":
        return shocks["llm_valuation_haircut"] is not None or shocks["market_drop"] is not None
    return shocks[SHOCKS[ch.channel]] is not None


def _outcome(ch: Channel, beta: np.ndarray, shocks: dict, market_beta: np.ndarray | float = 0.0) -> np.ndarray:
    if ch.channel == "exposure":
        return -beta * shocks["capex_cut"]
    if ch.channel == "public":
        # Without a market fall the whole LLM fall is LLM-specific; without an LLM figure the LLM
        # basket is taken to move with the market only (no LLM-specific shock).
        mkt = 0.0 if shocks["market_drop"] is None else np.log1p(-shocks["market_drop"])
        llm = shocks["llm_valuation_haircut"]
        specific = 0.0 if llm is None else np.log1p(-llm) - ch.llm_market_beta * mkt
        return np.expm1(market_beta * mkt + beta * specific)
    return np.expm1(beta * np.log1p(-shocks[SHOCKS[ch.channel]]))


def _explain(ch: Channel, median: float, shocks: dict) -> str:
    """Why an outcome has the wrong sign, in words from the channel's estimate and interval."""
    from analysis.display import label

    lo, hi = ch.interval
    reason = EXPECTED_SIGNS[ch.channel][1]
    n_eff = "n/a" if not np.isfinite(ch.n_eff) else f"{ch.n_eff:.0f}"
    estimate = (f"its estimated {DRIVERS[ch.channel]} coefficient is {ch.beta:+.2f} (90% interval {lo:+.2f} to "
                f"{hi:+.2f}, n_eff {n_eff})")
    head = f"{label(ch.target)} rises under the bust (median {median:+.0%})"
    if ch.channel == "public" and ch.beta >= 0:
        h, m = (float(np.median(shocks[k])) if shocks[k] is not None else 0.0
                for k in ("llm_valuation_haircut", "market_drop"))
        return (f"{head} although {estimate}: in this scenario the LLM basket falls {h:.0%} while the market falls "
                f"{m:.0%}, less than its market beta of {ch.llm_market_beta:.2f} implies, so the LLM-specific move is "
                f"a gain that the basket follows. The scenario's shocks are inconsistent with each other; not in the "
                f"headline.")
    text = f"{head} only because {estimate}; the expected sign is positive: {reason}. "
    if lo <= 0 <= hi:
        return text + ("The interval includes zero, so the data cannot tell the sign: read it as no measurable link, "
                       "not as a gain. Not in the headline.")
    return text + ("The interval excludes zero: in this sample the two moved in opposite directions, which no bust "
                   "analogue has shown; treat it as a feature of the sample, not a forecast. Not in the headline.")


def _simulate(channels: list[Channel], shocks: dict, rng, n_sims: int, scenario: str,
              targets: dict | None = None) -> tuple[list[dict], dict]:
    rows, draws = [], {}
    for ch in channels:
        if not _applies(ch, shocks):
            continue
        market_beta = rng.normal(ch.market_beta, ch.market_beta_se, n_sims) if ch.channel == "public" else 0.0
        outcome = _outcome(ch, _draw_coefficient(rng, ch, n_sims), shocks, market_beta)
        draws[f"{scenario}|{ch.channel}:{ch.target}"] = outcome
        q = np.quantile(outcome, QUANTILES)
        median = float(q[2])
        contradicts = median * ch.expected_sign > 0 and abs(median) > 1e-12
        lo, hi = ch.interval
        analogue = (targets or {}).get(ch.target)
        rows.append({"scenario": scenario, "channel": ch.channel, "target": ch.target, "beta": ch.beta,
                     "beta_se": ch.se, "beta_low": lo, "beta_high": hi, "n_eff": ch.n_eff,
                     **{f"q{int(p * 100):02d}": v for p, v in zip(QUANTILES, q)},
                     "mean": float(outcome.mean()), "prob_loss_over_20pct": float((outcome < -0.2).mean()),
                     "expected_sign": "-", "sign_check": "contradicts" if contradicts else "ok",
                     "headline": not contradicts, "explanation": _explain(ch, median, shocks) if contradicts else "",
                     "analogue": float("nan") if analogue is None else -analogue[0],
                     "analogue_reference": "" if analogue is None else analogue[1]})
    return rows, draws


def _check(name: str, value: float) -> None:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}")


def stress_test(channels: list[Channel], llm_valuation_haircut: float | None = 0.5,
                llm_funding_drop: float | None = 0.5, capex_cut: float | None = 0.3, spread: float = 0.25,
                n_sims: int = 5000, seed: int = 0, market_drop: float | None = 0.0, ranges: dict | None = None,
                scenario: str = "custom", targets: dict | None = None) -> StressResult:
    """Propagate the shocks through the channels.

    Shocks are drawn uniformly within ``+-spread`` (relative) of the given values, or within
    ``ranges[name] = (low, high)`` where given (the analogues' sourced ranges); slopes from a
    split normal matching their 90% interval, sourced shares uniformly over their range. A
    shock given as None is absent from the scenario: the channels it drives are not run.
    ``expected_sign`` in the outcome table is the sign an adverse shock should give (``-``).
    """
    values = {"llm_valuation_haircut": llm_valuation_haircut, "llm_funding_drop": llm_funding_drop,
              "capex_cut": capex_cut, "market_drop": market_drop}
    for name, v in values.items():
        if v is not None:
            _check(name, v)
    if not 0.0 <= spread <= 1.0:
        raise ValueError(f"spread must be in [0, 1], got {spread}")
    rng = np.random.default_rng(seed)
    ranges = ranges or {}
    shocks = {}
    for name, v in values.items():
        if v is None:
            shocks[name] = None
            continue
        lo, hi = ranges.get(name) or _shock_range(v, spread)
        _check(f"{name} range", hi)
        shocks[name] = rng.uniform(lo, hi, n_sims)
    rows, draws = _simulate(channels, shocks, rng, n_sims, scenario, targets)
    params = {**values, "spread": spread, "n_sims": n_sims, "seed": seed, "scenario": scenario,
              **({"ranges": {k: list(v) for k, v in ranges.items()}} if ranges else {})}
    outcomes = pd.DataFrame(rows, columns=_OUTCOME_COLUMNS)
    return StressResult(params, channel_table(channels), outcomes, pd.DataFrame(draws))


_OUTCOME_COLUMNS = ["scenario", "channel", "target", "beta", "beta_se", "beta_low", "beta_high", "n_eff",
                    *[f"q{int(p * 100):02d}" for p in QUANTILES], "mean", "prob_loss_over_20pct", "expected_sign",
                    "sign_check", "headline", "explanation", "analogue", "analogue_reference"]


def run_scenarios(channels: list[Channel], scenarios: list[Scenario], n_sims: int = 5000, seed: int = 0,
                  notes: list[str] | tuple = (), spread: float = 0.25) -> StressResult:
    """Every analogue scenario through the same channels (one outcome row per scenario, channel
    and target); ``scenarios`` in the result lists each parameter with its reference id. A
    parameter with a sourced range is drawn over it; one sourced as a single figure gets the
    relative ``spread`` around it (one historical episode is not a distribution)."""
    results = [stress_test(channels, **{k: s.values[k][0] if k in s.values else None for k in PARAMETERS},
                           ranges={k: (v[1], v[2]) for k, v in s.values.items() if v[2] > v[1]}, n_sims=n_sims,
                           seed=seed + i, spread=spread, scenario=s.id, targets=s.targets)
               for i, s in enumerate(scenarios)]
    outcomes = pd.concat([r.outcomes for r in results], ignore_index=True) if results else \
        pd.DataFrame(columns=_OUTCOME_COLUMNS)
    draws = pd.concat([r.draws for r in results], axis=1) if results else pd.DataFrame()
    table = pd.concat([s.summary() for s in scenarios], ignore_index=True) if scenarios else pd.DataFrame()
    params = {"scenarios": [s.id for s in scenarios], "n_sims": n_sims, "seed": seed}
    return StressResult(params, channel_table(channels), outcomes, draws, table, tuple(notes))


def analogue_stress(channels: list[Channel], points: pd.DataFrame | None = None, n_sims: int = 5000,
                    seed: int = 0) -> StressResult:
    """The analogue scenarios of ``data/reference_points.csv`` (or ``points``) plus the sourced
    exposure channels, in one result."""
    points = load_reference_points() if points is None else points
    scenarios, notes = analogue_scenarios(points)
    if not len(points):
        notes = [f"No reference points ({config.display_path(REFERENCE_POINTS)} not found): no analogue scenario."]
    return run_scenarios(list(channels) + exposure_channels(points), scenarios, n_sims, seed, notes)

