"""The LPPLS trust indicator of the Financial Crisis Observatory, for one end date.

For every window of the confidence indicator, synthetic price paths are made from the window's
fitted LPPLS path plus its own fit residuals resampled, each synthetic path is refitted with
the same optimizer, and the share of refits that qualify is recorded; the trust is the median
of that share over the windows (Sornette et al. 2015; Zhang, Zhang and Sornette 2016, who
introduced the DS LPPLS Trust indicator). It says how much of the confidence survives noise of
the size the fits left unexplained: a confidence of 0.4 with a trust of 0.05 rests on fits
that a reshuffle of the residuals destroys.

Scheme used here (the FCO does not publish its replication count or resampling details; these
follow the description in the R package ``bubble`` of D. Fantazzini, which implements Sornette
et al. 2015): i.i.d. resampling with replacement of the window's residuals (a non-parametric
bootstrap; it breaks the residuals' autocorrelation, as the published scheme does), ``R = 50``
synthetic paths per window by default, seeded per window. Positive and negative trust are
reported separately (qualified refits with B < 0 and B > 0). By default the refits are judged
by the same filters as the confidence; :meth:`LPPLSFilter.sornette2015_trust` is Sornette et
al.'s stricter second filter.

References
----------
Sornette, D., Demos, G., Zhang, Q., Cauwels, P., Filimonov, V., Zhang, Q. (2015). Journal of
Investment Strategies 4(4), 77-95.
Zhang, Q., Zhang, Q., Sornette, D. (2016). Early warning signals of financial crises with
multi-scale quantile regressions of log-periodic power law singularities. PLoS ONE 11(11),
e0165819.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.bubbles import _lppls_core as core
from analysis.bubbles import lppls as L
from analysis.errors import ParameterError

#: Synthetic paths per window (the benchmark keeps one end date under 5 s on 2 cores).
DEFAULT_RESAMPLES = 50


@dataclass(frozen=True)
class LPPLSTrust:
    """Trust at one end date.

    ``pos_trust`` / ``neg_trust``: median over windows of the share of the window's refits that
    qualify with B < 0 / B > 0. ``windows``: one row per window with the original fit's
    qualification and the per-window shares. ``confidence``: the confidence at the same date
    from the original fits.
    """

    end: pd.Timestamp
    pos_trust: float
    neg_trust: float
    pos_conf: float
    neg_conf: float
    windows: pd.DataFrame
    n_resamples: int
    scheme: str
    filters: L.LPPLSFilter
    seconds: float

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"end": self.end, "pos_conf": self.pos_conf, "pos_trust": self.pos_trust,
                              "neg_conf": self.neg_conf, "neg_trust": self.neg_trust,
                              "windows": len(self.windows), "resamples per window": self.n_resamples,
                              "scheme": self.scheme}])

    def _repr_html_(self) -> str:
        return "<b>LPPLS trust</b>" + self.summary().to_html(index=False, float_format=lambda x: f"{x:.3f}")


def trust(series: pd.Series, end_date=None, windows=None, *, n_resamples: int = DEFAULT_RESAMPLES,
          filters: L.LPPLSFilter | None = None, bounds: L.SearchBounds | None = None,
          optimizer: L.Optimizer | None = None, seed: int = 0, cache=None) -> LPPLSTrust:
    """LPPLS trust indicator at ``end_date`` (default the last date) over ``windows``.

    Parameters
    ----------
    series : Series
        Positive prices with a DatetimeIndex.
    end_date : date-like, optional
        A date of the series; default its last date.
    windows : sequence of int, optional
        Default :func:`analysis.bubbles.lppls.default_windows` (the confidence's 16 windows).
    n_resamples : int
        Synthetic paths per window (default :data:`DEFAULT_RESAMPLES`).
    filters, bounds, optimizer, seed
        As in :func:`analysis.bubbles.lppls.confidence`; ``seed`` also seeds the resampling.
    cache : FitCache, optional
        Fit cache (:mod:`analysis.bubbles.fitcache`): the synthetic paths are a deterministic
        function of the data and the seed, so a second run at the same date refits nothing (and
        reads each window's refits whole, without rebuilding the paths).

    Returns
    -------
    LPPLSTrust

    Notes
    -----
    For window ``w`` with log prices ``y`` and fitted path ``yhat``: residuals ``e = y - yhat``;
    paths ``y*_r = yhat + e[idx_r]`` with ``idx_r`` drawn uniformly with replacement
    (``r = 1..R``); each ``y*_r`` is fitted like ``y``; ``share_w = #qualified(y*_r) / R``;
    ``trust = median_w share_w``. All refits run in one parallel kernel call.
    """
    t0 = time.perf_counter()
    if not isinstance(n_resamples, int) or n_resamples < 1:
        raise ParameterError(f"trust: n_resamples must be a positive integer, got {n_resamples!r}")
    filters = filters or L.LPPLSFilter()
    bounds = bounds or L.SearchBounds()
    optimizer = optimizer or L.Optimizer()
    ly = L.log_prices(series, "lppls.trust")
    end = ly.index[-1] if end_date is None else pd.Timestamp(end_date)
    conf = L.confidence(series, [end], windows, filters=filters, bounds=bounds, optimizer=optimizer, seed=seed,
                        cache=cache)
    if conf.fits.empty:
        raise ParameterError(f"trust: no window fits before {end.date()} (the series is too short)")
    e = int(ly.index.get_loc(end))
    y_all = ly.to_numpy()
    fits = list(conf.fits.itertuples(index=False))
    rows = [int(fit.window) for fit in fits]
    windows_y = [y_all[e - n + 1:e + 1] for n in rows]
    lens = np.repeat(np.array(rows), n_resamples)
    # The refits of a window are a function of its log prices, its fit, the seed and the settings:
    # stored whole, a second run at the same date reads them without building the paths (whose
    # model evaluation is the run's only numba call, 0.3 s of dispatch set-up in a fresh process).
    settings = repr(("trust", bounds, optimizer, seed, n_resamples, "v1")).encode()
    keys = [cache.key(np.concatenate([y, [fit.tc_days, fit.m, fit.omega, fit.A, fit.B, fit.C1, fit.C2]]), settings)
            for y, fit in zip(windows_y, fits)] if cache is not None else []
    stored = cache.get_many(keys, "trust") if cache is not None else {}
    blocks = [stored.get(k) for k in keys]
    if cache is not None and all(b is not None and b.shape == (n_resamples * len(core.COLUMNS),) for b in blocks):
        raw = np.concatenate([b.reshape(n_resamples, len(core.COLUMNS)) for b in blocks])
    else:
        paths = []
        for n, y, fit in zip(rows, windows_y, fits):
            yhat = core.model_path(n, fit.tc_days, fit.m, fit.omega, fit.A, fit.B, fit.C1, fit.C2)
            resid = y - yhat
            rng = np.random.default_rng([seed, n, 7])  # per window: independent of the other windows
            idx = rng.integers(0, n, size=(n_resamples, n))
            paths.append((yhat[None, :] + resid[idx]).ravel())
        starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
        raw = L.run_windows(np.concatenate(paths), starts, starts + lens - 1, bounds, optimizer, seed, cache)
        if cache is not None:
            cache.put_many({k: raw[j * n_resamples:(j + 1) * n_resamples].ravel() for j, k in enumerate(keys)},
                           "trust")
    pos = np.empty(len(raw), dtype=bool)
    neg = np.empty(len(raw), dtype=bool)
    for j, n in enumerate(lens):
        der = L.derived(int(n), raw[j], filters)
        pos[j], neg[j] = der["positive"], der["negative"]
    share_pos = pos.reshape(len(rows), n_resamples).mean(axis=1)
    share_neg = neg.reshape(len(rows), n_resamples).mean(axis=1)
    table = conf.fits[["window", "start", "tc_days", "m", "omega", "B", "qualified", "positive",
                       "negative"]].assign(pos_share=share_pos, neg_share=share_neg)
    row = conf.table.iloc[0]
    return LPPLSTrust(end=end, pos_trust=float(np.median(share_pos)), neg_trust=float(np.median(share_neg)),
                      pos_conf=float(row["pos_conf"]), neg_conf=float(row["neg_conf"]), windows=table,
                      n_resamples=n_resamples, scheme="iid residual bootstrap", filters=filters,
                      seconds=time.perf_counter() - t0)


__all__ = ["LPPLSTrust", "trust", "DEFAULT_RESAMPLES"]
