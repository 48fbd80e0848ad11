"""The thesis's claims on small fixtures whose verdicts follow from the stated rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import thesis as T

LLM = ("llm_foundation", "llm_applications")


def _pairs(llm_growth: list[float], other_growth: list[float]) -> pd.DataFrame:
    rows = [{"domain": "llm_foundation", "value_ratio": float(np.exp(g)), "years": 1.0} for g in llm_growth]
    rows += [{"domain": "biology", "value_ratio": float(np.exp(g)), "years": 1.0} for g in other_growth]
    return pd.DataFrame(rows)


def test_claim_valuation_supported_when_llm_valuations_grow_much_faster():
    claim = T.claim_valuation(_pairs([2.0, 2.1, 1.9, 2.2], [0.2, 0.3, 0.1, 0.25]), pd.DataFrame(), LLM)
    assert claim.verdict == "supported" and claim.numbers["pvalue"] < T.ALPHA
    assert claim.numbers["llm_growth_per_year"] == pytest.approx(np.expm1(2.05), rel=1e-3)


def test_claim_valuation_inconclusive_with_too_few_pairs_and_not_testable_without_any():
    assert T.claim_valuation(_pairs([2.0, 2.1], [0.2, 0.3, 0.1]), pd.DataFrame(), LLM).verdict == "inconclusive"
    assert T.claim_valuation(pd.DataFrame(), pd.DataFrame(), LLM).verdict == "not testable"


def _rounds(spec: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"org_name": f"Co {i}", "effective_domain": d, "announced_on": pd.Timestamp(day),
                          "raised_amount_usd": amount, "new_money": True, "lead_investors": "", "round_id": str(i)}
                         for i, (d, day, amount) in enumerate(spec)])


def test_claim_growth_counts_domains_growing_year_on_year():
    spec = []
    for d in ("biology", "robotics", "image"):
        spec += [(d, "2024-03-01", 10e6), (d, "2024-05-01", 10e6), (d, "2025-03-01", 30e6), (d, "2025-04-01", 30e6)]
    claim = T.claim_growth(_rounds(spec), pd.Timestamp("2025-06-30"), LLM, n_boot=200)
    assert claim.numbers["domains_growing"] == claim.numbers["domains_tested"] == 3
    assert claim.numbers["non_llm_growth"] == pytest.approx(2.0)
    assert claim.verdict == "supported"


def test_claim_shift_follows_the_sign_of_the_trend_interval():
    class Model:
        definition = "broad"
        trend = {"slope": -0.5, "ci_low": -0.8, "ci_high": -0.2}
    assert T.claim_shift(Model()).verdict == "supported"
    Model.trend = {"slope": 0.1, "ci_low": -0.3, "ci_high": 0.5}
    assert T.claim_shift(Model()).verdict == "inconclusive"
    assert T.claim_shift(None).verdict == "not testable"


def test_claim_efficiency_needs_three_companies_per_side():
    rounds = _rounds([("llm_foundation", "2024-01-01", 1e9), ("biology", "2024-01-01", 1e8)])
    labs = pd.DataFrame({"company": ["Co 0", "Co 1"], "metric": ["annual_revenue"] * 2, "value_usd": [1e8, 1e8],
                         "as_of_date": pd.to_datetime(["2024-06-30"] * 2)})
    claim = T.claim_efficiency(rounds, labs, LLM)
    assert claim.verdict == "inconclusive" and claim.numbers["llm_companies"] == 1


def test_thesis_metrics_carry_every_verdict():
    result = T.ThesisResult((T.claim_shift(None),))
    assert result.metrics() == {"3": {"verdict": "not testable"}}
    assert list(result.summary().columns) == ["claim", "statement", "verdict", "evidence", "uncertainty"]
