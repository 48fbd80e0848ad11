"""The LLM-bust stress test on data with known betas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import stress as S


def test_estimate_recovers_a_known_beta():
    rng = np.random.default_rng(0)
    x = pd.Series(rng.normal(0, 0.03, 500))
    y = 0.02 + 0.6 * x + pd.Series(rng.normal(0, 0.01, 500))
    ch = S.estimate(y, x, "public", "basket")
    assert ch.beta == pytest.approx(0.6, abs=3 * ch.se)
    assert ch.ci[0] < 0.6 < ch.ci[1]
    assert S.estimate(y[:5], x[:5], "public", "b") is None  # too few observations


def test_propagation_with_known_betas_and_no_uncertainty():
    channels = [S.Channel("public", "biology", 0.5, 0.0, 100, 0.5),
                S.Channel("funding", "video", 1.0, 0.0, 30, 0.5),
                S.Channel("capex", "ai_chips", 2.0, 0.0, 30, 0.5)]
    res = S.stress_test(channels, llm_valuation_haircut=0.5, llm_funding_drop=0.4, capex_cut=0.2, spread=0.0,
                        n_sims=100)
    out = res.outcomes.set_index("target")
    assert out.loc["biology", "q50"] == pytest.approx(0.5 ** 0.5 - 1)      # -29.3%
    assert out.loc["video", "q50"] == pytest.approx(-0.4)                  # elasticity 1
    assert out.loc["ai_chips", "q50"] == pytest.approx(0.8 ** 2 - 1)       # -36%
    assert out.loc["biology", "q05"] == pytest.approx(out.loc["biology", "q95"])  # no uncertainty, no spread


def test_uncertainty_widens_the_interval_around_the_point_outcome():
    ch = [S.Channel("public", "biology", 0.5, 0.2, 100, 0.5)]
    res = S.stress_test(ch, llm_valuation_haircut=0.5, spread=0.2, n_sims=20000, seed=1)
    row = res.outcomes.iloc[0]
    assert row["q05"] < 0.5 ** 0.5 - 1 < row["q95"]
    assert row["q50"] == pytest.approx(0.5 ** 0.5 - 1, abs=0.02)   # MC error of a median at n=20000 is ~0.002


def test_bad_parameters():
    with pytest.raises(ValueError, match="llm_valuation_haircut"):
        S.stress_test([], llm_valuation_haircut=1.2)
    with pytest.raises(ValueError, match="spread"):
        S.stress_test([], spread=2)


def test_return_channels_on_simulated_baskets():
    rng = np.random.default_rng(4)
    days = pd.bdate_range("2020-01-01", periods=1500)
    llm = rng.normal(0, 0.02, len(days))
    other = 0.3 * llm + rng.normal(0, 0.01, len(days))
    levels = pd.DataFrame({"LLM": np.exp(np.cumsum(llm)), "bio": np.exp(np.cumsum(other))}, index=days)
    ch = S.return_channels(levels, "LLM")[0]
    assert ch.beta == pytest.approx(0.3, abs=0.06)  # weekly aggregation; SE ~0.02 with ~300 weeks
