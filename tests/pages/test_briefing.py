"""The briefing page: its text agrees with metrics.json, data strings are escaped, and with real
market data it shows the market sections and the dot-com back-test."""

from __future__ import annotations

import html
import json
import re

import pandas as pd
import pytest

from analysis import config
from analysis import params as P
from analysis.reporting.execute import run_notebook
from analysis.sections.funding import funding_headline
from analysis.sections.risk import risk_headline
from analysis.sections.spending import spending_headline
from tests.sections.textcheck import assert_numbers_come_from


def test_generated_text_uses_only_metric_values(briefing_run):
    metrics = json.loads((briefing_run.folder / "metrics.json").read_text())
    shown = [risk_headline(metrics, "broad"), funding_headline(metrics, "broad")]  # the texts the briefing displays
    if metrics.get("spending"):
        shown.append(spending_headline(metrics["spending"]))
    page = html.unescape(briefing_run.html.read_text())
    for text in shown:
        assert_numbers_come_from(text, metrics)
        # the very sentence regenerated from metrics.json is the one in the HTML briefing
        assert re.sub(r"[*_\\`]", "", text)[:60] in re.sub(r"<[^>]+>", "", page)


EVIL_NAME = '<script>alert("pwned")</script> Labs'
EVIL_INVESTOR = "<img src=x onerror=alert(1)>"


def test_names_with_html_are_escaped_in_the_briefing(tmp_path):
    rows = []
    for i, (day, amount) in enumerate([("2025-01-15", 2e9), ("2025-03-10", 5e8), ("2025-05-05", 3e8),
                                       ("2025-06-01", 1e8)]):
        rows.append({"round_id": f"evil-{i}", "org_name": EVIL_NAME if i == 0 else f"Plain {i}",
                     "domain": "llm_foundation" if i < 2 else "biology", "investment_type": "series_a",
                     "announced_on": day, "raised_amount_usd": amount, "raised_amount": "", "raised_amount_currency": "",
                     "post_money_valuation_usd": "", "lead_investors": EVIL_INVESTOR, "other_investors": "",
                     "source_url": "https://example.org/x", "source_title": "t", "source_publisher": "p",
                     "source_date": day, "confidence": "reported", "notes": ""})
    ledger = tmp_path / "imported_ledger.csv"
    pd.DataFrame(rows).to_csv(ledger, index=False)
    values = P.resolve(config.DEFAULT_BRIEFING, {"as_of": "2025-06-30", "ledger": str(ledger), "start_year": 2025})
    run = run_notebook(config.DEFAULT_BRIEFING, values, as_of="2025-06-30", reports_root=tmp_path / "reports")
    page = run.html.read_text()
    assert re.search(r"&lt;script&gt;alert\((&quot;|\")pwned(&quot;|\")\)&lt;/script&gt; Labs", page)
    assert '<script>alert("pwned")' not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img src=x onerror" not in page


def test_briefing_with_market_data_and_the_nasdaq_backtest(tmp_path):
    """The full briefing on the real snapshot: market sections, bubble status in metrics.json, and
    the dot-com back-test (score high before the March 2000 peak, low after the crash)."""
    from tests.conftest import require_shared_market

    market = require_shared_market()
    from analysis.data.prices_import import import_prices

    stocks = [market / "stocks" / f"{t}.csv" for t in ("NVDA", "MSFT", "GOOGL", "AMZN", "META", "AMD", "AVGO", "ORCL",
                                                      "TSM", "PLTR", "SMCI", "PATH", "RXRX", "SDGR", "SOUN", "ISRG", "TER")]
    import_prices(stocks + [market / "etfs" / "SPY.csv", market / "etfs" / "QQQ.csv"])
    import_prices([market / "indices" / "IXIC.csv"], ticker="^IXIC")
    import_prices([market / "indices" / "GSPC.csv"], ticker="^GSPC")
    values = P.resolve(config.DEFAULT_BRIEFING, {"as_of": "2026-08-21"})
    run = run_notebook(config.DEFAULT_BRIEFING, values, as_of="2026-08-21", reports_root=tmp_path / "reports")
    metrics = json.loads((run.folder / "metrics.json").read_text())
    signals = metrics["market_signals"]["baskets"]
    assert "llm_exposed" in signals
    status = signals["llm_exposed"]
    assert {"score", "high", "episode_start", "drawdown", "components"} <= set(status)
    assert metrics["freshness"]["Market data"].startswith("Market data as of 2026-08-21")
    # the verdict and the first screen use the market data: the listed signal, the drawdowns
    assert metrics["scorecard"]["rows"]["market_signal"]["llm_broad"]["value"] == pytest.approx(status["score"], abs=0.05)
    assert metrics["verdict"]["label"] in ("llm_bubble_not_ai_bubble", "ai_wide_bubble", "non_llm_bubble",
                                           "llm_froth_no_bubble", "no_bubble", "insufficient_evidence")
    assert metrics["risk_scores"]["llm_broad"]["pillars"]["public"] is not None
    bt = metrics["backtest"]
    assert bt["peak_date"] == "2000-03-10"  # NASDAQ's closing high of the dot-com bubble
    assert "1998-06-30" <= bt["max_score_date"] <= "2000-06-30"
    assert bt["first_high_date"] is not None and bt["lead_days"] > 0  # the signal rose before the top
    page = run.html.read_text()
    assert "dot-com" in page and "independent events" in page
    assert "llm_exposed" not in re.sub(r"<script.*?</script>", "", page, flags=re.S)  # display names only

    # the same briefing, built with its independent pieces in a second process and all in one
    parallel, sequential = _build_in_a_fresh_process({}), _build_in_a_fresh_process({"AIBUBBLE_WORKERS": "1"})
    assert parallel["forked"] == [True] and sequential["forked"] == [False]
    assert parallel["recomputed"] == [False]   # the child delivered everything itself
    assert parallel["metrics"] == sequential["metrics"]
    assert parallel["metrics"]["verdict"] == metrics["verdict"]


BUILD_AND_REPORT = """
import json, sys
from analysis import background, config, params as P
from analysis.pages import briefing
from analysis.reporting.metrics import to_jsonable
calls, start = [], background.in_background
def recording(*args, **kwargs):
    pending = start(*args, **kwargs)
    calls.append((pending, pending.forked))
    return pending
background.in_background = recording
values = P.validate(P.resolve(config.DEFAULT_BRIEFING, {"as_of": "2026-08-21"}))
metrics = to_jsonable(briefing.build(**values).metrics)
json.dump({"forked": [forked for _, forked in calls], "recomputed": [p.recomputed for p, _ in calls],
           "metrics": metrics}, sys.stdout)
"""


def _build_in_a_fresh_process(env: dict) -> dict:
    """Build the briefing in a new interpreter (no numba threads yet, as in a fresh kernel)."""
    import os
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", BUILD_AND_REPORT], capture_output=True, text=True, check=True,
                          cwd=config.ROOT, env={**os.environ, **env})
    return json.loads(done.stdout)


def test_early_as_of_dates_build_a_briefing_that_says_what_is_missing():
    """Regression (reliability issue, bug 6): an as-of date in 2019 or early 2020 crashed the risk
    code with "operation 'truediv' not supported for dtype 'str'"; it must build and say why the
    score is missing, and a date before the ledger's first round must fail with a clear message."""
    import pytest

    from analysis.errors import ParameterError
    from analysis.pages import briefing

    common = dict(ledger="", period="quarter", definition="broad", infra_llm_share=0.5, capex_llm_share=0.5,
                  risk_weights={}, llm_valuation_haircut=0.5, llm_funding_drop=0.5, capex_cut=0.3, offline=True)
    b = briefing.build(as_of="2019-06-30", start_year=2019, **common)
    assert b.metrics["verdict"]["label"] in ("insufficient_evidence", "no_bubble", "llm_froth_no_bubble")
    assert "No forecast is shown" in b.spending.text or "not shown" in b.spending.text
    with pytest.raises(ParameterError, match="no round with a disclosed amount"):
        briefing.build(as_of="2016-06-30", start_year=2015, **common)
