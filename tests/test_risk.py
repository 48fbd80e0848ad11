"""The composite risk score: mappings, arithmetic, and no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import risk as R
from analysis.data.ledger import load_dataset, load_ledger
from tests.conftest import FIXTURES


def test_percentile_score_is_an_expanding_midrank_cdf():
    s = pd.Series([1.0, 2.0, 3.0, 2.0, 10.0, np.nan, 0.0])
    out = R.percentile_score(s, min_history=3)
    assert np.isnan(out.iloc[0]) and np.isnan(out.iloc[1]) and np.isnan(out.iloc[5])
    assert out.iloc[2] == pytest.approx((2 + 0.5) / 3)          # 3 among [1, 2, 3]
    assert out.iloc[3] == pytest.approx((1 + 0.5 * 2) / 4)      # 2 among [1, 2, 3, 2]
    assert out.iloc[4] == pytest.approx((4 + 0.5) / 5)          # a new maximum
    assert out.iloc[6] == pytest.approx(0.5 / 6)                # a new minimum
    assert R.percentile_score(pd.Series([5.0] * 6), 3).dropna().eq(0.5).all()


def test_near_peak_mapping():
    np.testing.assert_allclose(R.near_peak_score([0.0, -0.1, -0.25, -0.5, -0.8]), [1.0, 0.8, 0.5, 0.0, 0.0])


def test_composite_arithmetic_on_a_fixture():
    raw = pd.DataFrame([
        {"date": pd.Timestamp("2025-03-31"), "segment": "A", "indicator": "psy_explosive", "raw": 1.0},
        {"date": pd.Timestamp("2025-03-31"), "segment": "A", "indicator": "runup", "raw": 0.0},
        {"date": pd.Timestamp("2025-03-31"), "segment": "A", "indicator": "lppls_confidence", "raw": 0.5},
        {"date": pd.Timestamp("2025-03-31"), "segment": "A", "indicator": "near_peak", "raw": -0.25},
    ])
    weights = {k: 0.0 for k in R.DEFAULT_WEIGHTS} | {"psy_explosive": 2, "runup": 1, "lppls_confidence": 1,
                                                    "near_peak": 4}
    scores = R.composite(R.map_indicators(raw), weights, min_coverage=0.0)
    # (2*1 + 1*0 + 1*0.5 + 4*0.5) / 8 * 100 = 56.25
    assert scores.scores["score"].iloc[0] == pytest.approx(56.25)
    contrib = scores.contributions.set_index("indicator")["contribution"]
    assert contrib.sum() == pytest.approx(56.25)
    assert contrib["psy_explosive"] == pytest.approx(25.0)
    assert scores.scores["coverage"].iloc[0] == pytest.approx(1.0)


def test_missing_indicators_renormalise_and_low_coverage_is_withheld():
    raw = pd.DataFrame([{"date": pd.Timestamp("2025-03-31"), "segment": "A", "indicator": "runup", "raw": 1.0}])
    scores = R.composite(R.map_indicators(raw))
    assert np.isnan(scores.scores["score"].iloc[0])  # 7% of the weight is not a score
    scores = R.composite(R.map_indicators(raw), min_coverage=0.0)
    assert scores.scores["score"].iloc[0] == pytest.approx(100.0)


def test_bad_weights_are_rejected():
    with pytest.raises(ValueError, match="unknown risk indicator"):
        R.validate_weights({"vibes": 1})
    with pytest.raises(ValueError, match=">= 0"):
        R.validate_weights({"runup": -1})
    with pytest.raises(ValueError, match="positive"):
        R.validate_weights({k: 0 for k in R.DEFAULT_WEIGHTS})


def test_no_look_ahead_later_data_leaves_past_scores_unchanged():
    ledger = load_ledger()
    labs = load_dataset("lab_financials")
    dates = R.quarter_ends("2022-01-01", "2024-12-31")
    before = R.score_history(R.private_indicators(ledger.rounds, ledger.investors, dates, labs))
    rounds = ledger.rounds.copy()
    later = rounds["announced_on"] > pd.Timestamp("2024-12-31")
    # change everything after the cut-off: amounts tripled, valuations halved, a fake mega-round
    rounds.loc[later, "raised_amount_usd"] *= 3
    rounds.loc[later, "post_money_valuation_usd"] /= 2
    extra = rounds[later].head(1).assign(announced_on=pd.Timestamp("2025-02-01"), raised_amount_usd=50e9)
    rounds = pd.concat([rounds, extra], ignore_index=True)
    labs2 = labs.assign(value_usd=np.where(labs["as_of_date"] > pd.Timestamp("2024-12-31"), 1.0, labs["value_usd"]))
    after = R.score_history(R.private_indicators(rounds, ledger.investors, dates, labs2))
    pd.testing.assert_frame_equal(before.scores, after.scores)
    # and the check can fail: changing data before the cut-off moves the scores
    early = rounds["announced_on"] <= pd.Timestamp("2024-06-30")
    rounds.loc[early, "raised_amount_usd"] *= np.linspace(0.1, 10, early.sum())
    moved = R.score_history(R.private_indicators(rounds, ledger.investors, dates, labs2))
    assert not before.scores["score"].equals(moved.scores["score"])


def test_spending_indicators_respect_the_reporting_lag():
    q = pd.DataFrame({"capex_to_revenue_t4q": [0.1, 0.2], "capex_to_ocf_t4q": [0.3, 0.4]},
                     index=pd.PeriodIndex(["2024Q4", "2025Q1"], freq="Q"))
    raw = R.spending_indicators(q, pd.DatetimeIndex(["2025-03-31", "2025-05-16"]), ["X"])
    at = raw.set_index(["date", "indicator"])["raw"]
    assert at[(pd.Timestamp("2025-03-31"), "capex_to_revenue")] == 0.1   # 2025Q1 not reported yet
    assert at[(pd.Timestamp("2025-05-16"), "capex_to_revenue")] == 0.2   # 45 days after quarter end


def test_fixture_ledger_scores_are_reproducible():
    ledger = load_ledger(FIXTURES / "funding_rounds.csv")
    raw = R.private_indicators(ledger.rounds, ledger.investors, pd.DatetimeIndex(["2024-12-31"]), min_rounds=2)
    vals = raw.set_index(["segment", "indicator"])["raw"]
    # llm_broad rounds in 2024: Alpha 2bn (led by BigCloud) + Beta 0.1bn; 2023: 1.12bn
    assert vals[("llm_broad", "funding_growth")] == pytest.approx(2.1 / 1.12 - 1)
    assert vals[("llm_broad", "mega_round_share")] == pytest.approx(2.0 / 2.1)
    assert vals[("llm_broad", "supplier_share")] == pytest.approx(2.0 / 2.1)
    assert vals[("llm_broad", "concentration")] == pytest.approx((2 / 2.1) ** 2 + (0.1 / 2.1) ** 2)
