"""LPPLS fits and confidence: recovery on synthetic bubbles, optimality, the lppls package."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from analysis.bubbles import lppls as L
from analysis.errors import MarketDataError, ParameterError
from tests.conftest import require_shared_market

TRUE = dict(m=0.5, omega=9.0, A=5.0, B=-0.1, C1=0.0045, C2=0.0045)
TC_AFTER = 21  # true tc, trading days after the last observation


def lppls_series(seed: int, n: int = 500, tc_after: float = TC_AFTER, sd: float = 0.01) -> pd.Series:
    """Prices whose log follows the LPPLS model plus N(0, sd) noise.

    Parameters give a 1.8 log-point rise over 500 days, |C| / |B| = 0.064 (damping
    m|B|/(omega|C|) = 0.87 >= 0.8) and 3.1 oscillations over 125 days - a qualified bubble.
    """
    t = np.arange(n)
    dt = n - 1 + tc_after - t
    p = TRUE
    lp = p["A"] + dt ** p["m"] * (p["B"] + p["C1"] * np.cos(p["omega"] * np.log(dt))
                                  + p["C2"] * np.sin(p["omega"] * np.log(dt)))
    lp = lp + np.random.default_rng(seed).normal(0.0, sd, n)
    return pd.Series(np.exp(lp), index=pd.bdate_range("2020-01-01", periods=n), name="px")


def random_walk(seed: int, n: int = 700) -> pd.Series:
    rng = np.random.default_rng(1000 + seed)
    lp = np.cumsum(rng.normal(0.0005, 0.02, n))
    return pd.Series(np.exp(lp), index=pd.bdate_range("2020-01-01", periods=n))


@pytest.fixture(scope="module", autouse=True)
def _compiled():
    L.warmup()


def test_synthetic_tc_recovered_within_a_day_over_30_seeds():
    fits = [L.fit(lppls_series(seed), seed=seed) for seed in range(30)]
    err = np.array([f.tc_days - TC_AFTER for f in fits])
    # noise sd 0.01 makes tc sloppy (Bree et al. 2010): per-seed errors reach ~1 day, the
    # median absolute error is ~0.46 day here, so 1 day fails if the optimiser is off
    assert np.median(np.abs(err)) <= 1.0
    assert all(f.valid for f in fits), [f.at_bound for f in fits if not f.valid]
    assert np.median([abs(f.m - TRUE["m"]) for f in fits]) <= 0.05
    assert np.median([abs(f.omega - TRUE["omega"]) for f in fits]) <= 0.5
    assert all(f.B < 0 and f.qualified and f.positive for f in fits)
    assert np.median([f.r2 for f in fits]) > 0.99


def test_fit_reaches_at_least_the_truth_and_is_deterministic():
    s = lppls_series(3)
    f = L.fit(s, seed=7)
    y = np.log(s.to_numpy())
    sse_true, _ = L.sse_at(y, len(y) - 1 + TC_AFTER, TRUE["m"], TRUE["omega"])
    # the data-generating parameters are one point of the search box: the minimum is below it
    assert f.sse <= sse_true * (1 + 1e-9)
    g = L.fit(s, seed=7)
    assert (g.tc, g.m, g.omega, g.sse) == (f.tc, f.m, f.omega, f.sse)
    # the lowest SSE over several starts is kept: never worse than one start from the best
    # screened candidate (up to the Nelder-Mead tolerance, ~1e-9 relative), and on rugged
    # random-walk windows sometimes much better (seed 7: -19%)
    single = L.Optimizer(n_starts=1, n_refine=1)
    assert f.sse <= L.fit(s, seed=7, optimizer=single).sse * (1 + 1e-8)
    ratios = []
    for k in range(8):
        rw = random_walk(k, n=150)
        ratios.append(L.fit(rw, seed=0).sse / L.fit(rw, seed=0, optimizer=single).sse)
    assert max(ratios) <= 1 + 1e-8 and min(ratios) < 0.95, ratios


def test_sse_matches_obvious_least_squares():
    """Fast kernel vs numpy lstsq on the explicit design matrix [1, f, g, h]."""
    rng = np.random.default_rng(0)
    y = np.log(lppls_series(1, n=300).to_numpy())
    t = np.arange(len(y))
    for _ in range(20):
        tc = len(y) - 1 + rng.uniform(0.5, 150)
        m, w = rng.uniform(0.05, 0.95), rng.uniform(2, 25)
        dt = tc - t
        X = np.column_stack([np.ones_like(dt), dt ** m, dt ** m * np.cos(w * np.log(dt)),
                             dt ** m * np.sin(w * np.log(dt))])
        beta, *_ = np.linalg.lstsq(X, y, rcond=None)
        sse = float(((y - X @ beta) ** 2).sum())
        ours, b = L.sse_at(y, tc, m, w)
        # fastmath reassociates the sums: agreement to ~1e-12 relative is expected, 1e-8 is loose
        np.testing.assert_allclose(ours, sse, rtol=1e-8)
        np.testing.assert_allclose(b, beta, rtol=1e-5, atol=1e-9)


def test_fit_result_fields_and_derived_quantities():
    f = L.fit(lppls_series(2), seed=0)
    osc = f.omega / (2 * np.pi) * np.log((f.tc - 0) / (f.tc - (f.n - 1)))
    np.testing.assert_allclose(f.oscillations, osc, rtol=1e-12)
    np.testing.assert_allclose(f.damping, f.m * abs(f.B) / (f.omega * np.hypot(f.C1, f.C2)),
                               rtol=1e-12)
    assert f.tc_date == f.end + pd.offsets.BDay(round(f.tc_days))
    assert f.tc_days == pytest.approx(f.tc - (f.n - 1))
    np.testing.assert_allclose(((np.log(lppls_series(2)) - f.fitted()) ** 2).sum(), f.sse, rtol=1e-9)
    table = f.summary()
    assert table.loc["qualified", "value"] is True and "check: damping" in table.index
    assert "LPPLS fit" in f._repr_html_()


def test_filter_checks_boundaries():
    flt = L.LPPLSFilter()
    ok = dict(n=126, tc_days=20.0, m=0.5, omega=9.0, oscillations=3.0, damping=1.0, valid=True)
    assert all(flt.checks(**ok).values())
    for key, bad in [("m", 0.95), ("omega", 14.0), ("tc_days", 26.0), ("tc_days", -1.0),
                     ("oscillations", 2.4), ("damping", 0.79), ("valid", False)]:
        checks = flt.checks(**{**ok, key: bad})
        assert not all(checks.values()), key
    # tc cap = 0.2 * (n - 1) = 25 trading days for n = 126, inclusive
    assert flt.checks(**{**ok, "tc_days": 25.0})["tc"]
    assert not L.LPPLSFilter(tc_max_days=10).checks(**ok)["tc"]


def test_bad_inputs_raise_project_errors():
    s = lppls_series(0, n=100)
    with pytest.raises(MarketDataError):
        L.fit(-s)
    with pytest.raises(ParameterError):
        L.fit(s.to_numpy())
    with pytest.raises(ParameterError):
        L.confidence(s, [pd.Timestamp("1999-01-01")], windows=[50])
    with pytest.raises(ParameterError):
        L.SearchBounds(m=(0.9, 0.1))
    with pytest.raises(ParameterError):
        L.Optimizer(n_starts=0)


@pytest.mark.slow
def test_confidence_rises_towards_tc_and_stays_low_on_random_walks():
    s = lppls_series(0, n=800)
    ends = s.index[[-180, -120, -60, -20, -1]]  # 200, 140, 80, 40 and 21 days before tc
    conf = L.confidence(s, ends, seed=0).table
    pos = conf["pos_conf"].to_numpy()
    assert (conf["n_fits"] == 16).all()
    # far from tc no window's tc lies within 0.2 (t2 - t1) of its end: nothing qualifies;
    # 21 days before tc every window sees the bubble (observed 1.0; 0.75 leaves room)
    assert pos[0] <= 0.1 and pos[-1] >= 0.75
    assert np.all(np.diff(pos) >= 0), pos
    assert (conf["neg_conf"] == 0).all()
    np.testing.assert_allclose(conf["tc_days_q50"].iloc[-1], TC_AFTER, atol=2.0)
    for seed in range(4):
        rw = random_walk(seed)
        t = L.confidence(rw, rw.index[[-101, -1]], seed=0).table
        # random walks: fits sit on the edges of the search box or fail the filters; the
        # indicator is 0 for these seeds, 0.25 (4 of 16 windows) would already be a false alarm
        assert (t["pos_conf"] <= 0.25).all() and (t["neg_conf"] <= 0.25).all(), t


@pytest.mark.slow
def test_fits_at_least_as_good_as_lppls_package():
    """Same windows; their fit's SSE re-evaluated on our objective (identical model, OLS linear
    parameters) and compared when it lies inside our search box (their search is unbounded)."""
    from lppls import lppls as ref

    market = require_shared_market()
    nvda = pd.read_csv(market / "stocks" / "NVDA.csv", parse_dates=["Date"], index_col="Date")["Close"]
    windows = [np.log(lppls_series(s).to_numpy()[-n:]) for s, n in [(0, 300), (1, 250), (2, 400)]]
    rng = np.random.default_rng(5)
    for _ in range(12):
        n = int(rng.integers(125, 400))
        e = int(rng.integers(n, len(nvda)))
        windows.append(np.log(nvda.to_numpy()[e - n + 1:e + 1]))
    compared = 0
    for k, y in enumerate(windows):
        n = len(y)
        random.seed(k)
        model = ref.LPPLS(np.array([np.arange(n, dtype=float), y]))
        tc, m, w, *_ = model.fit(25)
        inside = n - 1 < tc <= n - 1 + L.default_tc_horizon(n) and 0.01 <= m <= 0.99 and 2 <= w <= 25
        if not inside:
            continue
        theirs, _ = L.sse_at(y, tc, m, w)
        ours = L.fit(pd.Series(np.exp(y)), seed=0).sse
        # both stop Nelder-Mead at a tolerance: equal optima agree to ~1e-8 relative
        assert ours <= theirs * (1 + 1e-6), (k, ours, theirs)
        compared += 1
    assert compared >= 5  # 3 synthetic + at least 2 real windows inside the box
