"""Recursive right-tailed ADF tests of Phillips, Shi and Yu (PSY): SADF, GSADF, BSADF.

The statistics (:func:`radf`), their critical values (:func:`critical_values`) and the
date-stamping of explosive episodes (:func:`datestamp`) are kept apart, as in exuber.

Conventions (exuber's, which :func:`radf` matches to 1e-10)
-----------------------------------------------------------
For each window the regression is

    dy_t = a + b * y_{t-1} + sum_{j=1..lag} c_j * dy_{t-j} + e_t,

and the statistic is the OLS t-ratio of ``b``. A window is a stretch of *levels*
``y[r1..r2]`` (0-based, inclusive); its regression uses the observations
``t = r1 + lag + 1, ..., r2``, i.e. ``r2 - r1 - lag`` of them, and every window has at least
``minw`` of them (``r2 - r1 - lag >= minw``). This is exactly what
``statsmodels.tsa.stattools.adfuller(y[r1:r2 + 1], maxlag=lag, autolag=None, regression="c")``
computes for that window. The BADF and BSADF sequences are indexed by the window end ``r2``,
which runs from ``minw + lag`` to ``T - 1``.

Computation
-----------
For a fixed end ``r2`` the start ``r1`` moves backwards one observation at a time and the
window's moments are updated in O(1) (O(lag^2)); nothing is differenced across global
cumulative sums, so long series and levels far from zero lose no precision. For ``lag = 0``
(the common case) the kernel keeps running sums of ``y_{t-1}`` and ``dy_t`` shifted by their
values at the window end, and the t-ratio is ``cxv * sqrt(df / (cxx * cvv - cxv^2))`` from the
co-moments. For ``lag > 0`` the means and co-moments of ``(dy lags, y_{t-1}, dy_t)`` follow
Welford's one-pass updates and the t-ratio comes from their ``(lag + 2)``-square factorisation
``C = L D L'``: ``t^2 = L[-1, -2]^2 * D[-2] * df / D[-1]`` (the coefficient on ``y_{t-1}`` is
``L[-1, -2]``, its residual variance ``D[-1] / df``). The maximum over windows is taken on
``sign(t) * t^2``, so a window costs no square root. The whole GSADF costs O(T^2) time and O(T)
memory (``window_statistics``, for tests, is the only O(T^2)-memory function). Kernels are
compiled with numba (``cache=True``); the Monte Carlo loop runs replications in parallel.
Accuracy: every window agrees with statsmodels' ``adfuller`` to ~1e-14 on random walks, and to
~1e-8 relative on near-deterministic trends (tests).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np
import pandas as pd

from analysis.errors import ParameterError

__all__ = [
    "LEVELS", "psy_minw", "psy_min_duration",
    "RadfResult", "radf", "window_statistics",
    "CriticalValues", "critical_values", "simulate_distribution",
    "Episodes", "datestamp",
    "PanelRadfResult", "radf_panel", "PanelCriticalValues", "panel_critical_values",
    "datestamp_panel",
]

#: Levels of the critical values, as fractions (90%, 95%, 99%).
LEVELS = (0.90, 0.95, 0.99)
#: Drift of the Monte Carlo null y_t = d * T**(-eta) + y_{t-1} + e_t (PSY 2015).
NULL_D = 1.0
NULL_ETA = 1.0
#: Folder of the committed Monte Carlo critical-value tables and their generator.
CV_TABLE_DIR = Path(__file__).resolve().parent / "cv_tables"
#: Sample sizes with a committed table (lag 0, minw = psy_minw(n)); see cv_tables/generate.py.
DEFAULT_TABLE_N = (100, 200, 400, 800, 1600)
_CHUNK = 256  # replications simulated per batch: bounds memory at _CHUNK * n innovations


# ----------------------------------------------------------------------------------------------
# Defaults as named helpers
# ----------------------------------------------------------------------------------------------


def psy_minw(n: int) -> int:
    """Default minimum window of PSY (2015): ``floor((0.01 + 1.8 / sqrt(T)) * T)``.

    Parameters
    ----------
    n : int
        Sample size ``T`` (number of levels).

    Returns
    -------
    int
        ``minw``, counted as in exuber: the minimum number of *regression observations* in a
        window (``r2 - r1 - lag >= minw``).

    Notes
    -----
    PSY recommend the fraction ``r0 = 0.01 + 1.8 / sqrt(T)``. PSY's own MATLAB code and the R
    package psymonitor count ``swindow0 = floor(r0 * T)`` in *levels*, so their smallest window
    holds one regression observation fewer than exuber's (and this module's) for the same
    number: ``minw_psymonitor = minw_here + 1`` gives identical windows when ``lag = 0``.
    The S&P 500 application of PSY (2015) (T = 1680, GSADF = 4.21) is reproduced with
    ``minw = psy_minw(1680) = 90`` and ``lag = 0`` (4.2069; minw 89 or 91 give the same,
    ``lag = 1`` gives 3.17); see ``tests/bubbles/test_psy.py``.

    References
    ----------
    Phillips, P.C.B., Shi, S. and Yu, J. (2015). Testing for multiple bubbles: historical episodes
    of exuberance and collapse in the S&P 500. International Economic Review 56(4), 1043-1078.
    """
    n = int(n)
    if n < 10:
        raise ParameterError(f"psy_minw: n = {n} is too short for a recursive test (need >= 10)")
    return int(math.floor((0.01 + 1.8 / math.sqrt(n)) * n))


def psy_min_duration(n: int, delta: float = 1.0) -> int:
    """Default minimum duration of an explosive episode: ``floor(delta * log(T))`` observations.

    Parameters
    ----------
    n : int
        Sample size ``T``.
    delta : float, default 1.0
        Frequency-dependent constant of PSY (2015); larger values demand longer episodes.

    Notes
    -----
    PSY (2015) require a bubble to last longer than a slowly varying quantity
    ``delta * log(T)`` (in observations) so that short blips do not count as episodes. exuber's
    ``psy_ds`` rounds instead of flooring (they differ when the fractional part is >= 0.5).

    References
    ----------
    Phillips, Shi and Yu (2015), International Economic Review 56(4), 1043-1078.
    """
    if delta <= 0:
        raise ParameterError(f"psy_min_duration: delta must be positive, got {delta}")
    return int(math.floor(delta * math.log(int(n))))


# ----------------------------------------------------------------------------------------------
# Compiled kernels
# ----------------------------------------------------------------------------------------------


@numba.njit(cache=True)
def _rows(y, lag):
    """Regression rows u_t = (dy_{t-1}, ..., dy_{t-lag}, y_{t-1}, dy_t), t = 0..T-1 (rows with
    t <= lag are unused). O(T * lag) memory."""
    n = y.shape[0]
    k = lag + 2
    U = np.zeros((n, k))
    for t in range(lag + 1, n):
        for j in range(1, lag + 1):
            U[t, j - 1] = y[t - j] - y[t - j - 1]
        U[t, k - 2] = y[t - 1]
        U[t, k - 1] = y[t] - y[t - 1]
    return U


@numba.njit(cache=True, fastmath={"contract"})  # FMA: ~12% faster, changes ~1e-14
def _radf_core_lag0(y, minw, badf, bsadf, stats, store):
    """:func:`_radf_core` for ``lag = 0`` with scalar moments (the common case).

    For a fixed ``r2`` the sums of x = y_{t-1} - y_{r2-1}, v = dy_t - dy_{r2} and their
    products grow as ``r1`` moves back; co-moments follow as ``sxx - sx^2 / n`` etc. Shifting by
    the values at the window end keeps the shifted means of the order of the within-window
    spread (a random walk's distance from its end point grows like its spread), so the
    subtraction loses at most a digit or two even for trending series, while the independent
    running sums pipeline far better than Welford's serial mean updates. With co-moments
    cxx, cxv, cvv the t-ratio is ``cxv * sqrt(df / (cxx * cvv - cxv^2))``; the maximum over
    ``r1`` is taken on the monotone transform ``sign(t) * t^2`` (one division, no root).
    """
    n = y.shape[0]
    inv = np.empty(n + 1)
    inv[0] = 0.0
    for c in range(1, n + 1):
        inv[c] = 1.0 / c
    dy = np.empty(n)
    dy[0] = 0.0
    for t in range(1, n):
        dy[t] = y[t] - y[t - 1]
    for r2 in range(minw, n):
        x0 = y[r2 - 1]
        v0 = dy[r2]
        sx = 0.0
        sv = 0.0
        sxx = 0.0
        sxv = 0.0
        svv = 0.0
        best = -np.inf
        key = np.nan
        for t in range(r2, 0, -1):
            x = y[t - 1] - x0
            v = dy[t] - v0
            sx += x
            sv += v
            sxx += x * x
            sxv += x * v
            svv += v * v
            cnt = r2 - t + 1
            if cnt < minw:
                continue
            h = inv[cnt]
            cxx = sxx - sx * sx * h
            cxv = sxv - sx * sv * h
            cvv = svv - sv * sv * h
            det = cxx * cvv - cxv * cxv
            key = cxv * abs(cxv) * (cnt - 2) / det if det > 0.0 else np.nan
            if store:
                stats[t - 1, r2] = math.copysign(math.sqrt(abs(key)), key)
            if key > best:  # NaN windows never win
                best = key
        badf[r2 - minw] = math.copysign(math.sqrt(abs(key)), key)
        bsadf[r2 - minw] = math.copysign(math.sqrt(abs(best)), best) if best > -np.inf else np.nan


@numba.njit(cache=True, fastmath={"contract"})
def _radf_core(y, minw, lag, badf, bsadf, stats, store):
    """BADF and BSADF for every window end r2 = minw + lag .. T - 1 (serial).

    ``badf[i]``/``bsadf[i]`` belong to ``r2 = minw + lag + i``. When ``store`` is true the
    statistic of every window is also written to ``stats[r1, r2]`` (tests only: O(T^2)).
    """
    if lag == 0:
        _radf_core_lag0(y, minw, badf, bsadf, stats, store)
        return
    n = y.shape[0]
    k = lag + 2
    U = _rows(y, lag)
    inv = np.empty(n + 1)  # 1 / cnt, so the updates multiply instead of divide
    inv[0] = 0.0
    for c in range(1, n + 1):
        inv[c] = 1.0 / c
    mu = np.empty(k)
    dv = np.empty(k)
    C = np.empty((k, k))
    L = np.empty((k, k))
    D = np.empty(k)
    first = minw + lag
    for r2 in range(first, n):
        mu[:] = 0.0
        C[:, :] = 0.0
        cnt = 0
        best = -np.inf
        key = np.nan
        for t in range(r2, lag, -1):
            # Welford: add observation t to the means and co-moments (lower triangle)
            cnt += 1
            h = inv[cnt]
            for i in range(k):
                dv[i] = U[t, i] - mu[i]
                mu[i] += dv[i] * h
            for i in range(k):
                ui = dv[i]
                for j in range(i + 1):
                    C[i, j] += ui * (U[t, j] - mu[j])
            if cnt < minw:  # windows start at minw observations: t = r2 - minw + 1
                continue
            # C = L D L' (unit lower L): the coefficient on y_{t-1} is L[-1, -2] and the
            # squared t-ratio L[-1, -2]^2 * D[-2] * df / D[-1], so no square roots per window
            ok = True
            for j in range(k):
                d = C[j, j]
                for p in range(j):
                    d -= L[j, p] * L[j, p] * D[p]
                if not d > 0.0:  # singular window (e.g. a constant stretch): no statistic
                    ok = False
                    break
                D[j] = d
                invd = 1.0 / d
                for i in range(j + 1, k):
                    s = C[i, j]
                    for p in range(j):
                        s -= L[i, p] * L[j, p] * D[p]
                    L[i, j] = s * invd
            if ok:
                lk = L[k - 1, k - 2]
                key = lk * abs(lk) * D[k - 2] * (cnt - k) / D[k - 1]  # sign(t) * t^2
            else:
                key = np.nan
            if store:
                stats[t - lag - 1, r2] = math.copysign(math.sqrt(abs(key)), key)
            if key > best:  # NaN windows never win
                best = key
        # the last window added starts at r1 = 0
        badf[r2 - first] = math.copysign(math.sqrt(abs(key)), key)
        bsadf[r2 - first] = math.copysign(math.sqrt(abs(best)), best) if best > -np.inf else np.nan


@numba.njit(cache=True, parallel=True)
def _radf_many(Y, minw, lag, adf, sadf, gsadf, bsadf, sadf_seq):
    """The statistics of many series (rows of ``Y``) in parallel; deterministic because each
    replication writes only its own row."""
    nrep, n = Y.shape
    npts = n - minw - lag
    dummy = np.empty((1, 1))
    for i in numba.prange(nrep):
        b = np.empty(npts)
        bs = np.empty(npts)
        _radf_core(Y[i], minw, lag, b, bs, dummy, False)
        run = -np.inf
        for j in range(npts):
            if b[j] > run:
                run = b[j]
            sadf_seq[i, j] = run
            bsadf[i, j] = bs[j]
        adf[i] = b[npts - 1]
        sadf[i] = run
        gsadf[i] = np.nanmax(bs)


@numba.njit(cache=True)
def _ar_recursion(dy0, phi, shocks):
    """dy*_t = sum_j phi_j dy*_{t-j} + shocks_t for t >= lag; dy*_t = dy0_t before (rows of
    ``shocks`` are replications)."""
    nrep, m = shocks.shape
    lag = phi.shape[0]
    out = np.empty((nrep, m))
    for r in range(nrep):
        for t in range(m):
            if t < lag:
                out[r, t] = dy0[t]
                continue
            s = shocks[r, t]
            for j in range(lag):
                s += phi[j] * out[r, t - 1 - j]
            out[r, t] = s
    return out


# ----------------------------------------------------------------------------------------------
# Statistics
# ----------------------------------------------------------------------------------------------


def _as_series(y) -> tuple[np.ndarray, pd.Index | None, str | None]:
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise ParameterError("radf: pass one series (a Series or a one-column DataFrame)")
        y = y.iloc[:, 0]
    if isinstance(y, pd.Series):
        values = y.to_numpy(dtype=float)
        index, name = y.index, (str(y.name) if y.name is not None else None)
    else:
        values, index, name = np.asarray(y, dtype=float), None, None
    if values.ndim != 1:
        raise ParameterError(f"radf: y must be one-dimensional, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ParameterError("radf: y contains NaN or infinite values; drop or fill them first")
    return values, index, name


def _check_window(n: int, minw: int | None, lag: int) -> int:
    if not isinstance(lag, (int, np.integer)) or lag < 0:
        raise ParameterError(f"lag must be a non-negative integer, got {lag!r}")
    minw = psy_minw(n) if minw is None else minw
    if not isinstance(minw, (int, np.integer)) or minw < lag + 3:
        raise ParameterError(f"minw = {minw!r} must be an integer >= lag + 3 = {lag + 3} "
                             "(the smallest window needs at least one residual degree of freedom)")
    if minw + lag > n - 1:
        raise ParameterError(f"minw + lag = {minw + lag} leaves no window in a series of {n} values")
    return int(minw)


def _standardise(y: np.ndarray) -> np.ndarray:
    # The t-ratio is invariant to y -> (y - c) / s; centring and scaling keeps the co-moments
    # of order one whatever the units of the input.
    dy = np.diff(y)
    s = dy.std()
    return (y - y[0]) / (s if s > 0 else 1.0)


@dataclass(frozen=True)
class RadfResult:
    """Recursive ADF statistics of one series (see :func:`radf`).

    ``badf`` and ``bsadf`` are indexed by the window end ``r2`` (the series' own dates when
    :func:`radf` received a Series, else integer positions ``minw + lag .. T - 1``).
    """

    adf: float
    sadf: float
    gsadf: float
    badf: pd.Series
    bsadf: pd.Series
    minw: int
    lag: int
    nobs: int
    y: pd.Series = field(repr=False)  # the levels tested, kept for date-stamping peaks
    name: str | None = None

    def summary(self) -> pd.DataFrame:
        """One row per statistic: ``adf``, ``sadf``, ``gsadf``."""
        return pd.DataFrame({"statistic": ["adf", "sadf", "gsadf"],
                             "value": [self.adf, self.sadf, self.gsadf]}).set_index("statistic")

    def _repr_html_(self) -> str:
        head = (f"<p><b>PSY recursive ADF</b>{' of ' + self.name if self.name else ''}: "
                f"T = {self.nobs}, minw = {self.minw}, lag = {self.lag}</p>")
        return head + self.summary().to_html(float_format=lambda x: f"{x:.4f}")


def radf(y, minw: int | None = None, lag: int = 0, cache=None) -> RadfResult:
    """ADF, SADF, GSADF and the BADF / BSADF sequences of Phillips, Wu and Yu (2011) and PSY (2015).

    Parameters
    ----------
    y : Series, one-column DataFrame or array-like, shape (T,)
        Levels (usually a price, a log price or a price-dividend ratio), no missing values.
    minw : int, optional
        Minimum number of regression observations in a window (exuber's convention, see the
        module docstring); default :func:`psy_minw`. PSY's MATLAB code and psymonitor count the
        minimum window in levels, one more than this for ``lag = 0``.
    lag : int, default 0
        Number of lagged differences in each ADF regression (fixed, as in exuber).
    cache : FitCache, optional
        Where the BADF and BSADF sequences of the same levels, window and lag are read from and
        stored (:class:`analysis.bubbles.fitcache.FitCache`): the same numbers, bit for bit.

    Returns
    -------
    RadfResult
        ``adf`` (full sample), ``sadf`` = max of ``badf`` (forward-expanding windows starting
        at the first observation), ``gsadf`` = max of ``bsadf``, where ``bsadf[r2]`` is the
        maximum ADF statistic over all windows ending at ``r2``.

    Notes
    -----
    Every window's statistic equals ``adfuller(y[r1:r2 + 1], maxlag=lag, autolag=None,
    regression="c")[0]``; SADF, GSADF, BADF and BSADF equal exuber's ``radf`` (checked against
    pyexuber in the tests). O(T^2) time and O(T) memory.

    References
    ----------
    Phillips, P.C.B., Wu, Y. and Yu, J. (2011). Explosive behavior in the 1990s Nasdaq: when did
    exuberance escalate asset values? International Economic Review 52(1), 201-226.
    Phillips, P.C.B., Shi, S. and Yu, J. (2015). Testing for multiple bubbles: historical episodes
    of exuberance and collapse in the S&P 500. International Economic Review 56(4), 1043-1078.
    Vasilopoulos, K., Pavlidis, E. and Martinez-Garcia, E. (2022). exuber: Recursive right-tailed
    unit root testing with R. Journal of Statistical Software 103(10).
    """
    values, index, name = _as_series(y)
    n = values.shape[0]
    minw = _check_window(n, minw, lag)
    npts = n - minw - lag
    key = cache.key(values, f"psy radf minw={minw} lag={lag} v1".encode()) if cache is not None else None
    stored = cache.get_many([key], "radf").get(key) if cache is not None else None
    if stored is not None and stored.shape == (2 * npts,):
        badf, bsadf = stored[:npts].copy(), stored[npts:].copy()
    else:
        badf = np.empty(npts)
        bsadf = np.empty(npts)
        _radf_core(_standardise(values), minw, lag, badf, bsadf, np.empty((1, 1)), False)
        if cache is not None:
            cache.put_many({key: np.concatenate([badf, bsadf])}, "radf")
    levels_index = index if index is not None else pd.RangeIndex(n, name="r2")
    seq_index = levels_index[minw + lag:]
    return RadfResult(
        adf=float(badf[-1]), sadf=float(np.nanmax(badf)), gsadf=float(np.nanmax(bsadf)),
        badf=pd.Series(badf, index=seq_index, name="badf"),
        bsadf=pd.Series(bsadf, index=seq_index, name="bsadf"),
        minw=minw, lag=int(lag), nobs=n, y=pd.Series(values, index=levels_index, name=name),
        name=name)


def window_statistics(y, minw: int | None = None, lag: int = 0) -> np.ndarray:
    """Every window's ADF statistic as a ``(T, T)`` matrix ``stats[r1, r2]`` (NaN elsewhere).

    For checking and teaching only: O(T^2) memory. Uses the same kernel as :func:`radf`.
    """
    values, _, _ = _as_series(y)
    n = values.shape[0]
    minw = _check_window(n, minw, lag)
    stats = np.full((n, n), np.nan)
    npts = n - minw - lag
    _radf_core(_standardise(values), minw, lag, np.empty(npts), np.empty(npts), stats, True)
    return stats


# ----------------------------------------------------------------------------------------------
# Critical values
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriticalValues:
    """Critical values of the recursive ADF tests at the levels :data:`LEVELS`.

    ``adf``, ``sadf``, ``gsadf`` are Series indexed by level (0.90, 0.95, 0.99).
    ``bsadf_cv`` and ``bsadf_cv_runmax`` are DataFrames with one row per window end ``r2``
    (positions ``minw + lag .. n - 1``) and one column per level:

    * ``bsadf_cv``: the quantile, across replications, of the simulated BSADF at each ``r2``
      (PSY's MATLAB code and psymonitor). **Use this one for date-stamping**: it is the
      finite-sample null quantile of the very statistic that :func:`datestamp` compares,
      BSADF_{r2}(r0) (PSY 2015; Phillips and Shi 2020), and :func:`datestamp` guards the
      multiplicity of comparing it at every date by dating only after GSADF rejects.
    * ``bsadf_cv_runmax``: the quantile of the running maximum of the BADF sequence, i.e. of the
      SADF statistic of the first ``r2 + 1`` observations (exuber's ``radf_mc_cv``, following
      the text of PSY 2015, which compares BSADF with the critical value of the SADF statistic
      for ``[T r2]`` observations). It is larger than ``bsadf_cv`` for every ``r2`` past the
      first (at T = 400, 95%, last date: 1.41 vs 0.56), so it dates later and less often.
    """

    n: int
    minw: int
    lag: int
    method: str
    nrep: int
    seed: int | None
    adf: pd.Series
    sadf: pd.Series
    gsadf: pd.Series
    bsadf_cv: pd.DataFrame
    bsadf_cv_runmax: pd.DataFrame
    source: str  # "simulated" or the committed table's file name

    def summary(self) -> pd.DataFrame:
        """Rows ``adf``, ``sadf``, ``gsadf``; columns the levels."""
        return pd.DataFrame([self.adf, self.sadf, self.gsadf], index=["adf", "sadf", "gsadf"])

    def _repr_html_(self) -> str:
        head = (f"<p><b>PSY critical values</b> ({self.method}, nrep = {self.nrep}, "
                f"seed = {self.seed}, {self.source}): n = {self.n}, minw = {self.minw}, "
                f"lag = {self.lag}</p>")
        return head + self.summary().to_html(float_format=lambda x: f"{x:.3f}")


def _table_path(n: int, minw: int, lag: int) -> Path:
    return CV_TABLE_DIR / f"mc_n{n}_minw{minw}_lag{lag}.json"


def _from_table(path: Path) -> CriticalValues:
    t = json.loads(path.read_text())
    lv = list(LEVELS)
    pos = pd.RangeIndex(t["minw"] + t["lag"], t["n"], name="r2")
    return CriticalValues(
        n=t["n"], minw=t["minw"], lag=t["lag"], method="mc", nrep=t["nrep"], seed=t["seed"],
        adf=pd.Series(t["adf"], index=lv, name="adf"),
        sadf=pd.Series(t["sadf"], index=lv, name="sadf"),
        gsadf=pd.Series(t["gsadf"], index=lv, name="gsadf"),
        bsadf_cv=pd.DataFrame(np.array(t["bsadf_cv"]), index=pos, columns=lv),
        bsadf_cv_runmax=pd.DataFrame(np.array(t["bsadf_cv_runmax"]), index=pos, columns=lv),
        source=path.name)


def simulate_distribution(n: int, minw: int | None = None, lag: int = 0, method: str = "mc",
                          nrep: int = 2000, seed: int | None = 0, y=None) -> dict[str, np.ndarray]:
    """Simulated null distributions: arrays ``adf``, ``sadf``, ``gsadf`` (nrep,) and ``bsadf``,
    ``sadf_seq`` (nrep, n - minw - lag). See :func:`critical_values` for the DGPs.

    The draws come from one ``numpy.random.Generator(seed)`` consumed replication by
    replication in a fixed order, so results do not depend on the number of threads, and the
    first ``m`` replications of a run with ``nrep > m`` equal a run with ``nrep = m``.
    """
    if method not in ("mc", "wild"):
        raise ParameterError(f"method must be 'mc' or 'wild', got {method!r}")
    if not isinstance(nrep, (int, np.integer)) or nrep < 10:
        raise ParameterError(f"nrep must be an integer >= 10, got {nrep!r}")
    if method == "wild":
        if y is None:
            raise ParameterError("method='wild' bootstraps the data: pass the series as y")
        values, _, _ = _as_series(y)
        if n is not None and n != values.shape[0]:
            raise ParameterError(f"n = {n} but y has {values.shape[0]} values")
        n = values.shape[0]
        phi, resid = _null_fit(values, lag)
        dy = np.diff(values)
    minw = _check_window(n, minw, lag)
    npts = n - minw - lag
    rng = np.random.default_rng(seed)
    out = {"adf": np.empty(nrep), "sadf": np.empty(nrep), "gsadf": np.empty(nrep),
           "bsadf": np.empty((nrep, npts)), "sadf_seq": np.empty((nrep, npts))}
    drift = NULL_D * n ** (-NULL_ETA)
    for lo in range(0, nrep, _CHUNK):
        hi = min(lo + _CHUNK, nrep)
        if method == "mc":
            Y = np.cumsum(rng.standard_normal((hi - lo, n)) + drift, axis=1)
        else:
            w = rng.standard_normal((hi - lo, n - 1 - lag))
            shocks = np.zeros((hi - lo, n - 1))
            shocks[:, lag:] = w * resid  # wild: each residual keeps its own date (variance path)
            dys = _ar_recursion(dy[:lag].copy(), phi, shocks) if lag else shocks
            Y = np.concatenate([np.zeros((hi - lo, 1)), np.cumsum(dys, axis=1)], axis=1)
        _radf_many(Y, minw, lag, out["adf"][lo:hi], out["sadf"][lo:hi], out["gsadf"][lo:hi],
                   out["bsadf"][lo:hi], out["sadf_seq"][lo:hi])
    out["minw"] = minw
    out["n"] = n
    return out


def _null_fit(y: np.ndarray, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """OLS fit of the null dy_t = a + sum_j phi_j dy_{t-j} + e_t, t = lag + 1 .. T - 1."""
    dy = np.diff(y)
    m = dy.shape[0]
    X = np.ones((m - lag, lag + 1))
    for j in range(1, lag + 1):
        X[:, j] = dy[lag - j:m - j]
    beta, *_ = np.linalg.lstsq(X, dy[lag:], rcond=None)
    return beta[1:], dy[lag:] - X @ beta


def critical_values(n: int | None, minw: int | None = None, lag: int = 0, method: str = "mc",
                    nrep: int = 2000, seed: int | None = 0, y=None,
                    use_table: bool = True) -> CriticalValues:
    """Critical values of ADF, SADF, GSADF and the BSADF sequence (90/95/99%).

    Parameters
    ----------
    n : int
        Sample size ``T`` (for ``method="wild"`` it may be None; it is then ``len(y)``).
    minw, lag : int
        As in :func:`radf` (default ``minw`` :func:`psy_minw`).
    method : {"mc", "wild"}
        ``"mc"``: Monte Carlo under PSY's null, a random walk with asymptotically negligible
        drift, ``y_t = d T^(-eta) + y_{t-1} + e_t``, ``e_t ~ N(0, 1)``, ``d = eta = 1`` (PSY
        2015). exuber's ``radf_mc_cv`` simulates the driftless ``cumsum(rnorm(n))``; the
        two agree within Monte Carlo error (tested). ``"wild"``: the wild bootstrap of Phillips
        and Shi (2020) for heteroskedastic data: fit ``dy_t = a + sum phi_j dy_{t-j} + e_t`` to
        ``y`` by OLS, then ``dy*_t = sum phi_j dy*_{t-j} + w_t e_t`` with ``w_t ~ N(0, 1)``, so
        each bootstrap shock keeps the variance of its own date.
    nrep : int, default 2000
        Replications (Monte Carlo) or bootstrap draws.
    seed : int, default 0
        Seed of the single ``numpy.random.Generator`` (results are thread-count independent).
    y : array-like, optional
        The data, required for ``method="wild"``.
    use_table : bool, default True
        For ``method="mc"``, use a committed table from ``cv_tables/`` when one exists for
        ``(n, minw, lag)`` with at least ``nrep`` replications (its own seed and nrep are then
        reported in the result). Set False to force a simulation.

    Returns
    -------
    CriticalValues

    Notes
    -----
    Monte Carlo quantiles use numpy's default (R type 7) interpolation, as exuber does.
    The wild bootstrap keeps each residual at its own date, as a wild bootstrap must to carry
    the variance path (Harvey, Leybourne, Sollis and Taylor 2016); the code of psymonitor and
    exuber's ``radf_wb_ps_cv`` additionally draws the residual's date at random.
    Phillips-Shi note that a sequence of BSADF tests at a fixed level over-rejects somewhere in
    long samples; they control the family-wise size with the quantile of the maximum of BSADF
    over a horizon, which is the ``gsadf`` value here over the whole sample.

    References
    ----------
    Phillips, Shi and Yu (2015), International Economic Review 56(4), 1043-1078.
    Phillips, P.C.B. and Shi, S. (2020). Real time monitoring of asset markets: bubbles and
    crises. In Handbook of Statistics, vol. 42, Elsevier.
    Harvey, D.I., Leybourne, S.J., Sollis, R. and Taylor, A.M.R. (2016). Tests for explosive
    financial bubbles in the presence of non-stationary volatility. Journal of Empirical
    Finance 38, 548-574.
    """
    if method == "wild" and n is None and y is not None:
        n = len(y)
    if n is None:
        raise ParameterError("critical_values: n is required")
    n = int(n)
    minw_ = _check_window(n, minw, lag)
    if method == "mc" and use_table:
        path = _table_path(n, minw_, lag)
        if path.is_file():
            table = _from_table(path)
            if table.nrep >= nrep:
                return table
    sims = simulate_distribution(n, minw_, lag, method, nrep, seed, y)
    lv = list(LEVELS)
    pos = pd.RangeIndex(minw_ + lag, n, name="r2")
    q = lambda a: np.quantile(a, LEVELS)  # noqa: E731
    return CriticalValues(
        n=n, minw=minw_, lag=int(lag), method=method, nrep=int(nrep), seed=seed,
        adf=pd.Series(q(sims["adf"]), index=lv, name="adf"),
        sadf=pd.Series(q(sims["sadf"]), index=lv, name="sadf"),
        gsadf=pd.Series(q(sims["gsadf"]), index=lv, name="gsadf"),
        bsadf_cv=pd.DataFrame(np.quantile(sims["bsadf"], LEVELS, axis=0).T, index=pos, columns=lv),
        bsadf_cv_runmax=pd.DataFrame(np.quantile(sims["sadf_seq"], LEVELS, axis=0).T, index=pos,
                                     columns=lv),
        source="simulated")


# ----------------------------------------------------------------------------------------------
# Date-stamping
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Episodes:
    """Explosive episodes found by :func:`datestamp`.

    ``table`` has one row per episode with ``start`` (first date BSADF exceeds its critical
    value), ``peak`` (date of the highest level of ``y`` within the episode), ``end`` (first
    date back at or below the critical value; missing when ``ongoing``), ``duration`` (number of
    observations above) and ``ongoing``.
    """

    table: pd.DataFrame
    level: float
    min_duration: int
    cv_sequence: str
    gsadf: float
    gsadf_cv: float

    @property
    def rejected(self) -> bool:
        """Whether GSADF rejects the no-bubble null at ``level``."""
        return bool(self.gsadf > self.gsadf_cv)

    def summary(self) -> pd.DataFrame:
        return self.table

    def _repr_html_(self) -> str:
        head = (f"<p><b>Explosive episodes</b> (BSADF above its {self.level:.0%} {self.cv_sequence} "
                f"critical value for at least {self.min_duration} observations; GSADF "
                f"{self.gsadf:.2f} vs {self.gsadf_cv:.2f})</p>")
        return head + (self.table.to_html() if len(self.table) else "<p>none</p>")


def _stamp_min_duration(result, cv, level: float, min_duration: int | None, delta: float) -> int:
    """Checks shared by :func:`datestamp` and :func:`datestamp_panel`; returns the minimum duration."""
    if level not in LEVELS:
        raise ParameterError(f"level must be one of {LEVELS}, got {level!r}")
    if (cv.n, cv.minw, cv.lag) != (result.nobs, result.minw, result.lag):
        raise ParameterError(
            f"critical values are for n={cv.n}, minw={cv.minw}, lag={cv.lag} but the statistics "
            f"are for n={result.nobs}, minw={result.minw}, lag={result.lag}")
    min_duration = psy_min_duration(result.nobs, delta) if min_duration is None else min_duration
    if min_duration < 1:
        raise ParameterError(f"min_duration must be >= 1, got {min_duration}")
    return min_duration


def datestamp(result: RadfResult, cv: CriticalValues | None = None, min_duration: int | None = None,
              level: float = 0.95, cv_sequence: str = "bsadf", delta: float = 1.0,
              require_rejection: bool = True) -> Episodes:
    """Date explosive episodes: stretches where BSADF exceeds its critical-value sequence.

    Parameters
    ----------
    result : RadfResult
    cv : CriticalValues, optional
        Same ``n``, ``minw`` and ``lag`` as ``result``. Default: the committed Monte Carlo
        table for ``result.nobs`` (:func:`critical_values`); test the last
        :func:`table_nobs` observations (as :func:`explosive_now` does) to always have one.
    min_duration : int, optional
        Minimum number of consecutive observations above the critical value; default
        :func:`psy_min_duration` ``(T, delta)``.
    level : {0.90, 0.95, 0.99}, default 0.95
    cv_sequence : {"bsadf", "runmax"}, default "bsadf"
        ``"bsadf"`` uses ``cv.bsadf_cv`` (recommended, see :class:`CriticalValues`);
        ``"runmax"`` uses exuber's SADF-based ``cv.bsadf_cv_runmax``.
    delta : float, default 1.0
        Constant of the default minimum duration.
    require_rejection : bool, default True
        Return no episodes unless GSADF rejects at ``level`` (exuber's behaviour). Comparing
        BSADF with a pointwise 5% value at every date dates a spurious episode in ~39% of
        random walks of T = 200 (measured); the GSADF gate brings that to the test's 5%.

    Returns
    -------
    Episodes

    Notes
    -----
    Origination is the first ``r2`` with ``BSADF_{r2} > cv_{r2}`` and termination the first
    later ``r2`` with ``BSADF_{r2} <= cv_{r2}`` (PSY 2015); runs shorter than
    ``min_duration`` are dropped, as exuber does.

    References
    ----------
    Phillips, Shi and Yu (2015), International Economic Review 56(4), 1043-1078.
    """
    if cv_sequence not in ("bsadf", "runmax"):
        raise ParameterError(f"cv_sequence must be 'bsadf' or 'runmax', got {cv_sequence!r}")
    if cv is None:
        cv = critical_values(result.nobs, result.minw, result.lag)
    min_duration = _stamp_min_duration(result, cv, level, min_duration, delta)
    seq = cv.bsadf_cv if cv_sequence == "bsadf" else cv.bsadf_cv_runmax
    above = result.bsadf.to_numpy() > seq[level].to_numpy()
    if require_rejection and result.gsadf <= cv.gsadf[level]:
        above[:] = False
    # the peak is the highest level of y inside the episode (the price peak, not the BSADF peak)
    levels = result.y.to_numpy()[result.minw + result.lag:]
    table = _episode_table(above, result.bsadf.index, levels, int(min_duration))
    return Episodes(table=table, level=level, min_duration=int(min_duration),
                    cv_sequence=cv_sequence, gsadf=result.gsadf,
                    gsadf_cv=float(cv.gsadf[level]))


def table_nobs(n: int) -> int:
    """The sample size PSY uses on a series of ``n`` observations: the largest committed
    critical-value table length (:data:`DEFAULT_TABLE_N`, 100 to 1600) not above ``n``; 0 when
    the series is shorter than the smallest table.

    Testing the most recent ``table_nobs(n)`` observations keeps every caller on exact,
    committed Monte Carlo critical values (no simulation inside a report) and on one rule, so a
    score, a status table and a sweep cannot disagree about whether a series is explosive now.
    """
    fits = [t for t in DEFAULT_TABLE_N if t <= int(n)]
    return max(fits) if fits else 0


@dataclass(frozen=True)
class ExplosiveNow:
    """Whether a price series is in a PSY explosive episode at its last date, and by how much.

    ``margin`` is BSADF minus its 95% critical value at the last date (positive = above, in
    units of the ADF statistic). ``explosive`` is True only when an episode is ongoing under
    the full PSY rule: BSADF above its critical value for at least the minimum duration, with
    GSADF rejecting (the gate). ``episodes`` is every episode dated in the tested window;
    ``result`` and ``cv`` are kept for charts of the BSADF path.
    """

    name: str | None
    last_date: object
    nobs: int
    bsadf: float
    cv95: float
    margin: float
    gsadf: float
    gsadf_cv95: float
    explosive: bool
    episode_start: object
    episodes: Episodes = field(repr=False)
    result: RadfResult = field(repr=False)
    cv: CriticalValues = field(repr=False)

    @property
    def rejected(self) -> bool:
        """GSADF rejects the no-bubble null at 95% over the tested window."""
        return bool(self.gsadf > self.gsadf_cv95)

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"series": self.name, "last_date": self.last_date, "nobs": self.nobs,
                              "bsadf": self.bsadf, "cv95": self.cv95, "margin": self.margin,
                              "gsadf": self.gsadf, "gsadf_cv95": self.gsadf_cv95,
                              "explosive": self.explosive, "episode_start": self.episode_start}])

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False, float_format=lambda x: f"{x:.3f}")


def explosive_now(prices: pd.Series, level: float = 0.95, cache=None) -> ExplosiveNow | None:
    """PSY date-stamping on the most recent observations of a price series, at its last date.

    Parameters
    ----------
    prices : Series
        Positive prices or index levels indexed by date (missing values are dropped). The test
        runs on their natural log.
    level : float, default 0.95
    cache : FitCache, optional
        Passed to :func:`radf` (the BSADF path of the same prices is read, not recomputed).

    Returns
    -------
    ExplosiveNow or None
        None when fewer than the smallest table length (100) of valid prices remain.

    Notes
    -----
    The one definition of "explosive now" in the package: PSY (2015) BSADF/GSADF on the last
    ``N = table_nobs(len(prices))`` log prices with ``minw = psy_minw(N)`` and lag 0, against
    the committed Monte Carlo critical values for ``N`` at ``level``, the default minimum
    duration ``floor(log N)`` and the GSADF gate (:func:`datestamp`).

    Raises
    ------
    ParameterError
        Infinite or non-positive prices (a damaged series: named, never tested silently).

    References
    ----------
    Phillips, Shi and Yu (2015), International Economic Review 56(4), 1043-1078.
    """
    s = pd.Series(prices).dropna()
    name = s.name if isinstance(s.name, str) else None
    values = s.to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        where = s.index[np.argmax(bad)]
        where = where.date().isoformat() if hasattr(where, "date") else where
        raise ParameterError(f"{name or 'series'}: price {float(values[bad][0])} at {where} is not a finite "
                             f"positive number; PSY needs log prices")
    n = table_nobs(len(s))
    if n == 0:
        return None
    y = np.log(s.iloc[-n:])
    result = radf(y, cache=cache)
    cv = critical_values(n)
    episodes = datestamp(result, cv, level=level)
    cv_last = float(cv.bsadf_cv[level].iloc[-1])
    bsadf_last = float(result.bsadf.iloc[-1])
    ongoing = episodes.table[episodes.table["ongoing"]] if len(episodes.table) else episodes.table
    return ExplosiveNow(
        name=name, last_date=s.index[-1], nobs=n, bsadf=bsadf_last, cv95=cv_last,
        margin=bsadf_last - cv_last, gsadf=float(result.gsadf), gsadf_cv95=float(cv.gsadf[level]),
        explosive=bool(len(ongoing)), episode_start=ongoing["start"].iloc[-1] if len(ongoing) else None,
        episodes=episodes, result=result, cv=cv)


def _episode_table(above: np.ndarray, dates: pd.Index, peak_values: np.ndarray,
                   min_duration: int) -> pd.DataFrame:
    """Runs of ``above`` lasting at least ``min_duration`` as a tidy episodes table."""
    rows = []
    i, npts = 0, len(above)
    while i < npts:
        if not above[i]:
            i += 1
            continue
        j = i
        while j < npts and above[j]:
            j += 1
        if j - i >= min_duration:
            ongoing = j >= npts
            peak = i + int(np.argmax(peak_values[i:j]))
            rows.append({"start": dates[i], "peak": dates[peak],
                         "end": None if ongoing else dates[j], "duration": j - i,
                         "ongoing": ongoing})
        i = j
    table = pd.DataFrame(rows, columns=["start", "peak", "end", "duration", "ongoing"])
    if isinstance(dates, pd.DatetimeIndex):
        for c in ("start", "peak", "end"):
            table[c] = pd.to_datetime(table[c])
    else:
        table[["start", "peak", "end"]] = table[["start", "peak", "end"]].astype("Int64")
    table["duration"] = table["duration"].astype(int)
    table["ongoing"] = table["ongoing"].astype(bool)
    return table


# ----------------------------------------------------------------------------------------------
# Panel (common bubble in a basket)
# ----------------------------------------------------------------------------------------------


def _as_panel(data) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        data = pd.DataFrame(np.asarray(data, dtype=float))
    if data.shape[1] < 2:
        raise ParameterError("radf_panel: pass a DataFrame with one column per series (>= 2)")
    values = data.to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        raise ParameterError("radf_panel: the panel has NaN or infinite values; align the "
                             "series on common dates first")
    return data.astype(float)


@dataclass(frozen=True)
class PanelRadfResult:
    """Panel BSADF/GSADF of a basket (see :func:`radf_panel`).

    ``bsadf_panel`` is the cross-sectional mean of the members' BSADF sequences (indexed like
    :attr:`RadfResult.bsadf`), ``gsadf_panel`` its maximum; ``bsadf`` holds the members'
    sequences (one column per series) and ``members`` their ADF/SADF/GSADF.
    """

    bsadf_panel: pd.Series
    gsadf_panel: float
    bsadf: pd.DataFrame
    members: pd.DataFrame
    minw: int
    lag: int
    nobs: int

    def summary(self) -> pd.DataFrame:
        """Members' statistics plus a ``panel`` row (GSADF column only)."""
        panel = pd.DataFrame({"gsadf": [self.gsadf_panel]}, index=["panel"])
        return pd.concat([self.members, panel])

    def _repr_html_(self) -> str:
        head = (f"<p><b>Panel GSADF</b> of {self.bsadf.shape[1]} series: T = {self.nobs}, "
                f"minw = {self.minw}, lag = {self.lag}</p>")
        return head + self.summary().to_html(float_format=lambda x: f"{x:.4f}", na_rep="")


def radf_panel(data, minw: int | None = None, lag: int = 0) -> PanelRadfResult:
    """Panel GSADF of Pavlidis et al. (2016): the cross-sectional mean of the BSADF sequences.

    Parameters
    ----------
    data : DataFrame, shape (T, N)
        One column per series (e.g. log prices of a basket), aligned on common dates.
    minw, lag : int
        As in :func:`radf`, shared by all series.

    Returns
    -------
    PanelRadfResult

    Notes
    -----
    Equals exuber's ``bsadf_panel`` / ``gsadf_panel``. The panel statistic asks whether the
    basket as a whole is explosive; its null distribution depends on the cross-sectional
    dependence of the series, so use :func:`panel_critical_values` (sieve bootstrap), not the
    univariate tables.

    References
    ----------
    Pavlidis, E., Yusupova, A., Paya, I., Peel, D., Martinez-Garcia, E., Mack, A. and
    Grossman, V. (2016). Episodes of exuberance in housing markets: in search of the smoking
    gun. Journal of Real Estate Finance and Economics 53(4), 419-449.
    """
    data = _as_panel(data)
    results = {str(c): radf(data[c], minw=minw, lag=lag) for c in data.columns}
    first = next(iter(results.values()))
    bsadf = pd.DataFrame({c: r.bsadf for c, r in results.items()})
    panel = bsadf.mean(axis=1).rename("bsadf_panel")
    members = pd.DataFrame({c: [r.adf, r.sadf, r.gsadf] for c, r in results.items()},
                           index=["adf", "sadf", "gsadf"]).T
    return PanelRadfResult(bsadf_panel=panel, gsadf_panel=float(panel.max()), bsadf=bsadf,
                           members=members, minw=first.minw, lag=first.lag, nobs=first.nobs)


@dataclass(frozen=True)
class PanelCriticalValues:
    """Sieve-bootstrap critical values of the panel GSADF and panel BSADF sequence."""

    n: int
    minw: int
    lag: int
    nrep: int
    seed: int | None
    gsadf_panel: pd.Series  # by level
    bsadf_panel_cv: pd.DataFrame  # rows r2 positions, columns levels

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([self.gsadf_panel], index=["gsadf_panel"])

    def _repr_html_(self) -> str:
        head = (f"<p><b>Panel critical values</b> (sieve bootstrap, nrep = {self.nrep}, "
                f"seed = {self.seed}): n = {self.n}, minw = {self.minw}, lag = {self.lag}</p>")
        return head + self.summary().to_html(float_format=lambda x: f"{x:.3f}")


def panel_critical_values(data, minw: int | None = None, lag: int = 0, nrep: int = 500,
                          seed: int | None = 0) -> PanelCriticalValues:
    """Sieve-bootstrap critical values for :func:`radf_panel` (Pavlidis et al. 2016).

    Each series is fitted under the null, ``dy_it = a_i + sum_j phi_ij dy_i,t-j + e_it``
    (``lag`` lags); a bootstrap sample redraws whole *dates* of the residual matrix with
    replacement, so the cross-sectional dependence of the shocks is kept, and rebuilds each
    series from its own AR recursion. The panel BSADF of every bootstrap basket gives the
    pointwise quantiles (``bsadf_panel_cv``) and its maximum those of ``gsadf_panel``.

    Deterministic for a given ``seed`` whatever the number of threads.

    References
    ----------
    Pavlidis et al. (2016), Journal of Real Estate Finance and Economics 53(4), 419-449.
    """
    data = _as_panel(data)
    values = data.to_numpy()
    n, N = values.shape
    minw = _check_window(n, minw, lag)
    if not isinstance(nrep, (int, np.integer)) or nrep < 10:
        raise ParameterError(f"nrep must be an integer >= 10, got {nrep!r}")
    fits = [_null_fit(values[:, i], lag) for i in range(N)]
    resid = np.column_stack([f[1] for f in fits])  # (n - 1 - lag, N)
    dy = np.diff(values, axis=0)
    npts = n - minw - lag
    rng = np.random.default_rng(seed)
    panel = np.empty((nrep, npts))
    chunk = max(1, _CHUNK // N)
    for lo in range(0, nrep, chunk):
        hi = min(lo + chunk, nrep)
        idx = rng.integers(0, resid.shape[0], size=(hi - lo, resid.shape[0]))
        Y = np.empty(((hi - lo) * N, n))
        for i in range(N):
            shocks = np.zeros((hi - lo, n - 1))
            shocks[:, lag:] = resid[idx, i]
            dys = _ar_recursion(dy[:lag, i].copy(), fits[i][0], shocks) if lag else shocks
            Y[i::N, 0] = 0.0
            Y[i::N, 1:] = np.cumsum(dys, axis=1)
        m = Y.shape[0]
        bs = np.empty((m, npts))
        _radf_many(Y, minw, lag, np.empty(m), np.empty(m), np.empty(m), bs, np.empty((m, npts)))
        panel[lo:hi] = bs.reshape(hi - lo, N, npts).mean(axis=1)
    lv = list(LEVELS)
    return PanelCriticalValues(
        n=n, minw=minw, lag=int(lag), nrep=int(nrep), seed=seed,
        gsadf_panel=pd.Series(np.quantile(panel.max(axis=1), LEVELS), index=lv,
                              name="gsadf_panel"),
        bsadf_panel_cv=pd.DataFrame(np.quantile(panel, LEVELS, axis=0).T,
                                    index=pd.RangeIndex(minw + lag, n, name="r2"), columns=lv))


def datestamp_panel(result: PanelRadfResult, cv: PanelCriticalValues,
                    min_duration: int | None = None, level: float = 0.95, delta: float = 1.0,
                    require_rejection: bool = True) -> Episodes:
    """Episodes of basket-wide exuberance: panel BSADF above its bootstrap critical value.

    As :func:`datestamp`; ``peak`` is the date of the highest panel BSADF in the episode (the
    members' levels are not comparable).
    """
    min_duration = _stamp_min_duration(result, cv, level, min_duration, delta)
    stat = result.bsadf_panel.to_numpy()
    above = stat > cv.bsadf_panel_cv[level].to_numpy()
    if require_rejection and result.gsadf_panel <= cv.gsadf_panel[level]:
        above[:] = False
    table = _episode_table(above, result.bsadf_panel.index, stat, int(min_duration))
    return Episodes(table=table, level=level, min_duration=int(min_duration),
                    cv_sequence="panel", gsadf=result.gsadf_panel,
                    gsadf_cv=float(cv.gsadf_panel[level]))
