"""yfinance answers -> tidy frames: the real download shapes, padding rows, bad frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.data import market as M
from tests.data.market.fakes import yf_frame


def test_tidy_prices_reads_the_real_download_shapes():
    dates = ["2024-01-02", "2024-01-03", "2024-01-04"]
    adjusted, adj = M.tidy_prices(yf_frame("NVDA", dates, [10, 11, 12]), "NVDA", auto_adjust=True)
    assert adj == "splits_dividends"
    assert list(adjusted.columns) == ["date", "open", "high", "low", "close", "volume"]
    np.testing.assert_array_equal(adjusted["close"], [10, 11, 12])
    # auto_adjust=False: Close is split-adjusted only, Adj Close (here 0.9 x Close) is the one to use.
    raw, adj = M.tidy_prices(yf_frame("NVDA", dates, [10, 11, 12], auto_adjust=False), "NVDA", auto_adjust=False)
    assert adj == "splits_dividends"
    np.testing.assert_allclose(raw["close"], [9.0, 9.9, 10.8], rtol=1e-15)
    # group_by="ticker" swaps the levels; Ticker.history gives flat columns and a tz-aware index.
    swapped = yf_frame("NVDA", dates, [10, 11, 12]).swaplevel(0, 1, axis=1)
    np.testing.assert_array_equal(M.tidy_prices(swapped, "NVDA")[0]["close"], [10, 11, 12])
    flat = yf_frame("NVDA", dates, [10, 11, 12]).droplevel(1, axis=1)
    flat.index = pd.DatetimeIndex(dates).tz_localize("America/New_York")
    assert list(M.tidy_prices(flat, "NVDA")[0]["date"].dt.strftime("%Y-%m-%d")) == dates


def test_tidy_prices_drops_padding_rows_and_rejects_bad_frames():
    two = pd.concat([yf_frame("NVDA", ["2024-01-02", "2024-01-03"], [10, 11]),
                     yf_frame("TSM", ["2024-01-03", "2024-01-04"], [5, 6])], axis=1)
    nvda, _ = M.tidy_prices(two, "NVDA")
    assert len(nvda) == 2 and nvda["close"].notna().all()  # NaN row of 2024-01-04 dropped
    with pytest.raises(M.ShapeError, match="not among"):
        M.tidy_prices(two, "AMD")
    with pytest.raises(M.ShapeError, match="no Close"):
        M.tidy_prices(pd.DataFrame({"Open": [1.0]}, index=pd.DatetimeIndex(["2024-01-02"])), "X")
    with pytest.raises(M.ShapeError, match="non-positive"):
        M.tidy_prices(yf_frame("X", ["2024-01-02"], [-1.0]), "X")
    with pytest.raises(M.ShapeError, match="infinite close on 2024-01-03"):
        M.tidy_prices(yf_frame("X", ["2024-01-02", "2024-01-03"], [1.0, np.inf]), "X")
    with pytest.raises(M.ShapeError, match="DataFrame"):
        M.tidy_prices(None, "X")
