"""Generate the committed Monte Carlo critical-value tables of :mod:`analysis.bubbles.psy`.

Each table ``mc_n{n}_minw{minw}_lag{lag}.json`` holds the 90/95/99% critical values of ADF,
SADF and GSADF and both BSADF date-stamping sequences for one ``(n, minw, lag)``, together with
everything needed to regenerate it: ``seed``, ``nrep``, ``n``, ``minw``, ``lag``, the null DGP
(``d``, ``eta``), the generator and the numpy version. Values are rounded to 4 decimals, far
below the Monte Carlo error (about 0.01-0.03 at nrep = 10000).

Run from the repository root::

    .venv/bin/python analysis/bubbles/cv_tables/generate.py            # the default grid
    .venv/bin/python analysis/bubbles/cv_tables/generate.py --n 500 --nrep 20000

``psy.critical_values(n, minw, lag, method="mc", nrep)`` returns a table when one matches
``(n, minw, lag)`` and holds at least ``nrep`` replications.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time

import numpy as np

from analysis.bubbles import psy

#: The default grid: common sample sizes, PSY default minimum window, no lags.
DEFAULT_N = psy.DEFAULT_TABLE_N
DEFAULT_NREP = 10_000
DEFAULT_SEED = 20150401  # any fixed number; recorded in each table


def generate(n: int, minw: int | None = None, lag: int = 0, nrep: int = DEFAULT_NREP,
             seed: int = DEFAULT_SEED) -> dict:
    """Simulate one table and return it as a JSON-ready dict."""
    started = time.perf_counter()
    cv = psy.critical_values(n, minw=minw, lag=lag, method="mc", nrep=nrep, seed=seed,
                             use_table=False)
    r4 = lambda a: np.round(np.asarray(a, dtype=float), 4).tolist()  # noqa: E731
    return {
        "generator": "analysis/bubbles/cv_tables/generate.py",
        "function": "analysis.bubbles.psy.critical_values(method='mc', use_table=False)",
        "dgp": "y_t = d * n**(-eta) + y_{t-1} + e_t, e_t ~ N(0, 1) (PSY 2015 null)",
        "d": psy.NULL_D, "eta": psy.NULL_ETA,
        "n": cv.n, "minw": cv.minw, "lag": cv.lag, "nrep": cv.nrep, "seed": seed,
        "levels": list(psy.LEVELS), "numpy": np.__version__,
        "created": dt.date.today().isoformat(),
        "seconds": round(time.perf_counter() - started, 1),
        "adf": r4(cv.adf), "sadf": r4(cv.sadf), "gsadf": r4(cv.gsadf),
        "r2_first": cv.minw + cv.lag,
        "bsadf_cv": r4(cv.bsadf_cv.to_numpy()),
        "bsadf_cv_runmax": r4(cv.bsadf_cv_runmax.to_numpy()),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="*", default=list(DEFAULT_N))
    ap.add_argument("--minw", type=int, default=None, help="default: psy_minw(n)")
    ap.add_argument("--lag", type=int, default=0)
    ap.add_argument("--nrep", type=int, default=DEFAULT_NREP)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = ap.parse_args(argv)
    psy.CV_TABLE_DIR.mkdir(parents=True, exist_ok=True)
    for n in args.n:
        table = generate(n, args.minw, args.lag, args.nrep, args.seed)
        path = psy._table_path(table["n"], table["minw"], table["lag"])
        path.write_text(json.dumps(table, separators=(",", ":")) + "\n")
        print(f"{path.name}: nrep={table['nrep']} seed={table['seed']} "
              f"gsadf 95% = {table['gsadf'][1]:.3f} ({table['seconds']} s)")


if __name__ == "__main__":
    main()
