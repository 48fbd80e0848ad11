"""The LLM-bust stress test: shocks to LLM valuations, LLM funding and hyperscaler capex,
propagated through relationships estimated from the data, with Monte Carlo over the parameters'
ranges and the estimates' uncertainty.

Channels (each an OLS fit with statsmodels, slope and standard error kept):

* funding - quarterly log change of each non-LLM domain's funding on the log change of LLM
  funding: a drop ``d`` in LLM funding moves the domain by ``exp(beta * log(1 - d)) - 1``;
* public baskets - weekly log returns of each basket on the LLM basket: a haircut ``h`` moves the
  basket by ``exp(beta * log(1 - h)) - 1``;
* capex - quarterly log returns of the AI-infrastructure supplier baskets on the year-on-year log
  change of hyperscaler capex: a cut ``c`` moves them by ``exp(beta * log(1 - c)) - 1``.

Shocks are mapped through log changes so that outcomes stay above -100%. The relationships are
estimated in normal times; a bust may correlate more than history says, which the Monte Carlo's
parameter spread only partly covers (said in the briefing).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.regression.linear_model import OLS
from statsmodels.tools.tools import add_constant

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass(frozen=True)
class Channel:
    """One estimated relationship: ``target`` responds to ``driver`` with ``beta`` (log-log)."""

    channel: str
    target: str
    beta: float
    se: float
    nobs: int
    r2: float

    @property
    def ci(self) -> tuple[float, float]:
        return self.beta - 1.96 * self.se, self.beta + 1.96 * self.se


def estimate(y: pd.Series, x: pd.Series, channel: str, target: str, min_obs: int = 8) -> Channel | None:
    """OLS of ``y`` on ``x`` (with a constant) over their common non-missing dates."""
    both = pd.concat([y.rename("y"), x.rename("x")], axis=1).replace([np.inf, -np.inf], np.nan).dropna()
    if len(both) < min_obs or both["x"].std() == 0:
        return None
    fit = OLS(both["y"].to_numpy(), add_constant(both["x"].to_numpy())).fit()
    return Channel(channel, target, float(fit.params[1]), float(fit.bse[1]), int(fit.nobs), float(fit.rsquared))


def funding_channels(rounds: pd.DataFrame, llm_domains: tuple[str, ...], min_rounds_per_quarter: int = 1) -> list[Channel]:
    """Quarterly log-change regressions of each non-LLM domain's funding on LLM funding."""
    usable = rounds[rounds["new_money"] & rounds["raised_amount_usd"].notna()]
    q = usable.assign(quarter=usable["announced_on"].dt.to_period("Q")).pivot_table(
        index="quarter", columns="effective_domain", values="raised_amount_usd", aggfunc="sum", fill_value=0.0)
    q = q.reindex(pd.period_range(q.index.min(), q.index.max(), freq="Q"), fill_value=0.0)
    llm = q[[d for d in llm_domains if d in q]].sum(axis=1)
    # Log changes of trailing-four-quarter sums: single quarters are too lumpy (one mega-round).
    def dlog(s):
        t4 = s.rolling(4).sum()
        return np.log(t4.where(t4 > 0)).diff(4)
    x = dlog(llm)
    out = []
    for domain in q.columns:
        if domain in llm_domains:
            continue
        ch = estimate(dlog(q[domain]), x, "funding", domain)
        if ch is not None:
            out.append(ch)
    return out


def return_channels(levels: pd.DataFrame, llm_column: str, freq: str = "W-FRI") -> list[Channel]:
    """Weekly log-return betas of every other basket on the LLM basket."""
    weekly = np.log(levels.resample(freq).last()).diff()
    out = []
    for col in levels.columns:
        if col == llm_column:
            continue
        ch = estimate(weekly[col], weekly[llm_column], "public", col, min_obs=52)
        if ch is not None:
            out.append(ch)
    return out


def capex_channels(levels: pd.DataFrame, capex_quarterly: pd.Series, supplier_columns: list[str]) -> list[Channel]:
    """Quarterly log returns of supplier baskets on the year-on-year log change of capex."""
    q_levels = levels.resample("QE").last()
    q_levels.index = q_levels.index.to_period("Q")
    growth = np.log(capex_quarterly.where(capex_quarterly > 0)).diff(4)
    out = []
    for col in supplier_columns:
        if col not in q_levels:
            continue
        ret = np.log(q_levels[col]).diff()
        ch = estimate(ret, growth, "capex", col, min_obs=8)
        if ch is not None:
            out.append(ch)
    return out


@dataclass(frozen=True)
class StressResult:
    """Monte Carlo outcome distribution per target (fractional change; -0.2 = down 20%)."""

    parameters: dict
    channels: pd.DataFrame
    outcomes: pd.DataFrame  # one row per target: channel, quantiles, mean, prob_loss_over_20pct
    draws: pd.DataFrame = None

    def summary(self) -> pd.DataFrame:
        return self.outcomes

    def _repr_html_(self) -> str:
        return self.outcomes.to_html(float_format=lambda x: f"{x:.1%}")


def _shock_range(value: float, spread: float) -> tuple[float, float]:
    return max(0.0, value * (1 - spread)), min(0.99, value * (1 + spread))


def stress_test(channels: list[Channel], llm_valuation_haircut: float = 0.5, llm_funding_drop: float = 0.5,
                capex_cut: float = 0.3, spread: float = 0.25, n_sims: int = 5000, seed: int = 0) -> StressResult:
    """Propagate the three shocks through the channels, drawing shocks uniformly within
    ``+-spread`` (relative) of the given values and slopes from N(beta, se^2)."""
    for name, v in (("llm_valuation_haircut", llm_valuation_haircut), ("llm_funding_drop", llm_funding_drop),
                    ("capex_cut", capex_cut)):
        if not 0.0 <= v < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {v}")
    if not 0.0 <= spread <= 1.0:
        raise ValueError(f"spread must be in [0, 1], got {spread}")
    rng = np.random.default_rng(seed)
    shocks = {
        "funding": rng.uniform(*_shock_range(llm_funding_drop, spread), n_sims),
        "public": rng.uniform(*_shock_range(llm_valuation_haircut, spread), n_sims),
        "capex": rng.uniform(*_shock_range(capex_cut, spread), n_sims),
    }
    draws, rows = {}, []
    for ch in channels:
        beta = rng.normal(ch.beta, ch.se, n_sims)
        outcome = np.expm1(beta * np.log1p(-shocks[ch.channel]))
        draws[f"{ch.channel}:{ch.target}"] = outcome
        q = np.quantile(outcome, QUANTILES)
        rows.append({"channel": ch.channel, "target": ch.target, "beta": ch.beta, "beta_se": ch.se,
                     **{f"q{int(p * 100):02d}": v for p, v in zip(QUANTILES, q)},
                     "mean": float(outcome.mean()), "prob_loss_over_20pct": float((outcome < -0.2).mean())})
    channel_table = pd.DataFrame([{"channel": c.channel, "target": c.target, "beta": c.beta, "se": c.se,
                                   "ci_low": c.ci[0], "ci_high": c.ci[1], "nobs": c.nobs, "r2": c.r2}
                                  for c in channels])
    params = {"llm_valuation_haircut": llm_valuation_haircut, "llm_funding_drop": llm_funding_drop,
              "capex_cut": capex_cut, "spread": spread, "n_sims": n_sims, "seed": seed}
    return StressResult(params, channel_table, pd.DataFrame(rows), pd.DataFrame(draws))
