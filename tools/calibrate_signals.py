"""Calibrate the market bubble signal on past bubbles and calm stretches; write the derived tables.

Reads prices in place from ``../shared/market`` (test and development data: nothing from it is
copied) and writes only derived statistics:

* ``data/signal_calibration.csv`` - one row per series and stretch (score 60 = "high");
* ``data/signal_calibration_loeo.csv`` - leave-one-event-out (and leave-one-calm-stretch-out)
  thresholds and what they did on the held-out rows;
* ``data/signal_calibration_grid.csv`` - LPPLS confidence on the 16 briefing windows versus the
  dense 126-window grid at each bubble's peak and the six month ends before it.

The method is in :mod:`analysis.bubbles.calibration` and ``data/README.md``. Usage::

    .venv/bin/python tools/calibrate_signals.py [--market ../shared/market] [--out data]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis import config  # noqa: E402
from analysis.bubbles import calibration as C  # noqa: E402
from analysis.bubbles import lppls as L  # noqa: E402
from analysis.files import atomic_file  # noqa: E402


def write_csv(frame, path: Path) -> None:
    with atomic_file(path) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--market", type=Path, default=config.shared_market_dir())
    ap.add_argument("--out", type=Path, default=ROOT / "data")
    ap.add_argument("--no-grid", action="store_true", help="skip the dense-grid comparison")
    args = ap.parse_args(argv)
    if not args.market.is_dir():
        print(f"market snapshot not found: {args.market.name}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    L.warmup()
    results = C.run_all(args.market, progress=print)
    table = C.calibration_table(results)
    loeo = C.leave_one_out(results)
    write_csv(table, args.out / "signal_calibration.csv")
    write_csv(loeo, args.out / "signal_calibration_loeo.csv")
    print(table.to_string(index=False))
    print(loeo.to_string(index=False))
    if not args.no_grid:
        grid = C.grid_comparison(results, args.market)
        write_csv(grid, args.out / "signal_calibration_grid.csv")
        print(grid.to_string(index=False))
    print(f"independent events: {table.loc[table['kind'] == 'bubble', 'event'].nunique()}; "
          f"total {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
