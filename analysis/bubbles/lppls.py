"""Log-periodic power-law singularity (LPPLS) fits and the multi-window confidence indicator.

The model for the expected log price around a critical time ``tc`` is

    ln p(t) = A + |tc - t|^m (B + C1 cos(omega ln|tc - t|) + C2 sin(omega ln|tc - t|)),

the form with an absolute value, so that ``tc`` may lie shortly *before* the window end (a
bubble that has just peaked is still diagnosed; Filimonov and Sornette 2013). Following
Filimonov and Sornette (2013) the four linear parameters (A, B, C1, C2) are solved by ordinary
least squares for given nonlinear parameters (tc, m, omega), so the numerical search runs over
three parameters only. The search is a seeded multi-start Nelder-Mead in a box, compiled with
numba (:mod:`analysis.bubbles._lppls_core`, windows fitted in parallel): a scrambled Sobol set of
candidate points is screened, well-separated good candidates start short exploratory runs, the
best of those are refined to convergence, a final polish restarts from the winner, and the fit
with the lowest SSE is kept (never simply the first that converges); see :class:`Optimizer`.

B < 0 is a positive bubble (super-exponential rise), B > 0 a negative one (accelerating fall).

Time unit: **trading days**, i.e. the position in the price series. Inside a window of ``n``
observations t runs 0..n-1, so the window end is ``t2 = n - 1``; ``tc`` is reported as a
position on that axis, as trading days after the window end (``tc_days``, negative = before)
and as a date obtained by adding that many weekdays (``pandas.offsets.BDay``; exchange holidays
are ignored, so the date can be a day or two off over long horizons).

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
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy.stats import qmc

from analysis.bubbles import _lppls_core as core
from analysis.errors import MarketDataError, ParameterError

# --------------------------------------------------------------------------- defaults


def default_windows(longest: int = 500, shortest: int = 125, step: int = 25) -> tuple[int, ...]:
    """Window lengths (trading days) of the briefing's confidence indicator: 16 windows.

    The LPPLS confidence indicator is the share of fits, over windows of several lengths ending
    on the same day, that pass the filters (Sornette et al. 2015; Demos and Sornette 2017). The
    published indicator shrinks the window start in steps of 5 days (:func:`dense_windows`);
    500 down to 125 trading days in steps of 25 (16 windows, two years down to six months)
    keeps the same scales at an eighth of the cost. How the two grids differ on the calibration
    episodes is measured in ``analysis.bubbles.calibration`` (``grid_comparison``).
    """
    if not 0 < shortest <= longest or step <= 0:
        raise ParameterError(f"windows: need 0 < shortest <= longest and step > 0, got "
                             f"{shortest}, {longest}, {step}")
    return tuple(range(longest, shortest - 1, -step))


def dense_windows(longest: int = 750, shortest: int = 125, step: int = 5) -> tuple[int, ...]:
    """The dense grid of the published indicator: 750 down to 125 trading days by 5 (126 windows).

    Sornette et al. (2015) move the window start t1 in steps of 5 trading days over windows of
    125 to 750 days.
    """
    return default_windows(longest, shortest, step)


def default_tc_horizon(n: int) -> float:
    """Search horizon for tc after the window end, in trading days: ``0.5 * (t2 - t1)``.

    Half the window length, the upper limit the ``lppls`` package uses by default
    (``tc_max_frac = 0.5``); the qualification filter (:class:`LPPLSFilter`) is narrower, so
    fits are searched in a wider box and filtered afterwards (Filimonov and Sornette 2013).
    """
    return 0.5 * (n - 1)


@dataclass(frozen=True)
class SearchBounds:
    """Box for the nonlinear search, wider than every filter preset (filters are applied after).

    ``m`` in [0.01, 1.2] and ``omega`` in [2, 25] cover the widest published filter
    (:meth:`LPPLSFilter.sornette2015`); ``tc`` lies in ``[t2 - before * (t2 - t1),
    t2 + horizon]`` with ``before = 0.2`` (four times the filters' 0.05) and ``horizon`` from
    :func:`default_tc_horizon` unless given (trading days). A fit stuck on a face of this box
    is reported as not ``valid``: its unconstrained optimum lies outside every filter.
    """

    m: tuple[float, float] = (0.01, 1.2)
    omega: tuple[float, float] = (2.0, 25.0)
    before: float = 0.2
    horizon: float | None = None  # trading days after t2; None -> default_tc_horizon(n)

    def __post_init__(self):
        for name in ("m", "omega"):
            lo, hi = getattr(self, name)
            if not (0 < lo < hi):
                raise ParameterError(f"SearchBounds.{name}: need 0 < low < high, got {(lo, hi)}")
        if not 0 <= self.before < 1:
            raise ParameterError("SearchBounds.before must be in [0, 1) (a fraction of the window)")
        if self.horizon is not None and not self.horizon > 0:
            raise ParameterError("SearchBounds.horizon must be > 0 trading days")

    def tc_range(self, n: int) -> tuple[float, float]:
        """(lowest, highest) ``tc - t2`` searched on a window of ``n`` observations."""
        after = default_tc_horizon(n) if self.horizon is None else float(self.horizon)
        return -self.before * (n - 1), after


@dataclass(frozen=True)
class LPPLSFilter:
    """Qualification filters of a fit (bounds inclusive); ``dt = t2 - t1 = n - 1``.

    Conditions: m in ``m``; omega in ``omega``; ``t2 - tc_before * dt <= tc <= t2 + tc_after *
    dt`` (and ``tc - t2 <= tc_max_days`` if set); oscillations ``O = omega / (2 pi) *
    ln(|tc - t1| / |tc - t2|) >= min_oscillations``; damping ``D = m |B| / (omega |C|) >=
    min_damping`` with ``|C| = sqrt(C1^2 + C2^2)``; and a valid fit (finite, not stuck on the
    search box).

    The default is the filter set of the published LPPLS confidence indicator, threshold by
    threshold: m in [0.01, 0.99] (the exponent's open unit interval, as in Sornette et al.
    2015's second filter and Shu and Zhu 2020); omega in [2, 15] and D >= 0.5 (the defaults of
    the ``lppls`` package's confidence indicator, which cites Sornette et al. 2015); O >= 2.5
    (Sornette et al. 2015 and every later paper); tc in [t2 - 0.05 dt, t2 + 0.1 dt] (Sornette
    et al. 2015, Table 1). We did not read
    the papers' tables ourselves: the 2015 values come from two independent re-implementations
    (the R package ``bubble`` of D. Fantazzini, function ``lppl.confidence.trust.A``, and
    ``octaviantu/lpplsExtended`` ``conf/shanghai_filter1.json``), which agree; the omega and
    damping values were not checked against Demos and Sornette (2017) either. Named presets:
    :meth:`sornette2015` (Table 1, filter 1), :meth:`sornette2015_trust` (filter 2) and
    :meth:`strict` (the package's former default, the strictest threshold of each paper at
    once; it gives 0 at the NASDAQ 2000 and S&P 500 1987 tops). The relative-error conditions
    of Sornette et al. (2015) are not applied.
    """

    m: tuple[float, float] = (0.01, 0.99)
    omega: tuple[float, float] = (2.0, 15.0)
    tc_before: float = 0.05
    tc_after: float = 0.1
    tc_max_days: float | None = None
    min_oscillations: float = 2.5
    min_damping: float = 0.5
    name: str = "published"

    def __post_init__(self):
        if not self.m[0] < self.m[1] or not self.omega[0] < self.omega[1]:
            raise ParameterError("LPPLSFilter: ranges need low < high")
        if self.tc_before < 0 or self.tc_after <= 0:
            raise ParameterError("LPPLSFilter: need tc_before >= 0 and tc_after > 0")

    @classmethod
    def published(cls) -> "LPPLSFilter":
        """The default (see the class docstring)."""
        return cls()

    @classmethod
    def sornette2015(cls) -> "LPPLSFilter":
        """Sornette et al. (2015), Table 1, filter 1 (the confidence indicator): m in [0.01, 1.2],
        omega in [2, 25], tc in [t2 - 0.05 dt, t2 + 0.1 dt], O >= 2.5, D >= 0.8."""
        return cls(m=(0.01, 1.2), omega=(2.0, 25.0), min_damping=0.8, name="sornette2015")

    @classmethod
    def sornette2015_trust(cls) -> "LPPLSFilter":
        """Sornette et al. (2015), Table 1, filter 2 (the trust indicator): m in [0.01, 0.99],
        omega in [2, 25], tc as filter 1, O >= 2.5, D >= 1."""
        return cls(m=(0.01, 0.99), omega=(2.0, 25.0), min_damping=1.0, name="sornette2015_trust")

    @classmethod
    def strict(cls) -> "LPPLSFilter":
        """The former default: m in [0.1, 0.9], omega in [6, 13], D >= 0.8, O >= 2.5 and tc
        after the window end by at most 0.2 dt."""
        return cls(m=(0.1, 0.9), omega=(6.0, 13.0), tc_before=0.0, tc_after=0.2, min_damping=0.8,
                   name="strict")

    def checks(self, n: int, tc_days: float, m: float, omega: float, oscillations: float,
               damping: float, valid: bool) -> dict[str, bool]:
        """Each condition by name for a window of ``n`` observations (t2 - t1 = n - 1)."""
        hi = self.tc_after * (n - 1)
        if self.tc_max_days is not None:
            hi = min(hi, self.tc_max_days)
        return {
            "valid": bool(valid),
            "m": bool(self.m[0] <= m <= self.m[1]),
            "omega": bool(self.omega[0] <= omega <= self.omega[1]),
            "tc": bool(-self.tc_before * (n - 1) <= tc_days <= hi),
            "oscillations": bool(oscillations >= self.min_oscillations),
            "damping": bool(damping >= self.min_damping),
        }

    def qualify(self, fits: pd.DataFrame) -> pd.DataFrame:
        """Vectorised :meth:`checks` on a frame of fits (columns ``window``, ``tc_days``, ``m``,
        ``omega``, ``oscillations``, ``damping``, ``valid``, ``B``): adds ``ok_*``,
        ``qualified``, ``positive`` and ``negative`` for these filters (the fits are reused)."""
        n = fits["window"].to_numpy(dtype=float)
        hi = self.tc_after * (n - 1)
        if self.tc_max_days is not None:
            hi = np.minimum(hi, self.tc_max_days)
        d = fits["tc_days"].to_numpy(dtype=float)
        ok = {
            "ok_valid": fits["valid"].to_numpy(dtype=bool),
            "ok_m": fits["m"].between(*self.m).to_numpy(),
            "ok_omega": fits["omega"].between(*self.omega).to_numpy(),
            "ok_tc": (d >= -self.tc_before * (n - 1)) & (d <= hi),
            "ok_oscillations": fits["oscillations"].to_numpy(dtype=float) >= self.min_oscillations,
            "ok_damping": fits["damping"].to_numpy(dtype=float) >= self.min_damping,
        }
        q = np.logical_and.reduce(list(ok.values())) if len(fits) else np.zeros(0, dtype=bool)
        b = fits["B"].to_numpy(dtype=float)
        return fits.assign(**ok, qualified=q, positive=q & (b < 0), negative=q & (b > 0))


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
    ``xtol`` in unit-cube coordinates and ``ftol`` relative to the SSE); a final small-simplex
    restart polishes the winner. The lowest full-window SSE is kept. ``nfev`` counts
    evaluations of both kinds. Defaults were tuned on 160 random windows (16 lengths) of NVDA,
    the NASDAQ, the S&P 500, the Nikkei and Bitcoin against a 40-start reference search: the
    same SSE (to 1e-6) on 83% of windows, within 0.1% on 91%, more than 1% worse on 6%, the
    same qualification on all, at ~6.3 ms a fit; the former 10-start setting bought 2 points
    of agreement for 18% more time. ``benchmarks/bubbles_lppls.py`` prints the comparison
    with the ``lppls`` package.
    """

    n_candidates: int = 128
    n_starts: int = 8
    min_separation: float = 0.1
    explore_fev: int = 40
    n_refine: int = 2
    explore_stride: int = 3
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


def run_windows(log_y: np.ndarray, starts: np.ndarray, ends: np.ndarray, bounds: SearchBounds,
                optimizer: Optimizer, seed: int, cache=None) -> np.ndarray:
    """Raw fits (rows of ``_lppls_core.COLUMNS``) of ``log_y[starts[j]:ends[j] + 1]``.

    ``cache`` (an :class:`analysis.bubbles.fitcache.FitCache`) returns windows fitted before with
    the same log prices and settings and stores the new ones.
    """
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    y = np.array(log_y, dtype=np.float64)
    out = np.empty((len(starts), 12))
    todo = np.arange(len(starts))
    keys = []
    if cache is not None and len(starts):
        settings = repr((bounds, optimizer, seed, "v1")).encode()
        keys = [cache.key(y[a:b + 1], settings) for a, b in zip(starts, ends)]
        found = cache.get_many(keys)
        done = np.array([k in found for k in keys], dtype=bool)
        for j in np.flatnonzero(done):
            out[j] = found[keys[j]]
        todo = np.flatnonzero(~done)
    if len(todo):
        out[todo] = _fit(y, starts[todo], ends[todo], bounds, optimizer, seed)
        if cache is not None:
            cache.put_many({keys[j]: out[j] for j in todo})
    return out


def _fit(y: np.ndarray, starts: np.ndarray, ends: np.ndarray, bounds: SearchBounds, optimizer: Optimizer,
         seed: int) -> np.ndarray:
    n = ends - starts + 1
    tc = np.array([bounds.tc_range(int(k)) for k in n]).reshape(-1, 2)
    lo = np.column_stack([tc[:, 0], np.full(len(n), bounds.m[0]), np.full(len(n), bounds.omega[0])])
    span = np.column_stack([tc[:, 1] - tc[:, 0], np.full(len(n), bounds.m[1] - bounds.m[0]),
                            np.full(len(n), bounds.omega[1] - bounds.omega[0])])
    # writable copies, always: pandas hands out read-only arrays (copy-on-write), and numba
    # compiles a separate specialisation for read-only input - seconds of compile inside the
    # first timed call after every warm-up (the cause of a 3.3x benchmark ratio)
    return core.fit_windows(np.array(y, dtype=np.float64), np.array(starts, dtype=np.int64),
                            np.array(ends, dtype=np.int64), np.array(lo, dtype=np.float64),
                            np.array(span, dtype=np.float64), _candidates(optimizer.n_candidates, seed),
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
    run_windows(y, np.array([0]), np.array([39]), SearchBounds(),
                Optimizer(n_candidates=4, n_starts=1, n_refine=1, explore_fev=10, maxfev=20), 0)
    core.sse_at(y, 5.0, 0.5, 8.0)
    core.model_path(5, 1.0, 0.5, 8.0, 1.0, -0.1, 0.0, 0.0)
    return time.perf_counter() - t0


def sse_at(log_price: np.ndarray, tc: float, m: float, omega: float) -> tuple[float, np.ndarray]:
    """SSE of the best linear (A, B, C1, C2) at fixed (tc, m, omega); tc on the 0..n-1 axis
    (any value: the model uses |tc - t|).

    Exposed so that tests and benchmarks compare fits from other software on the same
    objective. Returns ``(sse, [A, B, C1, C2])``.
    """
    y = np.array(log_price, dtype=np.float64)
    s, beta = core.sse_at(y, float(tc) - (len(y) - 1), float(m), float(omega))
    return float(s), beta


# --------------------------------------------------------------------------- single fit


def log_prices(series: pd.Series, what: str) -> pd.Series:
    """Validated natural log of a positive price series (NaNs dropped)."""
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


def _tc_dates(ends, tc_days) -> list:
    """:func:`_tc_date` for many fits at once: ``tc_days`` weekdays after each end date, None where
    tc_days is not finite or the index holds no dates. Same rule as ``pd.offsets.BDay``: from a
    weekend date the first step forward (or back) lands on the next (previous) weekday."""
    days = np.asarray(tc_days, dtype=float)
    out = [None] * len(days)
    if not isinstance(ends, pd.DatetimeIndex) or ends.tz is not None or len(days) == 0:
        return [_tc_date(e, d) for e, d in zip(ends, days)]
    ok = np.isfinite(days)
    if not ok.any():
        return out
    start = ends.values[ok].astype("datetime64[D]")
    wanted = np.rint(days[ok]).astype(np.int64)
    weekday = np.is_busday(start)
    # numpy first rolls a weekend date, then counts; pandas counts the roll as the first step
    steps = np.where(weekday | (wanted == 0), wanted, np.where(wanted > 0, wanted - 1, wanted + 1))
    shifted = np.where(wanted >= 0, np.busday_offset(start, steps, roll="forward"),
                       np.busday_offset(start, steps, roll="backward"))
    stamps = pd.DatetimeIndex(shifted.astype("datetime64[ns]")) + (ends[ok] - ends[ok].normalize())
    for position, stamp in zip(np.flatnonzero(ok), stamps):
        out[position] = stamp
    return out


def _fits_frame(idx, starts: np.ndarray, ends: np.ndarray, lens: list, raw: np.ndarray,
                filters: LPPLSFilter) -> pd.DataFrame:
    """One row per fitted window: dates, parameters, filter checks - :func:`derived` for every
    window at once (a Python pass per fit was most of a warm report's LPPLS time) and
    :meth:`LPPLSFilter.qualify`, the vectorised :meth:`LPPLSFilter.checks`."""
    if len(starts) == 0:
        return pd.DataFrame()
    n = np.asarray(lens, dtype=np.int64)
    d, m, w, A, B, C1, C2, sse = (raw[:, k] for k in range(8))
    tc = (n - 1) + d
    C = np.hypot(C1, C2)
    with np.errstate(divide="ignore", invalid="ignore"):
        # t1 = 0: |tc - t1| / |tc - t2|
        oscillations = np.where((d != 0) & (tc != 0), w / (2 * np.pi) * np.log(np.abs(tc) / np.abs(d)), np.inf)
        damping = np.where(C > 0, m * np.abs(B) / (w * C), np.inf)
    unit = raw[:, 9:12]
    at_bound = ((unit < _AT_BOUND) | (unit > 1 - _AT_BOUND)).any(axis=1)
    end_dates, start_dates = idx[ends], idx[starts]
    fits = pd.DataFrame({"end": end_dates, "window": lens, "start": start_dates, "tc": tc, "tc_days": d, "m": m,
                         "omega": w, "A": A, "B": B, "C1": C1, "C2": C2, "sse": sse,
                         "oscillations": oscillations, "damping": damping,
                         "valid": np.isfinite(raw[:, :8]).all(axis=1) & ~at_bound})
    fits = filters.qualify(fits)
    fits["nfev"] = raw[:, 8].astype(np.int64)
    fits["tc_pos"] = starts + tc
    fits["tc_date"] = pd.Series(_tc_dates(end_dates, d), dtype=object)
    checks = [c for c in fits.columns if c.startswith("ok_")]
    return fits[[c for c in fits.columns if c not in checks] + checks]


@dataclass(frozen=True)
class LPPLSFit:
    """One LPPLS fit on a window of ``n`` trading days.

    ``tc`` is on the window's trading-day axis (t1 = 0, t2 = n - 1); ``tc_days = tc - t2``
    (negative: before the last observation); ``tc_date`` adds ``tc_days`` weekdays to the last
    date. ``sse`` is on log prices; ``r2 = 1 - sse / sum((ln p - mean)^2)``. ``valid`` means
    finite and not stuck on a face of the search box; ``checks`` holds each filter condition
    and ``qualified`` is their conjunction; ``positive``/``negative`` add the sign of B.
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
        vals = core.model_path(self.n, self.tc_days, self.m, self.omega, self.A, self.B, self.C1, self.C2)
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


def derived(n: int, row: np.ndarray, filters: LPPLSFilter) -> dict:
    """Parameters, oscillations, damping, validity and filter checks of one raw fitted row."""
    d, m, w, A, B, C1, C2, sse = row[:8]
    tc = (n - 1) + d
    C = np.hypot(C1, C2)
    # t1 = 0: |tc - t1| / |tc - t2|
    osc = w / (2 * np.pi) * np.log(abs(tc) / abs(d)) if d != 0 and tc != 0 else np.inf
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
        Search box for (tc, m, omega); default tc in [t2 - 0.2 (t2 - t1), t2 + 0.5 (t2 - t1)],
        m in [0.01, 1.2], omega in [2, 25].
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
    ly = log_prices(series, "lppls.fit")
    n = len(ly)
    row = run_windows(ly.to_numpy(), np.array([0]), np.array([n - 1]), bounds, optimizer, seed)[0]
    der = derived(n, row, filters)
    tss = float(((ly - ly.mean()) ** 2).sum())
    last = ly.index[-1]
    return LPPLSFit(start=ly.index[0], end=last, n=n, tc_date=_tc_date(last, der["tc_days"]),
                    r2=1 - der["sse"] / tss if tss > 0 else np.nan, log_price=ly, bounds=bounds,
                    filters=filters, **der)


# --------------------------------------------------------------------------- confidence indicator


def _table(fits: pd.DataFrame, ends: list, quantiles: tuple[float, ...]) -> pd.DataFrame:
    """Per end date: pos_conf, neg_conf, counts and tc quantiles of the qualified fits.

    One grouping over the fits, not one filter per end date: a signal history has a hundred end
    dates and the filter per date was most of a warm report's LPPLS time."""
    end_index = pd.Index(ends, name="end")
    table = pd.DataFrame(index=end_index)
    if len(fits):
        by_end = fits.groupby("end", sort=False)
        counts = pd.DataFrame({"n_fits": by_end.size(), "n_pos": by_end["positive"].sum(),
                               "n_neg": by_end["negative"].sum()}).reindex(end_index)
        qualified = fits.loc[fits["qualified"].astype(bool), ["end", "tc_days"]].groupby("end")["tc_days"]
    else:
        counts = pd.DataFrame(np.nan, index=end_index, columns=["n_fits", "n_pos", "n_neg"])
        qualified = None
    for column in ("n_fits", "n_pos", "n_neg"):
        table[column] = counts[column].fillna(0).astype(int).to_numpy()
    n_fits = table["n_fits"].where(table["n_fits"] > 0)
    table["pos_conf"] = table["n_pos"] / n_fits
    table["neg_conf"] = table["n_neg"] / n_fits
    for p in quantiles:
        tag = int(round(p * 100))
        days = (qualified.quantile(p).reindex(end_index).to_numpy(dtype=float) if qualified is not None
                else np.full(len(end_index), np.nan))
        table[f"tc_days_q{tag}"] = days
        table[f"tc_date_q{tag}"] = [_tc_date(end, v) if np.isfinite(v) else pd.NaT for end, v in zip(end_index, days)]
    lead = ["pos_conf", "neg_conf", "n_fits", "n_pos", "n_neg"]
    return table[lead + [c for c in table.columns if c not in lead]]


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
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)

    def with_filters(self, filters: LPPLSFilter) -> "LPPLSConfidence":
        """The same fits qualified by other filters (no refitting): compare presets cheaply."""
        fits = filters.qualify(self.fits) if len(self.fits) else self.fits
        return replace(self, fits=fits, filters=filters,
                       table=_table(fits, list(self.table.index), self.quantiles))

    def summary(self) -> pd.DataFrame:
        cols = [c for c in self.table.columns if c in ("pos_conf", "neg_conf", "n_fits")
                or c.startswith("tc_date_q")]
        return self.table[cols]

    def _repr_html_(self) -> str:
        head = (f"<b>LPPLS confidence</b> ({self.filters.name} filters): {len(self.table)} end dates "
                f"x {len(self.windows)} windows ({max(self.windows)}..{min(self.windows)} trading days), "
                f"{self.seconds:.2f} s")
        return head + self.summary().to_html(float_format=lambda x: f"{x:.3g}")


def confidence(series: pd.Series, end_dates=None, windows=None, *, filters: LPPLSFilter | None = None,
               bounds: SearchBounds | None = None, optimizer: Optimizer | None = None,
               seed: int = 0, quantiles: tuple[float, ...] = (0.1, 0.5, 0.9), cache=None) -> LPPLSConfidence:
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
    filters : LPPLSFilter, optional
        Default :class:`LPPLSFilter` (the published indicator's filters).
    bounds, optimizer, seed
        As in :func:`fit`; every window uses the same seeded candidates, so a window's fit
        does not depend on which other windows are computed.
    quantiles : tuple of float
        Quantiles of tc over qualified fits reported per end date.
    cache : FitCache, optional
        Reuse fits of identical windows (:mod:`analysis.bubbles.fitcache`); the result is the same.

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
    ly = log_prices(series, "lppls.confidence")
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
    raw = run_windows(ly.to_numpy(), np.array(starts), np.array(ends), bounds, optimizer, seed, cache) \
        if starts else np.empty((0, 12))
    fits = _fits_frame(idx, np.asarray(starts, dtype=int), np.asarray(ends, dtype=int), lens, raw, filters)
    table = _table(fits, [idx[e] for e in end_pos], quantiles)
    return LPPLSConfidence(table=table, fits=fits, windows=windows, filters=filters, bounds=bounds,
                           optimizer=optimizer, seed=seed, seconds=time.perf_counter() - t0,
                           quantiles=quantiles)


__all__ = ["LPPLSFit", "LPPLSConfidence", "LPPLSFilter", "SearchBounds", "Optimizer", "fit",
           "confidence", "default_windows", "dense_windows", "default_tc_horizon", "sse_at",
           "warmup", "run_windows", "derived", "log_prices"]
