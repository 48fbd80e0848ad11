"""The LPPLS trust indicator: resampled residuals refitted; high on a clean simulated bubble, low
on a random walk, reproducible, and its resampling matches the stated scheme."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.bubbles import _lppls_core as core
from analysis.bubbles import lppls as L
from analysis.bubbles import trust as T
from analysis.errors import ParameterError
from tests.bubbles.test_lppls import lppls_series, random_walk

WINDOWS = (300, 250, 200, 150)


@pytest.fixture(scope="module", autouse=True)
def _compiled():
    L.warmup()


def test_trust_is_high_on_a_clean_bubble_and_low_on_a_random_walk():
    # noise sd 0.005 around an LPPLS path 8 days before tc: every refit sees the same bubble
    bubble = T.trust(lppls_series(1, n=400, tc_after=8.0, sd=0.005), windows=WINDOWS, n_resamples=12)
    assert bubble.pos_conf == 1.0
    assert bubble.pos_trust >= 0.75, bubble.windows   # observed 1.0
    assert bubble.neg_trust == 0.0
    rw = T.trust(random_walk(2, n=400), windows=WINDOWS, n_resamples=12)
    assert rw.pos_trust <= 0.25 and rw.neg_trust <= 0.25, rw.windows
    assert list(bubble.windows["window"]) == list(WINDOWS)
    assert {"pos_share", "neg_share"} <= set(bubble.windows.columns)
    assert bubble.pos_trust == float(np.median(bubble.windows["pos_share"]))
    assert "resamples" in bubble.summary().columns[-2] and "LPPLS trust" in bubble._repr_html_()


def test_trust_is_reproducible_and_seeded():
    s = lppls_series(2, n=320, tc_after=10.0, sd=0.01)
    a = T.trust(s, windows=(300, 200), n_resamples=6, seed=3)
    b = T.trust(s, windows=(300, 200), n_resamples=6, seed=3)
    pd.testing.assert_frame_equal(a.windows, b.windows)
    assert a.scheme == "iid residual bootstrap" and a.n_resamples == 6


def test_trust_through_the_fit_cache_is_the_same_and_reads_the_refits_whole(tmp_path, monkeypatch):
    from analysis.bubbles.fitcache import FitCache

    s = lppls_series(4, n=320, tc_after=10.0, sd=0.01)
    cache = FitCache(tmp_path / "fits.sqlite")
    plain = T.trust(s, windows=(300, 200), n_resamples=6, seed=1)
    first = T.trust(s, windows=(300, 200), n_resamples=6, seed=1, cache=cache)
    pd.testing.assert_frame_equal(plain.windows, first.windows)

    def no_paths(*args):
        raise AssertionError("rebuilt the resampled paths")

    monkeypatch.setattr(core, "model_path", no_paths)
    again = T.trust(s, windows=(300, 200), n_resamples=6, seed=1, cache=cache)
    pd.testing.assert_frame_equal(plain.windows, again.windows)
    assert (again.pos_trust, again.neg_trust) == (plain.pos_trust, plain.neg_trust)
    with pytest.raises(AssertionError, match="rebuilt"):   # another seed or resample count: computed
        T.trust(s, windows=(300, 200), n_resamples=5, seed=1, cache=cache)


def test_resampled_paths_are_the_fit_plus_its_own_residuals():
    """The scheme, rebuilt by hand for one window: the synthetic paths hold exactly the fitted path
    plus residuals drawn from the window's own residuals (a multiset check, any draw)."""
    s = lppls_series(3, n=260, tc_after=5.0)
    conf = L.confidence(s, windows=(250,))
    f = conf.fits.iloc[0]
    y = np.log(s.to_numpy())[-250:]
    yhat = core.model_path(250, f.tc_days, f.m, f.omega, f.A, f.B, f.C1, f.C2)
    resid = y - yhat
    rng = np.random.default_rng([0, 250, 7])          # the per-window seed trust() uses
    idx = rng.integers(0, 250, size=(4, 250))
    paths = yhat[None, :] + resid[idx]
    assert np.isin(np.round(paths - yhat, 12), np.round(resid, 12)).all()
    # and the fitted path is what the fit's SSE was computed on
    np.testing.assert_allclose((resid ** 2).sum(), f.sse, rtol=1e-9)


def test_bad_arguments():
    s = lppls_series(0, n=200)
    with pytest.raises(ParameterError):
        T.trust(s, n_resamples=0)
    with pytest.raises(ParameterError):
        T.trust(s, windows=(500,))          # no window fits in 200 prices
