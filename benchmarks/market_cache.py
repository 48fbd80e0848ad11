"""Benchmark: the market-data cache and the basket computation, side by side in one run.

Generates a seeded synthetic universe shaped like ``data/tickers.csv`` (45 tickers in 12
segments, daily OHLCV from staggered listing dates up to 2026-08-21, about 5,000 rows each) in a
temporary folder, writes it both as CSV (``Date,Open,High,Low,Close,Volume``, as yfinance writes
it) and into the parquet cache, then times:

* load: ``load_universe`` from the parquet cache (reads, verifies every file against its metadata,
  builds the tidy long frame and the status table) vs a bare ``pandas.read_csv`` of the same CSVs
  (no checks, no tidy frame), and vs our validating CSV importer (``read_price_csv``), the other
  way data gets in; plus the file reads alone (``MarketCache.read``) against ``read_csv``;
* baskets: ``segment_baskets`` on 20 years of daily data (equal and market-cap weights, monthly
  rebalancing) vs the obvious day-by-day loop (the reference the tests use).

Each timing is the median of ``--repeat`` runs after one warm-up (the slow loop and the
importer: one run). Usage:
``.venv/bin/python benchmarks/market_cache.py [--tickers 45] [--repeat 5] [--seed 7]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis import baskets as K  # noqa: E402
from analysis.data import market as M  # noqa: E402
from analysis.data.prices_import import read_price_csv  # noqa: E402

SEGMENTS = ["hyperscaler", "ai_chips", "ai_infrastructure_supplier", "neocloud", "llm_applications",
            "ai_drug_discovery", "audio_speech", "image_video", "robotics_automation", "autonomous_driving",
            "healthcare_ai", "chemistry_materials"]
END = pd.Timestamp("2026-08-21")


def synthetic_universe(n: int, seed: int):
    rng = np.random.default_rng(seed)
    frames, rows = {}, []
    for i in range(n):
        ticker = f"T{i:02d}"
        start = pd.Timestamp("1995-01-02") + pd.Timedelta(days=int(rng.integers(0, 25 * 365)))
        dates = pd.bdate_range(start, END)
        r = rng.normal(0.0004, 0.025, len(dates))
        close = 20 * np.exp(np.cumsum(r))
        spread = np.abs(rng.normal(0, 0.01, len(dates)))
        frames[ticker] = pd.DataFrame({"Date": dates.strftime("%Y-%m-%d"), "Open": close * (1 + spread / 2),
                                       "High": close * (1 + spread), "Low": close * (1 - spread), "Close": close,
                                       "Volume": rng.integers(1e5, 1e8, len(dates))})
        rows.append({"ticker": ticker, "segment": SEGMENTS[i % len(SEGMENTS)], "is_benchmark": False})
    return frames, pd.DataFrame(rows)


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median wall time after one untimed warm-up call (first-use imports are not the cache's cost)."""
    times, result = [], fn()
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def slow_segment_baskets(prices: pd.DataFrame, tickers: pd.DataFrame, start) -> dict[str, pd.Series]:
    """Day-by-day loop: rebalance to equal weights at the first date and each month end."""
    wide = prices.pivot(index="date", columns="ticker", values="close")
    wide = wide[wide.index >= pd.Timestamp(start)]
    out = {}
    for segment, group in tickers.groupby("segment", sort=False):
        c = wide[list(group["ticker"])].dropna(axis=1, how="all")
        c = c[c.notna().any(axis=1)]
        dates = list(c.index)
        level, holdings, levels = 100.0, None, {}
        for i, d in enumerate(dates):
            row = c.loc[d]
            if holdings is not None:
                level = sum(u * row[t] for t, u in holdings.items())
            levels[d] = level
            if i == 0 or i + 1 == len(dates) or dates[i + 1].month != d.month:
                live = [t for t in c.columns if not np.isnan(row[t])]
                holdings = {t: level / len(live) / row[t] for t in live}
        out[segment] = pd.Series(levels)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickers", type=int, default=45)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    frames, table = synthetic_universe(args.tickers, args.seed)
    rows = sum(len(f) for f in frames.values())
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv_dir = tmp / "csv"
        csv_dir.mkdir()
        cache = M.MarketCache(tmp / "cache")
        for ticker, f in frames.items():
            f.to_csv(csv_dir / f"{ticker}.csv", index=False)
            entry = read_price_csv(csv_dir / f"{ticker}.csv")
            cache.write(ticker, M.PRICES, entry.entries[0].frame, source="synthetic", adjustment="none")
        tickers = list(frames)
        csv_mb = sum(p.stat().st_size for p in csv_dir.iterdir()) / 1e6
        pq_mb = sum(p.stat().st_size for p in (cache.root / "prices").iterdir()) / 1e6

        t_cache, universe = timed(lambda: M.load_universe(tickers, cache=cache, as_of=END,
                                                          tickers_path=tmp / "none.csv"), args.repeat)
        t_reads, _ = timed(lambda: [cache.read(t) for t in tickers], args.repeat)
        t_csv, _ = timed(lambda: [pd.read_csv(csv_dir / f"{t}.csv", parse_dates=["Date"]) for t in tickers],
                         args.repeat)
        t_import, _ = timed(lambda: [read_price_csv(csv_dir / f"{t}.csv") for t in tickers], 1)
        assert len(universe.prices) == rows, "the cache lost rows"

        prices = universe.prices
        start = END - pd.DateOffset(years=20)
        sessions = len(pd.bdate_range(start, END))
        shares = pd.Series(np.linspace(1e8, 5e9, len(tickers)), index=tickers)
        fundamentals = pd.DataFrame({"ticker": tickers, "period_end": END, "shares_outstanding": shares.to_numpy()})
        t_eq, eq = timed(lambda: K.segment_baskets(prices, table, start=start), args.repeat)
        t_mc, _ = timed(lambda: K.segment_baskets(prices, table, weighting="market_cap",
                                                  fundamentals=fundamentals, start=start), args.repeat)
        t0 = time.perf_counter()
        slow = slow_segment_baskets(prices, table, start)  # seconds per run: no warm-up needed
        t_slow = time.perf_counter() - t0
        worst = max(float(np.max(np.abs(eq.baskets[s].level.to_numpy() / slow[s].reindex(eq.baskets[s].level.index)
                                        .to_numpy() - 1))) for s in eq.baskets)

    print(f"universe: {args.tickers} tickers, {rows:,} daily rows; CSV {csv_mb:.1f} MB, parquet {pq_mb:.1f} MB; "
          f"baskets: {len(eq.baskets)} segments x {sessions:,} sessions (20 years); median of {args.repeat}; "
          f"{os.cpu_count()} CPUs")
    out = pd.DataFrame([
        {"task": "load universe", "ours": "parquet cache (load_universe)", "ours_s": t_cache,
         "reference": "pandas.read_csv", "reference_s": t_csv},
        {"task": "load universe", "ours": "parquet cache (load_universe)", "ours_s": t_cache,
         "reference": "CSV importer (read_price_csv)", "reference_s": t_import},
        {"task": "read 45 files", "ours": "MarketCache.read (verified)", "ours_s": t_reads,
         "reference": "pandas.read_csv", "reference_s": t_csv},
        {"task": "baskets, equal weight", "ours": "segment_baskets", "ours_s": t_eq,
         "reference": "day-by-day loop", "reference_s": t_slow},
        {"task": "baskets, market cap", "ours": "segment_baskets", "ours_s": t_mc,
         "reference": "(same loop, equal)", "reference_s": t_slow},
    ])
    out["ratio"] = out["ours_s"] / out["reference_s"]
    with pd.option_context("display.float_format", "{:.4f}".format, "display.width", 160):
        print(out.to_string(index=False))
    print(f"max relative difference, vectorised vs loop basket levels: {worst:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
