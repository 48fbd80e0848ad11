"""The reader-table layer: headers in words with units, $bn with one decimal, dates as dates,
percentages, display names for identifiers, and no value a reader cannot read."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.reporting.history import MetricChanges
from analysis.tables import changes_view, header, metric_name, reader_frame, reader_table


def test_a_ledger_extract_reads_as_a_reader_table():
    frame = pd.DataFrame({
        "announced_on": pd.to_datetime(["2026-01-14", "2025-09-16"]),
        "org_name": ["Skild AI", "Figure <b>AI</b>"],
        "effective_domain": ["robotics", "llm_foundation"],
        "investment_type": ["series_c", "pre_seed"],
        "raised_amount_usd": [1.4e9, 2.0e7],
        "post_money_valuation_usd": [14e9, np.nan],
        "priced": [True, False],
        "share": [0.1234, 0.5],
    })
    out = reader_frame(frame)
    assert list(out.columns) == ["Date", "Company", "Domain", "Round type", "Amount (USD bn)", "Post-money (USD bn)",
                                 "Prices cached", "Share"]
    assert out["Date"].tolist() == ["2026-01-14", "2025-09-16"]          # no 00:00:00
    assert out["Domain"].tolist() == ["Robotics and embodied AI", "LLM foundation models"]
    assert out["Round type"].tolist() == ["series C", "pre-seed"]
    assert out["Amount (USD bn)"].tolist() == ["1.4", "<0.1"]             # $bn, one decimal
    assert out["Post-money (USD bn)"].tolist() == ["14.0", ""]
    assert out["Prices cached"].tolist() == ["yes", "no"]
    assert out["Share"].tolist() == ["12%", "50%"]
    html = reader_table(frame).to_html()
    assert "Figure &lt;b&gt;AI&lt;/b&gt;" in html and "<b>AI</b>" not in html   # escaped
    assert "00:00:00" not in html and "robotics<" not in html


def test_numbers_get_the_decimals_they_deserve():
    frame = pd.DataFrame({"Score (0-100)": [83.04, 75.0], "Rounds (12 months)": [17.0, 3.0],
                          "Amount (USD bn)": [75.0, 12.0], "psy_margin": [0.000000, -1.31234]})
    out = reader_frame(frame, {"psy_margin": "{:+.2f}"}, na_rep="n/a")
    assert out["Score (0-100)"].tolist() == ["83.0", "75.0"]
    assert out["Rounds (12 months)"].tolist() == ["17", "3"]              # whole counts, no ".0"
    assert out["Amount (USD bn)"].tolist() == ["75.0", "12.0"]           # money keeps its decimal
    assert out["Psy margin"].tolist() == ["+0.00", "-1.31"]
    assert reader_frame(pd.DataFrame({"x": [np.nan]}), na_rep="n/a")["x"].tolist() == ["n/a"]


def test_headers_and_metric_names_in_words():
    assert header("capex_t4q_usd") == "Capex t4q (USD bn)"
    assert header("change_vs_default") == "Change vs default"
    assert header("Already readable") == "Already readable"
    assert metric_name("risk_scores.llm_broad.score") == "Bubble-risk score: LLM, broad (models and LLM apps)"
    assert metric_name("spending.full_market_llm_share.2025.share_mid") == "Full-market LLM share, 2025 (share mid)"


def test_changes_read_in_words():
    table = pd.DataFrame({"metric": ["risk_scores.biology.score", "funding_usd_by_year.2025"],
                          "previous": [80.0, 1.0e9], "current": [83.5, 1.5e9], "change": [3.5, 0.5e9]})
    view = changes_view(MetricChanges("bubble-risk", "2026-08-21", "2026-08-14", table))
    assert view.table["Metric"].tolist() == ["Bubble-risk score: Biology and drug discovery",
                                             "funding usd by year / 2025"]
    assert view.table["Change"].tolist() == ["+3.5", "+0.5"]
    assert "risk_scores" not in view._repr_html_()
