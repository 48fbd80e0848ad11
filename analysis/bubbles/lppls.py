"""Log-periodic power-law singularity (LPPLS) fits and the multi-window confidence indicator.

The model for the expected log price before a critical time ``tc`` is

    ln p(t) = A + B (tc - t)^m + C1 (tc - t)^m cos(omega ln(tc - t))
                               + C2 (tc - t)^m sin(omega ln(tc - t)).

Following Filimonov and Sornette (2013) the four linear parameters (A, B, C1, C2) are
solved by ordinary least squares for given nonlinear parameters (tc, m, omega), so the
numerical search runs over three parameters only. The search is a seeded multi-start
Nelder-Mead in a box, compiled with numba (``cache=True``): a scrambled Sobol set of
candidate points is screened, well-separated good candidates start short exploratory runs,
the best of those are refined to convergence, a final polish restarts from the winner, and
the fit with the lowest SSE is kept (never simply the first that converges); see
:class:`Optimizer`.

Time unit: **trading days**, i.e. the position in the price series. Inside a window of
``n`` observations t runs 0..n-1, so the window end is ``t2 = n - 1``; ``tc`` is reported
as a position on that axis, as trading days after the window end (``tc_days``) and as a
date obtained by adding that many weekdays (``pandas.offsets.BDay``; exchange holidays are
ignored, so the date can be a day or two early over long horizons).

References
----------
Johansen, A., Ledoit, O., Sornette, D. (2000). Crashes as critical points. International
Journal of Theoretical and Applied Finance 3(2), 219-255.
Filimonov, V., Sornette, D. (2013). A stable and robust calibration scheme of the
log-periodic power law model. Physica A 392(17), 3698-3707.
Sornette, D., Demos, G., Zhang, Q., Cauwels, P., Filimonov, V., Zhang, Q. (2015).
Real-time prediction and post-mortem analysis of the Shanghai 2015 stock market bubble and
crash. Journal of Investment Strategies 4(4), 77-95.
Demos, G., Sornette, D. (2017). Birth or burst of financial bubbles: which one is easier to
diagnose? Quantitative Finance 17(5), 657-675.
Shu, M., Zhu, W. (2020). Real-time prediction of Bitcoin bubble crashes. Physica A 548,
124477.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numba import njit
from scipy.stats import qmc

from analysis.errors import MarketDataError, ParameterError

# fastmath without nnan/ninf: lets LLVM use fast exp/log/sin/cos and reassociate the sums
# (about 2x on the SSE loop) while keeping the isfinite checks meaningful
_FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
_BIG = 1e300  # objective value outside the search box; finite so simplex arithmetic stays sane
_TC_MIN_DAYS = 0.01  # tc strictly after the window end: (tc - t2) >= this, in trading days


# --------------------------------------------------------------------------- defaults


def default_windows(longest: int = 500, shortest: int = 125, step: int = 25) -> tuple[int, ...]:
    """Window lengths (trading days) of the multi-scale confidence indicator.

    The LPPLS confidence indicator is the share of fits, over windows of several lengths
    ending on the same day, that pass the filters (Sornette et al. 2015; Demos and Sornette
    2017). The default, 500 down to 125 trading days in steps of 25 (16 windows, about two
    years down to six months), covers the scales of the FCO-style indicators while staying
    cheap enough for a daily briefing.
    """
    if not 0 < shortest <= longest or step <= 0:
        raise ParameterError(f"windows: need 0 < shortest <= longest and step > 0, got "
                             f"{shortest}, {longest}, {step}")
    return tuple(range(longest, shortest - 1, -step))


def default_tc_horizon(n: int) -> float:
    """Search horizon for tc after the window end, in trading days: ``0.5 * (t2 - t1)``.

    Half the window length, the upper limit the ``lppls`` package uses by default
    (``tc_max_frac = 0.5``); the qualification filter (:class:`LPPLSFilter`) is narrower, so
    fits are searched in a wider box and filtered afterwards (Filimonov and Sornette 2013).
    """
    return 0.5 * (n - 1)


@dataclass(frozen=True)
class SearchBounds:
    """Box for the nonlinear search (wider than the filters; filters are applied after).

    Search wide, filter afterwards (Filimonov and Sornette 2013): ``m`` in [0.01, 0.99] and
    ``omega`` in [2, 25] (our ranges, wider than the filters of :class:`LPPLSFilter`); ``tc``
    lies in ``(t2, t2 + horizon]`` with ``horizon`` from :func:`default_tc_horizon` unless
    given (trading days).
    """

    m: tuple[float, float] = (0.01, 0.99)
    omega: tuple[float, float] = (2.0, 25.0)
    horizon: float | None = None  # trading days after t2; None -> default_tc_horizon(n)

    def __post_init__(self):
        for name in ("m", "omega"):
            lo, hi = getattr(self, name)
            if not (0 < lo < hi):
                raise ParameterError(f"SearchBounds.{name}: need 0 < low < high, got {(lo, hi)}")
        if self.horizon is not None and not self.horizon > _TC_MIN_DAYS:
            raise ParameterError(f"SearchBounds.horizon must be > {_TC_MIN_DAYS} trading days")

    def horizon_for(self, n: int) -> float:
        return default_tc_horizon(n) if self.horizon is None else float(self.horizon)


@dataclass(frozen=True)
class LPPLSFilter:
    """Qualification filters of a fit (bounds inclusive).

    Defaults: m in [0.1, 0.9], omega in [6, 13], number of oscillations
    ``O = omega / (2 pi) * ln((tc - t1) / (tc - t2)) >= 2.5`` and damping
    ``D = m |B| / (omega |C|) >= 0.8`` with ``|C| = sqrt(C1^2 + C2^2)``: the family of
    conditions of the LPPLS confidence indicator (Sornette et al. 2015; Demos and Sornette
    2017; Shu and Zhu 2020; the exact thresholds differ between papers and were not checked
    against each one). tc must lie after the window end and at most ``tc_max_frac * (t2 - t1)``
    trading days after it (and at most ``tc_max_days`` if set) - our choice, the ``lppls``
    package uses 0.5 and 252 days: a fit whose crash lies far beyond the data says little
    about the present. The sign of B then separates positive bubbles (B < 0,
    super-exponential rise) from negative ones (B > 0, accelerating fall).
    """

    m: tuple[float, float] = (0.1, 0.9)
    omega: tuple[float, float] = (6.0, 13.0)
    tc_max_frac: float = 0.2
    tc_max_days: float | None = None
    min_oscillations: float = 2.5
    min_damping: float = 0.8

    def __post_init__(self):
        if not self.m[0] < self.m[1] or not self.omega[0] < self.omega[1]:
            raise ParameterError("LPPLSFilter: ranges need low < high")
        if self.tc_max_frac <= 0:
            raise ParameterError("LPPLSFilter.tc_max_frac must be > 0")

    def checks(self, n: int, tc_days: float, m: float, omega: float, oscillations: float,
               damping: float, valid: bool) -> dict[str, bool]:
        """Each condition by name for a window of ``n`` observations (t2 - t1 = n - 1)."""
        tc_cap = self.tc_max_frac * (n - 1)
        if self.tc_max_days is not None:
            tc_cap = min(tc_cap, self.tc_max_days)
        return {
            "valid": bool(valid),
            "m": bool(self.m[0] <= m <= self.m[1]),
            "omega": bool(self.omega[0] <= omega <= self.omega[1]),
            "tc": bool(0 < tc_days <= tc_cap),
            "oscillations": bool(oscillations >= self.min_oscillations),
            "damping": bool(damping >= self.min_damping),
        }


# --------------------------------------------------------------------------- numba core


@njit(cache=True, fastmath=_FASTMATH)
def _linear_sse(y, d, m, omega, f, g, h, beta, step):
    """SSE of the OLS fit of y on [1, f, g, h] for tc = t2 + d; fills beta (A, B, C1, C2).

    The points are ``step`` trading days apart and the last one is t2, so
    tc - t_i = d + step * (n - 1 - i). f, g, h are work arrays. Returns +inf when the normal equations are singular.
    """
    n = y.shape[0]
    M = np.zeros((4, 4))
    r = np.zeros(4)
    for i in range(n):
        dt = d + step * (n - 1 - i)
        ld = np.log(dt)
        fi = np.exp(m * ld)
        ph = omega * ld
        gi = fi * np.cos(ph)
        hi = fi * np.sin(ph)
        f[i] = fi
        g[i] = gi
        h[i] = hi
        yi = y[i]
        M[0, 1] += fi
        M[0, 2] += gi
        M[0, 3] += hi
        M[1, 1] += fi * fi
        M[1, 2] += fi * gi
        M[1, 3] += fi * hi
        M[2, 2] += gi * gi
        M[2, 3] += gi * hi
        M[3, 3] += hi * hi
        r[0] += yi
        r[1] += yi * fi
        r[2] += yi * gi
        r[3] += yi * hi
    M[0, 0] = n
    for a in range(4):
        for b in range(a):
            M[a, b] = M[b, a]
    # Gaussian elimination with partial pivoting (4x4; LAPACK call overhead would dominate)
    for k in range(4):
        p = k
        best = abs(M[k, k])
        for q in range(k + 1, 4):
            if abs(M[q, k]) > best:
                best = abs(M[q, k])
                p = q
        if best < 1e-300:
            return np.inf
        if p != k:
            for c in range(4):
                tmp = M[k, c]
                M[k, c] = M[p, c]
                M[p, c] = tmp
            tmp = r[k]
            r[k] = r[p]
            r[p] = tmp
        for q in range(k + 1, 4):
            fac = M[q, k] / M[k, k]
            for c in range(k, 4):
                M[q, c] -= fac * M[k, c]
            r[q] -= fac * r[k]
    for k in range(3, -1, -1):
        s = r[k]
        for c in range(k + 1, 4):
            s -= M[k, c] * beta[c]
        beta[k] = s / M[k, k]
    # residuals in a second pass: y'y - beta'X'y cancels badly when m is small
    sse = 0.0
    for i in range(n):
        e = y[i] - beta[0] - beta[1] * f[i] - beta[2] * g[i] - beta[3] * h[i]
        sse += e * e
    if not np.isfinite(sse):
        return np.inf
    return sse


@njit(cache=True)
def _objective(u, y, lo, span, f, g, h, beta, step):
    """SSE at unit-cube point u (d, m, omega scaled to [0, 1]); _BIG outside the box."""
    for k in range(3):
        if u[k] < 0.0 or u[k] > 1.0:
            return _BIG
    d = lo[0] + u[0] * span[0]
    m = lo[1] + u[1] * span[1]
    w = lo[2] + u[2] * span[2]
    s = _linear_sse(y, d, m, w, f, g, h, beta, step)
    if not np.isfinite(s):
        return _BIG
    return s


@njit(cache=True)
def _nelder_mead(u0, step, y, tstep, lo, span, f, g, h, beta, maxfev, xtol, ftol):
    """Nelder-Mead (Lagarias et al. 1998 coefficients 1, 2, 0.5, 0.5) in the unit cube.

    Returns (best point, best value, evaluations). Bounds act through _BIG values.
    """
    nd = 3
    S = np.empty((nd + 1, nd))
    F = np.empty(nd + 1)
    for i in range(nd + 1):
        for k in range(nd):
            S[i, k] = u0[k]
        if i > 0:
            k = i - 1
            S[i, k] = u0[k] + step if u0[k] + step <= 1.0 else u0[k] - step
        F[i] = _objective(S[i], y, lo, span, f, g, h, beta, tstep)
    nfev = nd + 1
    c = np.empty(nd)
    xr = np.empty(nd)
    xe = np.empty(nd)
    xc = np.empty(nd)
    while nfev < maxfev:
        # insertion sort of the 4 vertices by value
        for i in range(1, nd + 1):
            j = i
            while j > 0 and F[j] < F[j - 1]:
                tf = F[j]
                F[j] = F[j - 1]
                F[j - 1] = tf
                for k in range(nd):
                    tx = S[j, k]
                    S[j, k] = S[j - 1, k]
                    S[j - 1, k] = tx
                j -= 1
        size = 0.0
        for i in range(1, nd + 1):
            for k in range(nd):
                size = max(size, abs(S[i, k] - S[0, k]))
        if size <= xtol and F[nd] - F[0] <= ftol * abs(F[0]) + 1e-300:
            break
        for k in range(nd):
            acc = 0.0
            for i in range(nd):
                acc += S[i, k]
            c[k] = acc / nd
        for k in range(nd):
            xr[k] = c[k] + (c[k] - S[nd, k])
        fr = _objective(xr, y, lo, span, f, g, h, beta, tstep)
        nfev += 1
        if fr < F[0]:
            for k in range(nd):
                xe[k] = c[k] + 2.0 * (c[k] - S[nd, k])
            fe = _objective(xe, y, lo, span, f, g, h, beta, tstep)
            nfev += 1
            if fe < fr:
                S[nd, :] = xe
                F[nd] = fe
            else:
                S[nd, :] = xr
                F[nd] = fr
            continue
        if fr < F[nd - 1]:
            S[nd, :] = xr
            F[nd] = fr
            continue
        if fr < F[nd]:
            for k in range(nd):
                xc[k] = c[k] + 0.5 * (xr[k] - c[k])
            fc = _objective(xc, y, lo, span, f, g, h, beta, tstep)
            nfev += 1
            accept = fc <= fr
        else:
            for k in range(nd):
                xc[k] = c[k] + 0.5 * (S[nd, k] - c[k])
            fc = _objective(xc, y, lo, span, f, g, h, beta, tstep)
            nfev += 1
            accept = fc < F[nd]
        if accept:
            S[nd, :] = xc
            F[nd] = fc
            continue
        for i in range(1, nd + 1):
            for k in range(nd):
                S[i, k] = S[0, k] + 0.5 * (S[i, k] - S[0, k])
            F[i] = _objective(S[i], y, lo, span, f, g, h, beta, tstep)
        nfev += nd
    ib = 0
    for i in range(1, nd + 1):
        if F[i] < F[ib]:
            ib = i
    return S[ib].copy(), F[ib], nfev


@njit(cache=True)
def _fit_windows(y_all, starts, ends, lo_all, span_all, cand, n_starts, min_sep, explore_fev,
                 n_refine, explore_stride, maxfev, xtol, ftol):
    """Fit every window y_all[starts[j]:ends[j] + 1]; one row of results per window.

    Columns: d (= tc - t2), m, omega, A, B, C1, C2, sse, nfev, u_d, u_m, u_omega.
    """
    nw = starts.shape[0]
    out = np.empty((nw, 12))
    nmax = 0
    for j in range(nw):
        nmax = max(nmax, ends[j] - starts[j] + 1)
    f = np.empty(nmax)
    g = np.empty(nmax)
    h = np.empty(nmax)
    beta = np.zeros(4)
    K = cand.shape[0]
    vals = np.empty(K)
    chosen = np.empty(n_starts, dtype=np.int64)
    stage_f = np.empty(n_starts)
    stage_u = np.empty((n_starts, 3))
    for j in range(nw):
        y = y_all[starts[j]:ends[j] + 1]
        lo = lo_all[j]
        span = span_all[j]
        # screening and exploration on every explore_stride-th point ending at t2 (basins are
        # broad, so a thinned window finds them at a fraction of the cost); refinement and
        # the reported SSE use every point
        st = explore_stride if y.shape[0] >= 100 * explore_stride else 1
        ys = y[(y.shape[0] - 1) % st::st]
        tstep = float(st)
        for q in range(K):
            vals[q] = _objective(cand[q], ys, lo, span, f, g, h, beta, tstep)
        order = np.argsort(vals)
        best_u = cand[order[0]].copy()
        best_f = vals[order[0]]
        nfev = K
        # starts: the best candidates that are pairwise at least min_sep apart (Chebyshev, in
        # the unit cube), so the local searches explore different basins rather than one
        nch = 0
        for q in range(K):
            if nch == n_starts:
                break
            ok = True
            for c in range(nch):
                dist = 0.0
                for k in range(3):
                    dist = max(dist, abs(cand[order[q], k] - cand[chosen[c], k]))
                if dist < min_sep:
                    ok = False
                    break
            if ok:
                chosen[nch] = order[q]
                nch += 1
        # stage 1: short exploratory runs from every start; stage 2: full runs from the
        # n_refine best of them (cheap breadth first, precision only where it can win)
        for s in range(nch):
            u, fu, ne = _nelder_mead(cand[chosen[s]], 0.1, ys, tstep, lo, span, f, g, h, beta,
                                     explore_fev, xtol, ftol)
            nfev += ne
            stage_f[s] = fu
            stage_u[s, :] = u
        rank = np.argsort(stage_f[:nch])
        best_f = np.inf  # values so far were on the thinned window: not comparable
        best_u = stage_u[rank[0]].copy()
        for r in range(min(n_refine, nch)):
            u, fu, ne = _nelder_mead(stage_u[rank[r]], 0.05, y, 1.0, lo, span, f, g, h, beta,
                                     maxfev, xtol, ftol)
            nfev += ne
            if fu < best_f:
                best_f = fu
                best_u = u
        # polish: a fresh small simplex at the winner escapes early simplex collapse
        u, fu, ne = _nelder_mead(best_u, 0.02, y, 1.0, lo, span, f, g, h, beta, maxfev, xtol,
                                 ftol)
        nfev += ne
        if fu < best_f:
            best_f = fu
            best_u = u
        d = lo[0] + best_u[0] * span[0]
        m = lo[1] + best_u[1] * span[1]
        w = lo[2] + best_u[2] * span[2]
        sse = _linear_sse(y, d, m, w, f, g, h, beta, 1.0)
        out[j, 0] = d
        out[j, 1] = m
        out[j, 2] = w
        out[j, 3] = beta[0]
        out[j, 4] = beta[1]
        out[j, 5] = beta[2]
        out[j, 6] = beta[3]
        out[j, 7] = sse
        out[j, 8] = nfev
        out[j, 9] = best_u[0]
        out[j, 10] = best_u[1]
        out[j, 11] = best_u[2]
    return out


@njit(cache=True)
def _sse_at(y, tc, m, omega):
    """SSE and linear parameters at given (tc, m, omega) on window-local time (t2 = n-1)."""
    n = y.shape[0]
    f = np.empty(n)
    g = np.empty(n)
    h = np.empty(n)
    beta = np.zeros(4)
    s = _linear_sse(y, tc - (n - 1), m, omega, f, g, h, beta, 1.0)
    return s, beta


def sse_at(log_price: np.ndarray, tc: float, m: float, omega: float) -> tuple[float, np.ndarray]:
    """SSE of the best linear (A, B, C1, C2) at fixed (tc, m, omega); tc on the 0..n-1 axis.

    Exposed so that tests and benchmarks compare fits from other software on the same
    objective. Returns ``(sse, [A, B, C1, C2])``.
    """
    y = np.ascontiguousarray(log_price, dtype=float)
    if tc <= len(y) - 1:
        raise ParameterError("sse_at: tc must lie after the last observation")
    s, beta = _sse_at(y, float(tc), float(m), float(omega))
    return float(s), beta


# --------------------------------------------------------------------------- optimizer settings


@dataclass(frozen=True)
class Optimizer:
    """Multi-start settings of the nonlinear search (all in the unit cube of the search box).

    ``n_candidates`` scrambled Sobol points are screened; the ``n_starts`` best that lie
    pairwise at least ``min_separation`` apart (max-norm) start short exploratory
    Nelder-Mead runs of ``explore_fev`` evaluations; screening and exploration use every
    ``explore_stride``-th observation ending at t2 (windows of at least 100 x stride points;
    a thinned window has the same broad basins at a fraction of the cost). The ``n_refine``
    best explored points are then run to convergence on the full window (``maxfev``,
    ``xtol`` in unit-cube coordinates - 3e-4 of the box, ~0.075 trading days for tc on a
    500-day window - and ``ftol`` relative to the SSE); a final small-simplex restart
    polishes the winner. The lowest full-window SSE is kept. ``nfev`` counts evaluations of
    both kinds.
    Defaults were tuned on NVDA windows against the ``lppls`` package (see
    ``benchmarks/bubbles_lppls.py``): same or lower SSE than its fit on about 96% of the
    windows where its fit lies in our box (median SSE ratio ~0.65; the exceptions were
    within 1.3%) at roughly a tenth of its time. The landscape is rugged on short windows:
    more ``n_starts`` buy robustness linearly in time.
    """

    n_candidates: int = 128
    n_starts: int = 10
    min_separation: float = 0.1
    explore_fev: int = 50
    n_refine: int = 2
    explore_stride: int = 2
    maxfev: int = 400
    xtol: float = 3e-4
    ftol: float = 1e-7

    def __post_init__(self):
        if self.n_candidates < 1 or not 1 <= self.n_starts <= self.n_candidates:
            raise ParameterError("Optimizer: need 1 <= n_starts <= n_candidates")
        if not 1 <= self.n_refine <= self.n_starts or self.explore_fev < 4:
            raise ParameterError("Optimizer: need 1 <= n_refine <= n_starts and explore_fev >= 4")
        if not isinstance(self.explore_stride, int) or self.explore_stride < 1:
            raise ParameterError("Optimizer.explore_stride must be a positive integer")
        if self.maxfev < 10:
            raise ParameterError("Optimizer.maxfev must be >= 10")


def _candidates(n: int, seed: int) -> np.ndarray:
    """Scrambled Sobol points in the unit cube: even coverage, reproducible for a seed."""
    m = int(np.ceil(np.log2(max(n, 2))))
    pts = qmc.Sobol(d=3, scramble=True, seed=np.random.default_rng(seed)).random_base2(m)
    return np.ascontiguousarray(pts[:n])


_AT_BOUND = 1e-4  # unit-cube distance under which a parameter counts as stuck at a bound


def _run(log_y: np.ndarray, starts: np.ndarray, ends: np.ndarray, bounds: SearchBounds,
         optimizer: Optimizer, seed: int) -> np.ndarray:
    n = ends - starts + 1
    horizons = np.array([bounds.horizon_for(int(k)) for k in n])
    lo = np.column_stack([np.full(len(n), _TC_MIN_DAYS), np.full(len(n), bounds.m[0]),
                          np.full(len(n), bounds.omega[0])])
    span = np.column_stack([horizons - _TC_MIN_DAYS, np.full(len(n), bounds.m[1] - bounds.m[0]),
                            np.full(len(n), bounds.omega[1] - bounds.omega[0])])
    return _fit_windows(np.ascontiguousarray(log_y, dtype=float), starts.astype(np.int64),
                        ends.astype(np.int64), lo, span, _candidates(optimizer.n_candidates, seed),
                        optimizer.n_starts, optimizer.min_separation, optimizer.explore_fev,
                        optimizer.n_refine, optimizer.explore_stride, optimizer.maxfev,
                        optimizer.xtol, optimizer.ftol)


def warmup() -> float:
    """Compile (or load from numba's on-disk cache) the kernels; returns seconds taken.

    Call once at start-up so compilation stays out of a briefing's critical path. With
    ``cache=True`` only the first process on a machine pays the full compile.
    """
    t0 = time.perf_counter()
    y = np.log(np.linspace(1.0, 2.0, 40))
    _run(y, np.array([0]), np.array([39]), SearchBounds(), Optimizer(n_candidates=4, n_starts=1, n_refine=1,
                                                                          explore_fev=10, maxfev=20), 0)
    _sse_at(y, 45.0, 0.5, 8.0)
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- single fit


def _log_prices(series: pd.Series, what: str) -> pd.Series:
    if not isinstance(series, pd.Series):
        raise ParameterError(f"{what}: expected a pandas Series of prices, got {type(series).__name__}")
    s = series.dropna()
    if len(s) < 20:
        raise MarketDataError(f"{what}: need at least 20 prices, got {len(s)}")
    if (s <= 0).any():
        raise MarketDataError(f"{what}: prices must be positive (log prices are modelled)")
    if isinstance(s.index, pd.DatetimeIndex) and not s.index.is_monotonic_increasing:
        raise MarketDataError(f"{what}: the index must be sorted ascending")
    return np.log(s.astype(float))


def _tc_date(last, tc_days: float):
    if isinstance(last, pd.Timestamp) and np.isfinite(tc_days):
        return last + pd.offsets.BDay(int(round(tc_days)))
    return None


@dataclass(frozen=True)
class LPPLSFit:
    """One LPPLS fit on a window of ``n`` trading days.

    ``tc`` is on the window's trading-day axis (t1 = 0, t2 = n - 1); ``tc_days = tc - t2``;
    ``tc_date`` adds ``tc_days`` weekdays to the last date. ``sse`` is on log prices;
    ``r2 = 1 - sse / sum((ln p - mean)^2)``. ``valid`` means finite and not stuck on a
    boundary of the search box; ``checks`` holds each filter condition and ``qualified`` is
    their conjunction; ``positive``/``negative`` add the sign of B.
    """

    start: object
    end: object
    n: int
    tc: float
    tc_days: float
    tc_date: pd.Timestamp | None
    m: float
    omega: float
    A: float
    B: float
    C1: float
    C2: float
    sse: float
    r2: float
    oscillations: float
    damping: float
    valid: bool
    at_bound: tuple[str, ...]
    checks: dict = field(repr=False)
    qualified: bool
    positive: bool
    negative: bool
    nfev: int
    log_price: pd.Series = field(repr=False, compare=False)
    bounds: SearchBounds = field(repr=False)
    filters: LPPLSFilter = field(repr=False)

    @property
    def C(self) -> float:
        """Amplitude of the log-periodic term, sqrt(C1^2 + C2^2)."""
        return float(np.hypot(self.C1, self.C2))

    def fitted(self) -> pd.Series:
        """Model log price on the window's dates."""
        dt = self.tc - np.arange(self.n, dtype=float)
        fm = dt ** self.m
        lw = self.omega * np.log(dt)
        vals = self.A + fm * (self.B + self.C1 * np.cos(lw) + self.C2 * np.sin(lw))
        return pd.Series(vals, index=self.log_price.index, name="lppls_log_price")

    def summary(self) -> pd.DataFrame:
        rows = {"start": self.start, "end": self.end, "n": self.n, "tc (t2 = n-1)": self.tc,
                "tc_days after end": self.tc_days, "tc_date": self.tc_date, "m": self.m,
                "omega": self.omega, "A": self.A, "B": self.B, "C1": self.C1, "C2": self.C2,
                "|C|": self.C, "sse": self.sse, "r2": self.r2, "oscillations": self.oscillations,
                "damping": self.damping, "valid": self.valid, "qualified": self.qualified,
                "positive bubble": self.positive, "negative bubble": self.negative}
        rows.update({f"check: {k}": v for k, v in self.checks.items()})
        return pd.DataFrame({"value": pd.Series(rows, dtype=object)})

    def _repr_html_(self) -> str:
        return "<b>LPPLS fit</b>" + self.summary().to_html()


def _derived(n: int, row: np.ndarray, filters: LPPLSFilter):
    d, m, w, A, B, C1, C2, sse = row[:8]
    tc = (n - 1) + d
    C = np.hypot(C1, C2)
    osc = w / (2 * np.pi) * np.log(tc / d) if d > 0 else np.nan  # t1 = 0: (tc - t1)/(tc - t2)
    damping = m * abs(B) / (w * C) if C > 0 else np.inf
    names = ("tc", "m", "omega")
    at_bound = tuple(nm for nm, u in zip(names, row[9:12]) if u < _AT_BOUND or u > 1 - _AT_BOUND)
    valid = bool(np.all(np.isfinite(row[:8])) and not at_bound)
    checks = filters.checks(n, d, m, w, osc, damping, valid)
    qualified = all(checks.values())
    return dict(tc=float(tc), tc_days=float(d), m=float(m), omega=float(w), A=float(A), B=float(B),
                C1=float(C1), C2=float(C2), sse=float(sse), oscillations=float(osc),
                damping=float(damping), valid=valid, at_bound=at_bound, checks=checks,
                qualified=qualified, positive=bool(qualified and B < 0),
                negative=bool(qualified and B > 0), nfev=int(row[8]))


def fit(series: pd.Series, *, bounds: SearchBounds | None = None, filters: LPPLSFilter | None = None,
        optimizer: Optimizer | None = None, seed: int = 0) -> LPPLSFit:
    """Fit the LPPLS model to a price series (one window: the whole series).

    Parameters
    ----------
    series : Series, shape (n,)
        Positive prices, oldest first (DatetimeIndex recommended; NaNs are dropped). The
        log is taken internally; time is the trading-day position.
    bounds : SearchBounds, optional
        Search box for (tc, m, omega); default tc in (t2, t2 + 0.5 (t2 - t1)],
        m in [0.01, 0.99], omega in [2, 25].
    filters : LPPLSFilter, optional
        Qualification conditions reported in ``checks``/``qualified``.
    optimizer : Optimizer, optional
        Multi-start settings (candidates screened, local searches, tolerances).
    seed : int
        Seeds the scrambled Sobol candidates; the fit is deterministic for a seed.

    Returns
    -------
    LPPLSFit

    Notes
    -----
    Linear parameters by OLS for each (tc, m, omega) (Filimonov and Sornette 2013);
    multi-start Nelder-Mead over the three nonlinear parameters keeping the lowest SSE.

    References
    ----------
    Filimonov, V., Sornette, D. (2013). Physica A 392(17), 3698-3707.
    """
    bounds = bounds or SearchBounds()
    filters = filters or LPPLSFilter()
    optimizer = optimizer or Optimizer()
    ly = _log_prices(series, "lppls.fit")
    n = len(ly)
    row = _run(ly.to_numpy(), np.array([0]), np.array([n - 1]), bounds, optimizer, seed)[0]
    der = _derived(n, row, filters)
    tss = float(((ly - ly.mean()) ** 2).sum())
    last = ly.index[-1]
    return LPPLSFit(start=ly.index[0], end=last, n=n, tc_date=_tc_date(last, der["tc_days"]),
                    r2=1 - der["sse"] / tss if tss > 0 else np.nan, log_price=ly, bounds=bounds,
                    filters=filters, **der)


# --------------------------------------------------------------------------- confidence indicator


@dataclass(frozen=True)
class LPPLSConfidence:
    """Multi-window LPPLS confidence per end date.

    ``table``: one row per end date with ``pos_conf`` (share of windows whose fit qualifies
    and has B < 0), ``neg_conf`` (qualifies with B > 0), ``n_fits`` (windows fitted),
    ``n_pos``/``n_neg`` (qualified counts) and quantiles of tc over all qualified fits, as
    trading days after the end date (``tc_days_q..``) and as dates (``tc_date_q..``); NaN/NaT
    where no fit qualifies. ``fits``: one row per (end date, window) with every parameter
    and each filter check (``ok_*``); there ``tc`` is on the window's own axis (t1 = 0),
    ``tc_pos`` the position on the whole series' axis and ``tc_date`` the date.
    """

    table: pd.DataFrame
    fits: pd.DataFrame
    windows: tuple[int, ...]
    filters: LPPLSFilter
    bounds: SearchBounds
    optimizer: Optimizer
    seed: int
    seconds: float

    def summary(self) -> pd.DataFrame:
        cols = [c for c in self.table.columns if c in ("pos_conf", "neg_conf", "n_fits")
                or c.startswith("tc_date_q")]
        return self.table[cols]

    def _repr_html_(self) -> str:
        head = (f"<b>LPPLS confidence</b>: {len(self.table)} end dates x {len(self.windows)} windows "
                f"({max(self.windows)}..{min(self.windows)} trading days), {self.seconds:.2f} s")
        return head + self.summary().to_html(float_format=lambda x: f"{x:.3g}")


def confidence(series: pd.Series, end_dates=None, windows=None, *, filters: LPPLSFilter | None = None,
               bounds: SearchBounds | None = None, optimizer: Optimizer | None = None,
               seed: int = 0, quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)) -> LPPLSConfidence:
    """LPPLS confidence indicator over several window lengths ending on each end date.

    Parameters
    ----------
    series : Series
        Positive prices, oldest first (DatetimeIndex; NaNs dropped).
    end_dates : sequence of dates, optional
        Window ends; each must be in the index (after dropping NaNs). Default: the last date.
    windows : sequence of int, optional
        Window lengths in trading days; default :func:`default_windows` (500..125 by 25).
        Windows longer than the history available at an end date are skipped (``n_fits``
        counts the windows actually fitted).
    filters, bounds, optimizer, seed
        As in :func:`fit`; every window uses the same seeded candidates, so a window's fit
        does not depend on which other windows are computed.
    quantiles : tuple of float
        Quantiles of tc over qualified fits reported per end date.

    Returns
    -------
    LPPLSConfidence

    Notes
    -----
    ``pos_conf = #(qualified and B < 0) / n_fits`` and ``neg_conf = #(qualified and B > 0) /
    n_fits`` - the share of all fitted windows, as in Sornette et al. (2015) and Demos and
    Sornette (2017); the ``lppls`` package divides by the windows of the same sign instead.

    References
    ----------
    Sornette, D. et al. (2015). Journal of Investment Strategies 4(4), 77-95.
    Demos, G., Sornette, D. (2017). Quantitative Finance 17(5), 657-675.
    Shu, M., Zhu, W. (2020). Physica A 548, 124477.
    """
    t0 = time.perf_counter()
    filters = filters or LPPLSFilter()
    bounds = bounds or SearchBounds()
    optimizer = optimizer or Optimizer()
    windows = tuple(int(w) for w in (windows if windows is not None else default_windows()))
    if not windows or min(windows) < 20:
        raise ParameterError("confidence: windows must be non-empty lengths of at least 20 days")
    ly = _log_prices(series, "lppls.confidence")
    idx = ly.index
    if end_dates is None:
        end_pos = [len(ly) - 1]
    else:
        end_pos = []
        for d in end_dates:
            key = pd.Timestamp(d) if isinstance(idx, pd.DatetimeIndex) else d
            if key not in idx:
                raise ParameterError(f"confidence: end date {d} is not a date of the series")
            end_pos.append(int(idx.get_loc(key)))
    starts, ends, lens = [], [], []
    for e in end_pos:
        for w in windows:
            if e - w + 1 >= 0:
                starts.append(e - w + 1)
                ends.append(e)
                lens.append(w)
    if starts:
        raw = _run(ly.to_numpy(), np.array(starts), np.array(ends), bounds, optimizer, seed)
    else:
        raw = np.empty((0, 12))
    recs = []
    for j in range(len(starts)):
        der = _derived(lens[j], raw[j], filters)
        checks = der.pop("checks")
        der.pop("at_bound")
        recs.append({"end": idx[ends[j]], "window": lens[j], "start": idx[starts[j]], **der,
                     "tc_pos": starts[j] + der["tc"],
                     "tc_date": _tc_date(idx[ends[j]], der["tc_days"]),
                     **{f"ok_{k}": v for k, v in checks.items()}})
    fits = pd.DataFrame(recs)
    rows = []
    for e in end_pos:
        end = idx[e]
        sub = fits[fits["end"] == end] if len(fits) else fits
        n_fits = len(sub)
        row = {"end": end, "n_fits": n_fits,
               "n_pos": int(sub["positive"].sum()) if n_fits else 0,
               "n_neg": int(sub["negative"].sum()) if n_fits else 0}
        row["pos_conf"] = row["n_pos"] / n_fits if n_fits else np.nan
        row["neg_conf"] = row["n_neg"] / n_fits if n_fits else np.nan
        q = sub.loc[sub["qualified"], "tc_days"] if n_fits else pd.Series(dtype=float)
        for p in quantiles:
            v = float(q.quantile(p)) if len(q) else np.nan
            row[f"tc_days_q{int(round(p * 100))}"] = v
            row[f"tc_date_q{int(round(p * 100))}"] = _tc_date(end, v) if len(q) else pd.NaT
        rows.append(row)
    table = pd.DataFrame(rows).set_index("end")
    lead = ["pos_conf", "neg_conf", "n_fits", "n_pos", "n_neg"]
    table = table[lead + [c for c in table.columns if c not in lead]]
    return LPPLSConfidence(table=table, fits=fits, windows=windows, filters=filters, bounds=bounds,
                           optimizer=optimizer, seed=seed, seconds=time.perf_counter() - t0)


__all__ = ["LPPLSFit", "LPPLSConfidence", "LPPLSFilter", "SearchBounds", "Optimizer", "fit",
           "confidence", "default_windows", "default_tc_horizon", "sse_at", "warmup"]
