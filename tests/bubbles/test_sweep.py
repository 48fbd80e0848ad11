"""Universe sweep: identical results in-process, on 2 local processes and on a Dask LocalCluster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.bubbles import sweep as S
from analysis.errors import ParameterError

N = 700


def _universe() -> tuple[dict[str, pd.Series], pd.Series]:
    idx = pd.bdate_range("2021-01-01", periods=N)
    rng = np.random.default_rng(42)
    t = np.arange(N)
    dt = N - 1 + 10 - t  # tc 10 days after the last price: within 0.1 of every window (published filters)
    bubble = 5 - 0.1 * dt ** 0.5 * (1 + 0.045 * np.cos(9 * np.log(dt))) + rng.normal(0, 0.01, N)
    prices = {
        "BUBL": pd.Series(np.exp(bubble), index=idx),
        "WALK": pd.Series(np.exp(np.cumsum(rng.normal(0.0005, 0.02, N))), index=idx),
        "BOOM": pd.Series(np.exp(np.linspace(0, 1.8, N) + rng.normal(0, 0.01, N)), index=idx),
    }
    market = pd.Series(np.exp(np.cumsum(rng.normal(0.0003, 0.01, N))), index=idx)
    return prices, market


# small enough for CI: 2 month-ends x 3 windows, PSY on 400 obs (a committed cv table)
CONFIG = S.SweepConfig(lppls_months=2, lppls_windows=(250, 200, 150))


def runup_only(task: S.TickerTask) -> S.TickerResult:
    """Injected per-ticker function: the run-up rule only (module level, so it pickles)."""
    cfg = S.SweepConfig(tasks=("runup",))
    return S.analyze_ticker(S.TickerTask(task.ticker, task.prices, task.market, cfg))


def _assert_same(a: S.SweepResult, b: S.SweepResult) -> None:
    pd.testing.assert_frame_equal(a.lppls, b.lppls)
    pd.testing.assert_frame_equal(a.latest, b.latest)
    pd.testing.assert_frame_equal(a.psy_episodes, b.psy_episodes)
    pd.testing.assert_frame_equal(a.runup_episodes, b.runup_episodes)
    assert a.errors == b.errors


@pytest.fixture(scope="module")
def serial():
    prices, market = _universe()
    return S.sweep(prices, market, config=CONFIG, workers=1)


def test_serial_sweep_contents(serial):
    assert serial.errors == {}
    assert list(serial.latest.index) == ["BUBL", "WALK", "BOOM"]
    assert set(serial.lppls["ticker"]) == {"BUBL", "WALK", "BOOM"}
    assert (serial.lppls.groupby("ticker").size() == 2).all()  # two month-ends each
    assert (serial.lppls["n_fits"] == 3).all()
    lat = serial.latest
    # the LPPLS bubble, 30 days before its tc, is seen by the fits; the random walk is not
    assert lat.loc["BUBL", "pos_conf"] >= 2 / 3 and lat.loc["WALK", "pos_conf"] == 0
    # BOOM rises 1.8 log points over 700 trading days: ~1.34 over the last two years (+280%)
    assert lat.loc["BOOM", "runup_raw"] > 1.0
    assert {"gsadf", "bsadf_last", "psy_explosive_now"} <= set(lat.columns)
    assert lat["psy_cv_source"].str.endswith(".json").all()  # a committed table: nothing simulated
    assert "Universe sweep" in serial._repr_html_()


def test_two_local_processes_give_identical_results(serial):
    prices, market = _universe()
    _assert_same(serial, S.sweep(prices, market, config=CONFIG, workers=2))


@pytest.mark.slow
def test_dask_local_cluster_gives_identical_results(serial):
    from dask.distributed import LocalCluster

    prices, market = _universe()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=":0") as cluster:
        res = S.sweep(prices, market, config=CONFIG, address=cluster.scheduler_address)
    assert res.executor.startswith("dask cluster at")
    _assert_same(serial, res)


def test_injected_function_and_per_ticker_errors():
    prices, market = _universe()
    prices["BAD"] = -prices["WALK"]  # negative prices: recorded, the sweep goes on
    one = S.sweep(prices, market, workers=1, func=runup_only)
    two = S.sweep(prices, market, workers=2, func=runup_only)
    _assert_same(one, two)
    assert one.lppls.empty and list(one.errors) == ["BAD"] and "MarketDataError" in one.errors["BAD"]
    assert one.latest.loc["BOOM", "runup_raw"] > 1.0


def test_bad_arguments():
    with pytest.raises(ParameterError):
        S.sweep({})
    with pytest.raises(ParameterError):
        S.SweepConfig(tasks=("psy", "nope"))
    with pytest.raises(ParameterError):
        S.LocalExecutor(0)
    with pytest.raises(ParameterError):
        S.DaskExecutor()


def test_month_end_dates():
    idx = pd.to_datetime(["2024-01-30", "2024-01-31", "2024-02-28", "2024-02-29", "2024-03-01"])
    assert list(S.month_end_dates(idx, 2)) == list(pd.to_datetime(["2024-02-29", "2024-03-01"]))
