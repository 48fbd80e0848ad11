"""The verdict scale, Holm's adjustment and the two-sample helpers, against hand values and
independent references."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from analysis import inference as I


@pytest.mark.parametrize("effect, supports, p_raw, p_adj, expected", [
    (0.5, "above", 0.001, 0.004, "supported"),
    (-0.5, "above", 0.001, 0.004, "contradicted"),
    (0.5, "above", 0.03, 0.12, "leaning_supported"),
    (-0.5, "above", 0.08, 0.30, "leaning_contradicted"),
    (0.5, "above", 0.40, 0.80, "inconclusive"),
    (-0.5, "below", 0.001, 0.002, "supported"),
    (None, "above", None, None, "not_testable"),
    (0.0, "above", 0.001, 0.001, "inconclusive"),
])
def test_every_verdict_is_reachable(effect, supports, p_raw, p_adj, expected):
    assert I.verdict(effect, 0.0, supports, p_raw, p_adj) == expected


def test_holm_matches_statsmodels_and_skips_untested():
    p = {1: 0.01, 2: 0.04, 3: None, 4: 0.03, 5: 0.2}
    got = I.holm(p)
    ref = multipletests([0.01, 0.04, 0.03, 0.2], method="holm")[1]
    np.testing.assert_allclose([got[1], got[2], got[4], got[5]], ref, rtol=1e-12)
    assert got[3] is None


def test_adjusted_verdicts_can_be_weaker_than_raw():
    claims = [I.ClaimTest(k, "s", "t", "e", 0.3, (0.1, 0.5), {}, 0.2, p) for k, p in ((1, 0.02), (2, 0.03), (3, 0.04))]
    out = I.adjust(claims)
    assert [c.verdict for c in out] == ["leaning_supported", "leaning_supported", "leaning_supported"]
    assert out[0].p_adjusted == pytest.approx(0.06)


def test_hodges_lehmann_and_its_bootstrap_cover_a_known_shift():
    rng = np.random.default_rng(3)
    covered = 0
    for i in range(200):
        x, y = rng.normal(1.0, 1, 20), rng.normal(0.0, 1, 30)
        lo, hi = I.bootstrap_shift_interval(x, y, level=0.90, n_boot=400, seed=i)
        covered += lo <= 1.0 <= hi
    # nominal 90%; percentile intervals of small samples run a little short. 200 draws: s.e.
    # 2.1 points, so 3 s.e. below 90% is 83.6%
    assert covered / 200 >= 0.836, covered
    assert I.hodges_lehmann([1, 2, 3], [0]) == 2.0


def test_mde_matches_a_simulated_power_of_80_percent():
    from scipy import stats

    rng = np.random.default_rng(0)
    # samples whose spread is exactly that of N(0, 1) (normal quantiles), so the MDE's sigma is 1
    x0 = y0 = stats.norm.ppf((np.arange(25) + 0.5) / 25)
    mde = I.mde_two_sample(x0, y0)
    hits = sum(I.mann_whitney_p(rng.normal(mde, 1, 25), rng.normal(0, 1, 25)) < 0.05 for _ in range(400))
    # the approximation targets 80%; 400 draws give a s.e. of 2 points: allow 3 s.e. either side
    assert 0.74 <= hits / 400 <= 0.86, (mde, hits)


def test_effective_sizes_and_weighted_median():
    assert I.kish_n([1, 1, 1, 1]) == 4
    assert I.kish_n([10, 1, 1, 1]) == pytest.approx(169 / 103)
    assert I.weighted_median([1, 2, 3, 100], [1, 1, 1, 0.1]) == 2
    assert I.weighted_median([1, 2, 3], [1, 1, 10]) == 3
