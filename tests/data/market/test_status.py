"""Freshness of the cache and the banner the briefing shows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.data import market as M
from tests.data.market.fakes import seed_cache


def test_banner_texts():
    assert M.market_status().banner == "No market data cached: market sections are skipped"
    for ticker, first, last in (("NVDA", "2026-08-03", "2026-08-21"), ("TSM", "2026-07-01", "2026-07-31")):
        dates = pd.bdate_range(first, last)
        seed_cache(ticker, dates, np.arange(1, len(dates) + 1))
    status = M.market_status(["NVDA", "TSM", "PATH"], as_of="2026-11-28")
    assert status.banner == ("Market data as of 2026-08-21 (stale: 99 days old); 1 of 2 tickers end earlier "
                             "(oldest 2026-07-31); 1 missing: PATH")
    fresh = M.market_status(["NVDA"], as_of="2026-08-24")  # a Monday: Friday's close is 3 days old
    assert fresh.banner == "Market data as of 2026-08-21 (fresh: 3 days old)"
    assert fresh.all_fresh
    # as_of in the past ignores later rows, so an old report is reproducible from a newer cache.
    past = M.market_status(["NVDA"], as_of="2026-08-10")
    assert past.table.loc[0, "last_date"] == pd.Timestamp("2026-08-10")
