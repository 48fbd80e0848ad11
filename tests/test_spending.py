"""The spending model against hand-computed fixtures and simulated series with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import share_model as M
from analysis import spending as S
from analysis.data.ledger import load_dataset, load_ledger
from tests.conftest import FIXTURES


@pytest.fixture
def ledger():
    return load_ledger(FIXTURES / "funding_rounds.csv")


def test_yearly_aggregates_match_hand_computation(ledger):
    f = S.funding_by_domain(ledger.rounds, "year")
    t = f.table
    assert t.loc[(pd.Period("2023", "Y"), "llm_foundation"), "amount_usd"] == 1.1e9
    assert t.loc[(pd.Period("2023", "Y"), "llm_foundation"), "rounds"] == 2
    assert t.loc[(pd.Period("2023", "Y"), "llm_foundation"), "median_round_usd"] == 550e6
    assert t.loc[(pd.Period("2023", "Y"), "llm_foundation"), "mega_rounds"] == 1
    assert t.loc[(pd.Period("2024", "Y"), "llm_foundation"), "mega_rounds"] == 1
    # the secondary (not new money) and the undisclosed round are excluded, and counted
    assert t.loc[(pd.Period("2024", "Y"), "ai_infrastructure"), "amount_usd"] == 0.0
    assert f.excluded_rounds == 2
    assert f.amounts().sum(axis=1).tolist() == [1.5e9, 2.5e9]


def test_quarterly_grid_has_every_period_and_domain(ledger):
    f = S.funding_by_domain(ledger.rounds, "quarter")
    periods = f.table.index.get_level_values("period").unique()
    # the grid runs to the last round with a disclosed amount (2024-09-09; 2024-12-01 is undisclosed)
    assert list(periods.astype(str)) == [f"{y}Q{q}" for y in (2023, 2024) for q in (1, 2, 3, 4)][:-1]
    assert f.table.loc[(pd.Period("2023Q3", "Q"), "llm_foundation"), "amount_usd"] == 1e9
    assert f.table.loc[(pd.Period("2023Q3", "Q"), "llm_foundation"), "mean_round_usd"] == 1e9


@pytest.mark.parametrize("definition, infra, expected_2023, expected_2024", [
    ("narrow", 0.5, 1.1 / 1.5, 2.0 / 2.5),
    ("broad", 0.5, 1.12 / 1.5, 2.1 / 2.5),
    ("attributed", 0.5, (1.12 + 0.15) / 1.5, 2.1 / 2.5),
    ("attributed", 0.0, 1.12 / 1.5, 2.1 / 2.5),
])
def test_llm_share_under_each_definition(ledger, definition, infra, expected_2023, expected_2024):
    share = S.llm_share(S.funding_by_domain(ledger.rounds, "year"), definition, infra).table["share"]
    np.testing.assert_allclose(share.to_numpy(), [expected_2023, expected_2024], rtol=1e-12)


def test_bad_definition_and_share_are_rejected(ledger):
    f = S.funding_by_domain(ledger.rounds, "year")
    with pytest.raises(ValueError, match="unknown definition"):
        S.llm_share(f, "huge")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        S.llm_share(f, "attributed", 1.5)
    with pytest.raises(ValueError, match="no rounds"):
        S.funding_by_domain(ledger.rounds, "year", start="2030-01-01")


def test_coverage_arithmetic_by_hand(ledger):
    totals = load_dataset("market_totals", FIXTURES / "market_totals.csv")
    cov = S.coverage(ledger.rounds, totals, "broad", publishers=None)
    r = cov.ratios.set_index(["year", "publisher"])["coverage"]
    # PubA 2023: the later report ($3bn) supersedes the earlier one ($2bn)
    assert r[(2023, "PubA")] == pytest.approx(1.5 / 3.0)
    assert r[(2023, "PubB")] == pytest.approx(1.5 / 6.0)
    assert r[(2024, "PubA")] == pytest.approx(2.5 / 2.0)  # published below the ledger
    fm = cov.full_market.set_index(["year", "allocation"])
    # 2023: ledger LLM (broad) = 1.12bn. Small rounds (<100M) in 2023: Beta 20M (LLM apps) and
    # Delta 80M (biology) -> tail LLM fraction 0.2. PubA tail 1.5bn -> (1.12 + 0.3) / 3.0;
    # PubB tail 4.5bn -> (1.12 + 0.9) / 6.0.
    row = fm.loc[(2023, "small_round_mix")]
    assert row["share_high"] == pytest.approx((1.12 + 0.3) / 3.0)
    assert row["share_low"] == pytest.approx((1.12 + 0.9) / 6.0)
    assert fm.loc[(2023, "non_llm_tail"), "share_low"] == pytest.approx(1.12 / 6.0)
    assert fm.loc[(2023, "ledger_mix"), "share_low"] == pytest.approx(1.12 / 1.5)
    # 2024: the published total is below the ledger, so there is no tail: ledger share stands
    assert fm.loc[(2024, "small_round_mix"), "share_mid"] == pytest.approx(2.1 / 2.5)


def test_herfindahl_and_concentration_by_hand(ledger):
    assert S.herfindahl([1, 1, 2]) == pytest.approx(0.25 + 0.0625 * 2)
    assert np.isnan(S.herfindahl([0, 0]))
    c = S.concentration(ledger.rounds, ledger.investors, "broad").table
    # 2023: Alpha 1.1, Gamma 0.3, Delta 0.08, Beta 0.02 of 1.5
    shares = np.array([1.1, 0.3, 0.08, 0.02]) / 1.5
    assert c.loc[2023, "hhi_companies"] == pytest.approx((shares ** 2).sum())
    assert c.loc[2023, "mega_round_share"] == pytest.approx(1.0 / 1.5)
    # LLM (broad) 2023 = 1.12bn; Alpha's $1bn Series B was led by BigCloud (corporate_cloud)
    assert c.loc[2023, "supplier_led_share"] == pytest.approx(1.0 / 1.12)
    assert c.loc[2024, "supplier_led_share"] == pytest.approx(2.0 / 2.1)


def _simulated_periods(n: int) -> pd.PeriodIndex:
    return pd.period_range("2019Q1", periods=n, freq="Q")


def test_trend_is_recovered_from_simulated_shares():
    """logit share = -2 + 0.8 t (per year) + N(0, 0.1^2): the fractional logit recovers 0.8.

    Tolerance: with 40 quarters and noise sd 0.1 the slope's standard error is about 0.01 per
    year; 0.05 is 5 standard errors, and the break terms are in the model but zero here."""
    rng = np.random.default_rng(7)
    periods = _simulated_periods(40)
    t = np.arange(40) / 4
    share = 1 / (1 + np.exp(-(-2 + 0.8 * t + rng.normal(0, 0.1, 40))))
    trend = M.fit_trend(periods, share)
    assert trend["slope"] == pytest.approx(0.8, abs=0.05)
    assert abs(trend["slope"] - 0.8) < 3 * trend["se"]


def test_break_test_finds_a_planted_break():
    rng = np.random.default_rng(11)
    periods = _simulated_periods(32)  # 2019Q1..2026Q4; the break is at 2023Q1 (index 16)
    detected = 0
    for _ in range(50):
        level = np.where(np.arange(32) >= 16, 1.5, 0.0)
        share = 1 / (1 + np.exp(-(-1 + 0.02 * np.arange(32) + level + rng.normal(0, 0.3, 32))))
        result = M.break_test(periods, share)
        detected += result.pvalue < 0.05
    assert result.first_post_period == "2023Q1"
    assert detected >= 48  # power is essentially 1 for a 5-sigma shift; 2 misses allowed


def test_break_test_has_nominal_size_without_a_break():
    """400 simulations without a break: rejection rate at 5% must be within 3 binomial
    standard errors (sqrt(.05 * .95 / 400) = 0.011) of 0.05."""
    rng = np.random.default_rng(3)
    periods = _simulated_periods(32)
    rejections = 0
    for _ in range(400):
        share = 1 / (1 + np.exp(-(-0.5 + 0.03 * np.arange(32) + rng.normal(0, 0.4, 32))))
        rejections += M.break_test(periods, share).pvalue < 0.05
    assert 0.05 - 0.033 <= rejections / 400 <= 0.05 + 0.033


def test_forecast_intervals_contain_the_mean_and_stay_in_unit_interval():
    rng = np.random.default_rng(5)
    periods = _simulated_periods(30)
    share = 1 / (1 + np.exp(-(-1 + 0.1 * np.arange(30) + rng.normal(0, 0.2, 30))))
    fc = M.forecast_share(periods, share, horizon=8)
    assert len(fc) == 8 and str(fc.index[0]) == "2026Q3"
    assert ((fc["lower"] <= fc["mean"]) & (fc["mean"] <= fc["upper"])).all()
    assert ((fc["lower"] > 0) & (fc["upper"] < 1)).all()
    # a rising trend keeps rising in the forecast
    assert fc["mean"].iloc[-1] > share[-5:].mean()


def test_backtest_reports_model_and_naive_errors():
    periods = _simulated_periods(28)  # 2019Q1..2025Q4: hold-out is the four 2025 quarters
    share = np.linspace(0.2, 0.8, 28)
    frame, errors = M.backtest(periods, share)
    assert list(frame.index.astype(str)) == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    assert errors["naive_mae"] == pytest.approx(np.mean(np.abs(share[24:] - share[23])))
    assert errors["model_mae"] < errors["naive_mae"]  # a linear trend beats the last value


def test_capex_flows_by_hand():
    rows = []
    for year in range(2019, 2025):
        for q in range(1, 5):
            i = (year - 2019) * 4 + q - 1
            capex = 10e9 + 1e9 * i + (20e9 if year >= 2024 else 0)
            rows.append({"ticker": "MSFT", "calendar_year": year, "calendar_quarter": q,
                         "capex_usd": capex, "revenue_usd": 100e9, "operating_cash_flow_usd": 40e9})
    f = pd.DataFrame(rows)
    flows = S.capex_flows(f, capex_llm_share=0.5).quarterly
    last = flows.loc[pd.Period("2024Q4", "Q")]
    assert last["capex_trend_usd"] == pytest.approx(10e9 + 1e9 * 23)  # trend of the 2019-22 line
    assert last["capex_excess_usd"] == pytest.approx(20e9)
    assert last["llm_capex_usd"] == pytest.approx(10e9)
    t4q = sum(10e9 + 1e9 * i + 20e9 for i in range(20, 24))
    assert last["capex_t4q_usd"] == pytest.approx(t4q)
    assert last["capex_to_revenue_t4q"] == pytest.approx(t4q / 400e9)
    assert last["capex_to_ocf_t4q"] == pytest.approx(t4q / 160e9)
    assert flows.loc[pd.Period("2022Q4", "Q"), "capex_excess_usd"] == pytest.approx(0, abs=1e-3)


def test_share_model_runs_on_the_bundled_ledger():
    ledger = load_ledger()
    q = S.funding_by_domain(ledger.rounds, "quarter", start="2019-01-01")
    model = M.share_model(q, "broad")
    assert len(model.forecast) == 8
    assert model.break_result.first_post_period == "2023Q1"
    assert set(model.diagnostics["test"].str.split(" ").str[0]) == {"Ljung-Box", "Jarque-Bera"}


def test_undated_report_never_supersedes_a_dated_one():
    totals = load_dataset("market_totals", FIXTURES / "market_totals.csv")
    undated = totals.iloc[[0]].assign(value=9e9, source_date=pd.NaT)  # PubA 2023, no page date
    published = S.published_totals(pd.concat([undated, totals], ignore_index=True)).set_index(["year", "publisher"])
    assert published.loc[(2023, "PubA"), "published_usd"] == 3e9
    only_undated = S.published_totals(undated).set_index(["year", "publisher"])
    assert only_undated.loc[(2023, "PubA"), "published_usd"] == 9e9  # used when it is all there is
