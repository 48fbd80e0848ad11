"""Run-up rule of Greenwood, Shleifer and You (2019) on a hand-computed fixture."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.bubbles import runup as R
from analysis.errors import MarketDataError, ParameterError

DATES = pd.to_datetime(["2020-01-01", "2020-07-01", "2021-01-01", "2021-07-01", "2022-01-03",
                        "2022-07-01", "2023-01-02"])
STOCK = pd.Series([10.0, 12.0, 15.0, 18.0, 25.0, 30.0, 20.0], index=DATES)
MARKET = pd.Series([100.0, 100.0, 100.0, 100.0, 110.0, 160.0, 100.0], index=DATES)


def test_hand_computed_flags():
    res = R.runup(STOCK, MARKET)
    f = res.flags
    # look-back = 730 calendar days, price as of (on or before) that day:
    # 2022-01-03 -> 2020-01-04 -> 2020-01-01: 25/10 - 1 = 1.5; market 110/100 - 1 = 0.1
    # 2022-07-01 -> 2020-07-01: 30/12 - 1 = 1.5; market 160/100 - 1 = 0.6 -> net 0.9
    # 2023-01-02 -> 2021-01-02 -> 2021-01-01: 20/15 - 1 = 1/3; market 0.0
    expected_raw = [np.nan] * 4 + [1.5, 1.5, 1 / 3]
    expected_net = [np.nan] * 4 + [1.4, 0.9, 1 / 3]
    np.testing.assert_allclose(f["raw_return"], expected_raw, rtol=1e-12)
    np.testing.assert_allclose(f["net_return"], expected_net, rtol=1e-12)
    assert f["raw_flag"].tolist() == [False] * 4 + [True, True, False]
    assert f["net_flag"].tolist() == [False] * 4 + [True, False, False]
    assert f["flag"].tolist() == [False] * 4 + [True, False, False]
    ep = res.episodes
    assert len(ep) == 1
    e = ep.iloc[0]
    assert (e["start"], e["end"], e["peak"], e["n_obs"]) == (DATES[4], DATES[4], DATES[4], 1)
    # after 2022-01-03: 25, 30, 20 -> worst drawdown from the running peak 20/30 - 1
    assert e["drawdown_2y"] == pytest.approx(20 / 30 - 1, rel=1e-12)
    assert e["crash"] is None  # < 40% so far and the two years are not over yet


def test_market_adjusted_condition_removes_flag_when_market_rises_as_much():
    """Same stock, a market that doubled too: raw run-up without a net-of-market one."""
    hot_market = MARKET.copy()
    hot_market.iloc[4] = 230.0  # market +130% vs stock +150%: net 0.2
    res = R.runup(STOCK, hot_market)
    assert res.flags["raw_flag"].iloc[4] and not res.flags["net_flag"].iloc[4]
    assert not res.flags["flag"].any() and res.episodes.empty
    # and a threshold of 0.1 flags it again (net 0.2 > 0.1)
    assert R.runup(STOCK, hot_market, threshold=0.1).flags["flag"].iloc[4]


def test_crash_flag_when_drawdown_exceeds_forty_percent():
    dates = pd.to_datetime(["2020-01-01", "2022-01-03", "2022-06-01", "2023-01-02", "2024-02-01"])
    stock = pd.Series([10.0, 30.0, 15.0, 16.0, 17.0], index=dates)
    market = pd.Series(100.0, index=dates)
    ep = R.runup(stock, market).episodes
    assert len(ep) == 1 and ep.iloc[0]["crash"] is True  # 15/30 - 1 = -50%
    assert ep.iloc[0]["drawdown_2y"] == pytest.approx(-0.5)


def test_market_on_another_calendar_taken_as_of():
    market = MARKET.copy()
    market.index = market.index - pd.Timedelta(days=1)  # market dated a day earlier
    f = R.runup(STOCK, market).flags
    np.testing.assert_allclose(f["market_return"].iloc[4], 0.1, rtol=1e-12)


def test_errors_and_reported_probabilities_are_labelled_secondary():
    with pytest.raises(MarketDataError):
        R.runup(-STOCK, MARKET)
    with pytest.raises(ParameterError):
        R.runup(STOCK.reset_index(drop=True), MARKET)
    tab = R.reported_crash_probabilities()
    assert (tab["source_kind"] == "secondary").all()
    assert tab.set_index("runup").loc[1.0, "crash_probability"] == 0.53
    assert "Run-up rule" in R.runup(STOCK, MARKET)._repr_html_()
