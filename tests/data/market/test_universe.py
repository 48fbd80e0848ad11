"""``load_universe``: offline by default, cut at the as-of date, surviving a failed refresh."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.data import market as M
from tests.data.market.fakes import NO_TICKERS, FakeYF, provider, seed_cache


def test_load_universe_is_offline_and_cuts_at_as_of(tmp_path):
    class Exploding:
        name = "boom"

        def prices(self, *a, **k):
            raise AssertionError("network used")

        fundamentals = prices

    seed_cache("NVDA", pd.bdate_range("2024-01-01", "2024-02-29"), np.linspace(1, 2, 44))
    tickers_csv = tmp_path / "tickers.csv"
    tickers_csv.write_text(
        "ticker,name,exchange,segment,llm_exposed,exposure_grade,rationale,is_benchmark,source_url,"
        "source_title,source_publisher,source_date,notes\n"
        "NVDA,NVIDIA,NASDAQ,ai_chips,true,high,GPUs,false,https://example.com,t,p,2025-01-01,\n"
        "QQQ,Invesco QQQ,NASDAQ,benchmark,,medium,benchmark,true,https://example.com,t,p,2025-01-01,\n")
    u = M.load_universe(as_of="2024-01-31", provider=Exploding(), tickers_path=tickers_csv)
    assert u.prices["date"].max() == pd.Timestamp("2024-01-31")
    assert set(u.tickers["ticker"]) == {"NVDA", "QQQ"}
    assert u.segment("ai_chips") == ("NVDA",)
    assert u.status.tickers_with(M.MISSING) == ("QQQ",)
    assert bool(u.tickers.set_index("ticker").loc["QQQ", "is_benchmark"])


def test_load_universe_with_fetch_survives_a_failing_refresh():
    seed_cache("NVDA", pd.bdate_range("2024-01-01", periods=10), np.arange(1, 11))
    fake = FakeYF({"NVDA": [ConnectionError("offline")]})
    u = M.load_universe(["NVDA"], fetch=True, provider=provider(fake, max_attempts=1), deadline_s=5,
                        tickers_path=NO_TICKERS)
    assert len(u.prices) == 10 and "refresh failed for 1 ticker(s): NVDA" in u.notes[0]

    class Broken:
        name = "broken"

        def prices(self, *a, **k):
            raise RuntimeError("provider bug")

    u = M.load_universe(["NVDA"], fetch=True, provider=Broken(), tickers_path=NO_TICKERS)
    assert len(u.prices) == 10 and "provider bug" in u.notes[0]
