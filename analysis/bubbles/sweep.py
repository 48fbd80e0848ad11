"""Universe sweep: PSY date-stamping, monthly LPPLS confidence and the run-up rule per ticker.

One per-ticker function (:func:`analyze_ticker`, injectable) runs through one executor
interface (:class:`Executor`: ``map(fn, items) -> list`` in input order):

* :class:`LocalExecutor` - in the calling process for ``workers=1``, else a
  ``concurrent.futures.ProcessPoolExecutor`` with ``workers`` processes (``spawn`` start
  method by default: safe when the parent holds threads, e.g. a Dask client);
* :class:`DaskExecutor` - an existing ``dask.distributed`` cluster, by address or Client.

Every per-ticker computation is deterministic for its seed and independent of the other
tickers, so results do not depend on the executor or the number of workers (tested).
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Protocol

import multiprocessing as mp
import pandas as pd

from analysis.bubbles import lppls as _lppls
from analysis.bubbles import psy as _psy
from analysis.bubbles import runup as _runup
from analysis.errors import ParameterError

TASKS = ("psy", "lppls", "runup")


@dataclass(frozen=True)
class SweepConfig:
    """What the sweep computes per ticker (picklable: it travels to the workers).

    ``lppls_months`` month-end dates (last trading day of each of the last months, the
    latest month included) each get :func:`analysis.bubbles.lppls.confidence` over
    ``lppls_windows``. PSY is :func:`analysis.bubbles.psy.explosive_now` (the package's one
    "explosive now": the most recent committed-table length of log prices, committed critical
    values, nothing simulated). The run-up rule needs a market series.
    """

    tasks: tuple[str, ...] = TASKS
    lppls_months: int = 12
    lppls_windows: tuple[int, ...] = field(default_factory=_lppls.default_windows)
    lppls_seed: int = 0
    lppls_filters: _lppls.LPPLSFilter = field(default_factory=_lppls.LPPLSFilter)
    lppls_optimizer: _lppls.Optimizer = field(default_factory=_lppls.Optimizer)
    psy_level: float = 0.95
    runup_threshold: float = field(default_factory=_runup.default_runup_threshold)
    runup_years: float = 2.0

    def __post_init__(self):
        unknown = set(self.tasks) - set(TASKS)
        if unknown:
            raise ParameterError(f"SweepConfig.tasks: unknown {sorted(unknown)}; known {TASKS}")
        if self.lppls_months < 1:
            raise ParameterError("SweepConfig: lppls_months >= 1 required")


@dataclass(frozen=True)
class TickerTask:
    ticker: str
    prices: pd.Series
    market: pd.Series | None
    config: SweepConfig


@dataclass(frozen=True)
class TickerResult:
    """Outputs for one ticker; frames are empty for tasks not run. ``error`` is set instead
    of raising so that one bad series does not stop a universe sweep."""

    ticker: str
    lppls: pd.DataFrame
    psy_episodes: pd.DataFrame
    psy_latest: dict
    runup_latest: dict
    runup_episodes: pd.DataFrame
    seconds: dict
    error: str | None = None


def month_end_dates(index: pd.DatetimeIndex, months: int) -> pd.DatetimeIndex:
    """Last trading day in each of the last ``months`` calendar months present in ``index``."""
    s = pd.Series(index, index=index)
    last = s.groupby(index.to_period("M")).max()
    return pd.DatetimeIndex(last.iloc[-months:].to_numpy())


def _psy_part(prices: pd.Series, cfg: SweepConfig) -> tuple[pd.DataFrame, dict]:
    now = _psy.explosive_now(prices, level=cfg.psy_level)
    if now is None:
        return pd.DataFrame(), {}
    latest = {"psy_nobs": now.nobs, "gsadf": now.gsadf, "gsadf_cv": now.gsadf_cv95,
              "bsadf_last": now.bsadf, "bsadf_cv_last": now.cv95, "psy_margin": now.margin,
              "psy_explosive_now": now.explosive, "psy_cv_source": now.cv.source}
    return now.episodes.table.copy(), latest


def analyze_ticker(task: TickerTask) -> TickerResult:
    """All configured analyses for one ticker (module-level so that it pickles)."""
    cfg = task.config
    prices = task.prices.dropna().astype(float).sort_index()
    seconds: dict = {}
    lp = pd.DataFrame()
    psy_ep, psy_latest = pd.DataFrame(), {}
    ru_latest, ru_ep = {}, pd.DataFrame()
    try:
        if "psy" in cfg.tasks:
            t0 = time.perf_counter()
            psy_ep, psy_latest = _psy_part(prices, cfg)
            seconds["psy"] = time.perf_counter() - t0
        if "lppls" in cfg.tasks:
            t0 = time.perf_counter()
            ends = month_end_dates(prices.index, cfg.lppls_months)
            ends = ends[[prices.index.get_loc(e) + 1 >= min(cfg.lppls_windows) for e in ends]]
            conf = _lppls.confidence(prices, ends, cfg.lppls_windows, filters=cfg.lppls_filters,
                                     optimizer=cfg.lppls_optimizer, seed=cfg.lppls_seed)
            lp = conf.table.reset_index()
            seconds["lppls"] = time.perf_counter() - t0
        if "runup" in cfg.tasks and task.market is not None:
            t0 = time.perf_counter()
            ru = _runup.runup(prices, task.market, threshold=cfg.runup_threshold,
                              years=cfg.runup_years)
            last = ru.latest
            ru_latest = {"runup_raw": float(last["raw_return"]), "runup_net": float(last["net_return"]),
                         "runup_flag": bool(last["flag"])}
            ru_ep = ru.episodes
            seconds["runup"] = time.perf_counter() - t0
    except Exception as exc:  # noqa: BLE001 - recorded per ticker, the sweep goes on
        return TickerResult(task.ticker, lp, psy_ep, psy_latest, ru_latest, ru_ep, seconds,
                            error=f"{type(exc).__name__}: {exc}")
    return TickerResult(task.ticker, lp, psy_ep, psy_latest, ru_latest, ru_ep, seconds)


# --------------------------------------------------------------------------- executors


class Executor(Protocol):
    """Anything with ``map(fn, items) -> list`` returning results in input order."""

    def map(self, fn: Callable, items: list) -> list: ...

    def describe(self) -> str: ...


class LocalExecutor:
    """In-process for ``workers == 1``; otherwise a process pool of ``workers`` processes."""

    def __init__(self, workers: int = 1, start_method: str = "spawn"):
        if not isinstance(workers, int) or workers < 1:
            raise ParameterError(f"workers must be a positive integer, got {workers!r}")
        self.workers = workers
        self.start_method = start_method

    def map(self, fn: Callable, items: list) -> list:
        if self.workers == 1:
            return [fn(x) for x in items]
        ctx = mp.get_context(self.start_method)
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx) as pool:
            return list(pool.map(fn, items))

    def describe(self) -> str:
        return "in-process" if self.workers == 1 else f"{self.workers} local processes"


class DaskExecutor:
    """An existing ``dask.distributed`` cluster, given by scheduler address or Client."""

    def __init__(self, address=None, client=None):
        if (address is None) == (client is None):
            raise ParameterError("DaskExecutor: give exactly one of address or client")
        self.address = address
        self.client = client

    def map(self, fn: Callable, items: list) -> list:
        from dask.distributed import Client

        own = self.client is None
        client = Client(self.address) if own else self.client
        try:
            futures = client.map(fn, items, pure=False)
            return client.gather(futures)
        finally:
            if own:
                client.close()

    def describe(self) -> str:
        return f"dask cluster at {self.address or self.client.scheduler.address}"


def make_executor(workers: int = 1, address: str | None = None) -> Executor:
    """Local processes by default; a Dask cluster when a scheduler address is given."""
    return DaskExecutor(address=address) if address else LocalExecutor(workers)


# --------------------------------------------------------------------------- sweep


@dataclass(frozen=True)
class SweepResult:
    """Tidy outputs over the universe.

    ``lppls``: one row per (ticker, month-end) with pos_conf, neg_conf, n_fits and tc
    quantiles. ``psy_episodes``: one row per (ticker, episode). ``latest``: one row per
    ticker with the current PSY, LPPLS and run-up status. ``runup_episodes``: one row per
    (ticker, run-up episode). ``errors``: ticker -> message. ``seconds``: per ticker and task.
    """

    lppls: pd.DataFrame
    psy_episodes: pd.DataFrame
    runup_episodes: pd.DataFrame
    latest: pd.DataFrame
    errors: dict
    seconds: pd.DataFrame
    executor: str
    wall_seconds: float
    config: SweepConfig

    def summary(self) -> pd.DataFrame:
        return self.latest

    def _repr_html_(self) -> str:
        head = (f"<b>Universe sweep</b>: {len(self.latest)} tickers, {self.executor}, "
                f"{self.wall_seconds:.1f} s" + (f", errors: {self.errors}" if self.errors else ""))
        return head + self.latest.to_html(float_format=lambda x: f"{x:.3g}")


def _stack(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    parts = [f.assign(ticker=t) for t, f in frames.items() if len(f)]
    if not parts:
        return pd.DataFrame(columns=["ticker"])
    out = pd.concat(parts, ignore_index=True)
    return out[["ticker"] + [c for c in out.columns if c != "ticker"]]


def sweep(prices: dict[str, pd.Series], market: pd.Series | None = None, *,
          config: SweepConfig | None = None, workers: int = 1, address: str | None = None,
          executor: Executor | None = None,
          func: Callable[[TickerTask], TickerResult] = analyze_ticker) -> SweepResult:
    """Run PSY, monthly LPPLS confidence and the run-up rule over a universe of tickers.

    Parameters
    ----------
    prices : dict of str -> Series
        Positive prices with a DatetimeIndex, one Series per ticker.
    market : Series, optional
        Benchmark for the run-up rule (skipped when None).
    config : SweepConfig, optional
    workers : int
        Local processes (1 = in the calling process). Ignored when ``address`` or
        ``executor`` is given.
    address : str, optional
        Scheduler address of an existing Dask cluster (``dask.distributed.Client(address)``).
    executor : Executor, optional
        Any object with ``map(fn, items)``; overrides ``workers``/``address``.
    func : callable
        Per-ticker function ``TickerTask -> TickerResult`` (module-level, picklable);
        injectable for tests or other analyses.

    Returns
    -------
    SweepResult
    """
    if not prices:
        raise ParameterError("sweep: no tickers given")
    config = config or SweepConfig()
    executor = executor or make_executor(workers, address)
    tasks = [TickerTask(t, s, market, config) for t, s in prices.items()]
    t0 = time.perf_counter()
    results = executor.map(func, tasks)
    wall = time.perf_counter() - t0
    by = {r.ticker: r for r in results}
    latest_rows = []
    for t in prices:
        r = by[t]
        row = {"ticker": t, **r.psy_latest, **r.runup_latest}
        if len(r.lppls):
            last = r.lppls.iloc[-1]
            row.update({"lppls_end": last["end"], "pos_conf": last["pos_conf"],
                        "neg_conf": last["neg_conf"], "tc_date_q50": last.get("tc_date_q50")})
        row["error"] = r.error
        latest_rows.append(row)
    seconds = pd.DataFrame({t: by[t].seconds for t in prices}).T
    return SweepResult(
        lppls=_stack({t: by[t].lppls for t in prices}),
        psy_episodes=_stack({t: by[t].psy_episodes for t in prices}),
        runup_episodes=_stack({t: by[t].runup_episodes for t in prices}),
        latest=pd.DataFrame(latest_rows).set_index("ticker"),
        errors={t: by[t].error for t in prices if by[t].error},
        seconds=seconds, executor=executor.describe(), wall_seconds=wall, config=config)


__all__ = ["SweepConfig", "SweepResult", "TickerTask", "TickerResult", "Executor", "LocalExecutor",
           "DaskExecutor", "make_executor", "sweep", "analyze_ticker", "month_end_dates",
           "default_psy_nobs"]


# --------------------------------------------------------------------------- status tables


def bubble_status(levels: pd.DataFrame, lppls_windows: tuple[int, ...] | None = None,
                  labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Current PSY and LPPLS status per column of ``levels`` (a basket or series per column).

    PSY is :func:`analysis.bubbles.psy.explosive_now`: BSADF, its 95% critical value, the
    margin between them, whether an episode is ongoing and since when. LPPLS is the
    multi-window confidence (positive bubbles) at the last date, for series of 130 or more
    prices. ``labels`` maps column names to display names (the ``basket`` column keeps the id).
    """
    rows = []
    for name in levels.columns:
        s = levels[name].dropna()
        now = _psy.explosive_now(s.rename(name))
        if now is None:
            continue
        conf = _lppls.confidence(s, windows=lppls_windows) if len(s) >= 130 else None
        rows.append({
            "basket": name, "label": (labels or {}).get(name, name),
            "as_of": s.index[-1].date().isoformat(), "nobs": now.nobs,
            "bsadf": round(now.bsadf, 3), "cv95": round(now.cv95, 3), "margin": round(now.margin, 3),
            "explosive": now.explosive, "gsadf": round(now.gsadf, 3), "gsadf_cv95": round(now.gsadf_cv95, 3),
            "episode_start": now.episode_start.date().isoformat() if now.episode_start is not None else None,
            "lppls_confidence": round(float(conf.table["pos_conf"].iloc[-1]), 3) if conf is not None else None,
        })
    return pd.DataFrame(rows)


def runup_table(levels: pd.DataFrame, market: pd.Series | None, closes: pd.DataFrame | None = None,
                min_obs: int = 300) -> pd.DataFrame:
    """Latest Greenwood-Shleifer-You run-up status per column of ``levels`` (and of ``closes``):
    two-year return, net of the market, and the rule's flag. Empty without a market series."""
    if market is None:
        return pd.DataFrame()
    frames = [levels] + ([closes] if closes is not None else [])
    rows = []
    for frame in frames:
        for col in frame.columns:
            s = frame[col].dropna()
            if len(s) < min_obs:
                continue
            last = _runup.runup(s, market).latest
            rows.append({"series": col, "as_of": s.index[-1].date().isoformat(),
                         "two_year_return": float(last["raw_return"]), "net_of_market": float(last["net_return"]),
                         "run_up_flag": bool(last["flag"])})
    return pd.DataFrame(rows)
