"""Notebook session setup, shared by every notebook's first code cell."""

from __future__ import annotations

import atexit
import gc
import warnings


def setup() -> None:
    """Plotly outputs as JSON only (the exporter inlines plotly.js once), quiet library warnings.

    The ``plotly_mimetype`` renderer keeps executed notebooks small (no 5 MB plotly.js per
    output); JupyterLab renders the mime type natively and the HTML exporter converts it.
    Library warnings are silenced because their text includes machine paths that must not reach
    a shared report.

    The kernel's exit skips the garbage collector's passes over everything the session imported
    (``gc.freeze`` at exit): with statsmodels, scipy and numba loaded, those passes made the kernel
    take 0.5-0.8 s to exit, which a report run waits for. Nothing the kernel writes depends on them
    (files and the fit cache are closed when written; objects not in cycles are still freed).
    """
    import pandas as pd
    import plotly.io as pio

    pio.renderers.default = "plotly_mimetype"
    pd.set_option("display.max_columns", 30)
    pd.set_option("display.width", 160)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    # statsmodels' ConvergenceWarning and ValueWarning, by module rather than by class, so the
    # setup cell does not pay for importing statsmodels before it is needed.
    warnings.filterwarnings("ignore", module=r"statsmodels\.")
    atexit.unregister(gc.freeze)   # once, however often setup() runs
    atexit.register(gc.freeze)
