"""Wall time of the example batch (reports.yaml: the briefing + 13 domain deep-dives) run with one
local worker, two local workers, and through a two-worker Dask LocalCluster, and the speed-ups.

All three runs happen in this one invocation, on the same as-of date and data, each into its own
temporary reports folder, so a noisy machine hits them alike. The Dask cluster's start-up is
timed separately (a scheduled run would reuse a running cluster).

Run: .venv/bin/python benchmarks/batch_runs.py [--only 'domain-*' ...] [--as-of YYYY-MM-DD]
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.reporting.jobs import load_config  # noqa: E402
from analysis.reporting.progress import Progress  # noqa: E402
from analysis.reporting.runner import run_batch  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default=str(ROOT / "reports.yaml"))
    parser.add_argument("--only", nargs="+", help="subset of jobs (names or patterns)")
    parser.add_argument("--as-of", default="2025-10-31")
    args = parser.parse_args()
    cfg = load_config(args.config, as_of=args.as_of, only=args.only)
    cores = os.cpu_count()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for label, kwargs in (("local, 1 worker", {"workers": 1}), ("local, 2 workers", {"workers": 2})):
            t0 = time.perf_counter()
            run = run_batch(cfg, tmp / label.replace(" ", "").replace(",", "-"), progress=Progress(io.StringIO()), **kwargs)
            rows.append((label, time.perf_counter() - t0, run))
            print(f"done: {label}", file=sys.stderr, flush=True)
        from dask.distributed import LocalCluster

        t0 = time.perf_counter()
        with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                          silence_logs=50) as cluster:
            startup = time.perf_counter() - t0
            t0 = time.perf_counter()
            run = run_batch(cfg, tmp / "dask", scheduler=cluster.scheduler_address,
                                  progress=Progress(io.StringIO()))
            rows.append(("Dask LocalCluster, 2 workers", time.perf_counter() - t0, run))
    base = rows[0][1]
    print(f"batch: {len(cfg.jobs)} jobs from {Path(args.config).name}, as of {args.as_of}, {cores} cores")
    print(f"{'case':<32}{'wall s':>9}{'ok':>5}{'speed-up vs 1 worker':>23}{'mean job s':>12}")
    for label, wall, run in rows:
        mean_job = sum(r.duration_s for r in run.results) / len(run.results)
        ok = sum(r.ok for r in run.results)
        print(f"{label:<32}{wall:>9.1f}{ok:>5}{base / wall:>23.2f}{mean_job:>12.1f}")
    print(f"{'(Dask cluster start-up, s)':<32}{startup:>9.1f}")
    return 0 if all(r.ok for _, _, run in rows for r in run.results) else 1


if __name__ == "__main__":
    sys.exit(main())
