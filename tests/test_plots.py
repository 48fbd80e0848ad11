"""Every chart builder returns a figure with a title and titled axes, and data strings cannot
become markup in a chart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from analysis import baskets, plots, risk, share_model, spending, stress, valuation
from analysis.bubbles import lppls, psy
from analysis.bubbles import signal as bubble_signal
from analysis.data.ledger import load_dataset, load_ledger
from analysis.landscape import landscape
from analysis.sections.domain import deep_dive


@pytest.fixture(scope="module")
def inputs():
    data = load_ledger()
    quarterly = spending.funding_by_domain(data.rounds, "quarter", start="2019-01-01", end="2026-06-30")
    yearly = spending.funding_by_domain(data.rounds, "year", start="2019-01-01", end="2026-06-30")
    totals = load_dataset("market_totals")
    capex = spending.capex_flows(load_dataset("hyperscaler_financials"), 0.5)
    pairs = valuation.priced_pairs(data.rounds)
    rng = np.random.default_rng(0)
    dates = pd.bdate_range("2022-01-03", periods=700)
    levels = pd.DataFrame({"llm_exposed": 100 * np.exp(np.cumsum(rng.normal(0.001, 0.01, 700))),
                           "ai_drug_discovery": 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 700)))}, index=dates)
    raw = pd.DataFrame([{"date": pd.Timestamp(d), "segment": seg, "indicator": "market_signal", "raw": v}
                        for d in ("2024-03-31", "2024-06-30") for seg, v in (("llm_broad", 0.9), ("biology", 0.3))])
    scores = risk.score_history(raw)
    channels = stress.return_channels(levels, "llm_exposed")
    conf = lppls.confidence(levels["llm_exposed"], end_dates=[dates[-1]], windows=(250, 200, 150))
    history = bubble_signal.history(levels["llm_exposed"].rename("llm_exposed"), market=levels["ai_drug_discovery"],
                                    config=bubble_signal.SignalConfig(lppls_windows=(250, 200, 150, 125)))
    return dict(data=data, quarterly=quarterly, yearly=yearly, totals=totals, capex=capex, pairs=pairs,
                levels=levels, scores=scores, channels=channels, conf=conf, history=history)


def _panel(levels):
    """A BasketPanel from the synthetic levels, with QQQ and SPY."""
    bench = pd.DataFrame({"QQQ": levels["llm_exposed"] * 0.9, "SPY": levels["ai_drug_discovery"] * 1.1})
    return baskets.BasketPanel(levels, bench, {"llm_exposed": ("A",), "ai_drug_discovery": ("B",)},
                               levels.index[0], (baskets.SURVIVORSHIP_NOTE,))


def _builders(x):
    cov = spending.coverage(x["data"].rounds, x["totals"], "broad", 0.5)
    model = share_model.share_model(x["quarterly"], "broad", 0.5)
    now = psy.explosive_now(x["levels"]["llm_exposed"])
    view = landscape(x["data"], "year", "", "", "", 10)
    dd = deep_dive(x["data"], "biology", load_dataset("lab_financials"), None, period="year", start_year=2019,
                   as_of="2026-06-30", top_n=5)
    basket = baskets.basket_index(pd.DataFrame({"date": x["levels"].index.repeat(1), "ticker": "A",
                                                "close": x["levels"]["llm_exposed"].to_numpy()}), ["A"], name="A")
    return {
        "funding_by_domain": lambda: plots.funding_by_domain_chart(x["quarterly"], data_to="2026-06-23"),
        "funding_share": lambda: plots.funding_share_chart(x["quarterly"], data_to="2026-06-23"),
        "funding_small_multiples": lambda: plots.funding_small_multiples_chart(x["quarterly"], data_to="2026-06-23"),
        "llm_share": lambda: plots.llm_share_chart([spending.llm_share(x["yearly"], "broad", 0.5)]),
        "share_model": lambda: plots.share_model_chart(model),
        "coverage": lambda: plots.coverage_chart(cov),
        "full_market": lambda: plots.full_market_share_chart(
            __import__("analysis.share_model", fromlist=["x"]).full_market_share(x["data"].rounds, x["totals"])),
        "concentration": lambda: plots.concentration_chart(
            spending.concentration(x["data"].rounds, x["data"].investors, "broad")),
        "capex_vs_funding": lambda: plots.capex_vs_funding_chart(
            x["capex"], x["quarterly"], spending.llm_share(x["quarterly"], "broad", 0.5)),
        "capex_ratio": lambda: plots.capex_ratio_chart(x["capex"]),
        "valuation_index": lambda: plots.valuation_index_chart(valuation.segment_indices(x["pairs"], "broad")),
        "multiples": lambda: plots.multiples_chart(
            valuation.revenue_multiples(x["data"].rounds, load_dataset("lab_financials"))),
        "risk_scores": lambda: plots.risk_scores_chart(x["scores"]),
        "score_history": lambda: plots.score_history_chart(x["scores"]),
        "stress": lambda: plots.stress_chart(stress.stress_test(x["channels"], 0.5, 0.5, 0.3, n_sims=200)),
        "basket_levels": lambda: plots.basket_levels_chart(x["levels"]),
        "bsadf": lambda: plots.bsadf_chart(now.result, now.cv.bsadf_cv[0.95].to_numpy(), now.episodes.table),
        "backtest": lambda: plots.backtest_chart(x["levels"]["llm_exposed"], x["scores"].scores),
        "line": lambda: plots.line_chart(x["levels"], "Levels", "Index level"),
        "lppls_confidence": lambda: plots.lppls_confidence_chart(x["conf"], x["levels"]["llm_exposed"]),
        "tc_distribution": lambda: plots.tc_distribution_chart(x["conf"]),
        "investor": lambda: plots.investor_chart(view.investors),
        "domain_share": lambda: plots.domain_share_chart("biology", dd.domain_share),
        "basket": lambda: plots.basket_chart(basket),
        "signal_panel": lambda: plots.signal_panel_chart(x["history"]),
        "signal_score": lambda: plots.signal_score_chart({"llm_exposed": x["history"]}),
        "signal_components": lambda: plots.signal_components_chart(x["history"]),
        "ai_basket": lambda: plots.ai_basket_chart(_panel(x["levels"])),
        "ai_basket_launch": lambda: plots.ai_basket_chart(_panel(x["levels"]), launch=True),
        "underwater": lambda: plots.underwater_chart(_panel(x["levels"]).drawdown(), baskets.SURVIVORSHIP_NOTE),
        "rolling_risk": lambda: plots.rolling_risk_chart(_panel(x["levels"]).volatility(), _panel(x["levels"]).beta()),
        "calibration": lambda: plots.calibration_chart(bubble_signal.load_calibration()),
    }


def test_every_chart_builder_is_covered():
    public = {n for n in dir(plots) if n.endswith("_chart") and callable(getattr(plots, n))}
    names = {"funding_by_domain", "funding_share", "funding_small_multiples", "llm_share", "share_model", "coverage", "full_market", "concentration",
             "capex_vs_funding", "capex_ratio", "valuation_index", "multiples", "risk_scores", "score_history",
             "stress", "basket_levels", "bsadf", "backtest", "line", "lppls_confidence", "tc_distribution",
             "investor", "domain_share", "basket", "signal_panel", "signal_score", "signal_components",
             "ai_basket", "underwater", "rolling_risk", "calibration"}
    expected = {("full_market_share" if n == "full_market" else n) + "_chart" for n in names}
    assert public == expected, public ^ expected


def test_every_chart_has_a_title_and_titled_axes(inputs):
    for name, build in _builders(inputs).items():
        fig = build()
        assert isinstance(fig, go.Figure), name
        assert fig.layout.title.text, name
        layout = fig.to_dict()["layout"]
        # subplot figures title the bottom x axis only (shared dates); every y axis has a title
        assert any(v.get("title", {}).get("text") for k, v in layout.items() if k.startswith("xaxis")), name
        ys = [v for k, v in layout.items() if k.startswith("yaxis")]
        assert ys and all(v.get("title", {}).get("text") for v in ys), name


def test_markup_in_names_never_reaches_a_chart_as_markup(inputs):
    """Regression (reliability issue, bug 10): an investor named like a link became a clickable
    link in the lead-investor chart, because plotly renders <a> in labels."""
    evil = '<a href="https://evil.example/phish">SoftBank</a>'
    investors = pd.DataFrame({"rounds_led": [1], "amount_usd": [1e9], "investor_type": ["vc"]}, index=[evil])
    fig = plots.investor_chart(investors)
    text = repr(fig.to_dict())  # to_json escapes "<" itself, which would hide the bug
    assert "<a href" not in text and "&lt;a href" in text
    multiples = pd.DataFrame({"org_name": [evil], "announced_on": pd.to_datetime(["2025-01-01"]), "multiple": [50.0]})
    assert "<a href" not in repr(plots.multiples_chart(multiples).to_dict())
    # and the check can fail: a figure built without safe_text shows the markup
    raw = go.Figure(go.Bar(y=[evil], x=[1.0]))
    assert "<a href" in repr(raw.to_dict())
    assert plots.safe_text("R&D <b>") == "R&amp;D &lt;b&gt;"


def test_segment_ids_reach_charts_as_display_names(inputs):
    fig = plots.risk_scores_chart(inputs["scores"])
    labels = {y for trace in fig.data for y in trace.y}
    assert labels == {"LLM, broad (models and LLM apps)", "Biology and drug discovery"}
    assert {t.name for t in plots.basket_levels_chart(inputs["levels"]).data} == {"LLM-exposed", "AI drug discovery"}


def test_charts_fixed_for_issue_19(inputs):
    """One domain names itself; a missing quarter is a gap; the back-test's right axis keeps its
    own 0-100 ticks with room for a 0; stress rows grow the chart; bands are not dots."""
    from analysis.sections.domain import deep_dive

    dd = deep_dive(inputs["data"], "robotics", load_dataset("lab_financials"), None, period="quarter",
                   start_year=2019, as_of="2026-06-30", top_n=5)
    fig = plots.funding_by_domain_chart(dd.view.funding)
    assert fig.layout.title.text.startswith("Robotics and embodied AI: funding per quarter")
    assert "by domain" in plots.funding_by_domain_chart(inputs["quarterly"]).layout.title.text

    raw = pd.DataFrame([{"date": pd.Timestamp(d), "segment": seg, "indicator": "market_signal", "raw": 0.5}
                        for d, seg in (("2024-03-31", "llm_broad"), ("2024-06-30", "biology"),
                                       ("2024-09-30", "llm_broad"))])
    hist = plots.score_history_chart(risk.score_history(raw), ["llm_broad"])
    assert list(hist.data[0].y)[1] is None and hist.data[0].connectgaps is False

    bt = plots.backtest_chart(inputs["levels"]["llm_exposed"], inputs["scores"].scores)
    assert list(bt.layout.yaxis2.tickvals) == [0, 20, 40, 60, 80, 100] and bt.layout.yaxis2.range[0] < 0
    assert bt.layout.yaxis2.showgrid is False

    result = stress.stress_test(inputs["channels"], 0.5, 0.5, 0.3, n_sims=200)
    s = plots.stress_chart(result)
    assert s.layout.height >= plots.category_rows.__globals__["ROW_PX"] * len(result.outcomes)
    model = share_model.share_model(inputs["quarterly"], "broad", 0.5)
    band = [t for t in plots.share_model_chart(model).data if t.fill]
    assert band and all(t.mode == "lines" for t in plots.share_model_chart(model).data if t.hoverinfo == "skip")


def test_prices_are_weekly_in_charts(inputs):
    fig = plots.basket_levels_chart(inputs["levels"])
    assert len(fig.data[0].x) < len(inputs["levels"]) / 4
