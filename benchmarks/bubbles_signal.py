"""Benchmark: the LPPLS trust at one end date, a signal history cold and warm, and the calibration
table over every episode, side by side in one run.

1. Trust (16 windows x 50 resamples, NVDA's last date) next to the confidence at the same date
   (its reference: the 16 fits the trust resamples). Target: the trust under 5 s on 2 cores.
2. The monthly signal history of the NASDAQ Composite 1995-2002 with an empty LPPLS fit cache and
   again with the cache filled (what a second report run pays).
3. The calibration (``tools/calibrate_signals.py`` without the dense-grid comparison): every
   episode of :data:`analysis.bubbles.calibration.STRETCHES` and the leave-one-out. Target: under
   10 minutes.

Prices are read in place from ../shared/market (test data; nothing is written but a temp cache).
Run: ``.venv/bin/python benchmarks/bubbles_signal.py [--skip-calibration]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.bubbles import calibration as C  # noqa: E402
from analysis.bubbles import lppls as L  # noqa: E402
from analysis.bubbles import signal as S  # noqa: E402
from analysis.bubbles import trust as T  # noqa: E402
from analysis.bubbles.fitcache import FitCache  # noqa: E402
from analysis.config import shared_market_dir  # noqa: E402


def timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-calibration", action="store_true")
    args = ap.parse_args(argv)
    market = shared_market_dir()
    if not market.is_dir():
        print(f"market snapshot not found ({market.name}); nothing to benchmark")
        return 0
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    L.warmup()
    nvda = C.read_close(market, "stocks/NVDA.csv")
    conf, w_conf, c_conf = timed(lambda: L.confidence(nvda))
    tr, w_tr, c_tr = timed(lambda: T.trust(nvda))
    print(f"{'case':<58}{'wall s':>9}{'CPU s':>9}")
    print(f"{'confidence, 16 windows, one end date (reference)':<58}{w_conf:>9.2f}{c_conf:>9.2f}")
    print(f"{f'trust, 16 windows x {tr.n_resamples} resamples, same date':<58}{w_tr:>9.2f}{c_tr:>9.2f}"
          f"   ratio {w_tr / w_conf:.0f}x wall; target < 5 s -> {'ok' if w_tr < 5 else 'MISSED'}")
    print(f"  NVDA {tr.end.date()}: pos_conf {tr.pos_conf:.3f}, pos_trust {tr.pos_trust:.3f}")
    ixic = C.read_close(market, "indices/IXIC.csv")
    ixic = ixic[ixic.index <= "2002-12-31"]
    with tempfile.TemporaryDirectory() as tmp:
        cache = FitCache(Path(tmp) / "fits.sqlite")
        h, w_cold, c_cold = timed(lambda: S.history(ixic, start="1995-01-01", cache=cache))
        _, w_warm, c_warm = timed(lambda: S.history(ixic, start="1995-01-01", cache=cache))
    print(f"{f'signal history, NASDAQ 1995-2002 ({len(h.table)} month ends), empty fit cache':<58}"
          f"{w_cold:>9.2f}{c_cold:>9.2f}")
    print(f"{'same, fit cache filled (a second report run)':<58}{w_warm:>9.2f}{c_warm:>9.2f}"
          f"   ratio {w_cold / w_warm:.1f}x")
    if not args.skip_calibration:
        def calibrate():
            results = C.run_all(market)
            return C.calibration_table(results), C.leave_one_out(results)
        (table, loeo), w_cal, c_cal = timed(calibrate)
        months = int(table["months"].sum())
        print(f"{f'calibration: {len(table)} stretches, {months} month ends, + leave-one-out':<58}"
              f"{w_cal:>9.1f}{c_cal:>9.1f}   {w_cal / 60:.1f} min; target < 10 min -> "
              f"{'ok' if w_cal < 600 else 'MISSED'}")
    print(f"load average at end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
