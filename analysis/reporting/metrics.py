"""Headline metrics: published from inside a notebook, collected from the executed notebook.

A notebook calls :func:`publish_metrics`; the runner reads the output back from the executed
``.ipynb`` and writes ``metrics.json``. No file paths cross the kernel boundary, and the numbers in
``metrics.json`` are exactly the ones the notebook computed.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

METRICS_MIME = "application/x.aibubble-metrics+json"


def to_jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars and containers to plain JSON values (NaN -> None)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (pd.Timestamp,)):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NaT or value is None:
        return None
    if isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def publish_metrics(metrics: dict) -> None:
    """Attach headline metrics to the running notebook (shown as nothing in the briefing)."""
    from IPython.display import display

    payload = to_jsonable(metrics)
    json.dumps(payload)  # fail in the notebook, where the error is visible, not in the runner
    display({METRICS_MIME: payload, "text/plain": "(headline metrics recorded for metrics.json)"},
            raw=True)


def collect_metrics(nb) -> dict:
    """Merge every metrics output of an executed notebook, later outputs winning."""
    merged: dict = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if METRICS_MIME in data:
                merged.update(data[METRICS_MIME])
    return merged
