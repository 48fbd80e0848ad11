"""One market bubble signal per price series: a 0-100 score at every period end, built only from
prices up to that date, with its components.

Components (each computed on the prices up to the period end ``t`` only)
--------------------------------------------------------------------------
* ``psy_margin`` - BSADF minus its 95% critical value at ``t``
  (:func:`analysis.bubbles.psy.explosive_now` on the series cut at ``t``: the last
  ``table_nobs`` log prices, committed Monte Carlo critical values; Phillips, Shi and Yu 2015).
  Positive = above the critical value. Continuous: no "episode" flag enters the score.
* ``lppls_conf`` - the positive-bubble LPPLS confidence at ``t`` over the briefing's 16 windows
  (:func:`analysis.bubbles.lppls.confidence`, published filters; Sornette et al. 2015); missing
  while fewer than :attr:`SignalConfig.min_lppls_windows` windows fit in the history.
* ``runup`` - two-year return (Greenwood, Shleifer and You 2019), the smaller of raw and net of
  the market when a market series is given (GSY require both), as ``log(1 + r)``.
* ``drawdown`` - ``P_t / max_{s <= t} P_s - 1`` (0 at a new high).

Mapping (documented ramps; the anchors are fixed a priori, never fitted to the episodes)
---------------------------------------------------------------------------------------
Each raw value ``x`` becomes ``clip((x - lo) / (hi - lo), 0, 1)``:

=============  ==================  ==================  ===========================================
component      0 at                1 at                why
=============  ==================  ==================  ===========================================
psy_margin     -1.0                +1.0                0.5 exactly at the 95% critical value
lppls_conf     0.0                 0.25                a quarter of the windows (4 of 16) qualifying
runup          log(1.2) (+20%)     log(2.5) (+150%)    +100% (GSY's rule) maps to 0.70
drawdown       -25%                0% (a new high)     a bear-market fall from the peak scores 0
=============  ==================  ==================  ===========================================

``score = 100 * sum_k w_k s_k / sum_k w_k`` over the components available at ``t`` (weights
PSY 0.30, LPPLS 0.30, run-up 0.20, drawdown 0.20); NaN when fewer than three are available.
**High** means ``score >= 60`` (:data:`HIGH`). The out-of-sample behaviour of that threshold on
past bubbles and calm stretches is in ``data/signal_calibration.csv``
(:func:`load_calibration`; made by ``tools/calibrate_signals.py``).

No look-ahead: the value at ``t`` equals the value computed on the series truncated at ``t``
(tested); nothing is estimated on the whole sample.

References
----------
Phillips, P. C. B., Shi, S., Yu, J. (2015). International Economic Review 56(4), 1043-1078.
Sornette, D. et al. (2015). Journal of Investment Strategies 4(4), 77-95.
Greenwood, R., Shleifer, A., You, Y. (2019). Journal of Financial Economics 131(1), 20-43.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config
from analysis.bubbles import lppls as L
from analysis.bubbles import psy
from analysis.bubbles import runup as R
from analysis.errors import MarketDataError, ParameterError

#: A score at or above this is "high".
HIGH = 60.0
COMPONENTS = ("psy", "lppls", "runup", "drawdown")
#: Calibration table and its leave-one-event-out results (derived statistics, no prices).
CALIBRATION_PATH = config.DATA_DIR / "signal_calibration.csv"
CALIBRATION_LOEO_PATH = config.DATA_DIR / "signal_calibration_loeo.csv"
_PERIODS = {"ME": "M", "QE": "Q", "YE": "Y", "W": "W-FRI", "W-FRI": "W-FRI"}


@dataclass(frozen=True)
class SignalConfig:
    """Weights, ramps and windows of the score (defaults documented in the module docstring)."""

    weights: tuple[tuple[str, float], ...] = (("psy", 0.30), ("lppls", 0.30), ("runup", 0.20),
                                              ("drawdown", 0.20))
    psy_ramp: tuple[float, float] = (-1.0, 1.0)
    lppls_ramp: tuple[float, float] = (0.0, 0.25)
    runup_ramp: tuple[float, float] = (math.log(1.2), math.log(2.5))
    drawdown_ramp: tuple[float, float] = (-0.25, 0.0)
    runup_years: float = 2.0
    lppls_windows: tuple[int, ...] = field(default_factory=L.default_windows)
    lppls_filters: L.LPPLSFilter = field(default_factory=L.LPPLSFilter)
    min_lppls_windows: int = 4
    min_components: int = 3
    high: float = HIGH

    def __post_init__(self):
        w = dict(self.weights)
        if set(w) != set(COMPONENTS) or any(v < 0 for v in w.values()) or sum(w.values()) <= 0:
            raise ParameterError(f"SignalConfig.weights: need non-negative weights for {COMPONENTS}")
        for name in ("psy_ramp", "lppls_ramp", "runup_ramp", "drawdown_ramp"):
            lo, hi = getattr(self, name)
            if not lo < hi:
                raise ParameterError(f"SignalConfig.{name}: need low < high, got {(lo, hi)}")
        if not 1 <= self.min_components <= len(COMPONENTS):
            raise ParameterError("SignalConfig.min_components must be between 1 and 4")


def ramp(x, lo: float, hi: float):
    """``clip((x - lo) / (hi - lo), 0, 1)``, NaN kept."""
    return np.clip((np.asarray(x, dtype=float) - lo) / (hi - lo), 0.0, 1.0)


def score_components(raw: pd.DataFrame, cfg: SignalConfig | None = None) -> pd.DataFrame:
    """Map raw components (columns ``psy_margin``, ``lppls_conf``, ``runup``, ``drawdown``) to
    ``s_psy`` .. ``s_drawdown`` in [0, 1], ``points_*`` (their share of the score), ``score``,
    ``coverage`` (components available) and ``high``."""
    cfg = cfg or SignalConfig()
    w = dict(cfg.weights)
    out = raw.copy()
    src = {"psy": ("psy_margin", cfg.psy_ramp), "lppls": ("lppls_conf", cfg.lppls_ramp),
           "runup": ("runup", cfg.runup_ramp), "drawdown": ("drawdown", cfg.drawdown_ramp)}
    for k, (col, (lo, hi)) in src.items():
        out[f"s_{k}"] = ramp(raw[col], lo, hi)
    s = out[[f"s_{k}" for k in COMPONENTS]].to_numpy()
    wv = np.array([w[k] for k in COMPONENTS])
    have = ~np.isnan(s)
    wsum = (have * wv).sum(axis=1)
    score = 100 * np.nansum(s * wv, axis=1) / np.where(wsum > 0, wsum, np.nan)
    coverage = have.sum(axis=1)
    score[coverage < cfg.min_components] = np.nan
    for j, k in enumerate(COMPONENTS):
        out[f"points_{k}"] = np.where(have[:, j], 100 * s[:, j] * wv[j], np.nan) / np.where(wsum > 0, wsum, np.nan)
    out["score"] = score
    out["coverage"] = coverage
    out["high"] = score >= cfg.high
    return out


def period_ends(index: pd.DatetimeIndex, freq: str = "ME") -> pd.DatetimeIndex:
    """The last date of ``index`` in each period (``ME`` month, ``QE`` quarter, ``YE`` year,
    ``W`` week ending Friday): the dates a history is computed at."""
    if freq not in _PERIODS:
        raise ParameterError(f"freq: {freq!r} is not one of {', '.join(_PERIODS)}")
    s = pd.Series(index, index=index)
    return pd.DatetimeIndex(s.groupby(index.to_period(_PERIODS[freq])).max().to_numpy())


def _clean(close: pd.Series, what: str) -> pd.Series:
    if not isinstance(close, pd.Series) or not isinstance(close.index, pd.DatetimeIndex):
        raise ParameterError(f"{what} must be a pandas Series with a DatetimeIndex")
    s = close.dropna().astype(float)
    if s.empty:
        raise MarketDataError(f"{what} has no prices")
    if (s <= 0).any() or not np.isfinite(s.to_numpy()).all():
        raise MarketDataError(f"{what}: prices must be finite and positive")
    if not s.index.is_monotonic_increasing or s.index.has_duplicates:
        raise MarketDataError(f"{what}: the index must be sorted and unique")
    return s


_PSY_SETTINGS = b"psy explosive_now level=0.95 v1"


def _psy_rows(s: pd.Series, positions, cache) -> list[dict]:
    """PSY at each position ``p`` of ``s`` (:func:`analysis.bubbles.psy.explosive_now` on the prices
    up to it), through the cache when given: the result is a function of the tested log prices only.
    All positions are looked up in one read and the misses stored in one write (one SQLite round
    trip per history, not one per period end)."""
    empty = {"bsadf": np.nan, "cv95": np.nan, "psy_margin": np.nan, "psy_explosive": False, "episode_start": None}
    log_prices = np.log(s.to_numpy(dtype=float))
    keys: dict[int, str | None] = {}
    for p in positions:
        n = psy.table_nobs(p + 1)
        if n:
            keys[p] = cache.key(log_prices[p + 1 - n:p + 1], _PSY_SETTINGS) if cache is not None else None
    stored = cache.get_many(list(keys.values()), "psy") if cache is not None else {}
    fresh = {}
    rows = []
    for p in positions:
        if p not in keys:
            rows.append(dict(empty))
            continue
        hit = stored.get(keys[p]) if keys[p] is not None else None
        if hit is None:
            now = psy.explosive_now(s.iloc[:p + 1])
            offset = -1 if now.episode_start is None else p - int(s.index.get_loc(now.episode_start))
            hit = np.array([now.bsadf, now.cv95, now.margin, float(now.explosive), float(offset)])
            if keys[p] is not None:
                fresh[keys[p]] = hit
        offset = int(hit[4])
        rows.append({"bsadf": float(hit[0]), "cv95": float(hit[1]), "psy_margin": float(hit[2]),
                     "psy_explosive": bool(hit[3]), "episode_start": s.index[p - offset] if offset >= 0 else None})
    if cache is not None:
        cache.put_many(fresh, "psy")
    return rows


@dataclass(frozen=True)
class SignalHistory:
    """The score and its components at every period end.

    ``table`` (indexed by period-end date): raw components ``psy_margin``, ``bsadf``, ``cv95``,
    ``psy_explosive`` (the full PSY rule, shown, not scored), ``episode_start``,
    ``lppls_conf``, ``lppls_neg_conf``, ``lppls_windows``, ``runup_raw``, ``runup_net``,
    ``runup`` (the log return scored), ``drawdown``; mapped ``s_*`` and ``points_*``;
    ``score``, ``coverage`` and ``high``. ``psy_now`` is PSY at the last date (its BSADF path,
    critical values and episodes, for the charts); ``runup_flags`` the daily GSY flags;
    ``close`` the input prices (for the charts).
    """

    name: str
    table: pd.DataFrame
    config: SignalConfig
    freq: str
    psy_now: object = field(repr=False, default=None)
    runup_flags: pd.DataFrame = field(repr=False, default=None)
    seconds: float = 0.0
    close: pd.Series = field(repr=False, default=None)

    def latest(self) -> pd.Series:
        """The last period end with a score (the last row when none has one)."""
        scored = self.table.dropna(subset=["score"])
        return (scored if len(scored) else self.table).iloc[-1]

    def high_periods(self) -> pd.DatetimeIndex:
        return self.table.index[self.table["high"].to_numpy(dtype=bool)]

    def summary(self) -> pd.DataFrame:
        last = self.latest()
        return pd.DataFrame([{
            "series": self.name, "date": last.name.date(), "score": last["score"], "high": bool(last["high"]),
            "psy_margin": last["psy_margin"], "lppls_conf": last["lppls_conf"], "runup_raw": last["runup_raw"],
            "drawdown": last["drawdown"], "episode_start": last["episode_start"],
            "periods": len(self.table), "periods_high": int(self.table["high"].sum())}])

    def _repr_html_(self) -> str:
        return "<b>Market bubble signal</b>" + self.summary().to_html(index=False, float_format=lambda x: f"{x:.3g}")


def history(close: pd.Series, freq: str = "ME", market: pd.Series | None = None, *, start=None, end=None,
            config: SignalConfig | None = None, name: str | None = None, cache=None) -> SignalHistory:
    """The market bubble signal of ``close`` at every period end, from data up to that date only.

    Parameters
    ----------
    close : Series
        Positive prices (or basket levels) with a sorted DatetimeIndex.
    freq : {"ME", "QE", "YE", "W"}
        Period ends: the last date of each month (default), quarter, year or week in ``close``.
    market : Series, optional
        Benchmark prices; the run-up is then the smaller of the raw and net-of-market two-year
        return (Greenwood, Shleifer and You 2019). Without it, the raw return.
    start, end : date-like, optional
        Only period ends in ``[start, end]`` are computed (each still sees all earlier data).
    config : SignalConfig, optional
    name : str, optional
        Label (default ``close.name``).
    cache : FitCache, optional
        Fit cache (:class:`analysis.bubbles.fitcache.FitCache`; ``FitCache()`` is the one in the
        market-data cache folder) for the LPPLS fits, the PSY result at each period end and the
        BSADF path of the whole series: a later run refits and retests only the new period ends
        (and a series that has not changed, nothing). Same values.

    Returns
    -------
    SignalHistory

    Notes
    -----
    Cost is dominated by the LPPLS fits: 16 per period end (about 6 ms of CPU each, fitted in
    parallel), so a monthly history of 7 years costs ~8 s of CPU the first time (PSY adds ~15 ms
    per period end); with a ``cache`` a later run pays only for the new period ends.
    """
    t0 = time.perf_counter()
    cfg = config or SignalConfig()
    s = _clean(close, "signal.history: close")
    name = name or (str(close.name) if close.name is not None else "series")
    ends = period_ends(s.index, freq)
    if start is not None:
        ends = ends[ends >= pd.Timestamp(start)]
    if end is not None:
        ends = ends[ends <= pd.Timestamp(end)]
    if not len(ends):
        raise ParameterError(f"signal.history: {name} has no {freq} period end in the requested range")
    pos = s.index.get_indexer(ends)
    rows = [{"date": e, **row} for e, row in zip(ends, _psy_rows(s, [int(p) for p in pos], cache))]
    table = pd.DataFrame(rows).set_index("date")
    # LPPLS: every end date in one parallel call; only dates with enough windows
    min_len = sorted(cfg.lppls_windows)[min(cfg.min_lppls_windows, len(cfg.lppls_windows)) - 1]
    lp_ends = [e for e, p in zip(ends, pos) if p + 1 >= min_len]
    table["lppls_conf"] = np.nan
    table["lppls_neg_conf"] = np.nan
    table["lppls_windows"] = 0
    if lp_ends:
        conf = L.confidence(s, lp_ends, cfg.lppls_windows, filters=cfg.lppls_filters, cache=cache).table
        table.loc[conf.index, "lppls_conf"] = conf["pos_conf"].to_numpy()
        table.loc[conf.index, "lppls_neg_conf"] = conf["neg_conf"].to_numpy()
        table.loc[conf.index, "lppls_windows"] = conf["n_fits"].to_numpy()
    raw = R.trailing_return(s, cfg.runup_years, at=ends)
    table["runup_raw"] = raw.to_numpy()
    if market is not None:
        m = _clean(market, "signal.history: market")
        mk = R.trailing_return(m, cfg.runup_years, at=ends)
        table["runup_net"] = (raw - mk).to_numpy()
        eff = np.fmin(table["runup_raw"], table["runup_net"]).where(table["runup_net"].notna())
    else:
        table["runup_net"] = np.nan
        eff = table["runup_raw"]
    table["runup"] = np.log1p(eff.clip(lower=-0.99))
    table["drawdown"] = (s / s.cummax() - 1).iloc[pos].to_numpy()
    table = score_components(table, cfg)
    flags = None
    if market is not None and len(s) > 2:
        flags = R.runup(s, m, years=cfg.runup_years).flags
    return SignalHistory(name=name, table=table, config=cfg, freq=freq, psy_now=psy.explosive_now(s, cache=cache),
                         runup_flags=flags, seconds=time.perf_counter() - t0, close=s)


def metrics(h: SignalHistory, trust=None, drawdown: dict | None = None) -> dict:
    """Plain values for ``metrics.json``: the current score, its components (0-1) and points, the
    raw inputs, the current PSY episode (start date or None) and the drawdown. ``drawdown`` (a
    row of :func:`analysis.basket_stats.drawdown_table`) adds the maximum drawdown with its peak
    and trough dates; ``trust`` (an :class:`~analysis.bubbles.trust.LPPLSTrust`) the LPPLS trust
    at the latest date (None otherwise)."""
    last = h.latest()

    def num(v, digits=4):
        return None if v is None or pd.isna(v) else round(float(v), digits)

    def day(v):
        return None if v is None or pd.isna(v) else pd.Timestamp(v).date().isoformat()

    dd = {"current": num(last["drawdown"])}
    if drawdown:
        dd.update(max=num(drawdown.get("max_drawdown")), peak_date=day(drawdown.get("peak_date")),
                  trough_date=day(drawdown.get("trough_date")))
    return {
        "as_of": last.name.date().isoformat(),
        "score": num(last["score"], 1),
        "high": bool(last["high"]),
        "components": {k: num(last[f"s_{k}"]) for k in COMPONENTS},
        "points": {k: num(last[f"points_{k}"], 1) for k in COMPONENTS},
        "raw": {"psy_margin": num(last["psy_margin"]), "lppls_confidence": num(last["lppls_conf"]),
                "runup_two_year": num(last["runup_raw"]), "runup_net_of_market": num(last["runup_net"]),
                "drawdown": num(last["drawdown"])},
        "episode_start": day(last["episode_start"]),
        "drawdown": dd,
        "lppls_trust": num(trust.pos_trust) if trust is not None else None,
    }


# --------------------------------------------------------------------------- calibration table


@dataclass(frozen=True)
class Calibration:
    """The committed calibration of the score on past bubbles and calm stretches.

    ``table``: one row per series and stretch (``kind`` bubble or calm), with ``event``,
    ``peak_date``, ``first_high``, ``lead_days``/``lead_months``, ``max_score`` and
    ``calm_share_high``. ``loeo``: the leave-one-out results (threshold chosen without the
    held-out event or calm stretch, and what it did there). ``notes``: how they were computed.
    """

    table: pd.DataFrame
    loeo: pd.DataFrame
    source: str

    @property
    def independent_events(self) -> int:
        b = self.table[self.table["kind"] == "bubble"]
        return int(b["event"].nunique())

    def summary(self) -> pd.DataFrame:
        return self.table

    def reader_table(self) -> pd.DataFrame:
        """The table as a reader sees it: one row per stretch with readable column names."""
        t = self.table
        out = pd.DataFrame({
            "Stretch": t["label"], "Kind": t["kind"].map({"bubble": "past bubble", "calm": "calm"}),
            "Event": t["event"], "Peak": t["peak_date"].dt.date if "peak_date" in t else None,
            "First high": t["first_high"].dt.date if "first_high" in t else None,
            "Lead (days)": t["lead_days"], "Max score": t["max_score"],
            "Months high (share)": t["share_high"], "Calm months flagged": t["calm_share_high"]})
        return out

    def display(self):
        """A pandas Styler of :meth:`reader_table` (escaped, blanks for not-applicable cells)."""
        return (self.reader_table().style.format(
            {"Lead (days)": "{:.0f}", "Max score": "{:.0f}", "Months high (share)": "{:.0%}",
             "Calm months flagged": "{:.0%}"}, na_rep="", escape="html").hide(axis="index"))

    def loeo_summary(self) -> pd.DataFrame:
        """Leave-one-out in one row per held-out event or calm stretch: the threshold chosen
        without it, and (events) how many of its series were caught and the median lead, or
        (calm stretches) the share of its months flagged."""
        rows = []
        for fold, g in self.loeo.groupby("held_out", sort=False):
            kind = g["kind"].iloc[0]
            row = {"held out": fold, "kind": kind, "threshold": float(g["threshold"].iloc[0])}
            if kind == "bubble":
                det = g["detected"].astype(bool)
                row.update(series=len(g), detected=int(det.sum()),
                           median_lead_days=float(g.loc[det, "lead_days"].median()) if det.any() else None,
                           calm_share_high=None)
            else:
                row.update(series=len(g), detected=None, median_lead_days=None,
                           calm_share_high=float(g["share_high"].mean()))
            rows.append(row)
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        return self.display().to_html()


def load_calibration(path: Path | str | None = None, loeo_path: Path | str | None = None) -> Calibration:
    """Read ``data/signal_calibration.csv`` and its leave-one-out results.

    Raises
    ------
    MarketDataError
        A file is missing or unreadable (named).
    """
    path = Path(path) if path else CALIBRATION_PATH
    loeo_path = Path(loeo_path) if loeo_path else CALIBRATION_LOEO_PATH
    frames = []
    for p in (path, loeo_path):
        try:
            frames.append(pd.read_csv(p, parse_dates=[c for c in ("peak_date", "first_high", "start", "end")
                                                      if c in pd.read_csv(p, nrows=0).columns]))
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            raise MarketDataError(f"{config.display_path(p)}: cannot read the calibration table ({exc})") from None
    return Calibration(frames[0], frames[1], config.display_path(path))


__all__ = ["HIGH", "COMPONENTS", "SignalConfig", "SignalHistory", "history", "score_components", "ramp",
           "period_ends", "metrics", "Calibration", "load_calibration"]
