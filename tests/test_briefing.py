"""The briefing's generated text agrees with metrics.json, and data-derived strings are escaped."""

from __future__ import annotations

import html
import json
import re

import pandas as pd
import pytest

from analysis import briefing as B
from analysis import config
from analysis import params as P
from analysis.reporting.execute import run_notebook

NUMBER = re.compile(r"[-+]?\$?\d[\d,]*(?:\.\d+)?(?:%| bn)?")


def _leaves(obj, out=None):
    out = [] if out is None else out
    if isinstance(obj, dict):
        for v in obj.values():
            _leaves(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _leaves(v, out)
    else:
        out.append(obj)
    return out


def allowed_tokens(metrics: dict) -> set[str]:
    """Every way the text generators format a metric value (and the keys, which hold years)."""
    tokens = set()
    keys = json.dumps(metrics)
    tokens.update(re.findall(r"\d+", keys))  # years and dates appear as keys and values
    for v in _leaves(metrics):
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, (int, float)):
            tokens.update({f"{v:.1f}", f"{v:+.1f}", f"{v:.2f}", f"{v:+.2f}", f"{v:.3f}", f"{v:.0f}", str(v),
                           B.pct(v), B.usd_bn(v), f"{v:.0%}"})
        else:
            tokens.update(re.findall(r"\d+", str(v)))
    return tokens


#: Fixed parts of sentences, not data: the score scale, interval levels, the back-test's thresholds.
SCALE_CONSTANTS = {"100", "90%", "95%", "50", "30%", "12"}


def assert_numbers_come_from(text: str, metrics: dict):
    allowed = allowed_tokens(metrics) | SCALE_CONSTANTS
    for token in NUMBER.findall(text):
        bare = token.lstrip("+").rstrip(".")
        candidates = {token, bare, bare.replace("$", "").replace(" bn", ""), f"${bare.lstrip('$')}"}
        if token.startswith("$"):
            candidates.add(token if token.endswith(" bn") else token + " bn")
        assert candidates & allowed or all(part in allowed for part in re.findall(r"\d+", bare)), \
            f"number {token!r} in the text is not a metric value: {text}"


def test_generated_text_uses_only_metric_values(briefing_run):
    metrics = json.loads((briefing_run.folder / "metrics.json").read_text())
    assert_numbers_come_from(B.funding_headline(metrics, "broad"), metrics)
    shown = [B.risk_headline(metrics, "broad")]  # the texts the briefing displays
    if metrics.get("spending"):
        shown.append(B.spending_headline(metrics["spending"]))
    page = html.unescape(briefing_run.html.read_text())
    for text in shown:
        assert_numbers_come_from(text, metrics)
        # the very sentence regenerated from metrics.json is the one in the HTML briefing
        assert re.sub(r"[*_\\`]", "", text)[:60] in re.sub(r"<[^>]+>", "", page)


def test_text_check_fails_on_a_number_not_in_metrics():
    metrics = {"risk_scores": {"LLM (broad)": {"score": 44.5, "change": -0.4, "as_of": "2026-06-23", "coverage": 0.9}}}
    assert_numbers_come_from(B.risk_headline(metrics), metrics)
    with pytest.raises(AssertionError):
        assert_numbers_come_from("The score is 51.3 out of 100.", metrics)


def test_spending_headline_on_the_bundled_ledger():
    from analysis.data.ledger import load_dataset, load_ledger

    data = load_ledger()
    p = {"start_year": 2019, "as_of": "2026-06-30", "definition": "broad", "infra_llm_share": 0.5,
         "capex_llm_share": 0.5}
    section = B.spending_section(data, p, load_dataset("market_totals"), load_dataset("hyperscaler_financials"))
    assert section.metrics["share_model"]["definition"] == "broad"
    assert_numbers_come_from(section.text, section.metrics)


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
    assert "LLM-exposed" in metrics["bubble_status"]
    status = metrics["bubble_status"]["LLM-exposed"]
    assert {"bsadf", "cv95", "explosive", "episode_start", "lppls_confidence"} <= set(status)
    assert metrics["freshness"]["Market data"].startswith("Market data as of 2026-08-21")
    bt = metrics["backtest"]
    assert bt["peak_date"] == "2000-03-10"  # NASDAQ's closing high of the dot-com bubble
    assert "1998-12-31" <= bt["max_score_date"] <= "2000-06-30"
    assert bt["max_score"] >= 50
    assert isinstance(bt["false_alarms"], list)
    page = run.html.read_text()
    assert "dot-com" in page and "false alarms" in page
