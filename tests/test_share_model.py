"""The LLM share with honest uncertainty: the publishers x allocation-rules interval against a
hand-computed ledger, the break test's refusal on pre-break artefacts, and the forecast gate on
forecasts that lose to the naive one."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from analysis import share_model as SM
from analysis import spending
from analysis.data.ledger import load_dataset, load_ledger


def _totals(year: int, by_publisher: dict) -> pd.DataFrame:
    return pd.DataFrame([{"publisher": p, "metric": "ai_venture_funding", "scope": "global", "unit": "usd",
                          "period_start": pd.Timestamp(f"{year}-01-01"), "period_end": pd.Timestamp(f"{year}-12-31"),
                          "value": v, "source_date": pd.Timestamp(f"{year + 1}-02-01")} for p, v in by_publisher.items()])


def _rounds(year: int, amounts: dict) -> pd.DataFrame:
    return pd.DataFrame([{"announced_on": pd.Timestamp(f"{year}-06-01"), "effective_domain": d,
                          "raised_amount_usd": a, "new_money": True} for d, a in amounts])


def test_full_market_interval_by_hand():
    """Ledger 2024: LLM rounds of $600m (large) and $50m (small), non-LLM $300m (large) and $50m
    (small): ledger share 0.65, small-round LLM mix 0.5. Publisher totals $2bn, $4bn and $0.8bn
    (below the ledger: market = ledger). Shares (ledger_mix, small_round_mix, non_llm_tail):
    A (0.65, 0.575, 0.325), B (0.65, 0.5375, 0.1625), C (0.65, 0.65, 0.65)."""
    rounds = _rounds(2024, [("llm_foundation", 600e6), ("llm_applications", 50e6), ("robotics", 300e6),
                            ("biology", 50e6)])
    full = SM.full_market_share(rounds, _totals(2024, {"A": 2e9, "B": 4e9, "C": 0.8e9}), "broad")
    row = full.table.iloc[0]
    assert row["share_mid"] == pytest.approx(0.575)
    assert row["share_low"] == pytest.approx(0.1625) and row["share_high"] == pytest.approx(0.65)
    assert row["publisher_low"] == pytest.approx(0.5375) and row["publisher_high"] == pytest.approx(0.65)
    assert row["allocation_low"] == pytest.approx(0.325) and row["allocation_high"] == pytest.approx(0.65)  # at A's $2bn
    assert row["ledger_share"] == pytest.approx(0.65) and row["publishers"] == 3
    assert row["coverage"] == pytest.approx(0.5)                       # median of 0.5, 0.25, 1.25
    assert len(full.grid) == 9


def test_combined_interval_contains_the_publisher_interval_on_the_bundled_data():
    rounds, totals = load_ledger().rounds, load_dataset("market_totals")
    full = SM.full_market_share(rounds, totals, "broad", 0.5)
    t = full.table
    assert (t["share_low"] <= t["publisher_low"] + 1e-12).all() and (t["publisher_high"] <= t["share_high"] + 1e-12).all()
    assert (t["share_low"] <= t["share_mid"]).all() and (t["share_mid"] <= t["share_high"]).all()
    # the publisher-only interval and midpoint are exactly spending.coverage's default-rule numbers
    ref = spending.coverage(rounds, totals, "broad", 0.5).full_market
    ref = ref[ref["allocation"] == SM.DEFAULT_ALLOCATION].set_index("year")
    for r in t.itertuples():
        assert r.publisher_low == pytest.approx(ref.loc[r.year, "share_low"])
        assert r.publisher_high == pytest.approx(ref.loc[r.year, "share_high"])
        assert r.share_mid == pytest.approx(ref.loc[r.year, "share_mid"])
    latest = full.latest()
    assert latest["share_high"] - latest["share_low"] > latest["publisher_high"] - latest["publisher_low"]
    json.dumps(full.metrics())


def test_break_test_is_not_run_on_zero_shares_or_thin_coverage():
    periods = pd.period_range("2019Q1", "2026Q2", freq="Q")
    pre = periods.start_time <= SM.CHATGPT_LAUNCH
    rng = np.random.default_rng(0)
    share = np.where(pre, 0.0, rng.uniform(0.4, 0.8, len(periods)))
    share[[2, 9]] = 0.3                                     # two non-zero quarters before the break
    full_cov = {y: 0.6 for y in range(2019, 2027)}
    d = SM.break_decision(periods, share, full_cov)
    assert not d.tested and d.result is None
    assert d.pre_periods == 16 and d.pre_zero_periods == 14 and "exactly 0" in d.reason
    thin = SM.break_decision(periods, rng.uniform(0.1, 0.3, len(periods)), {y: 0.1 for y in range(2019, 2027)})
    assert not thin.tested and "10.0%" in thin.reason and "below 25%" in thin.reason
    # Just under the bar, the coverage is shown with a decimal so it never reads "25% (below 25%)".
    near = SM.break_decision(periods, rng.uniform(0.1, 0.3, len(periods)), {y: 0.2496 for y in range(2019, 2027)})
    assert not near.tested and "25.0%" not in near.reason and "median 25% of" not in near.reason
    unknown = SM.break_decision(periods, rng.uniform(0.1, 0.3, len(periods)), {})
    assert not unknown.tested and "coverage is unknown" in unknown.reason


def test_break_test_runs_and_detects_a_real_break_when_the_sample_carries_it():
    periods = pd.period_range("2019Q1", "2026Q2", freq="Q")
    post = periods.start_time > SM.CHATGPT_LAUNCH
    rng = np.random.default_rng(1)
    logit = np.where(post, 0.5, -1.0) + rng.normal(0, 0.1, len(periods))
    d = SM.break_decision(periods, 1 / (1 + np.exp(-logit)), {y: 0.6 for y in range(2019, 2027)})
    assert d.tested and d.reason == "" and d.rejected
    assert d.metrics()["pvalue"] < 0.001


def _stub(kind: str):
    """Forecasters with known behaviour: ``good`` knows the truth (a linear trend), ``bad``
    forecasts the mirror image of the last value."""
    def forecaster(periods, share, horizon, alpha):
        future = pd.period_range(periods[-1] + 1, periods=horizon, freq=periods.freq)
        if kind == "good":
            step = share[-1] - share[-2]
            mean = share[-1] + step * np.arange(1, horizon + 1)
        else:
            mean = np.full(horizon, 1 - share[-1])
        return pd.DataFrame({"mean": mean, "lower": mean - 0.05, "upper": mean + 0.05}, index=future)
    return forecaster


def test_rolling_backtest_origins_and_targets():
    periods = pd.period_range("2020Q1", periods=20, freq="Q")
    share = np.linspace(0.1, 0.7, 20)
    bt = SM.rolling_backtest(periods, share, horizon=4, forecaster=_stub("good"))
    assert len(bt) == 20 - SM.MIN_TRAIN - 4 + 1                 # origins 8..16 with an observed target
    assert bt["origin"].iloc[0] == "2021Q4" and bt["target"].iloc[0] == "2022Q4"
    assert np.allclose(bt["model"], bt["actual"])              # the good stub knows the trend
    gaps = periods.delete([12, 13])                            # missing quarters are not targets
    assert len(SM.rolling_backtest(gaps, np.delete(share, [12, 13]), 1, forecaster=_stub("good"))) == 9


def test_gate_passes_a_forecast_that_beats_naive_and_covers():
    periods = pd.period_range("2020Q1", periods=24, freq="Q")
    bt = SM.rolling_backtest(periods, np.linspace(0.1, 0.7, 24), 1, forecaster=_stub("good"))
    g = SM.forecast_gate(bt, 1)
    assert g.passed and g.reasons == () and g.periods == 16 and g.coverage == 1.0


def test_gate_refuses_a_forecast_that_loses_to_naive():
    periods = pd.period_range("2020Q1", periods=24, freq="Q")
    bt = SM.rolling_backtest(periods, np.linspace(0.1, 0.7, 24), 1, forecaster=_stub("bad"))
    g = SM.forecast_gate(bt, 1)
    assert not g.passed and any("does not beat the last value" in r for r in g.reasons)
    assert g.mae_model > g.mae_naive and g.periods >= SM.MIN_BACKTEST_PERIODS


def test_gate_refuses_a_short_backtest_and_poor_coverage():
    bt = pd.DataFrame({"actual": [0.5] * 6, "model": [0.5] * 6, "lower": [0.6] * 6, "upper": [0.7] * 6,
                       "naive": [0.6] * 6})
    g = SM.forecast_gate(bt, 4)
    assert not g.passed
    assert g.reasons[0] == "the back-test has 6 forecasts 4 quarters ahead (at least 8 needed)"
    assert "covered 0%" in g.reasons[1] and len(g.reasons) == 2   # it does beat naive
    assert not SM.forecast_gate(bt.iloc[:0], 4).passed


def test_gate_refuses_the_share_model_on_a_random_walk():
    """The real forecaster (local linear trend on the logit) against the last value on a random
    walk, where the last value is the optimal forecast: the trend chases noise and loses."""
    periods = pd.period_range("2019Q1", periods=26, freq="Q")
    share = 1 / (1 + np.exp(-np.cumsum(np.random.default_rng(7).normal(0, 0.5, 26))))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = SM.forecast_gate(SM.rolling_backtest(periods, share, 4), 4)
    assert g.periods == 15 and not g.passed
    assert g.mae_model > 1.2 * g.mae_naive


def test_share_outlook_on_the_bundled_data():
    rounds, totals = load_ledger().rounds, load_dataset("market_totals")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        o = SM.share_outlook(rounds, totals, "broad", 0.5, end="2026-06-30")
    m = o.metrics()
    json.dumps(m)
    assert not o.break_test.tested                             # pre-2023 LLM shares are mostly zero
    assert "after ChatGPT" in o.sample
    if not o.gate.passed:
        assert o.headline_forecast is None and m["forecast_gate"]["reasons"]
    y2025 = m["full_market"]["2025"]
    assert y2025["share_low"] < y2025["publisher_low"] <= y2025["publisher_high"] < y2025["share_high"]
