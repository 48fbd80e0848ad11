"""Tests of analysis.bubbles.psy: brute force, pyexuber reference, PSY (2015), size/power, dating.

pyexuber (GPL) is used here only as a reference implementation; none of its code is copied.
"""

from __future__ import annotations

import json
import math

import exuber  # pyexuber, pinned in requirements-dev.txt: a missing reference must fail, not skip
import numba
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from statsmodels.tsa.stattools import adfuller

from analysis.bubbles import psy
from analysis.errors import ParameterError
from tests.conftest import require_shared_market


def _bubble(n: int, te: int, tf: int, rng, c: float = 1.0, alpha: float = 0.6,
            sigma: float = 6.79) -> np.ndarray:
    """PSY (2015) single-bubble DGP (from Phillips, Wu and Yu 2011): a random walk,
    mildly explosive ``y_t = delta * y_{t-1} + e_t`` with ``delta = 1 + c n^-alpha`` for
    ``te <= t <= tf``, collapse back to ``y_te`` at ``tf + 1``, then a random walk again."""
    delta = 1.0 + c * n ** (-alpha)
    e = rng.normal(scale=sigma, size=n)
    y = np.empty(n)
    y[0] = 100.0
    for t in range(1, n):
        if te <= t <= tf:
            y[t] = delta * y[t - 1] + e[t]
        elif t == tf + 1:
            y[t] = y[te] + e[t]
        else:
            y[t] = y[t - 1] + e[t]
    return y


def _adfuller_stat(x: np.ndarray, lag: int) -> float:
    """statsmodels' ADF statistic with a fixed lag and a constant (the slow, obvious version)."""
    kwargs = dict(maxlag=lag, autolag=None, regression="c")
    try:  # statsmodels >= 0.15 warns unless the return type is chosen explicitly
        return float(adfuller(x, result_object=False, **kwargs)[0])
    except TypeError:  # statsmodels 0.14 has no result_object
        return float(adfuller(x, **kwargs)[0])


# -- defaults -------------------------------------------------------------------------------


def test_default_helpers_match_the_papers_formulas():
    # by hand: 0.01*100 + 1.8*10 = 19; 0.01*1680 + 1.8*sqrt(1680) = 16.8 + 73.78 = 90.58
    assert psy.psy_minw(100) == 19
    assert psy.psy_minw(1680) == 90
    assert psy.psy_minw(400) == exuber.radf(np.arange(400.0) ** 1.1).minw == 40
    # floor(log(1680)) = floor(7.43); floor(2 * log(100)) = floor(9.21)
    assert psy.psy_min_duration(1680) == 7
    assert psy.psy_min_duration(100, delta=2.0) == 9
    with pytest.raises(ParameterError):
        psy.psy_min_duration(100, delta=0)


# -- every window against statsmodels' adfuller ----------------------------------------------


@pytest.mark.parametrize("lag", [0, 2])
def test_every_window_equals_adfuller(lag):
    rng = np.random.default_rng(100 + lag)
    n, minw = 50, 8
    y = 50 + np.cumsum(rng.standard_normal(n))
    stats = psy.window_statistics(y, minw=minw, lag=lag)
    ref = np.full((n, n), np.nan)
    for r1 in range(n):
        for r2 in range(r1 + minw + lag, n):
            ref[r1, r2] = _adfuller_stat(y[r1:r2 + 1], lag)
    # same windows (NaN pattern) and the same statistic to 1e-8 (both are double-precision OLS;
    # the observed difference is ~1e-14)
    assert np.array_equal(np.isnan(stats), np.isnan(ref))
    assert_allclose(stats, ref, rtol=0, atol=1e-8, equal_nan=True)
    # the sequences of radf() are the obvious reductions of that matrix
    res = psy.radf(y, minw=minw, lag=lag)
    ends = np.arange(minw + lag, n)
    assert_allclose(res.badf.to_numpy(), ref[0, ends], rtol=0, atol=1e-8)
    assert_allclose(res.bsadf.to_numpy(), np.nanmax(ref[:, ends], axis=0), rtol=0, atol=1e-8)
    assert res.gsadf == pytest.approx(np.nanmax(ref), abs=1e-8)
    assert res.sadf == pytest.approx(np.nanmax(ref[0]), abs=1e-8)
    assert res.adf == pytest.approx(ref[0, n - 1], abs=1e-8)


@pytest.mark.parametrize("lag", [0, 2])
def test_near_deterministic_windows_stay_accurate(lag):
    # Cancellation stress: a level of 1e6 with a linear trend, and an exponential path, each
    # with tiny noise. The regressions are nearly perfect fits (conditioning ~ 1 / (1 - R^2)),
    # so both implementations lose digits; we ask for 1e-6 relative (observed ~1e-8).
    rng = np.random.default_rng(12)
    n, minw = 60, 8
    t = np.arange(n)
    for y in (1e6 + 0.5 * t + 1e-3 * rng.standard_normal(n),
              100 * np.exp(0.05 * t) + 1e-2 * rng.standard_normal(n)):
        stats = psy.window_statistics(y, minw=minw, lag=lag)
        for r1 in range(0, n - minw - lag, 3):
            for r2 in range(r1 + minw + lag, n, 2):
                ref = _adfuller_stat(y[r1:r2 + 1], lag)
                assert stats[r1, r2] == pytest.approx(ref, rel=1e-6, abs=1e-8), (r1, r2)


# -- pyexuber reference -----------------------------------------------------------------------


@pytest.mark.parametrize("n", [100, 400, 1600])
@pytest.mark.parametrize("lag", [0, 1])
def test_matches_pyexuber_radf(n, lag):
    y = 100 + np.cumsum(np.random.default_rng(n + lag).standard_normal(n))
    ours = psy.radf(y, lag=lag)
    ref = exuber.radf(y, lag=lag)
    assert ours.minw == ref.minw and ours.lag == ref.lag and ours.nobs == ref.n
    # 1e-10: the two are the same OLS t-ratio computed by different recursions (observed 1e-13)
    tol = dict(rtol=0, atol=1e-10)
    assert_allclose(ours.badf.to_numpy(), ref.badf[:, 0], **tol)
    assert_allclose(ours.bsadf.to_numpy(), ref.bsadf[:, 0], **tol)
    assert_allclose([ours.adf, ours.sadf, ours.gsadf],
                    [ref.adf[0], ref.sadf[0], ref.gsadf[0]], **tol)


def test_invariant_to_units_and_level():
    # the t-ratio is invariant to y -> a + b*y; a large offset would break naive cumulative sums
    y = np.cumsum(np.random.default_rng(3).standard_normal(300))
    base = psy.radf(y)
    shifted = psy.radf(1e9 + 1e4 * y)
    assert_allclose(shifted.bsadf.to_numpy(), base.bsadf.to_numpy(), rtol=0, atol=1e-9)
    assert_allclose(shifted.badf.to_numpy(), base.badf.to_numpy(), rtol=0, atol=1e-9)


def test_series_input_keeps_dates_and_summary():
    dates = pd.date_range("2000-01-31", periods=120, freq="ME")
    y = pd.Series(np.cumsum(np.random.default_rng(4).standard_normal(120)), index=dates,
                  name="price")
    res = psy.radf(y, minw=20)
    assert res.bsadf.index[0] == dates[20] and res.bsadf.index[-1] == dates[-1]
    assert len(res.badf) == 100
    assert list(res.summary().index) == ["adf", "sadf", "gsadf"]
    assert res.summary().loc["gsadf", "value"] == res.gsadf
    assert "price" in res._repr_html_()
    with pytest.raises(Exception):  # frozen
        res.gsadf = 0.0
    plain = psy.radf(y.to_numpy(), minw=20)
    assert plain.bsadf.index[0] == 20
    assert_allclose(plain.bsadf.to_numpy(), res.bsadf.to_numpy(), rtol=0, atol=0)


def test_bad_arguments_raise_parameter_error():
    y = np.cumsum(np.random.default_rng(5).standard_normal(60))
    with pytest.raises(ParameterError, match="minw"):
        psy.radf(y, minw=2)
    with pytest.raises(ParameterError, match="no window"):
        psy.radf(y, minw=60)
    with pytest.raises(ParameterError, match="NaN"):
        psy.radf(np.r_[y, np.nan])
    with pytest.raises(ParameterError, match="lag"):
        psy.radf(y, lag=-1)
    with pytest.raises(ParameterError, match="wild"):
        psy.critical_values(60, method="wild")
    with pytest.raises(ParameterError, match="method"):
        psy.critical_values(60, method="bootstrap")


# -- the published S&P 500 result ------------------------------------------------------------


def test_reproduces_psy_2015_sp500_gsadf():
    market = require_shared_market()
    pd_ratio = pd.read_csv(market / "shiller" / "psy_sp500_pd.csv", comment="#", header=None)
    y = pd_ratio.iloc[:1680, 0].to_numpy(dtype=float)  # 1871-01 .. 2010-12, PSY's sample
    res = psy.radf(y, minw=psy.psy_minw(1680), lag=0)
    assert res.minw == 90
    # PSY (2015) report GSADF = 4.21 (two decimals, so +-0.005 rounding); we allow
    # 0.01. Observed 4.2069, and the same for minw 89..91 (the maximising window is long).
    assert res.gsadf == pytest.approx(4.21, abs=0.01)


# -- critical values --------------------------------------------------------------------------


def test_simulation_is_deterministic_across_thread_counts_and_nrep():
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = psy.simulate_distribution(80, nrep=300, seed=9)
        numba.set_num_threads(old)
        many = psy.simulate_distribution(80, nrep=300, seed=9)
    finally:
        numba.set_num_threads(old)
    for key in ("adf", "sadf", "gsadf", "bsadf", "sadf_seq"):
        assert np.array_equal(one[key], many[key])
    # a shorter run is a prefix of a longer one (replications draw in a fixed order)
    short = psy.simulate_distribution(80, nrep=100, seed=9)
    assert np.array_equal(short["gsadf"], one["gsadf"][:100])
    # and it matches radf() on the same random walk
    rng = np.random.default_rng(9)
    y0 = np.cumsum(rng.standard_normal(80) + 1.0 / 80)
    assert one["gsadf"][0] == pytest.approx(psy.radf(y0).gsadf, abs=1e-12)


def test_committed_tables_are_used_and_regenerate_from_their_seed():
    cv = psy.critical_values(100)
    assert cv.source == "mc_n100_minw19_lag0.json" and cv.nrep == 10_000
    meta = json.loads((psy.CV_TABLE_DIR / cv.source).read_text())
    for key in ("seed", "nrep", "n", "minw", "lag", "generator"):
        assert key in meta
    # asking for more replications than the table holds simulates instead
    assert psy.critical_values(100, nrep=10_001).source == "simulated"
    # regenerating with the recorded seed gives the table back (stored rounded to 4 decimals)
    again = psy.critical_values(100, nrep=meta["nrep"], seed=meta["seed"], use_table=False)
    assert_allclose(again.summary().to_numpy(), cv.summary().to_numpy(), rtol=0, atol=5e-5 + 1e-12)
    assert_allclose(again.bsadf_cv.to_numpy(), cv.bsadf_cv.to_numpy(), rtol=0, atol=5e-5 + 1e-12)
    assert_allclose(again.bsadf_cv_runmax.to_numpy(), cv.bsadf_cv_runmax.to_numpy(), rtol=0,
                    atol=5e-5 + 1e-12)
    for n in psy.DEFAULT_TABLE_N:
        assert psy.critical_values(n).source.startswith(f"mc_n{n}_")


def test_bsadf_sequences_are_consistent():
    cv = psy.critical_values(400)
    # at the first window end the BSADF is the single shortest window = BADF = runmax
    assert_allclose(cv.bsadf_cv.iloc[0], cv.bsadf_cv_runmax.iloc[0], rtol=0, atol=1e-12)
    # the running maximum at the last date is the SADF statistic itself
    assert_allclose(cv.bsadf_cv_runmax.iloc[-1].to_numpy(), cv.sadf.to_numpy(), rtol=0, atol=1e-12)
    # quantiles increase with the level; a sup over more windows has a larger quantile
    assert (np.diff(cv.bsadf_cv.to_numpy(), axis=1) > 0).all()
    assert cv.gsadf[0.95] > cv.sadf[0.95] > cv.adf[0.95]
    assert (cv.bsadf_cv_runmax.iloc[-1] > cv.bsadf_cv.iloc[-1]).all()


def _quantile_se(draws: np.ndarray, p: float) -> float:
    """Asymptotic s.e. of the sample p-quantile, sqrt(p(1-p)/n)/f(q_p), with the density f
    estimated by the difference quotient of the empirical quantile function."""
    h = min(0.01, (1 - p) / 2)
    f = 2 * h / (np.quantile(draws, p + h) - np.quantile(draws, p - h))
    return math.sqrt(p * (1 - p) / len(draws)) / f


@pytest.mark.slow
def test_monte_carlo_values_agree_with_pyexuber_radf_mc_cv():
    n, ours_nrep, ref_nrep = 400, 4000, 2000
    sims = psy.simulate_distribution(n, nrep=ours_nrep, seed=123)
    ref = exuber.radf_mc_cv(n, nrep=ref_nrep, seed=321)
    # Independent Monte Carlo estimates differ by their sampling error only: the s.e. of the
    # difference is se_ours * sqrt(1 + ours_nrep / ref_nrep). We allow 4 s.e. (18 comparisons:
    # a false alarm has probability < 0.2%). PSY's drift of 1/T (exuber simulates none) moves
    # these quantiles by much less than that at T = 400.
    inflate = math.sqrt(1 + ours_nrep / ref_nrep)
    checks = [("adf", sims["adf"], ref.adf_cv), ("sadf", sims["sadf"], ref.sadf_cv),
              ("gsadf", sims["gsadf"], ref.gsadf_cv)]
    for j in (n // 4, n // 2, n - psy.psy_minw(n) - 1):  # exuber's BSADF cv = our runmax
        checks.append((f"runmax[{j}]", sims["sadf_seq"][:, j], ref.bsadf_cv[j]))
    for name, draws, ref_q in checks:
        for p, q_ref in zip(psy.LEVELS, ref_q):
            q = np.quantile(draws, p)
            tol = 4 * inflate * _quantile_se(draws, p)
            assert abs(q - q_ref) <= tol, (name, p, q, q_ref, tol)


def test_size_of_gsadf_on_random_walks():
    n, nsim = 200, 3000
    cv = psy.critical_values(n)  # committed table, nrep = 10000
    rng = np.random.default_rng(2718)
    stats = np.array([psy.radf(np.cumsum(rng.standard_normal(n))).gsadf for _ in range(nsim)])
    rate = np.mean(stats > cv.gsadf[0.95])
    # binomial s.e. sqrt(.05*.95/3000) = 0.0040, plus the table's own Monte Carlo error in the
    # size (~sqrt(.05*.95/10000) = 0.0022): s.d. 0.0045, tolerance 4 s.d. = 0.018
    assert abs(rate - 0.05) <= 0.018, rate
    # the pointwise BSADF critical value has pointwise size 5% too (same tolerance)
    bs = np.array([psy.radf(np.cumsum(rng.standard_normal(n))).bsadf.iloc[[60, -1]].to_numpy()
                   for _ in range(nsim)])
    pointwise = np.mean(bs > cv.bsadf_cv[0.95].iloc[[60, -1]].to_numpy(), axis=0)
    assert np.all(np.abs(pointwise - 0.05) <= 0.018), pointwise


def test_power_on_psy_bubble_process():
    n, nsim = 400, 200
    cv = psy.critical_values(n)
    te, tf = int(0.4 * n), int(0.55 * n)  # bubble over 15% of the sample, as in PSY's designs
    rng = np.random.default_rng(31)
    psy_dgp = np.mean([psy.radf(_bubble(n, te, tf, rng)).gsadf > cv.gsadf[0.95]
                       for _ in range(nsim)])
    clear = np.mean([psy.radf(_bubble(n, te, tf, rng, alpha=0.5)).gsadf > cv.gsadf[0.95]
                     for _ in range(nsim)])
    # PSY's own calibration (delta = 1 + n^-0.6, sigma = 6.79) is a mild bubble: measured power
    # 0.83 with 300 draws (s.e. 0.027 at 200); 0.72 is 4 s.e. below. With delta = 1 + n^-0.5
    # measured 0.98; 0.93 is > 3 s.e. below. A wrong statistic gives power near 5%.
    assert psy_dgp >= 0.72, psy_dgp
    assert clear >= 0.93, clear


@pytest.mark.slow
def test_wild_bootstrap_controls_size_under_a_variance_break():
    n, nsim = 100, 100
    cv_mc = psy.critical_values(n)
    rng = np.random.default_rng(5)
    scale = np.where(np.arange(n) < 0.7 * n, 1.0, 6.0)  # volatility up 6x late in the sample
    mc = wild = 0
    for i in range(nsim):
        y = np.cumsum(rng.standard_normal(n) * scale)
        res = psy.radf(y)
        mc += res.gsadf > cv_mc.gsadf[0.95]
        wb = psy.critical_values(n, method="wild", y=y, nrep=199, seed=i)
        wild += res.gsadf > wb.gsadf[0.95]
    # the homoskedastic Monte Carlo values over-reject badly (measured 51% on 200 draws), the
    # wild bootstrap does not (measured 7%): allow 5% + 3 binomial s.e. (0.065) at 100 draws
    assert mc / nsim >= 0.30, mc
    assert wild / nsim <= 0.05 + 0.065, wild


def test_wild_bootstrap_with_lags_runs_and_is_seeded():
    y = np.cumsum(np.random.default_rng(8).standard_normal(90))
    a = psy.critical_values(None, method="wild", y=y, lag=1, nrep=50, seed=3)
    b = psy.critical_values(90, method="wild", y=pd.Series(y), lag=1, nrep=50, seed=3)
    assert a.method == "wild" and a.n == 90 and a.lag == 1
    assert_allclose(a.bsadf_cv.to_numpy(), b.bsadf_cv.to_numpy(), rtol=0, atol=0)
    assert a.bsadf_cv.shape == (90 - a.minw - 1, 3)


# -- date-stamping ----------------------------------------------------------------------------


def test_datestamp_finds_a_planted_episode():
    n, te, tf, nsim = 200, 80, 110, 100
    cv = psy.critical_values(n)
    rng = np.random.default_rng(2024)
    hits = 0
    for _ in range(nsim):
        ep = psy.datestamp(psy.radf(_bubble(n, te, tf, rng, alpha=0.5)), cv).table
        if len(ep):
            k = ep["duration"].idxmax()
            start, end = ep.loc[k, "start"], ep.loc[k, "end"]
            # origination lags the true start (the test needs evidence to accumulate): allow
            # 25 observations after, 5 before; termination is the collapse date tf + 1 give or
            # take the noise: allow tf .. tf + 3
            hits += (te - 5 <= start <= te + 25) and not ep.loc[k, "ongoing"] and tf <= end <= tf + 3
    # measured 93 of 100; the binomial s.d. at p = 0.93 is 2.6, so 85 is 3 s.d. below
    assert hits >= 85, hits


def test_datestamp_rarely_dates_a_random_walk():
    n, nsim = 200, 1000
    cv = psy.critical_values(n)
    rng = np.random.default_rng(11)
    found = sum(len(psy.datestamp(psy.radf(np.cumsum(rng.standard_normal(n))), cv).table) > 0
                for _ in range(nsim))
    # dating happens only after GSADF rejects at 5%, so at most ~5% of null series show an
    # episode (measured 5.2%); 0.05 + 3 binomial s.e. (0.021) = 0.071, rounded up to 0.075
    assert found / nsim <= 0.075, found


def test_datestamp_table_layout_and_ongoing_episode():
    n = 200
    dates = pd.date_range("2005-01-31", periods=n, freq="ME")
    y = pd.Series(np.r_[100 + np.cumsum(np.random.default_rng(1).standard_normal(150)),
                        np.zeros(50)], index=dates)
    y.iloc[150:] = y.iloc[149] * 1.04 ** np.arange(1, 51)  # explosive to the end
    res = psy.radf(y)
    cv = psy.critical_values(n)
    ep = psy.datestamp(res, cv)
    assert list(ep.table.columns) == ["start", "peak", "end", "duration", "ongoing"]
    assert ep.rejected and len(ep.table) == 1
    row = ep.table.iloc[0]
    assert row["ongoing"] and pd.isna(row["end"]) and row["peak"] == dates[-1]
    assert dates[150] <= row["start"] <= dates[160]
    assert row["duration"] == (dates >= row["start"]).sum()
    assert ep.min_duration == psy.psy_min_duration(n) == 5
    # the same result from exuber's running-max sequence, and a stricter duration drops it
    assert len(psy.datestamp(res, cv, cv_sequence="runmax").table) == 1
    assert len(psy.datestamp(res, cv, min_duration=row["duration"] + 1).table) == 0
    assert "Explosive episodes" in ep._repr_html_()
    with pytest.raises(ParameterError, match="critical values are for"):
        psy.datestamp(res, psy.critical_values(100))
    with pytest.raises(ParameterError, match="level"):
        psy.datestamp(res, cv, level=0.975)


# -- panel (common bubble in a basket) ---------------------------------------------------------


def _basket(rng, n: int, N: int) -> pd.DataFrame:
    """N random walks sharing a common random-walk factor (cross-sectionally dependent)."""
    common = np.cumsum(rng.standard_normal((n, 1)), axis=0)
    return pd.DataFrame(common + np.cumsum(rng.standard_normal((n, N)), axis=0),
                        columns=[f"s{i}" for i in range(N)])


@pytest.mark.parametrize("lag", [0, 1])
def test_panel_statistic_matches_pyexuber(lag):
    df = _basket(np.random.default_rng(40 + lag), 200, 3)
    ours = psy.radf_panel(df, lag=lag)
    ref = exuber.radf(df, lag=lag)
    assert_allclose(ours.bsadf_panel.to_numpy(), ref.bsadf_panel, rtol=0, atol=1e-10)
    assert ours.gsadf_panel == pytest.approx(ref.gsadf_panel, abs=1e-10)
    assert_allclose(ours.members["gsadf"].to_numpy(), ref.gsadf, rtol=0, atol=1e-10)
    assert ours.summary().loc["panel", "gsadf"] == ours.gsadf_panel
    with pytest.raises(ParameterError, match="one column per series"):
        psy.radf_panel(df[["s0"]])


@pytest.mark.slow
def test_panel_bootstrap_size_and_power():
    n, N, nsim = 100, 3, 60
    rng = np.random.default_rng(77)
    size = power = 0
    for i in range(nsim):
        df = _basket(rng, n, N)
        cv = psy.panel_critical_values(df, nrep=99, seed=i)
        size += psy.radf_panel(df).gsadf_panel > cv.gsadf_panel[0.95]
        bubble = _bubble(n, 40, 55, rng, alpha=0.5)  # one bubble shared by the whole basket
        dfb = pd.DataFrame({j: bubble + 3 * np.cumsum(rng.standard_normal(n)) for j in range(N)})
        cvb = psy.panel_critical_values(dfb, nrep=99, seed=i)
        power += psy.radf_panel(dfb).gsadf_panel > cvb.gsadf_panel[0.95]
    # measured on 100 draws: size 4%, power 93%. Size: 5% + 3 binomial s.e. at 60 draws (0.084);
    # power: 0.78 is more than 4 s.e. (0.033) below 0.93
    assert size / nsim <= 0.05 + 0.084, size
    assert power / nsim >= 0.78, power
    ep = psy.datestamp_panel(psy.radf_panel(dfb), cvb)
    assert list(ep.table.columns) == ["start", "peak", "end", "duration", "ongoing"]


def test_panel_bootstrap_is_deterministic_across_threads():
    df = _basket(np.random.default_rng(3), 80, 2)
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = psy.panel_critical_values(df, nrep=40, seed=5)
    finally:
        numba.set_num_threads(old)
    many = psy.panel_critical_values(df, nrep=40, seed=5)
    assert_allclose(one.bsadf_panel_cv.to_numpy(), many.bsadf_panel_cv.to_numpy(), rtol=0, atol=0)
    assert one.bsadf_panel_cv.shape == (80 - psy.psy_minw(80), 3)


# -- one "explosive now" ----------------------------------------------------------------------


def test_table_nobs_picks_the_largest_committed_table_not_above_the_length():
    assert psy.table_nobs(99) == 0
    assert psy.table_nobs(100) == 100
    assert psy.table_nobs(399) == 200
    assert psy.table_nobs(1599) == 800
    assert psy.table_nobs(25_000) == 1600
    for n in psy.DEFAULT_TABLE_N:  # every rule length has a committed table: nothing is simulated
        assert psy.critical_values(n).source.endswith(".json")


def test_explosive_now_equals_psy_on_the_last_table_length_of_log_prices():
    rng = np.random.default_rng(5)
    dates = pd.bdate_range("2015-01-01", periods=950)
    prices = pd.Series(np.exp(_bubble(950, 780, 949, rng, alpha=0.5) / 100), dates, name="X")
    now = psy.explosive_now(prices)
    assert now.nobs == 800 and now.last_date == dates[-1] and now.name == "X"
    # the slow, obvious version: truncate by hand, test, date-stamp with the committed table
    y = np.log(prices.iloc[-800:])
    res = psy.radf(y)
    cv = psy.critical_values(800)
    episodes = psy.datestamp(res, cv).table
    assert now.bsadf == pytest.approx(float(res.bsadf.iloc[-1]), abs=1e-12)
    assert now.cv95 == pytest.approx(float(cv.bsadf_cv[0.95].iloc[-1]), abs=1e-12)
    assert now.margin == pytest.approx(now.bsadf - now.cv95, abs=1e-12)
    assert now.gsadf == pytest.approx(res.gsadf, abs=1e-12)
    pd.testing.assert_frame_equal(now.episodes.table, episodes)
    # a bubble running to the last date: an ongoing episode that started after the planted start
    assert now.explosive and now.rejected
    assert dates[780] <= now.episode_start <= dates[-1]
    # datestamp without critical values falls back to the committed table for the sample size
    pd.testing.assert_frame_equal(psy.datestamp(res).table, episodes)


def test_explosive_now_on_random_walks_is_rare_and_needs_the_gate_and_duration():
    rng = np.random.default_rng(17)
    dates = pd.bdate_range("2010-01-01", periods=450)
    flags, above_only = 0, 0
    nsim = 300
    for _ in range(nsim):
        now = psy.explosive_now(pd.Series(np.exp(np.cumsum(rng.normal(0, 0.01, 450))), dates))
        flags += now.explosive
        above_only += now.margin > 0
        assert now.nobs == 400
        assert not now.explosive or (now.margin > 0 and now.rejected)
    # an ongoing episode needs GSADF to reject (5% of null series) and BSADF above its value at
    # the last date for floor(log 400) = 5 days: far rarer than BSADF above its value on one day
    # (measured: 1.0% of series flagged, 5.0% with a positive margin). 3 binomial s.e. above 5%
    # is 8.8%: the flag rate must stay under it.
    assert flags / nsim <= 0.088, flags
    assert flags < above_only


def test_explosive_now_rejects_damaged_prices_and_short_series():
    dates = pd.bdate_range("2020-01-01", periods=120)
    good = pd.Series(np.linspace(100, 120, 120), dates, name="NVDA")
    assert psy.explosive_now(good.iloc[:99]) is None
    bad = good.copy()
    bad.iloc[50] = np.inf
    with pytest.raises(ParameterError, match="NVDA: price inf"):
        psy.explosive_now(bad)
    bad.iloc[50] = -1.0
    with pytest.raises(ParameterError, match="not a finite positive number"):
        psy.explosive_now(bad)
    with_gap = good.copy()
    with_gap.iloc[50] = np.nan  # a missing day is dropped, not an error
    assert psy.explosive_now(with_gap).nobs == 100


def test_radf_through_the_fit_cache_is_bit_identical_and_computes_once(tmp_path, monkeypatch):
    from analysis.bubbles.fitcache import FitCache

    y = pd.Series(np.log(_bubble(300, 150, 190, np.random.default_rng(5), alpha=0.5) + 1000.0),
                  index=pd.bdate_range("2020-01-01", periods=300))
    cache = FitCache(tmp_path / "fits.sqlite")
    plain = psy.radf(y)
    first = psy.radf(y, cache=cache)
    now = psy.explosive_now(np.exp(y), cache=cache)
    for a, b in ((plain.badf, first.badf), (plain.bsadf, first.bsadf)):
        pd.testing.assert_series_equal(a, b, rtol=0, atol=0)

    def no_numba(*args):
        raise AssertionError("recomputed a stored path")

    monkeypatch.setattr(psy, "_radf_core", no_numba)
    again = psy.radf(y, cache=cache)
    pd.testing.assert_series_equal(plain.bsadf, again.bsadf, rtol=0, atol=0)
    assert (again.adf, again.sadf, again.gsadf) == (plain.adf, plain.sadf, plain.gsadf)
    assert psy.explosive_now(np.exp(y), cache=cache).bsadf == now.bsadf   # the same prices: read back
    with pytest.raises(AssertionError, match="recomputed"):   # other levels, window or lag: computed
        psy.radf(y, minw=40, cache=cache)
    with pytest.raises(AssertionError, match="recomputed"):
        psy.radf(y.iloc[:-1], cache=cache)


def test_a_stored_path_of_the_wrong_length_is_recomputed(tmp_path):
    from analysis.bubbles.fitcache import FitCache

    y = np.log(_bubble(200, 80, 110, np.random.default_rng(6)))
    cache = FitCache(tmp_path / "fits.sqlite")
    plain = psy.radf(y, cache=cache)
    minw = plain.minw
    key = cache.key(y, f"psy radf minw={minw} lag=0 v1".encode())
    cache.put_many({key: np.zeros(7)}, "radf")              # a damaged entry
    again = psy.radf(y, cache=cache)
    assert_allclose(again.bsadf.to_numpy(), plain.bsadf.to_numpy(), rtol=0, atol=0)
    assert cache.get_many([key], "radf")[key].shape == (2 * len(plain.bsadf),)   # and repaired
