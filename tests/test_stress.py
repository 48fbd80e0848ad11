"""The LLM-bust stress test on channels with known coefficients, the sign checks on a fixture with
a wrong-signed channel, the sourced exposure channel and the analogue scenarios read from a
reference-points fixture (synthetic values, marked as such in the file)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from analysis import stress as S
from analysis.errors import DataValidationError

FIXTURE_POINTS = Path(__file__).parent / "fixtures" / "reference_points.csv"


@pytest.fixture(autouse=True)
def _one_blas_thread():
    with threadpool_limits(1):
        yield


def exact(channel, target, beta, **kw):
    """A channel with no estimation uncertainty (interval collapsed on the estimate)."""
    return S.Channel(channel, target, beta, 0.0, 100, 0.5, 50.0, beta, beta, **kw)


def test_estimate_recovers_a_known_beta_with_interval_and_n_eff():
    rng = np.random.default_rng(0)
    x = pd.Series(rng.normal(0, 0.03, 500))
    y = 0.02 + 0.6 * x + pd.Series(rng.normal(0, 0.01, 500))
    ch = S.estimate(y, x, "public", "basket")
    assert ch.beta == pytest.approx(0.6, abs=3 * ch.se)
    lo, hi = ch.interval
    assert lo < 0.6 < hi and hi - lo < 4 * 1.645 * ch.se
    assert 400 < ch.n_eff <= 500
    assert S.estimate(y[:5], x[:5], "public", "b") is None  # too few observations


def test_propagation_with_known_coefficients_and_no_uncertainty():
    channels = [exact("public", "biology", 0.5), exact("funding", "video", 1.0), exact("capex", "ai_chips", 2.0)]
    res = S.stress_test(channels, llm_valuation_haircut=0.5, llm_funding_drop=0.4, capex_cut=0.2, spread=0.0,
                        n_sims=100)
    out = res.outcomes.set_index("target")
    assert out.loc["biology", "q50"] == pytest.approx(0.5 ** 0.5 - 1)      # -29.3%
    assert out.loc["video", "q50"] == pytest.approx(-0.4)                  # elasticity 1
    assert out.loc["ai_chips", "q50"] == pytest.approx(0.8 ** 2 - 1)       # -36%
    assert out.loc["biology", "q05"] == pytest.approx(out.loc["biology", "q95"])
    assert (out["sign_check"] == "ok").all() and out["headline"].all()


def test_public_channel_splits_the_llm_fall_into_market_and_llm_specific_parts():
    """LLM basket -50% while the market falls 20%: with the LLM basket's market beta 1.5 the
    LLM-specific log move is log 0.5 - 1.5 log 0.8; a basket with market beta 1.2 and LLM beta 0.4
    moves exp(1.2 log 0.8 + 0.4 (log 0.5 - 1.5 log 0.8)) - 1."""
    ch = exact("public", "robotics_automation", 0.4, market_beta=1.2, llm_market_beta=1.5)
    res = S.stress_test([ch], llm_valuation_haircut=0.5, market_drop=0.2, llm_funding_drop=None, capex_cut=None,
                        spread=0.0, n_sims=50)
    expected = np.expm1(1.2 * np.log(0.8) + 0.4 * (np.log(0.5) - 1.5 * np.log(0.8)))
    assert res.outcomes["q50"].iloc[0] == pytest.approx(expected)


def test_sign_checks_fire_on_a_wrong_signed_channel():
    """The issue's example: a robotics funding elasticity of -1.44 made robotics funding rise
    168% under an LLM bust. Such an outcome is flagged, kept out of the headline and explained."""
    wrong = S.Channel("funding", "robotics", -1.44, 0.4, 12, 0.93, n_eff=3.0, low=-2.1, high=-0.8)
    unclear = S.Channel("funding", "video", -0.3, 0.5, 12, 0.05, n_eff=9.0, low=-1.1, high=0.5)
    fine = S.Channel("funding", "biology", 0.6, 0.2, 12, 0.4, n_eff=10.0, low=0.3, high=0.9)
    res = S.stress_test([wrong, unclear, fine], llm_funding_drop=0.5, llm_valuation_haircut=None, capex_cut=None)
    out = res.outcomes.set_index("target")
    assert out.loc["robotics", "q50"] > 0.5                    # the impossible gain is still computed ...
    assert out.loc["robotics", "sign_check"] == "contradicts"  # ... but flagged
    assert not out.loc["robotics", "headline"]
    text = out.loc["robotics", "explanation"]
    assert "-1.44" in text and "n_eff 3" in text and "excludes zero" in text and "Not in the headline" in text
    assert out.loc["video", "sign_check"] == "contradicts" and "includes zero" in out.loc["video", "explanation"]
    assert out.loc["biology", "sign_check"] == "ok" and out.loc["biology", "explanation"] == ""
    assert len(res.flagged()) == 2
    signs = res.channels.set_index("target")["sign_check"]
    assert signs["robotics"] == "opposite, interval excludes 0"
    assert signs["video"] == "opposite, interval includes 0"
    assert signs["biology"] == "as expected"


def test_inconsistent_scenario_shocks_are_flagged_not_printed_silently():
    """A market fall larger than the LLM basket's market beta implies makes the LLM-specific move
    a gain: a basket following it would rise; the outcome says why."""
    ch = exact("public", "image_video", 1.0, market_beta=0.2, llm_market_beta=1.4)
    res = S.stress_test([ch], llm_valuation_haircut=0.1, market_drop=0.5, llm_funding_drop=None, capex_cut=None,
                        spread=0.0, n_sims=20)
    row = res.outcomes.iloc[0]
    assert row["q50"] > 0 and row["sign_check"] == "contradicts"
    assert "inconsistent" in row["explanation"]


#: The analogue and exposure maps of the synthetic fixture (the real maps point at sourced rows).
FIXTURE_ANALOGUES = {
    "dotcom_2000_2002": {"label": "Dot-com bust, 2000-2002", "llm_valuation_haircut": "dotcom_nasdaq_drawdown_2000_2002",
                         "market_drop": "dotcom_sp500_drawdown_2000_2002",
                         "llm_funding_drop": "dotcom_us_vc_funding_drop_2000_2002",
                         "capex_cut": "telecom_capex_cut_2000_2002",
                         "targets": {"ai_infrastructure_suppliers": "dotcom_semiconductor_drawdown_2000_2002"}},
    "telecom_capex_2001": {"label": "Telecom capex cut, 2001-2002", "capex_cut": "telecom_capex_cut_2000_2002",
                           "llm_valuation_haircut": "telecom_equipment_drawdown_2000_2002",
                           "market_drop": "dotcom_sp500_drawdown_2000_2002", "targets": {}},
    "growth_2022": {"label": "Growth-stock drawdown, 2022", "llm_valuation_haircut": "growth_2022_nasdaq_drawdown",
                    "market_drop": "growth_2022_sp500_drawdown", "llm_funding_drop": "vc_funding_drop_2022_2023",
                    "targets": {}},
}
FIXTURE_EXPOSURE = {"Fixture supplier": {"value": ("sum", ("fixture_supplier_share",))}}


def test_the_real_maps_point_at_sourced_rows():
    points = S.load_reference_points()
    ids = set(points["id"])
    for spec in S.ANALOGUES.values():
        assert {v for k, v in spec.items() if k in S.PARAMETERS} <= ids
    for spec in S.SUPPLIER_EXPOSURE.values():
        assert {i for rule in spec.values() for i in rule[1]} <= ids
    shares = {c.target: c for c in S.exposure_channels(points)}
    assert shares["NVIDIA"].beta == pytest.approx(0.50 * 0.88)
    assert shares["NVIDIA"].interval == pytest.approx((0.36, 0.44))
    assert shares["Arista Networks"].beta == pytest.approx(0.42)


def test_exposure_channel_from_sourced_shares():
    points = S.load_reference_points(FIXTURE_POINTS)
    channels = S.exposure_channels(points, FIXTURE_EXPOSURE)
    assert len(channels) == 1
    ch = channels[0]
    assert ch.channel == "exposure" and ch.source == "sourced" and ch.reference == "fixture_supplier_share"
    assert ch.beta == pytest.approx(0.5) and ch.interval == pytest.approx((0.4, 0.6))
    res = S.stress_test(channels, capex_cut=0.5, spread=0.0, llm_funding_drop=None, llm_valuation_haircut=None,
                        n_sims=20000)
    row = res.outcomes.iloc[0]
    assert row["q50"] == pytest.approx(-0.25, abs=0.005)              # -share x cut
    assert row["q05"] == pytest.approx(-0.295, abs=0.003) and row["q95"] == pytest.approx(-0.205, abs=0.003)
    assert row["sign_check"] == "ok"


def test_analogue_scenarios_come_from_the_reference_points():
    points = S.load_reference_points(FIXTURE_POINTS)
    scenarios, notes = S.analogue_scenarios(points, FIXTURE_ANALOGUES)
    by_id = {s.id: s for s in scenarios}
    assert set(by_id) == set(FIXTURE_ANALOGUES)
    dotcom = by_id["dotcom_2000_2002"]
    assert dotcom.values["llm_valuation_haircut"] == pytest.approx((0.6, 0.6, 0.6))   # -60 percent
    assert dotcom.values["llm_funding_drop"] == pytest.approx((0.7, 0.6, 0.8))        # fraction, range kept
    assert dotcom.references["capex_cut"] == "telecom_capex_cut_2000_2002"
    assert dotcom.targets["ai_infrastructure_suppliers"] == (pytest.approx(0.7), "dotcom_semiconductor_drawdown_2000_2002")
    telecom = by_id["telecom_capex_2001"]
    assert telecom.missing == ("llm_valuation_haircut",)
    assert any("Telecom" in n and "llm_valuation_haircut" in n for n in notes)
    res = S.run_scenarios([exact("funding", "video", 1.0), exact("capex", "ai_infrastructure_suppliers", 1.0)],
                          scenarios, n_sims=200)
    out = res.outcomes
    assert set(out["scenario"]) == {"dotcom_2000_2002", "telecom_capex_2001"}
    # growth 2022 has no funding or capex figure: those channels do not run in it
    assert out[out["scenario"] == "growth_2022"].empty
    dc = out[(out["scenario"] == "dotcom_2000_2002")].set_index("target")
    assert dc.loc["ai_infrastructure_suppliers", "analogue"] == pytest.approx(-0.7)
    assert -0.8 <= dc.loc["video", "q05"] and dc.loc["video", "q95"] <= -0.6       # the sourced range
    assert set(res.scenarios["reference"]) <= set(points["id"])


def test_the_analogue_map_is_the_one_place():
    for spec in S.ANALOGUES.values():
        assert set(spec) <= set(S.PARAMETERS) | {"label", "targets"}


def test_without_reference_points_no_scenario_is_invented(tmp_path):
    empty = S.load_reference_points(tmp_path / "absent.csv")
    assert empty.empty and list(empty.columns) == list(S.REFERENCE_COLUMNS)
    res = S.analogue_stress([exact("funding", "video", 1.0)], empty)
    assert res.outcomes.empty and "No reference points" in res.notes[0]


def test_bad_reference_points_name_file_row_and_field(tmp_path):
    bad = tmp_path / "reference_points.csv"
    text = FIXTURE_POINTS.read_text().splitlines()
    text[3] = text[3].replace(",-0.7,fraction,", ",about -0.7,fraction,")
    bad.write_text("\n".join(text) + "\n")
    with pytest.raises(DataValidationError, match=r"reference_points.csv:4: column value value 'about -0.7'"):
        S.load_reference_points(bad)


def test_uncertainty_widens_the_interval_around_the_point_outcome():
    ch = [S.Channel("public", "biology", 0.5, 0.2, 100, 0.5, 80.0, 0.5 - 1.645 * 0.2, 0.5 + 1.645 * 0.2)]
    res = S.stress_test(ch, llm_valuation_haircut=0.5, spread=0.2, n_sims=20000, seed=1)
    row = res.outcomes.iloc[0]
    assert row["q05"] < 0.5 ** 0.5 - 1 < row["q95"]
    assert row["q50"] == pytest.approx(0.5 ** 0.5 - 1, abs=0.02)   # MC error of a median at n=20000 is ~0.002


def test_asymmetric_intervals_are_drawn_as_split_normals():
    ch = S.Channel("capex", "x", 1.0, 0.5, 30, 0.1, 30.0, 0.5, 2.5)
    draws = S._draw_coefficient(np.random.default_rng(0), ch, 200000)
    assert np.quantile(draws, [0.05, 0.5, 0.95]) == pytest.approx([0.5, 1.0, 2.5], abs=0.02)


def test_bad_parameters():
    with pytest.raises(ValueError, match="llm_valuation_haircut"):
        S.stress_test([], llm_valuation_haircut=1.2)
    with pytest.raises(ValueError, match="spread"):
        S.stress_test([], spread=2)


def test_return_channels_have_market_betas_and_n_eff():
    rng = np.random.default_rng(4)
    weeks = pd.date_range("2019-01-04", periods=400, freq="W-FRI")
    m = rng.normal(0.002, 0.02, len(weeks))
    llm = 1.3 * m + rng.normal(0, 0.02, len(weeks))
    other = 0.9 * m + 0.3 * (llm - 1.3 * m) + rng.normal(0, 0.01, len(weeks))
    lv = pd.DataFrame({"LLM": np.exp(np.cumsum(llm)), "bio": np.exp(np.cumsum(other))}, index=weeks)
    ch = S.return_channels(lv, "LLM", pd.Series(np.exp(np.cumsum(m)), index=weeks))[0]
    assert ch.beta == pytest.approx(0.3, abs=4 * ch.se)
    assert ch.market_beta == pytest.approx(0.9, abs=0.1) and ch.llm_market_beta == pytest.approx(1.3, abs=0.1)
    assert ch.note == "" and 0 < ch.n_eff <= ch.nobs
    raw = S.return_channels(lv, "LLM")[0]
    assert "no market factor" in raw.note


def test_capex_channel_skips_changes_in_company_coverage():
    quarters = pd.period_range("2019Q1", "2026Q2", freq="Q")
    rng = np.random.default_rng(5)
    capex = pd.Series(np.exp(np.cumsum(rng.normal(0.05, 0.1, len(quarters)))), index=quarters)
    companies = pd.Series(np.where(quarters < pd.Period("2020Q1"), 3, 4), index=quarters)
    days = pd.bdate_range("2019-01-01", "2026-06-30")
    levels = pd.DataFrame({"sup": np.exp(np.cumsum(rng.normal(0, 0.01, len(days))))}, index=days)
    every = S.capex_channels(levels, capex, ["sup"])[0]
    same = S.capex_channels(levels, capex, ["sup"], companies=companies)[0]
    assert every.nobs - same.nobs == 4          # the four year-on-year changes across the coverage change
    assert np.isfinite(same.n_eff) and same.interval[0] < same.beta < same.interval[1]


def test_real_snapshot_channels_and_outcomes():
    """On the shared market snapshot: every estimated channel carries interval and n_eff, every
    outcome a sign check, and every contradicting outcome an explanation."""
    from tests.conftest import require_shared_market

    market = require_shared_market()
    from analysis import spending
    from analysis.baskets import market_context
    from analysis.data.ledger import load_dataset, load_ledger
    from analysis.data.prices_import import import_prices
    from analysis.data.taxonomy import load_taxonomy

    stocks = sorted(p for p in (market / "stocks").glob("*.csv") if p.stem != "YHOO")
    import_prices(stocks + [market / "etfs" / f"{e}.csv" for e in ("SPY", "BOTZ", "ROBO")])
    ctx = market_context("2026-08-21", offline=True)
    tax = load_taxonomy()
    capex = spending.capex_flows(load_dataset("hyperscaler_financials"), 0.5)
    channels = S.funding_channels(load_ledger().rounds, tax.llm_domains("broad"), end="2026-08-21")
    channels += S.return_channels(ctx.levels, tax.segment_basket("llm_broad"), ctx.benchmark)
    channels += S.capex_channels(ctx.levels, capex.quarterly["capex_usd"], [tax.segment_basket("ai_infrastructure")],
                                 ctx.benchmark, capex.quarterly["companies_reporting"])
    res = S.stress_test(channels, 0.5, 0.5, 0.3)
    assert res.channels[["ci_low", "ci_high", "n_eff"]].notna().all().all()
    assert set(res.outcomes["sign_check"]) <= {"ok", "contradicts"}
    flagged = res.outcomes[res.outcomes["sign_check"] == "contradicts"]
    assert (flagged["explanation"].str.len() > 50).all() and not flagged["headline"].any()
