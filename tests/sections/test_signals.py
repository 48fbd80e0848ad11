"""The market-signal section and the deep-dive's listed exposure on a synthetic universe: metrics
carry what the issue asks per basket, text is generated from them, no market data is said plainly."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from analysis import baskets
from analysis.bubbles import lppls
from analysis.bubbles import signal as S
from analysis.sections import signals as SG
from analysis.sections.domain import listed_exposure


@pytest.fixture(scope="module", autouse=True)
def _compiled():
    lppls.warmup()


def universe(seed: int = 0):
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2019-01-01", "2022-12-30")
    rows = []
    for t, drift in (("MSFT", 0.0006), ("PLTR", 0.0004), ("NVDA", 0.0012), ("AMD", 0.001), ("SPY", 0.0004),
                     ("QQQ", 0.0005)):
        px = 100 * np.exp(np.cumsum(rng.normal(drift, 0.015, len(dates))))
        rows.append(pd.DataFrame({"date": dates, "ticker": t, "close": px}))
    tickers = pd.DataFrame({"ticker": ["MSFT", "PLTR", "NVDA", "AMD", "SPY", "QQQ"],
                            "name": ["Microsoft", "Palantir", "NVIDIA", "AMD", "SPY", "QQQ"],
                            "segment": ["hyperscaler", "llm_applications", "ai_chips", "ai_chips", "benchmark",
                                        "benchmark"],
                            "is_benchmark": [False] * 4 + [True] * 2, "start_date": pd.NaT})
    return SimpleNamespace(prices=pd.concat(rows, ignore_index=True), tickers=tickers, available=True)


def context(u):
    levels = baskets.taxonomy_baskets(u)
    spy = baskets.close_series(u, "SPY")
    return baskets.MarketContext(levels, spy, "synthetic", "2022-12-30", pd.DataFrame(), u)


FAST = dict(cache=False)


def test_basket_signals_metrics_per_basket():
    sig = SG.basket_signals(context(universe()), trust_basket="llm_exposed", n_resamples=4, **FAST)
    assert set(sig.histories) == {"llm_exposed", "ai_infrastructure_suppliers"}
    m = sig.metrics()
    json.dumps(m)
    for key, row in m.items():
        assert row["label"] in ("LLM-exposed", "AI infrastructure suppliers")
        assert set(row["components"]) == set(S.COMPONENTS)
        assert {"current", "max", "peak_date", "trough_date"} <= set(row["drawdown"])
        assert "episode_start" in row and row["as_of"] == "2022-12-30"
    assert m["llm_exposed"]["lppls_trust"] is not None and m["ai_infrastructure_suppliers"]["lppls_trust"] is None
    assert m["llm_exposed"]["members"] == ["MSFT", "PLTR"]
    status = sig.status()
    assert list(status["Basket"]) == ["LLM-exposed", "AI infrastructure suppliers"]
    text = SG.signals_text({"baskets": m})
    n_high = sum(v["high"] for v in m.values())
    assert f"{n_high} of 2 AI baskets" in text and baskets.SURVIVORSHIP_NOTE in text


def test_series_signals_skip_unknown_and_short():
    u = universe(1)
    out = SG.series_signals(u, ["NVDA", "NOPE"], baskets.close_series(u, "SPY"), **FAST)
    assert list(out) == ["NVDA"] and out["NVDA"].table.index[0] >= pd.Timestamp("2019-01-01")


def test_section_without_market_data_says_how_to_get_it():
    empty = baskets.MarketContext(pd.DataFrame(), None, "No market data", "none", pd.DataFrame())
    sec = SG.signals_section(empty)
    assert sec.text.startswith(SG.NO_MARKET_DATA)
    assert "aibubble fetch" in sec.text and "aibubble import-prices" in sec.text
    assert sec.metrics["available"] is False and sec.metrics["calibration"]["independent_events"] == 5
    assert "calibration" in sec.figures and "baskets" not in sec.metrics


def test_calibration_text_is_generated_from_the_table():
    cal = S.load_calibration()
    text = SG.calibration_text(cal)
    b = cal.table[cal.table["kind"] == "bubble"]
    assert f"{len(b)} series of past bubbles" in text and f"**{cal.independent_events} independent events**" in text
    assert f"{int(b['detected'].astype(bool).sum())} of {len(b)} series" in text


def test_deep_dive_listed_exposure_with_signal():
    u = universe(2)
    companies = pd.DataFrame({"name": ["X"], "domain": ["ai_infrastructure"], "ticker": [None]})
    ex = listed_exposure(u, "ai_infrastructure", companies, cache=False)
    assert ex.available and ex.basket.start >= pd.Timestamp("2019-01-01")
    assert set(ex.basket.members) == {"NVDA", "AMD"}
    assert ex.signal is not None and ex.note == baskets.SURVIVORSHIP_NOTE
    none = listed_exposure(None, "ai_infrastructure", companies)
    assert not none.available and "aibubble import-prices" in none.notice
    sentence = SG.signal_sentence(S.metrics(ex.signal))
    assert sentence.startswith("As of 2022-12-30 the signal is")
