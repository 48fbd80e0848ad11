"""Valuation analytics: step-ups by hand, the repeat-round index on simulated rounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import valuation as V
from analysis.data.ledger import load_ledger
from tests.conftest import FIXTURES


def test_priced_pairs_use_pre_money_of_the_second_round():
    rounds = load_ledger(FIXTURES / "funding_rounds.csv").rounds
    pairs = V.priced_pairs(rounds).set_index(["org_name", "second_date"])
    # Alpha: 500M post (2023-01-15) -> 4bn post raising 1bn (2023-07-10): pre-money 3bn -> ratio 6
    row = pairs.loc[("Alpha Labs", pd.Timestamp("2023-07-10"))]
    assert row["value_ratio"] == pytest.approx(6.0)
    days = (pd.Timestamp("2023-07-10") - pd.Timestamp("2023-01-15")).days
    assert row["annualised"] == pytest.approx(6.0 ** (365.25 / days) - 1)
    # the secondary (not new money) is not a priced new round
    assert ("Alpha Labs", pd.Timestamp("2024-10-01")) not in pairs.index
    assert pairs.loc[("Alpha Labs", pd.Timestamp("2024-02-01")), "value_ratio"] == pytest.approx(14 / 4)


def test_repeat_round_index_recovers_known_growth():
    """Companies whose value grows 50% a year (log 0.405) with lognormal noise sd 0.2 per pair;
    300 pairs over 2019-2026: each yearly log index has SE ~0.03-0.05, so 0.1 is > 2 SE."""
    rng = np.random.default_rng(1)
    growth = np.log(1.5)
    rows = []
    for _ in range(300):
        y1 = rng.integers(2019, 2025)
        y2 = rng.integers(y1 + 1, 2027)
        d1 = pd.Timestamp(f"{y1}-06-30")
        d2 = pd.Timestamp(f"{y2}-06-30")
        ratio = np.exp(growth * (y2 - y1) + rng.normal(0, 0.2))
        rows.append({"first_date": d1, "second_date": d2, "value_ratio": ratio, "domain": "biology"})
    idx = V.repeat_round_index(pd.DataFrame(rows), "Y")
    expected = growth * np.arange(len(idx.index))
    np.testing.assert_allclose(idx.index["log_index"].to_numpy(), expected, atol=0.1)
    assert idx.annual_growth() == pytest.approx(0.5, abs=0.03)
    assert (idx.index["se"].iloc[1:] > 0).all()


def test_revenue_multiple_uses_latest_revenue_known_at_the_round():
    rounds = pd.DataFrame({"org_name": ["Anysphere"], "effective_domain": ["llm_applications"],
                           "announced_on": [pd.Timestamp("2025-06-05")], "post_money_valuation_usd": [9.9e9]})
    labs = pd.DataFrame({"company": ["Anysphere (Cursor)"] * 3,
                         "metric": ["annualized_run_rate", "annualized_run_rate", "projected_annual_revenue"],
                         "value_usd": [100e6, 500e6, 5e9],
                         "as_of_date": pd.to_datetime(["2025-01-31", "2025-06-01", "2025-06-02"])})
    m = V.revenue_multiples(rounds, labs)
    assert m["multiple"].iloc[0] == pytest.approx(9.9e9 / 500e6)


def test_multiples_use_only_figures_public_by_the_round_date():
    rounds = pd.DataFrame({"org_name": ["A", "A"], "effective_domain": ["llm_foundation"] * 2,
                           "announced_on": pd.to_datetime(["2025-03-01", "2025-09-01"]),
                           "post_money_valuation_usd": [60e9, 180e9]})
    lab = pd.DataFrame({"company": ["A", "A", "A"], "metric": ["annualized_run_rate"] * 3,
                        "value_usd": [0.5e9, 1e9, 3e9],
                        "as_of_date": pd.to_datetime(["2024-09-30", "2024-12-31", "2025-06-30"]),
                        "published_on": pd.to_datetime(["2024-10-15", "2025-05-31", "2025-07-01"])})
    pit = V.revenue_multiples(rounds, lab)
    # March 2025: the December figure was not public until May, so September's $0.5bn prices it
    assert pit["multiple"].tolist() == pytest.approx([120.0, 60.0])
    ahead = V.revenue_multiples(rounds, lab, point_in_time=False)
    assert ahead["multiple"].tolist() == pytest.approx([60.0, 60.0])
    lost = V.multiples_lost_to_publication(rounds, lab)
    assert lost["status"].tolist() == ["older_figure"]
    # A figure without a dollar value (unconverted currency) is never used.
    assert V.revenue_multiples(rounds, lab.assign(value_usd=[None, None, 3e9]))["announced_on"].tolist() == [
        pd.Timestamp("2025-09-01")]
