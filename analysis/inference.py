"""Shared statistics of the claim tests: the verdict scale, Holm's adjustment, company-clustered
two-sample comparisons (Hodges-Lehmann shift, Mann-Whitney p, bootstrap interval, minimum
detectable effect) and effective sample sizes.

The verdict scale
-----------------
Every claim test compares an ``effect`` with a ``null`` value and knows which side of the null
supports the claim (``supports``: ``"above"`` or ``"below"``). With ``p_raw`` from the test and
``p_adjusted`` from Holm's step-down procedure over the primary tests (:func:`holm`):

* ``supported`` / ``contradicted`` - ``p_adjusted < ALPHA`` with the effect on the supporting /
  opposite side of the null. Only these two count as rejections of the null.
* ``leaning_supported`` / ``leaning_contradicted`` - not rejected after adjustment, but
  ``p_raw < LEANING_P`` with the effect on that side: evidence a reader should weigh, not a finding.
* ``inconclusive`` - a test was run and neither of the above holds.
* ``not_testable`` - the data cannot support a test (too few independent units, or the data the
  claim needs is absent); the reason is stated.

References
----------
Holm, S. (1979). A simple sequentially rejective multiple test procedure. Scandinavian Journal
of Statistics 6(2), 65-70.
Hodges, J. L. and Lehmann, E. L. (1963). Estimates of location based on rank tests. Annals of
Mathematical Statistics 34(2), 598-611.
Noether, G. E. (1987). Sample size determination for some common nonparametric tests. JASA
82(398), 645-647.
Kish, L. (1965). Survey Sampling. Wiley (effective sample size of weighted estimates).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats

ALPHA = 0.05
LEANING_P = 0.10
INTERVAL_LEVEL = 0.90
VERDICTS = ("supported", "leaning_supported", "inconclusive", "leaning_contradicted", "contradicted",
            "not_testable")


@dataclass(frozen=True)
class ClaimTest:
    """One claim's test: the effect with its interval, effective sample sizes, the smallest effect
    the data could detect, p-values and the verdict.

    ``n_eff`` maps each side (or unit) to its effective number of independent units; ``mde`` is
    the smallest effect (in the effect's units) detectable with 80% power at ``ALPHA``;
    ``uses_prices`` says whether market prices enter (claims that use none must give the same
    verdict with and without market data).
    """

    number: int
    statement: str
    test: str                      # the method, in words
    effect_label: str              # what the effect measures, with its unit
    effect: float | None
    interval: tuple[float, float] | None
    n_eff: dict
    mde: float | None
    p_raw: float | None
    null: float = 0.0
    supports: str = "above"        # the side of the null that supports the claim
    p_adjusted: float | None = None
    verdict: str = "not_testable"
    evidence: str = ""
    limits: str = ""
    definition: str = "broad"
    uses_prices: bool = False
    details: dict = field(default_factory=dict)

    @property
    def testable(self) -> bool:
        return self.p_raw is not None and self.effect is not None

    def metrics(self) -> dict:
        """The claim as plain values for metrics.json."""
        r = lambda v, d=4: None if v is None or not np.isfinite(v) else round(float(v), d)  # noqa: E731
        return {"statement": self.statement, "test": self.test, "effect_label": self.effect_label,
                "effect": r(self.effect), "interval": None if self.interval is None else [r(v) for v in self.interval],
                "interval_level": INTERVAL_LEVEL, "null": self.null, "supports": self.supports,
                "n_eff": {k: r(v, 1) for k, v in self.n_eff.items()}, "mde": r(self.mde),
                "p_raw": r(self.p_raw), "p_adjusted": r(self.p_adjusted), "verdict": self.verdict,
                "definition": self.definition, "uses_prices": self.uses_prices,
                **({"details": self.details} if self.details else {})}

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"claim": self.number, "verdict": self.verdict, "effect": self.effect,
                              "interval": self.interval, "n_eff": self.n_eff, "p_raw": self.p_raw,
                              "p_adjusted": self.p_adjusted, "test": self.test}])


def not_testable(number: int, statement: str, test: str, effect_label: str, reason: str,
                 n_eff: dict | None = None, **kwargs) -> ClaimTest:
    """A claim the data cannot test, with the reason as its evidence."""
    return ClaimTest(number, statement, test, effect_label, None, None, n_eff or {}, None, None,
                     verdict="not_testable", evidence=reason, **kwargs)


def verdict(effect: float | None, null: float, supports: str, p_raw: float | None,
            p_adjusted: float | None, alpha: float = ALPHA, leaning_p: float = LEANING_P) -> str:
    """The verdict scale of the module docstring, as a function (tested on every branch)."""
    if effect is None or p_raw is None or not np.isfinite(effect) or not np.isfinite(p_raw):
        return "not_testable"
    if supports not in ("above", "below"):
        raise ValueError(f"supports must be 'above' or 'below', got {supports!r}")
    if effect == null:
        return "inconclusive"
    supporting = (effect > null) == (supports == "above")
    p_adj = p_raw if p_adjusted is None else p_adjusted
    if p_adj < alpha:
        return "supported" if supporting else "contradicted"
    if p_raw < leaning_p:
        return "leaning_supported" if supporting else "leaning_contradicted"
    return "inconclusive"


def holm(pvalues: dict) -> dict:
    """Holm-adjusted p-values (keys kept); None entries stay None and do not count in ``m``."""
    tested = sorted(((p, k) for k, p in pvalues.items() if p is not None and np.isfinite(p)))
    m = len(tested)
    out = {k: None for k in pvalues}
    running = 0.0
    for i, (p, k) in enumerate(tested):
        running = max(running, min(1.0, (m - i) * p))
        out[k] = running
    return out


def adjust(claims: list[ClaimTest]) -> list[ClaimTest]:
    """Holm across the given (primary) claims, then each verdict from its adjusted p-value."""
    adjusted = holm({c.number: c.p_raw for c in claims})
    return [replace(c, p_adjusted=adjusted[c.number],
                    verdict=verdict(c.effect, c.null, c.supports, c.p_raw, adjusted[c.number]))
            for c in claims]


def unadjusted(claim: ClaimTest) -> ClaimTest:
    """A sensitivity claim (another LLM definition): verdict from its raw p-value, not adjusted."""
    return replace(claim, p_adjusted=None, verdict=verdict(claim.effect, claim.null, claim.supports,
                                                           claim.p_raw, None))


# --------------------------------------------------------------------------------------------
# Two-sample comparisons with one value per independent unit (a company, a domain)
# --------------------------------------------------------------------------------------------


def hodges_lehmann(x, y) -> float:
    """Hodges-Lehmann shift: the median of all pairwise differences ``x_i - y_j``."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return float(np.median(np.subtract.outer(x, y)))


def mann_whitney_p(x, y) -> float:
    """Two-sided Mann-Whitney p-value (exact for small samples without ties, else asymptotic)."""
    return float(stats.mannwhitneyu(np.asarray(x, float), np.asarray(y, float), alternative="two-sided").pvalue)


def bootstrap_shift_interval(x, y, level: float = INTERVAL_LEVEL, n_boot: int = 999,
                             seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the Hodges-Lehmann shift, resampling units within each
    side (each unit is an independent cluster: a company with all its rounds)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    rng = np.random.default_rng(seed)
    xb = x[rng.integers(0, len(x), (n_boot, len(x)))]
    yb = y[rng.integers(0, len(y), (n_boot, len(y)))]
    diffs = xb[:, :, None] - yb[:, None, :]
    shifts = np.median(diffs.reshape(n_boot, -1), axis=1)
    tail = (1 - level) / 2
    lo, hi = np.quantile(shifts, [tail, 1 - tail])
    return float(lo), float(hi)


def robust_sd(values) -> float:
    """Scale of a sample that one outlier cannot inflate: 1.4826 x the median absolute deviation
    (the normal sd for normal data); the plain sd when the MAD is zero."""
    v = np.asarray(values, dtype=float)
    mad = 1.4826 * float(np.median(np.abs(v - np.median(v))))
    return mad if mad > 0 else float(np.std(v, ddof=1)) if len(v) > 1 else float("nan")


def mde_two_sample(x, y, alpha: float = ALPHA, power: float = 0.8) -> float:
    """Smallest location shift a two-sided Mann-Whitney test detects with ``power``.

    Noether's (1987) sample-size formula solved for the shift under a normal location model:
    ``P(X > Y) - 1/2 = (z_{1-alpha/2} + z_power) / sqrt(12 c (1 - c) N)`` with ``N = n1 + n2``,
    ``c = n1 / N`` and ``P(X > Y) = Phi(delta / (sigma sqrt 2))``, so
    ``delta = sigma sqrt(2) Phi^-1(1/2 + ...)``. ``sigma`` is the pooled robust sd of the two
    samples around their own medians (:func:`robust_sd`), so one outlier cannot inflate it.
    Returns inf when no shift reaches the power (tiny samples).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(x) < 2 or len(y) < 2:
        return float("nan")
    n = len(x) + len(y)
    c = len(x) / n
    pooled = np.concatenate([x - np.median(x), y - np.median(y)])
    sigma = robust_sd(pooled)
    excess = (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)) / math.sqrt(12 * c * (1 - c) * n)
    if excess >= 0.5:
        return float("inf")
    return float(sigma * math.sqrt(2) * stats.norm.ppf(0.5 + excess))


def kish_n(weights) -> float:
    """Kish's effective sample size of a weighted estimate: ``(sum w)^2 / sum w^2``."""
    w = np.asarray(weights, dtype=float)
    w = w[np.isfinite(w) & (w > 0)]
    return float(w.sum() ** 2 / (w ** 2).sum()) if len(w) else 0.0


def weighted_median(values, weights) -> float:
    """The value at which the cumulative weight first reaches half the total (lower median)."""
    v, w = np.asarray(values, dtype=float), np.asarray(weights, dtype=float)
    order = np.argsort(v)
    v, w = v[order], w[order]
    cum = np.cumsum(w)
    return float(v[np.searchsorted(cum, 0.5 * cum[-1])])
