"""Benchmark: analysis.bubbles.psy against pyexuber (exuber's C++ core), side by side.

1. GSADF + BSADF sequence, lag 0 (and lag 1), T = 1600, one thread each: time per call.
2. Peak memory growth of one radf() call for T = 800 .. 6400 (fresh process per cell:
   peak-RSS growth for both, and tracemalloc peak for ours, whose arrays numpy allocates).
3. Monte Carlo critical values, 2000 replications, T = 400: ours on all cores (numba prange)
   vs pyexuber's radf_mc_cv (a Python loop over its C++ statistic).
4. numba compile time: first call in a fresh process with an empty cache (cold) and with the
   on-disk cache (warm).

Run: ``.venv/bin/python benchmarks/bubbles_psy.py`` (about a minute). All rows come from one run
so the ratios stay honest on a noisy machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import timeit

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(field)


def _child_memory(impl: str, n: int) -> None:
    """Print 'rss_peak_growth_kb traced_peak_kb' for one radf call of size n (child process).

    The peak-RSS high-water mark is reset first (Linux: ``echo 5 > /proc/self/clear_refs``), so
    the growth is that of the call itself, not hidden under the import peak; it sees C++
    allocations too. tracemalloc sees numpy's allocations (all of ours).
    """
    import tracemalloc

    y = np.cumsum(np.random.default_rng(n).standard_normal(n))
    small = y[:200].copy()
    if impl == "ours":
        from analysis.bubbles import psy
        run = psy.radf
    else:
        import exuber
        run = exuber.radf
    run(small)  # compile / load everything first
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    before = _status_kb("VmRSS")
    tracemalloc.start()
    run(y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(_status_kb("VmHWM") - before, peak // 1024)


def _child_compile() -> None:
    t0 = time.perf_counter()
    from analysis.bubbles import psy
    t1 = time.perf_counter()
    y = np.cumsum(np.random.default_rng(0).standard_normal(100))
    psy.radf(y)
    psy.radf(y, lag=1)
    t2 = time.perf_counter()
    psy.simulate_distribution(60, nrep=20, seed=0)
    t3 = time.perf_counter()
    print(f"{t1 - t0:.3f} {t2 - t1:.3f} {t3 - t2:.3f}")


def _run_child(args: list[str], env_extra: dict | None = None) -> str:
    env = dict(os.environ, PYTHONPATH=ROOT, **(env_extra or {}))
    out = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                         env=env, check=True, cwd=ROOT)
    return out.stdout.strip().splitlines()[-1]


def _best(fn, number: int, repeat: int, clock=time.perf_counter) -> float:
    """Best-of-``repeat`` mean time per call; ``clock=time.process_time`` gives CPU time, which
    a busy shared machine distorts less than wall time for single-threaded code."""
    return min(timeit.Timer(fn, timer=clock).repeat(number=number, repeat=repeat)) / number


def main() -> None:
    import numba
    from threadpoolctl import threadpool_limits

    import exuber
    from analysis.bubbles import psy

    rows = []
    print(f"machine: {os.cpu_count()} CPUs, numba {numba.__version__}, "
          f"numba threads {numba.get_num_threads()}")

    # 4 first, so the cold compile is not helped by this process
    with tempfile.TemporaryDirectory() as cache:
        cold = _run_child(["--compile-child"], {"NUMBA_CACHE_DIR": cache})
    warm = _run_child(["--compile-child"])

    # 1. one series, one thread
    y = np.cumsum(np.random.default_rng(1600).standard_normal(1600))
    psy.radf(y), psy.radf(y, lag=1), exuber.radf(y)
    default_threads = numba.get_num_threads()
    with threadpool_limits(1):
        numba.set_num_threads(1)
        for lag in (0, 1):
            ours = _best(lambda: psy.radf(y, lag=lag), 10, 7)
            ref = _best(lambda: exuber.radf(y, lag=lag), 10, 7)
            rows.append((f"radf GSADF+BSADF T=1600 lag={lag}, 1 thread (ms/call)",
                         ours * 1e3, ref * 1e3, ref / ours))
            ours = _best(lambda: psy.radf(y, lag=lag), 10, 7, time.process_time)
            ref = _best(lambda: exuber.radf(y, lag=lag), 10, 7, time.process_time)
            rows.append((f"radf GSADF+BSADF T=1600 lag={lag}, 1 thread (CPU ms/call)",
                         ours * 1e3, ref * 1e3, ref / ours))
        numba.set_num_threads(default_threads)

    # 3. Monte Carlo critical values
    psy.critical_values(100, nrep=20, use_table=False)  # compile the parallel kernel
    t0, c0 = time.perf_counter(), time.process_time()
    psy.critical_values(400, nrep=2000, seed=1, use_table=False)
    ours_mc, ours_cpu = time.perf_counter() - t0, time.process_time() - c0
    numba.set_num_threads(1)
    t0 = time.perf_counter()
    psy.critical_values(400, nrep=2000, seed=1, use_table=False)
    ours_mc1 = time.perf_counter() - t0
    numba.set_num_threads(default_threads)
    t0, c0 = time.perf_counter(), time.process_time()
    exuber.radf_mc_cv(400, nrep=2000, seed=1)
    ref_mc, ref_cpu = time.perf_counter() - t0, time.process_time() - c0
    rows.append((f"MC critical values T=400 nrep=2000, ours {default_threads} threads (s)",
                 ours_mc, ref_mc, ref_mc / ours_mc))
    rows.append(("MC critical values T=400 nrep=2000, ours 1 thread (s)",
                 ours_mc1, ref_mc, ref_mc / ours_mc1))
    rows.append(("MC critical values T=400 nrep=2000, CPU seconds (all threads)",
                 ours_cpu, ref_cpu, ref_cpu / ours_cpu))

    # 2. memory growth per call
    mem = []
    for n in (800, 1600, 3200, 6400):
        o_rss, o_traced = map(int, _run_child(["--memory-child", "ours", str(n)]).split())
        e_rss, _ = map(int, _run_child(["--memory-child", "exuber", str(n)]).split())
        mem.append((n, o_traced, o_rss, e_rss))

    w = max(len(r[0]) for r in rows)
    print(f"\n{'benchmark':<{w}}  {'ours':>10}  {'pyexuber':>10}  {'ratio':>7}")
    for name, o, r, q in rows:
        print(f"{name:<{w}}  {o:>10.3f}  {r:>10.3f}  {q:>6.2f}x")
    print("\npeak memory growth of one radf() call (KiB): tracemalloc peak (numpy allocations) "
          "and peak-RSS growth (all allocations)")
    print(f"{'T':>6}  {'ours traced':>12}  {'ours RSS':>10}  {'exuber RSS':>11}  "
          f"{'ours traced/T':>14}")
    for n, ot, orss, erss in mem:
        print(f"{n:>6}  {ot:>12}  {orss:>10}  {erss:>11}  {ot * 1024 / n:>12.1f} B")
    ci, cc, cm = cold.split()
    wi, wc, wm = warm.split()
    print("\nnumba compile (fresh process, s): import / radf lag 0+1 / parallel MC kernel")
    print(f"  cold (empty cache): {ci} / {cc} / {cm}")
    print(f"  warm (disk cache):  {wi} / {wc} / {wm}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--memory-child":
        _child_memory(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--compile-child":
        _child_compile()
    else:
        main()
