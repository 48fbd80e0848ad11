"""Compiled core of the LPPLS fits (numba, ``cache=True``): the profiled objective, a bounded
Nelder-Mead, and the multi-start search over many windows in parallel.

Model on a window whose last point is ``t2``, with ``d = tc - t2`` (trading days, of either sign):

    ln p(t) = A + |tc - t|^m (B + C1 cos(omega ln|tc - t|) + C2 sin(omega ln|tc - t|)).

The absolute value lets ``tc`` fall shortly *before* the window end (Filimonov and Sornette 2013
fit ``|tc - t|`` for the same reason: a bubble that has just peaked should still be diagnosed).
Where ``|tc - t|`` is zero (a data point exactly at tc) the power law is zero (its limit for
``m > 0``). The four linear parameters come from ordinary least squares for each
``(d, m, omega)``, so the search runs in three dimensions only.

Nothing here validates input: :mod:`analysis.bubbles.lppls` does, and documents every setting.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# fastmath without nnan/ninf: lets LLVM use fast exp/log/sin/cos and reassociate the sums
# (about 2x on the SSE loop) while keeping the isfinite checks meaningful
_FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
BIG = 1e300  # objective value outside the search box; finite so simplex arithmetic stays sane
_ZERO_DT = 1e-12  # |tc - t| below this (trading days) counts as "at tc": power law = 0
#: columns of a fitted row
COLUMNS = ("d", "m", "omega", "A", "B", "C1", "C2", "sse", "nfev", "u_d", "u_m", "u_omega")


@njit(cache=True, fastmath=_FASTMATH)
def linear_sse(y, d, m, omega, f, g, h, beta, step):
    """SSE of the OLS fit of y on [1, f, g, h] for tc = t2 + d; fills beta (A, B, C1, C2).

    The points are ``step`` trading days apart and the last one is t2, so
    |tc - t_i| = |d + step * (n - 1 - i)|. f, g, h are work arrays. Returns +inf when the normal
    equations are singular.
    """
    n = y.shape[0]
    M = np.zeros((4, 4))
    r = np.zeros(4)
    for i in range(n):
        dt = abs(d + step * (n - 1 - i))
        if dt < _ZERO_DT:
            fi = 0.0
            gi = 0.0
            hi = 0.0
        else:
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
    """SSE at unit-cube point u (d, m, omega scaled to [0, 1]); BIG outside the box."""
    for k in range(3):
        if u[k] < 0.0 or u[k] > 1.0:
            return BIG
    d = lo[0] + u[0] * span[0]
    m = lo[1] + u[1] * span[1]
    w = lo[2] + u[2] * span[2]
    s = linear_sse(y, d, m, w, f, g, h, beta, step)
    if not np.isfinite(s):
        return BIG
    return s


@njit(cache=True)
def _nelder_mead(u0, step, y, tstep, lo, span, f, g, h, beta, maxfev, xtol, ftol):
    """Nelder-Mead (Lagarias et al. 1998 coefficients 1, 2, 0.5, 0.5) in the unit cube.

    Returns (best point, best value, evaluations). Bounds act through BIG values.
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
        for i in range(1, nd + 1):  # insertion sort of the 4 vertices by value
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
def _fit_one(y, lo, span, cand, n_starts, min_sep, explore_fev, n_refine, explore_stride, maxfev,
             xtol, ftol, out):
    """Multi-start search on one window; writes a row of :data:`COLUMNS` into ``out``."""
    n = y.shape[0]
    f = np.empty(n)
    g = np.empty(n)
    h = np.empty(n)
    beta = np.zeros(4)
    K = cand.shape[0]
    vals = np.empty(K)
    chosen = np.empty(n_starts, dtype=np.int64)
    stage_f = np.empty(n_starts)
    stage_u = np.empty((n_starts, 3))
    # screening and exploration on every explore_stride-th point ending at t2 (basins are broad,
    # so a thinned window finds them at a fraction of the cost); refinement and the reported SSE
    # use every point
    st = explore_stride if n >= 100 * explore_stride else 1
    ys = y[(n - 1) % st::st]
    tstep = float(st)
    for q in range(K):
        vals[q] = _objective(cand[q], ys, lo, span, f, g, h, beta, tstep)
    order = np.argsort(vals)
    nfev = K
    # starts: the best candidates pairwise at least min_sep apart (Chebyshev, unit cube), so the
    # local searches explore different basins rather than one
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
    # stage 1: short exploratory runs from every start; stage 2: full runs from the n_refine best
    # of them (cheap breadth first, precision only where it can win)
    for s in range(nch):
        u, fu, ne = _nelder_mead(cand[chosen[s]], 0.1, ys, tstep, lo, span, f, g, h, beta,
                                 explore_fev, xtol, ftol)
        nfev += ne
        stage_f[s] = fu
        stage_u[s, :] = u
    rank = np.argsort(stage_f[:nch])
    best_f = np.inf  # values so far were on the exploration's thinning: not comparable
    best_u = stage_u[rank[0]].copy()
    for r in range(min(n_refine, nch)):
        u, fu, ne = _nelder_mead(stage_u[rank[r]], 0.05, y, 1.0, lo, span, f, g, h, beta, maxfev,
                                 xtol, ftol)
        nfev += ne
        if fu < best_f:
            best_f = fu
            best_u = u
    # polish: a fresh small simplex at the winner escapes early simplex collapse
    u, fu, ne = _nelder_mead(best_u, 0.02, y, 1.0, lo, span, f, g, h, beta, maxfev, xtol, ftol)
    nfev += ne
    if fu < best_f:
        best_u = u
    d = lo[0] + best_u[0] * span[0]
    m = lo[1] + best_u[1] * span[1]
    w = lo[2] + best_u[2] * span[2]
    sse = linear_sse(y, d, m, w, f, g, h, beta, 1.0)
    out[0] = d
    out[1] = m
    out[2] = w
    out[3] = beta[0]
    out[4] = beta[1]
    out[5] = beta[2]
    out[6] = beta[3]
    out[7] = sse
    out[8] = nfev
    out[9] = best_u[0]
    out[10] = best_u[1]
    out[11] = best_u[2]


@njit(cache=True, parallel=True)
def fit_windows(y_all, starts, ends, lo_all, span_all, cand, n_starts, min_sep, explore_fev,
                n_refine, explore_stride, maxfev, xtol, ftol):
    """Fit every window ``y_all[starts[j]:ends[j] + 1]`` (in parallel); one row per window.

    Every window is searched independently from the same candidates, so a window's fit does not
    depend on which other windows are fitted, nor on the thread that fits it.
    """
    nw = starts.shape[0]
    out = np.empty((nw, 12))
    for j in prange(nw):
        _fit_one(y_all[starts[j]:ends[j] + 1], lo_all[j], span_all[j], cand, n_starts, min_sep,
                 explore_fev, n_refine, explore_stride, maxfev, xtol, ftol, out[j])
    return out


@njit(cache=True)
def sse_at(y, d, m, omega):
    """SSE and linear parameters at given (d = tc - t2, m, omega) on a window ending at t2."""
    n = y.shape[0]
    f = np.empty(n)
    g = np.empty(n)
    h = np.empty(n)
    beta = np.zeros(4)
    s = linear_sse(y, d, m, omega, f, g, h, beta, 1.0)
    return s, beta


@njit(cache=True)
def model_path(n, d, m, omega, A, B, C1, C2):
    """The LPPLS log price on t = 0..n-1 of a window with t2 = n - 1 and tc = t2 + d."""
    out = np.empty(n)
    for i in range(n):
        dt = abs(d + (n - 1 - i))
        if dt < _ZERO_DT:
            out[i] = A
        else:
            ld = np.log(dt)
            out[i] = A + np.exp(m * ld) * (B + C1 * np.cos(omega * ld) + C2 * np.sin(omega * ld))
    return out
