"""The market bubble signal: the documented mapping by hand, no look-ahead (and a leaky variant that
the same check catches), high on a simulated bubble and quiet before it, metrics, the committed
calibration table."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from analysis.bubbles import lppls as L
from analysis.bubbles import signal as S
from analysis.errors import MarketDataError, ParameterError
from tests.bubbles.test_lppls import lppls_path

FAST = S.SignalConfig(lppls_windows=(250, 200, 150, 125))  # 4 windows keep the tests quick


@pytest.fixture(scope="module", autouse=True)
def _compiled():
    L.warmup()


def simulated(seed: int, calm: int = 800, bubble: int = 420, tc_after: float = 6.0) -> pd.Series:
    """A random walk with a small drift, then an LPPLS bubble whose tc is ``tc_after`` days after
    the last price."""
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(0.0003, 0.012, calm))
    b = lppls_path(bubble, tc_after)
    b = b - b[0] + walk[-1] + np.random.default_rng(seed + 1).normal(0, 0.01, bubble)
    lp = np.concatenate([walk, b])
    return pd.Series(np.exp(lp), index=pd.bdate_range("2015-01-01", periods=len(lp)), name=f"sim{seed}")


def test_mapping_by_hand():
    raw = pd.DataFrame({"psy_margin": [-2.0, 0.0, 1.5, np.nan], "lppls_conf": [0.0, 0.125, 0.5, 0.1],
                        "runup": [0.0, math.log(2.0), math.log(3.0), 0.2], "drawdown": [-0.5, -0.05, 0.0, 0.0]})
    out = S.score_components(raw)
    # row 0: every component at its floor
    assert out.loc[0, "score"] == 0.0 and not out.loc[0, "high"]
    # row 1: psy 0.5, lppls 0.5, run-up (ln2 - ln1.2)/(ln2.5 - ln1.2), drawdown 0.8
    runup = (math.log(2.0) - math.log(1.2)) / (math.log(2.5) - math.log(1.2))
    expected = 100 * (0.3 * 0.5 + 0.3 * 0.5 + 0.2 * runup + 0.2 * 0.8)
    assert out.loc[1, "score"] == pytest.approx(expected, rel=1e-12)
    assert out.loc[1, "points_runup"] == pytest.approx(100 * 0.2 * runup, rel=1e-12)
    assert out.loc[1, "high"] == (expected >= 60)
    # row 2: all capped at 1
    assert out.loc[2, "score"] == pytest.approx(100.0)
    # row 3: PSY missing, weights renormalised over the other three (0.7)
    exp3 = 100 * (0.3 * 0.4 + 0.2 * ((0.2 - math.log(1.2)) / (math.log(2.5) - math.log(1.2))) + 0.2 * 1.0) / 0.7
    assert out.loc[3, "score"] == pytest.approx(exp3, rel=1e-12) and out.loc[3, "coverage"] == 3
    # fewer than three components: no score
    two = S.score_components(raw.assign(lppls_conf=np.nan))
    assert np.isnan(two.loc[3, "score"]) and two.loc[3, "coverage"] == 2
    pts = out[[f"points_{k}" for k in S.COMPONENTS]].sum(axis=1)
    np.testing.assert_allclose(pts, out["score"], rtol=1e-12)


def test_period_ends():
    idx = pd.bdate_range("2024-01-01", "2024-03-15")
    assert list(S.period_ends(idx, "ME").strftime("%Y-%m-%d")) == ["2024-01-31", "2024-02-29", "2024-03-15"]
    assert list(S.period_ends(idx, "QE").strftime("%Y-%m-%d")) == ["2024-03-15"]
    with pytest.raises(ParameterError):
        S.period_ends(idx, "D")


NUMERIC = ["bsadf", "cv95", "psy_margin", "lppls_conf", "lppls_neg_conf", "runup_raw", "runup_net", "runup",
           "drawdown", "score"]


def _row_equal(a: pd.Series, b: pd.Series) -> bool:
    return all((pd.isna(a[c]) and pd.isna(b[c])) or a[c] == b[c] for c in NUMERIC) and a["high"] == b["high"]


def test_history_has_no_look_ahead_and_the_check_can_fail():
    """Every value at month end t equals the value computed on the series cut at t, exactly; a
    change of the prices after t changes nothing at t. The same check catches a leaky statistic
    (a drawdown from the whole sample's peak)."""
    s = simulated(0, calm=500, bubble=260)
    market = pd.Series(np.exp(np.cumsum(np.random.default_rng(9).normal(0.0002, 0.01, len(s)))), index=s.index)
    full = S.history(s, market=market, config=FAST)
    checked = 0
    for t in full.table.index[[-14, -7, -2]]:
        cut = S.history(s[:t], market=market[:t], config=FAST)
        assert cut.table.index[-1] == t
        assert _row_equal(full.table.loc[t], cut.table.iloc[-1]), t
        checked += 1
    # the future does not leak: triple every price after t, t's row is unchanged
    t = full.table.index[-7]
    bent = s.where(s.index <= t, s * 3.0)
    again = S.history(bent, market=market, config=FAST)
    assert _row_equal(full.table.loc[t], again.table.loc[t])
    # negative control: a drawdown from the whole sample's peak differs between the two series,
    # so the comparison above would have failed for a statistic that looks ahead
    leaky_full = s.loc[t] / s.max() - 1
    leaky_bent = bent.loc[t] / bent.max() - 1
    assert leaky_full != leaky_bent
    assert checked == 3


def test_history_fields_metrics_and_bad_input():
    s = simulated(1, calm=400, bubble=200)
    h = S.history(s, config=FAST, start="2016-01-01")
    t = h.table
    assert t.index[0] >= pd.Timestamp("2016-01-01")
    assert {"psy_margin", "lppls_conf", "runup", "drawdown", "score", "high", "episode_start"} <= set(t.columns)
    assert np.isnan(t["runup_net"]).all()                 # no market given: raw run-up only
    m = S.metrics(h)
    json.dumps(m)                                          # plain values only
    assert set(m) >= {"as_of", "score", "high", "components", "raw", "episode_start", "drawdown", "lppls_trust"}
    assert m["drawdown"]["current"] == pytest.approx(float(t["drawdown"].iloc[-1]), abs=1e-4)
    assert set(m["components"]) == set(S.COMPONENTS)
    assert h.latest().name == t.dropna(subset=["score"]).index[-1]
    assert "Market bubble signal" in h._repr_html_()
    with pytest.raises(MarketDataError):
        S.history(-s)
    with pytest.raises(ParameterError):
        S.history(s.to_numpy())
    with pytest.raises(ParameterError):
        S.history(s, start="2030-01-01")


def test_runup_takes_the_smaller_of_raw_and_net():
    s = simulated(2, calm=600, bubble=100)
    flat = pd.Series(100.0, index=s.index)                  # market flat: net = raw
    rising = pd.Series(np.exp(np.linspace(0, 1.0, len(s))), index=s.index)
    a = S.history(s, market=flat, config=FAST).table.dropna(subset=["runup"])
    b = S.history(s, market=rising, config=FAST).table.dropna(subset=["runup"])
    np.testing.assert_allclose(a["runup"], np.log1p(a["runup_raw"]))
    np.testing.assert_allclose(b["runup"], np.log1p(np.minimum(b["runup_raw"], b["runup_net"]).clip(lower=-0.99)))
    assert (b["runup"] < a["runup"]).all()


@pytest.mark.slow
def test_signal_is_high_before_a_simulated_crash_and_quiet_before_the_bubble():
    """Two simulated series (a 3-year random walk, then an LPPLS bubble ending 6 days before tc),
    the briefing's 16 windows: no month of the random walk scores high (stated rate: at most 5%,
    observed 0), and the last three month ends before tc all do (observed 97-100)."""
    for seed in (0, 1):
        s = simulated(seed)
        h = S.history(s)
        t = h.table.dropna(subset=["score"])
        walk = t[t.index < s.index[800]]
        assert (walk["score"] >= 60).mean() <= 0.05, walk["score"].max()
        assert (t["score"].iloc[-3:] >= 60).all(), t["score"].tail()


def test_committed_calibration_table():
    cal = S.load_calibration()
    t = cal.table
    assert cal.independent_events == 5
    assert set(t["kind"]) == {"bubble", "calm"}
    dotcom = t[t["event"] == "dotcom"]
    assert set(dotcom["id"]) >= {"nasdaq_2000", "ndx_2000", "csco_2000", "qcom_2000", "intc_2000", "viav_2000"}
    assert (t.loc[t["kind"] == "calm", "peak_date"].isna()).all()
    # every event and every calm stretch is held out once in the leave-one-out table
    assert set(cal.loeo["held_out"]) == set(t["event"])
    summary = cal.loeo_summary()
    assert len(summary) == t["event"].nunique()
    assert (summary["threshold"].between(30, 90)).all()
    # derived statistics only: no price column anywhere
    for frame in (t, cal.loeo):
        assert not {"close", "price", "Close"} & set(frame.columns)
    assert "Max score" in cal.display().to_html()
    with pytest.raises(MarketDataError):
        S.load_calibration("no/such/file.csv")


def test_history_through_the_cache_is_the_same(tmp_path):
    from analysis.bubbles.fitcache import FitCache

    s = simulated(3, calm=450, bubble=150)
    cache = FitCache(tmp_path / "fits.sqlite")
    plain = S.history(s, config=FAST)
    first = S.history(s, config=FAST, cache=cache)
    misses = cache.misses
    again = S.history(s, config=FAST, cache=cache)
    assert cache.misses == misses                       # the second run fits nothing and tests nothing
    cols = NUMERIC + ["psy_explosive", "episode_start", "high"]
    pd.testing.assert_frame_equal(plain.table[cols], first.table[cols])
    pd.testing.assert_frame_equal(plain.table[cols], again.table[cols])


def test_psy_results_are_stored_once_per_period_end_and_reused_as_the_series_grows(tmp_path):
    import sqlite3

    from analysis.bubbles.fitcache import FitCache

    s = simulated(4, calm=450, bubble=150)
    cache = FitCache(tmp_path / "fits.sqlite")
    earlier = s[s.index <= S.period_ends(s.index)[-4]]    # cut at a month end: the same period ends

    def stored():
        with sqlite3.connect(cache.path) as con:
            return con.execute("SELECT count(*) FROM psy").fetchone()[0]

    first = S.history(earlier, config=FAST, cache=cache)
    tested = int(first.table["bsadf"].notna().sum())
    assert stored() == tested
    later = S.history(s, config=FAST, cache=cache)
    new_ends = len(later.table) - len(first.table)
    assert new_ends == 3
    # the earlier period ends are read back, only the new ones are tested and stored
    assert stored() == tested + new_ends
    cols = ["bsadf", "cv95", "psy_margin", "psy_explosive", "episode_start"]
    pd.testing.assert_frame_equal(first.table[cols], later.table[cols].loc[first.table.index])
