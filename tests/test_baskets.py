"""Market analytics: basket arithmetic against hand computation on the real snapshot, and the rest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import baskets as K
from analysis.data import market as M
from analysis.data.prices_import import import_prices
from analysis.errors import ParameterError
from tests.conftest import require_shared_market

# Prices are float64 from text; the index multiplies a handful of ratios, so agreement with the
# hand computation is limited only by rounding: 1e-12 relative is ~1e4 ulps of headroom.
RTOL = 1e-12


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    """NVDA, AMD (OHLCV to 2026-08-21), PLTR (Date,Close to 2026-07-31), QQQ, SPY via the importer.

    Imported once per module into its own temporary cache (read in place, never copied).
    """
    root = require_shared_market()
    files = [root / "stocks" / f"{t}.csv" for t in ("NVDA", "AMD", "PLTR")] + \
            [root / "etfs" / f"{t}.csv" for t in ("QQQ", "SPY")]
    cache = M.MarketCache(tmp_path_factory.mktemp("market-cache"))
    import_prices(files, cache=cache)
    universe = M.load_universe(["NVDA", "AMD", "PLTR", "QQQ", "SPY"], as_of="2026-11-28", cache=cache,
                               tickers_path=cache.root / "no-tickers.csv")
    closes = universe.closes()
    return universe, closes


def P(closes, ticker, date):
    return closes.at[pd.Timestamp(date), ticker]


def reference_basket(closes: pd.DataFrame, weights_at) -> pd.Series:
    """The slow, obvious version: walk the dates, rebalance on month ends, hold in between."""
    dates = list(closes.index)
    level, out = 100.0, {}
    holdings = None  # units per ticker
    for i, d in enumerate(dates):
        if holdings is not None:
            level = sum(u * closes.at[d, t] for t, u in holdings.items())
        out[d] = level
        month_end = i + 1 == len(dates) or dates[i + 1].month != d.month
        if i == 0 or month_end:
            live = [t for t in closes.columns if not np.isnan(closes.at[d, t])]
            w = weights_at(d, live)
            holdings = {t: level * w[t] / closes.at[d, t] for t in live}
    return pd.Series(out)


def test_equal_weight_basket_matches_hand_computation(snapshot):
    universe, closes = snapshot
    b = K.basket_index(universe.prices, ["NVDA", "AMD", "PLTR"], start="2020-09-01", name="chips")
    assert b.weighting == "equal" and b.start == pd.Timestamp("2020-09-01")
    # PLTR's data stop on 2026-07-31, so the basket does (common end) and says why.
    assert b.end == pd.Timestamp("2026-07-31")
    assert "ends 2026-07-31" in b.notes[0] and "PLTR" in b.notes[0]

    c = closes
    # Until the September month end only NVDA and AMD exist (PLTR listed on 2020-09-30).
    i_0915 = 100 * (P(c, "NVDA", "2020-09-15") / P(c, "NVDA", "2020-09-01")
                    + P(c, "AMD", "2020-09-15") / P(c, "AMD", "2020-09-01")) / 2
    i_0930 = 100 * (P(c, "NVDA", "2020-09-30") / P(c, "NVDA", "2020-09-01")
                    + P(c, "AMD", "2020-09-30") / P(c, "AMD", "2020-09-01")) / 2
    # PLTR joins at the 2020-09-30 close: one third each until the October month end.
    i_1015 = i_0930 * sum(P(c, t, "2020-10-15") / P(c, t, "2020-09-30") for t in ("NVDA", "AMD", "PLTR")) / 3
    i_1030 = i_0930 * sum(P(c, t, "2020-10-30") / P(c, t, "2020-09-30") for t in ("NVDA", "AMD", "PLTR")) / 3
    i_1110 = i_1030 * sum(P(c, t, "2020-11-10") / P(c, t, "2020-10-30") for t in ("NVDA", "AMD", "PLTR")) / 3
    for date, expected in [("2020-09-15", i_0915), ("2020-09-30", i_0930), ("2020-10-15", i_1015),
                           ("2020-10-30", i_1030), ("2020-11-10", i_1110)]:
        assert b.level[pd.Timestamp(date)] == pytest.approx(expected, rel=RTOL), date

    w = b.weights.set_index(["rebalance_date", "ticker"])["weight"]
    assert w[(pd.Timestamp("2020-09-01"), "AMD")] == 0.5
    assert w[(pd.Timestamp("2020-09-30"), "PLTR")] == pytest.approx(1 / 3, rel=RTOL)
    assert b.weights.groupby("rebalance_date")["weight"].sum().sub(1).abs().max() < 1e-15

    # Every day of the 6-year series against the slow loop.
    window = c.loc["2020-09-01":"2026-07-31", ["NVDA", "AMD", "PLTR"]]
    slow = reference_basket(window, lambda d, live: {t: 1 / len(live) for t in live})
    np.testing.assert_allclose(b.level.to_numpy(), slow.reindex(b.level.index).to_numpy(), rtol=1e-10)


def test_market_cap_basket_and_fallback(snapshot):
    universe, closes = snapshot
    # Share counts are made-up round numbers: the test checks the arithmetic, not the data.
    shares = {"NVDA": 24.0e9, "AMD": 1.6e9}
    b = K.basket_index(universe.prices, ["NVDA", "AMD"], weighting="market_cap", shares=shares,
                       start="2023-01-01", end="2023-03-31")
    assert b.weighting == "market_cap" and b.notes == ()
    c, d0, d1 = closes, "2023-01-03", "2023-01-20"  # 2023-01-03: first session of 2023
    cap = {t: shares[t] * P(c, t, d0) for t in shares}
    total = sum(cap.values())
    expected = 100 * sum(cap[t] / total * P(c, t, d1) / P(c, t, d0) for t in shares)
    assert b.level[pd.Timestamp(d1)] == pytest.approx(expected, rel=RTOL)
    slow = reference_basket(c.loc[d0:"2023-03-31", ["NVDA", "AMD"]],
                            lambda d, live: {t: shares[t] * c.at[d, t] / sum(shares[u] * c.at[d, u] for u in live)
                                             for t in live})
    np.testing.assert_allclose(b.level.to_numpy(), slow.reindex(b.level.index).to_numpy(), rtol=1e-10)

    fallback = K.basket_index(universe.prices, ["NVDA", "AMD", "PLTR"], weighting="market_cap", shares=shares,
                              start="2023-01-01", end="2023-03-31")
    assert fallback.weighting == "equal" and fallback.requested == "market_cap"
    assert "no share count for PLTR" in fallback.notes[0]
    equal = K.basket_index(universe.prices, ["NVDA", "AMD", "PLTR"], start="2023-01-01", end="2023-03-31")
    pd.testing.assert_series_equal(fallback.level.rename(None), equal.level.rename(None))


def test_relative_strength_against_qqq_and_spy(snapshot):
    universe, closes = snapshot
    b = K.basket_index(universe.prices, ["NVDA", "AMD", "PLTR"], start="2020-09-01")
    rs = K.relative_strength(b.level.rename("chips"), closes[["QQQ", "SPY"]])
    table = rs.table.set_index("benchmark")
    # Common dates only: the basket starts 2020-09-01, the ETFs run to 2026-08-21.
    assert table.loc["QQQ", "start"] == pd.Timestamp("2020-09-01").date()
    assert table.loc["QQQ", "end"] == pd.Timestamp("2026-07-31").date()
    d = pd.Timestamp("2024-06-28")
    ratios = rs.ratios.set_index(["benchmark", "date"])["ratio"]
    expected = (b.level[d] / 100) / (P(closes, "QQQ", d) / P(closes, "QQQ", "2020-09-01"))
    assert ratios[("QQQ", d)] == pytest.approx(expected, rel=RTOL)
    spy = ratios.loc["SPY"]
    assert table.loc["SPY", "3m"] == pytest.approx(spy.iloc[-1] / spy.iloc[-1 - 63] - 1, rel=RTOL)
    assert table.loc["SPY", "since_start"] == pytest.approx(spy.iloc[-1] - 1, rel=RTOL)


def test_segment_baskets_skip_benchmarks_and_fall_back_without_fundamentals(snapshot):
    universe, _ = snapshot
    tickers = pd.DataFrame({"ticker": ["NVDA", "AMD", "PLTR", "QQQ", "SPY", "NOPE"],
                            "segment": ["ai_chips", "ai_chips", "llm_applications", "benchmark", "benchmark",
                                        "robotics_automation"],
                            "is_benchmark": [False, False, False, True, True, False]})
    sb = K.segment_baskets(universe.prices, tickers, weighting="market_cap", start="2024-01-01")
    assert list(sb.baskets) == ["ai_chips", "llm_applications"]  # no prices for NOPE: no basket
    assert sb.baskets["ai_chips"].members == ("NVDA", "AMD")
    assert all(b.weighting == "equal" for b in sb.baskets.values())
    assert set(sb.levels.columns) == {"ai_chips", "llm_applications"}
    assert len(sb.summary()) == 2


def test_basket_rejects_bad_arguments(snapshot):
    universe, _ = snapshot
    with pytest.raises(ParameterError, match="weighting"):
        K.basket_index(universe.prices, ["NVDA"], weighting="price")
    with pytest.raises(ParameterError, match="no prices for XYZ"):
        K.basket_index(universe.prices, ["NVDA", "XYZ"])
    with pytest.raises(ParameterError, match="no prices in the selected window"):
        K.basket_index(universe.prices, ["NVDA"], start="2030-01-01")


def test_basket_carries_prices_over_holidays_inside_a_members_range():
    dates = pd.to_datetime(["2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02"])
    prices = pd.DataFrame({"date": list(dates) + [dates[0], dates[1], dates[3]],
                           "ticker": ["A"] * 4 + ["B"] * 3,
                           "close": [10, 10, 11, 12, 20, 20, 30]})  # B is closed on 2024-02-01
    b = K.basket_index(prices, ["A", "B"])
    # 01-31 is a month end, both held 50/50 from there; on 02-01 B keeps its 20.
    assert b.level.tolist() == pytest.approx([100, 100, 100 * (0.5 * 1.1 + 0.5 * 1.0), 100 * (0.5 * 1.2 + 0.5 * 1.5)],
                                             rel=RTOL)


def test_drawdown_by_hand():
    s = pd.Series([100, 120, 90, 130, 65, 140.0], index=pd.bdate_range("2024-01-01", periods=6), name="x")
    dd = K.drawdown(s)
    np.testing.assert_allclose(dd.drawdown["x"], [0, 0, -0.25, 0, -0.5, 0], atol=1e-15)
    row = dd.table.iloc[0]
    assert row["max_drawdown"] == -0.5 and row["current"] == 0
    assert row["peak_date"] == s.index[3].date() and row["trough_date"] == s.index[4].date()
    assert row["recovered"] == s.index[5].date()
    not_yet = K.drawdown(s.iloc[:5]).table.iloc[0]
    assert not_yet["recovered"] is None and not_yet["current"] == -0.5


def test_rolling_volatility_against_numpy():
    rng = np.random.default_rng(20260828)
    r = rng.normal(0, 0.02, 300)
    s = pd.Series(100 * np.exp(np.cumsum(r)), index=pd.bdate_range("2024-01-01", periods=300), name="x")
    vol = K.rolling_volatility(s, window=63)
    logret = np.diff(np.log(s.to_numpy()))
    expected_last = np.std(logret[-63:], ddof=1) * np.sqrt(252)
    assert vol.volatility["x"].iloc[-1] == pytest.approx(expected_last, rel=1e-12)
    assert vol.volatility["x"].iloc[:63].isna().all() and vol.volatility["x"].iloc[63:].notna().all()
    # A missing day: the return spans the gap instead of creating NaN.
    gappy = s.copy()
    gappy.iloc[150] = np.nan
    v2 = K.rolling_volatility(gappy, window=63).volatility["x"]
    assert np.isnan(v2.iloc[150]) and v2.iloc[151:].notna().all()
    with pytest.raises(ParameterError):
        K.rolling_volatility(s, window=1)


def test_valuation_snapshot_by_hand():
    prices = pd.DataFrame({"date": pd.to_datetime(["2025-12-30", "2025-12-31", "2025-12-31"]),
                           "ticker": ["MSFT", "MSFT", "SPY"], "close": [400.0, 410.0, 600.0]})
    q = pd.to_datetime(["2025-03-31", "2025-06-30", "2025-09-30", "2025-12-31"])
    fundamentals = pd.DataFrame({"ticker": "MSFT", "period_end": q, "revenue_usd": [60e9, 65e9, 70e9, 75e9],
                                 "capex_usd": 1.0, "shares_outstanding": [7.5e9, 7.45e9, 7.44e9, 7.43e9]})
    table = K.valuation_snapshot(prices, fundamentals).table.set_index("ticker")
    assert table.loc["MSFT", "market_cap"] == pytest.approx(7.43e9 * 410, rel=1e-15)
    assert table.loc["MSFT", "price_to_sales"] == pytest.approx(7.43e9 * 410 / 270e9, rel=1e-15)
    assert np.isnan(table.loc["SPY", "price_to_sales"])


def test_filtered_categorical_prices_do_not_invent_tickers(snapshot):
    universe, _ = snapshot
    only = universe.prices[universe.prices["ticker"].isin(["NVDA", "AMD"])]  # categories still list all five
    assert list(K.wide_closes(only).columns) == ["NVDA", "AMD"]  # the order the universe was loaded in
    tickers = pd.DataFrame({"ticker": ["NVDA", "QQQ"], "segment": ["ai_chips", "llm_applications"],
                            "is_benchmark": [False, False]})
    assert list(K.segment_baskets(only, tickers, start="2024-01-01").baskets) == ["ai_chips"]


# ------------------------------------------------------------------------- AI-era panel (issue #14)

def _universe(start="2018-06-01", end="2024-06-28", seed=0):
    """A small synthetic universe: two hyperscalers, two chip makers, a SPAC-era ticker, QQQ, SPY."""
    from types import SimpleNamespace

    rng = np.random.default_rng(seed)
    dates = pd.bdate_range(start, end)
    rows = []
    for t in ("MSFT", "GOOGL", "NVDA", "AMD", "VRT", "QQQ", "SPY"):
        px = 100 * np.exp(np.cumsum(rng.normal(0.0005, 0.015, len(dates))))
        rows.append(pd.DataFrame({"date": dates, "ticker": t, "close": px}))
    prices = pd.concat(rows, ignore_index=True)
    tickers = pd.DataFrame({
        "ticker": ["MSFT", "GOOGL", "NVDA", "AMD", "VRT", "QQQ", "SPY"],
        "segment": ["hyperscaler", "hyperscaler", "ai_chips", "ai_chips", "ai_infrastructure_supplier",
                    "benchmark", "benchmark"],
        "is_benchmark": [False] * 5 + [True] * 2,
        "start_date": [pd.NaT] * 4 + [pd.Timestamp("2020-02-10")] + [pd.NaT] * 2})
    return SimpleNamespace(prices=prices, tickers=tickers)


def test_start_dates_cut_the_predecessor_history():
    u = _universe()
    cut = K.apply_start_dates(u.prices, u.tickers)
    vrt = cut[cut["ticker"] == "VRT"]
    assert vrt["date"].min() == pd.Timestamp("2020-02-10")
    assert len(cut[cut["ticker"] == "MSFT"]) == len(u.prices[u.prices["ticker"] == "MSFT"])
    # no start_date column: nothing is cut
    assert len(K.apply_start_dates(u.prices, u.tickers.drop(columns="start_date"))) == len(u.prices)


def test_ai_era_panel_starts_in_2019_with_benchmarks_and_survivorship():
    u = _universe()
    p = K.ai_era_baskets(u)
    assert set(p.levels.columns) == {"llm_exposed", "ai_infrastructure_suppliers"}
    assert p.levels.index.min() == pd.Timestamp("2019-01-01")          # a business day
    assert (p.levels.iloc[0] == 100).all()
    assert list(p.benchmarks.columns) == ["QQQ", "SPY"] and p.benchmarks.index.min() >= pd.Timestamp("2019-01-01")
    assert p.members["llm_exposed"] == ("MSFT", "GOOGL")
    assert p.members["ai_infrastructure_suppliers"] == ("NVDA", "AMD", "VRT")
    assert p.notes[0] == K.SURVIVORSHIP_NOTE and "VRT from 2020-02-10" in p.notes[1]
    # VRT joins at the first month end after its start date, not before
    w = K.basket_index(K.apply_start_dates(u.prices, u.tickers), ["NVDA", "AMD", "VRT"], start="2019-01-01").weights
    assert w.loc[w["ticker"] == "VRT", "rebalance_date"].min() == pd.Timestamp("2020-02-28")
    # the level is the hand-computed equal-weight basket (first month: NVDA and AMD only)
    closes = K.wide_closes(u.prices)[["NVDA", "AMD"]]
    jan = closes.loc["2019-01-01":"2019-01-31"]
    expected = 100 * (0.5 * jan["NVDA"] / jan["NVDA"].iloc[0] + 0.5 * jan["AMD"] / jan["AMD"].iloc[0])
    np.testing.assert_allclose(p.levels["ai_infrastructure_suppliers"].loc[jan.index], expected, rtol=RTOL)


def test_launch_normalised_view_is_100_at_the_launch():
    p = K.ai_era_baskets(_universe())
    v = p.launch_normalised()
    assert v.index[0] == pd.Timestamp("2022-11-30")
    np.testing.assert_allclose(v.iloc[0].to_numpy(), 100.0, rtol=1e-12)
    assert set(v.columns) == {"llm_exposed", "ai_infrastructure_suppliers", "QQQ", "SPY"}
    with pytest.raises(ParameterError):
        p.launch_normalised("2010-01-01")


def test_rolling_beta_against_numpy():
    rng = np.random.default_rng(7)
    idx = pd.bdate_range("2024-01-01", periods=200)
    rb = rng.normal(0, 0.01, 200)
    rx = 1.5 * rb + rng.normal(0, 0.005, 200)
    b = pd.Series(100 * np.exp(np.cumsum(rb)), index=idx, name="SPY")
    x = pd.Series(100 * np.exp(np.cumsum(rx)), index=idx, name="x")
    out = K.rolling_beta(x, b, window=63)
    lx, lb = np.diff(np.log(x.to_numpy()))[-63:], np.diff(np.log(b.to_numpy()))[-63:]
    expected = np.cov(lx, lb, ddof=1)[0, 1] / np.var(lb, ddof=1)
    assert out.beta["x"].iloc[-1] == pytest.approx(expected, rel=1e-10)
    assert out.beta["x"].iloc[:63].isna().all()
    assert abs(out.table.iloc[0]["full_sample"] - 1.5) < 0.1 and out.benchmark == "SPY"
    with pytest.raises(ParameterError):
        K.rolling_beta(x, b, window=2)
    p = K.ai_era_baskets(_universe())
    beta = p.beta()
    assert set(beta.beta.columns) == {"llm_exposed", "ai_infrastructure_suppliers", "QQQ"}
    table = K.drawdown_table(p.with_benchmarks())
    assert {"current", "max_drawdown", "peak_date", "trough_date"} <= set(table.columns)


def test_overlapping_baskets_are_refused(monkeypatch, tmp_path):
    import yaml

    from analysis import config
    from analysis.data import taxonomy as TX
    from analysis.errors import ConfigError

    raw = yaml.safe_load(config.TAXONOMY_PATH.read_text(encoding="utf-8"))
    raw["baskets"]["llm_exposed"]["ticker_segments"].append("ai_chips")
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    overlapping = TX.load_taxonomy(path)
    monkeypatch.setattr(TX, "load_taxonomy", lambda path=None: overlapping)
    with pytest.raises(ConfigError, match="must be disjoint"):
        K.ai_era_baskets(_universe())


@pytest.mark.slow
def test_whole_universe_panel_from_the_snapshot(tmp_path):
    """Every ticker of data/tickers.csv imported from the snapshot: each basket is built from 2019,
    no ticker is in two baskets, predecessor histories are cut at their start dates."""
    root = require_shared_market()
    tickers = M.load_tickers()
    files = [f for t in tickers["ticker"] for f in (root / "stocks" / f"{t}.csv", root / "etfs" / f"{t}.csv")
             if f.is_file()]
    assert len(files) == len(tickers)                    # the snapshot prices the whole universe
    cache = M.MarketCache(tmp_path / "cache")
    import_prices(files, cache=cache)
    u = M.load_universe(as_of="2026-08-21", cache=cache)
    panel = K.ai_era_baskets(u)
    from analysis.data.taxonomy import load_taxonomy

    assert set(panel.levels.columns) == {b.id for b in load_taxonomy().baskets
                                         if any(s in set(tickers["segment"]) for s in b.ticker_segments)}
    members = [t for v in panel.members.values() for t in v]
    assert len(members) == len(set(members))
    assert panel.levels.index.min() >= pd.Timestamp("2019-01-01")
    cut = K.apply_start_dates(u.prices, u.tickers)
    for t, d in tickers.dropna(subset=["start_date"])[["ticker", "start_date"]].itertuples(index=False):
        first = cut.loc[cut["ticker"].astype(str) == t, "date"].min()
        raw_first = u.prices.loc[u.prices["ticker"].astype(str) == t, "date"].min()
        assert first >= d and raw_first < d, t          # the snapshot has the predecessor rows; they are cut
    assert {"QQQ", "SPY"} <= set(panel.benchmarks.columns)
