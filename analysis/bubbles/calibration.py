"""Calibration of the market bubble signal (:mod:`analysis.bubbles.signal`) on past bubbles and
calm stretches: the episodes, the per-stretch statistics, leave-one-out thresholds and the
16-window versus dense-grid comparison of the LPPLS confidence.

Episodes
--------
Bubbles (``kind = "bubble"``), grouped into **independent events**: the dot-com event holds the
NASDAQ Composite, the NASDAQ-100 and four dot-com stocks (CSCO, QCOM, INTC, VIAV/JDSU), which all
topped within months of each other and count as one event; the Nikkei 1989; the S&P 500 1987;
Bitcoin 2017; Bitcoin 2021 - five independent events. Calm stretches (``kind = "calm"``): the
S&P 500 in 1976-1979, 1993-1996, 2004-2006 and 2012-2016, the NASDAQ Composite in 2004-2006 and
Cisco in 2011-2016 (a single stock, as volatile as a basket).

Statistics (month ends; :data:`analysis.bubbles.signal.HIGH` unless a threshold is given)
---------------------------------------------------------------------------------------
* ``peak_date`` - the highest close of the bubble stretch;
* detection window - month ends from 24 months before the peak to 31 days after it;
  ``first_high`` is the first month end in it with a high score, ``lead_days = peak - first_high``
  (negative: flagged only after the top); no such month end = a **miss**;
* ``max_score`` over the stretch; ``share_high`` - share of month ends flagged high (for calm
  stretches: the false-positive rate); ``lppls_share_020`` - share of month ends with LPPLS
  confidence >= 0.2 (the 12 months before the peak for bubbles, the whole stretch for calm ones).

Leave-one-out
-------------
For each held-out event (all its series) a threshold is chosen on the other events and all calm
stretches by maximising ``mean detection rate over events - mean share_high over calm
stretches`` on the grid 30, 35, ..., 90 (ties: the higher threshold), and applied to the held-out
event. Each calm stretch is held out the same way (threshold chosen on every event and the other
calm stretches). Prices are only read from the caller's folder (test data); only these derived
statistics are written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.bubbles import lppls as L
from analysis.bubbles import signal as S
from analysis.errors import MarketDataError

THRESHOLDS = tuple(range(30, 95, 5))
LEAD_MONTHS = 24       # detection window opens this many months before the peak
LATE_DAYS = 31         # ... and closes this many days after it


@dataclass(frozen=True)
class Stretch:
    """One series over one stretch. ``file`` is relative to the market folder; ``market`` the
    benchmark file for the net-of-market run-up (None: raw return)."""

    id: str
    event: str
    kind: str
    label: str
    file: str
    start: str
    end: str
    market: str | None = "indices/GSPC.csv"


_SP, _IX = "indices/GSPC.csv", "indices/IXIC.csv"
STRETCHES: tuple[Stretch, ...] = (
    Stretch("nasdaq_2000", "dotcom", "bubble", "NASDAQ Composite 1995-2002", _IX, "1995-01-01", "2002-12-31"),
    Stretch("ndx_2000", "dotcom", "bubble", "NASDAQ-100 1995-2002", "indices/NDX.csv", "1995-01-01", "2002-12-31"),
    Stretch("csco_2000", "dotcom", "bubble", "Cisco 1995-2002", "stocks/CSCO.csv", "1995-01-01", "2002-12-31"),
    Stretch("qcom_2000", "dotcom", "bubble", "Qualcomm 1995-2002", "stocks/QCOM.csv", "1995-01-01", "2002-12-31"),
    Stretch("intc_2000", "dotcom", "bubble", "Intel 1995-2002", "stocks/INTC.csv", "1995-01-01", "2002-12-31"),
    Stretch("viav_2000", "dotcom", "bubble", "JDS Uniphase (VIAV) 1995-2002", "stocks/VIAV.csv", "1995-01-01",
            "2002-12-31"),
    Stretch("nikkei_1989", "nikkei1989", "bubble", "Nikkei 225 1985-1992", "indices/N225.csv", "1985-01-01",
            "1992-12-31", None),
    Stretch("sp500_1987", "sp500_1987", "bubble", "S&P 500 1984-1988", _SP, "1984-01-01", "1988-12-31", None),
    Stretch("btc_2017", "btc2017", "bubble", "Bitcoin 2016-2018", "crypto/BTC-USD.csv", "2016-01-01", "2018-12-31"),
    Stretch("btc_2021", "btc2021", "bubble", "Bitcoin 2019-2022", "crypto/BTC-USD.csv", "2019-01-01", "2022-12-31"),
    Stretch("sp500_1976", "calm_sp500_1976", "calm", "S&P 500 1976-1979", _SP, "1976-01-01", "1979-12-31", None),
    Stretch("sp500_1993", "calm_sp500_1993", "calm", "S&P 500 1993-1996", _SP, "1993-01-01", "1996-12-31", None),
    Stretch("sp500_2004", "calm_sp500_2004", "calm", "S&P 500 2004-2006", _SP, "2004-01-01", "2006-12-31", None),
    Stretch("sp500_2012", "calm_sp500_2012", "calm", "S&P 500 2012-2016", _SP, "2012-01-01", "2016-12-31", None),
    Stretch("nasdaq_2004", "calm_nasdaq_2004", "calm", "NASDAQ Composite 2004-2006", _IX, "2004-01-01",
            "2006-12-31"),
    Stretch("csco_2011", "calm_csco_2011", "calm", "Cisco 2011-2016", "stocks/CSCO.csv", "2011-01-01", "2016-12-31"),
)


def read_close(market_dir: Path, file: str) -> pd.Series:
    """The ``Close`` column of one snapshot CSV (read in place; nothing is copied)."""
    path = Path(market_dir) / file
    try:
        df = pd.read_csv(path, usecols=["Date", "Close"], parse_dates=["Date"], index_col="Date")
    except (OSError, ValueError) as exc:
        raise MarketDataError(f"{path.name}: cannot read prices ({exc})") from None
    return df["Close"].dropna().sort_index()


@dataclass(frozen=True)
class StretchResult:
    stretch: Stretch
    history: S.SignalHistory
    peak_date: pd.Timestamp | None


def run_stretch(st: Stretch, market_dir: Path, config: S.SignalConfig | None = None) -> StretchResult:
    """The monthly signal history over one stretch (each month end sees all earlier prices)."""
    close = read_close(market_dir, st.file)
    close = close[close.index <= pd.Timestamp(st.end)]
    market = read_close(market_dir, st.market) if st.market else None
    if market is not None:
        market = market[market.index <= pd.Timestamp(st.end)]
    h = S.history(close.rename(st.id), "ME", market, start=st.start, end=st.end, config=config)
    peak = None
    if st.kind == "bubble":
        inside = close[(close.index >= pd.Timestamp(st.start)) & (close.index <= pd.Timestamp(st.end))]
        peak = inside.idxmax()
    return StretchResult(st, h, peak)


def _detection(table: pd.DataFrame, peak: pd.Timestamp, threshold: float):
    lo = peak - pd.DateOffset(months=LEAD_MONTHS)
    win = table[(table.index >= lo) & (table.index <= peak + pd.Timedelta(days=LATE_DAYS))]
    hits = win.index[(win["score"] >= threshold).to_numpy()]
    first = hits[0] if len(hits) else None
    return first, (peak - first).days if first is not None else None


def stretch_row(r: StretchResult, threshold: float = S.HIGH) -> dict:
    """One row of the calibration table (see the module docstring)."""
    t = r.history.table
    st = r.stretch
    row = {"id": st.id, "event": st.event, "kind": st.kind, "label": st.label, "start": st.start, "end": st.end,
           "months": int(t["score"].notna().sum()), "threshold": threshold,
           "max_score": round(float(t["score"].max()), 1),
           "share_high": round(float((t["score"] >= threshold).mean()), 3)}
    if st.kind == "bubble":
        first, lead = _detection(t, r.peak_date, threshold)
        pre = t[(t.index > r.peak_date - pd.DateOffset(months=12)) & (t.index <= r.peak_date)]
        row.update(peak_date=r.peak_date.date().isoformat(),
                   first_high=first.date().isoformat() if first is not None else None,
                   lead_days=lead, detected=first is not None,
                   lppls_share_020=round(float((pre["lppls_conf"] >= 0.2).mean()), 3),
                   calm_share_high=None)
    else:
        row.update(peak_date=None, first_high=None, lead_days=None, detected=None,
                   lppls_share_020=round(float((t["lppls_conf"] >= 0.2).mean()), 3),
                   calm_share_high=row["share_high"])
    return row


def calibration_table(results: list[StretchResult], threshold: float = S.HIGH) -> pd.DataFrame:
    cols = ["id", "event", "kind", "label", "start", "end", "peak_date", "first_high", "lead_days", "detected",
            "max_score", "months", "share_high", "calm_share_high", "lppls_share_020", "threshold"]
    return pd.DataFrame([stretch_row(r, threshold) for r in results])[cols]


def _objective(results: list[StretchResult], threshold: float) -> float:
    rows = [stretch_row(r, threshold) for r in results]
    events: dict[str, list[bool]] = {}
    calm = []
    for row in rows:
        if row["kind"] == "bubble":
            events.setdefault(row["event"], []).append(bool(row["detected"]))
        else:
            calm.append(row["share_high"])
    det = np.mean([np.mean(v) for v in events.values()]) if events else 0.0
    return float(det - (np.mean(calm) if calm else 0.0))


def choose_threshold(results: list[StretchResult], grid=THRESHOLDS) -> float:
    """The grid threshold maximising detection minus calm false positives (ties: higher)."""
    scores = [(_objective(results, th), th) for th in grid]
    best = max(s for s, _ in scores)
    return float(max(th for s, th in scores if s == best))


def leave_one_out(results: list[StretchResult], grid=THRESHOLDS) -> pd.DataFrame:
    """Held-out results for every event and every calm stretch (see the module docstring)."""
    rows = []
    folds = sorted({r.stretch.event for r in results})
    for fold in folds:
        train = [r for r in results if r.stretch.event != fold]
        th = choose_threshold(train, grid)
        for r in results:
            if r.stretch.event != fold:
                continue
            row = stretch_row(r, th)
            rows.append({"held_out": fold, "kind": row["kind"], "id": row["id"], "threshold": th,
                         "detected": row["detected"], "first_high": row["first_high"], "lead_days": row["lead_days"],
                         "peak_date": row["peak_date"], "share_high": row["share_high"],
                         "max_score": row["max_score"]})
    return pd.DataFrame(rows)


def grid_comparison(results: list[StretchResult], market_dir: Path, months_before: int = 6) -> pd.DataFrame:
    """LPPLS confidence on the 16 briefing windows versus the dense 126-window grid, at each bubble's
    peak and the month ends before it, under the published, Sornette et al. (2015) and strict
    filters (the same fits requalified)."""
    rows = []
    presets = (L.LPPLSFilter(), L.LPPLSFilter.sornette2015(), L.LPPLSFilter.strict())
    for r in results:
        if r.stretch.kind != "bubble":
            continue
        close = read_close(market_dir, r.stretch.file)
        close = close[close.index <= pd.Timestamp(r.stretch.end)]
        ends = list(r.history.table.index[(r.history.table.index < r.peak_date)][-months_before:]) + [r.peak_date]
        for name, windows in (("16", L.default_windows()), ("dense", L.dense_windows())):
            conf = L.confidence(close, ends, windows)
            for f in presets:
                t = conf.with_filters(f).table
                for d, v in t["pos_conf"].items():
                    rows.append({"id": r.stretch.id, "date": d.date().isoformat(), "grid": name, "filters": f.name,
                                 "windows": len(windows), "pos_conf": round(float(v), 4)})
    long = pd.DataFrame(rows)
    wide = long.pivot_table(index=["id", "date", "filters"], columns="grid", values="pos_conf").reset_index()
    return wide.rename(columns={"16": "pos_conf_16", "dense": "pos_conf_dense"})


def run_all(market_dir: Path, stretches=STRETCHES, config: S.SignalConfig | None = None,
            progress=None) -> list[StretchResult]:
    out = []
    for st in stretches:
        t0 = time.perf_counter()
        out.append(run_stretch(st, market_dir, config))
        if progress:
            progress(f"{st.id}: {len(out[-1].history.table)} month ends, {time.perf_counter() - t0:.1f} s")
    return out


__all__ = ["Stretch", "STRETCHES", "THRESHOLDS", "StretchResult", "run_stretch", "run_all", "stretch_row",
           "calibration_table", "choose_threshold", "leave_one_out", "grid_comparison", "read_close"]
