"""Wall time of the briefing and of notebook 03 with market data, next to the kernel floor.

The market snapshot (../shared/market, test data) is imported into a temporary cache as
``tools/reference_renders.py`` does; then, interleaved so machine noise hits all alike: the floor
(an empty parameterised notebook through the same CLI path), the default briefing, the briefing
with its second process turned off (``AIBUBBLE_WORKERS=1``, what one core gives) and notebook 03,
each ``--as-of 2026-08-21``. The first round runs with an empty LPPLS fit cache (a fresh cache
folder), later rounds reuse it (what a daily run pays). Target: the briefing within 3x the floor.

Run: ``.venv/bin/python benchmarks/report_market_e2e.py [--repeat 2]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from report_e2e import AIBUBBLE, empty_notebook  # noqa: E402

from analysis.config import shared_market_dir  # noqa: E402

AS_OF = "2026-08-21"


def timed(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT, env=env)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if not shared_market_dir().is_dir():
        print("market snapshot not found; nothing to benchmark")
        return 0
    from reference_renders import import_shared_market

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cache = tmp / "cache"
        t0 = time.perf_counter()
        import_shared_market(cache)
        print(f"snapshot imported into a temp cache in {time.perf_counter() - t0:.0f} s; load "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        env = dict(os.environ, AIBUBBLE_CACHE_DIR=str(cache))
        empty = empty_notebook(tmp)
        nb03 = ROOT / "notebooks" / "03-market-bubble-signals.ipynb"
        rows = {"floor: empty notebook, same path": [], "aibubble report (briefing, market data)": [],
                "the briefing in one process (WORKERS=1)": [], "notebook 03 (market bubble signals)": []}
        one_process = dict(env, AIBUBBLE_WORKERS="1")
        for i in range(args.repeat):
            base = [str(AIBUBBLE), "report", "--offline", "--as-of", AS_OF]
            rows["floor: empty notebook, same path"].append(
                timed(base + ["--notebook", str(empty), "--out", str(tmp / f"floor{i}")], env))
            rows["aibubble report (briefing, market data)"].append(timed(base + ["--out", str(tmp / f"brief{i}")], env))
            rows["the briefing in one process (WORKERS=1)"].append(
                timed(base + ["--out", str(tmp / f"single{i}")], one_process))
            rows["notebook 03 (market bubble signals)"].append(
                timed(base + ["--notebook", str(nb03), "--out", str(tmp / f"nb03{i}")], env))
        floor = statistics.median(rows["floor: empty notebook, same path"])
        print(f"{'case':<44}{'first s':>9}{'later s':>9}{'x floor':>9}")
        for name, runs in rows.items():
            later = statistics.median(runs[1:]) if len(runs) > 1 else float("nan")
            print(f"{name:<44}{runs[0]:>9.1f}{later:>9.1f}{(later if len(runs) > 1 else runs[0]) / floor:>9.2f}")
        brief = rows["aibubble report (briefing, market data)"]
        ratio = (statistics.median(brief[1:]) if len(brief) > 1 else brief[0]) / floor
        print(f"briefing / floor {ratio:.2f}; target <= 3.0 -> {'ok' if ratio <= 3 else 'MISSED'} (first round "
              f"pays the empty LPPLS fit cache)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
