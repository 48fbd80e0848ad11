"""Slopes with Newey-West and dependent-wild-bootstrap inference: statsmodels as the independent
reference for the estimates and standard errors, simulations with known answers for the size of
the test, and the consistency of intervals with p-values."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.regression.linear_model import OLS
from threadpoolctl import threadpool_limits

from analysis import hac


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """The bootstrap's matrices are small: BLAS threads only contend with each other (tenfold
    slower on a busy two-core machine), so the simulations run single-threaded."""
    with threadpool_limits(1):
        yield


def _binomial_band(rate: float, sims: int) -> float:
    return 3 * np.sqrt(rate * (1 - rate) / sims)


def test_newey_west_lag_rule():
    assert hac.newey_west_lags(100) == 4
    assert hac.newey_west_lags(396) == 5      # the weekly sample 2019-2026
    assert hac.newey_west_lags(14) == 2       # fourteen quarterly changes


def test_hac_ols_matches_statsmodels():
    rng = np.random.default_rng(0)
    n = 80
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.normal(size=n)])
    y = X @ [0.5, 1.0, -2.0] + rng.standard_t(4, n)
    params, cov = hac.hac_ols(y, X, lags=3)
    ref = OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": 3, "use_correction": True})
    np.testing.assert_allclose(params, ref.params, rtol=1e-10)
    np.testing.assert_allclose(cov, ref.cov_params(), rtol=1e-10)


def test_slope_with_controls_matches_the_full_regression():
    """Frisch-Waugh-Lovell: the residualised slope and its Newey-West error equal statsmodels'
    coefficient on x in the regression on [1, m, x]."""
    rng = np.random.default_rng(1)
    n = 150
    m, x = rng.normal(size=n), rng.normal(size=n)
    y = 0.1 + 1.2 * m + 0.4 * x + rng.normal(size=n)
    s = hac.slope(y, x, m, n_boot=0)
    ref = OLS(y, np.column_stack([np.ones(n), m, x])).fit(cov_type="HAC", cov_kwds={"maxlags": s.lags,
                                                                                    "use_correction": True})
    assert s.beta == pytest.approx(ref.params[2], rel=1e-10)
    assert s.se == pytest.approx(ref.bse[2], rel=1e-10)


def test_pooled_slope_on_a_balanced_panel_is_the_portfolio_regression():
    """With every series observed every period, the common slope is the mean of the series'
    slopes (the equal-weighted portfolio's slope) and the Driscoll-Kraay error is the portfolio
    regression's Newey-West error (up to the n/(n-k) factor)."""
    rng = np.random.default_rng(2)
    n, k = 200, 5
    m, x = rng.normal(size=n), rng.normal(size=n)
    Y = 0.2 * m[:, None] * np.arange(1, k + 1) + np.outer(x, [0.0, 0.2, 0.4, 0.6, 0.8]) + rng.normal(size=(n, k))
    pooled = hac.pooled_slope(Y, x, m, n_boot=0)
    ref = OLS(Y.mean(axis=1), np.column_stack([np.ones(n), m, x])).fit(
        cov_type="HAC", cov_kwds={"maxlags": pooled.lags, "use_correction": False})
    assert pooled.beta == pytest.approx(ref.params[2], rel=1e-10)
    assert pooled.se * np.sqrt((n - 1) / n) == pytest.approx(ref.bse[2], rel=1e-10)


def test_unbalanced_panel_uses_each_series_on_its_own_periods():
    rng = np.random.default_rng(3)
    n = 300
    x, m = rng.normal(size=n), rng.normal(size=n)
    Y = np.column_stack([0.3 * x + 1.0 * m, 0.9 * x + 0.5 * m]) + 0.5 * rng.normal(size=(n, 2))
    Y[:200, 1] = np.nan                     # the second series starts late
    s = hac.pooled_slope(Y, x, m, n_boot=0)
    assert s.n == n
    # weights: each series' residual regressor variation (2/3 of it is the first series')
    xt0 = hac.residualise(x, np.column_stack([np.ones(n), m]))
    xt1 = hac.residualise(x[200:], np.column_stack([np.ones(100), m[200:]]))
    w0 = (xt0 ** 2).sum() / ((xt0 ** 2).sum() + (xt1 ** 2).sum())
    expected = w0 * 0.3 + (1 - w0) * 0.9
    assert s.beta == pytest.approx(expected, abs=4 * s.se)


def test_effective_sample_size_is_the_newey_west_variance_inflation():
    """n_eff = n / (1 + 2 sum_j w_j rho_j) of the slope's score, checked against the formula
    computed from the score's sample autocorrelations; about n for independent data."""
    rng = np.random.default_rng(4)
    n = 400

    def ar1(phi):
        e = rng.normal(size=n)
        out = np.empty(n)
        out[0] = e[0]
        for t in range(1, n):
            out[t] = phi * out[t - 1] + e[t]
        return out

    x, u = ar1(0.8), ar1(0.8)
    y = 0.5 * x + u
    s = hac.slope(y, x, n_boot=0)
    fit = OLS(y, np.column_stack([np.ones(n), x])).fit()
    score = (x - x.mean()) * fit.resid
    rho = [score[j:] @ score[:-j] / (score @ score) for j in range(1, s.lags + 1)]
    inflation = 1 + 2 * sum((1 - j / (s.lags + 1)) * r for j, r in enumerate(rho, start=1))
    assert s.n_eff == pytest.approx(n / inflation, rel=1e-8)
    assert s.n_eff < 0.5 * n
    iid = hac.slope(rng.normal(size=n) + 0.5 * (z := rng.normal(size=n)), z, n_boot=0)
    assert 0.8 * n < iid.n_eff <= n


def test_interval_is_the_set_of_nulls_the_test_keeps():
    rng = np.random.default_rng(5)
    x = rng.normal(size=60)
    s = hac.slope(0.4 * x + rng.standard_t(5, 60), x, seed=1)
    lo, hi = s.interval(0.90)
    assert lo < s.beta < hi
    assert s.p(s.beta) == pytest.approx(1.0)
    for edge, inside in ((lo, lo + 0.01 * s.se), (hi, hi - 0.01 * s.se)):
        assert s.p(inside) >= 0.10
        assert s.p(edge + np.sign(edge - s.beta) * 0.05 * s.se) < 0.10


def _funding_like(rng, n: int, sims: int, beta: float):
    """Log changes of lumpy quarterly funding: log levels = random walk + heavy-tailed noise, so
    changes are negatively autocorrelated and heavy-tailed (as one mega-round makes them)."""
    lx = np.cumsum(rng.normal(0, 0.3, (sims, n + 1)), axis=1) + 0.8 * rng.standard_t(4, (sims, n + 1))
    lu = 0.8 * rng.standard_t(4, (sims, n + 1))
    x, u = np.diff(lx, axis=1), np.diff(lu, axis=1)
    return x, 0.1 + beta * x + u


@pytest.mark.parametrize("n", [14, 29])
def test_bootstrap_test_keeps_its_size_where_the_asymptotic_t_does_not(n):
    """Size of the two-sided 5% test of a true null on 400 simulated funding-like samples with
    the real data's length (14 quarterly changes today; 29 quarters since 2019): within three
    binomial standard errors of 5%. The asymptotic Newey-West t test over-rejects at n = 14."""
    rng = np.random.default_rng(10 + n)
    sims = 400
    x, y = _funding_like(rng, n, sims, beta=0.5)
    fits = [hac.slope(y[i], x[i], n_boot=199, seed=i) for i in range(sims)]
    boot = np.mean([f.p(0.5) < 0.05 for f in fits])
    asym = np.mean([f.p_asymptotic(0.5) < 0.05 for f in fits])
    assert abs(boot - 0.05) <= _binomial_band(0.05, sims)
    if n == 14:
        assert asym > 0.05 + _binomial_band(0.05, sims)


def test_bootstrap_test_has_power_against_a_real_effect():
    rng = np.random.default_rng(20)
    x, y = _funding_like(rng, 29, 100, beta=1.5)
    assert np.mean([hac.slope(y[i], x[i], n_boot=199, seed=i).p(0.5) < 0.05 for i in range(100)]) > 0.6
