"""``reports/history.csv``: one row per job run with its headline numbers, and the change since
the previous run that the briefings show.

Pages (the briefing, the deep-dives) import this module to read history; it never imports the
process runner. Rows are written only by the runner, under the reports folder's publish lock.
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from analysis import config
from analysis.files import atomic_file

OK = "ok"
#: Fixed leading columns of ``history.csv``; metric columns follow in sorted order.
HISTORY_COLUMNS = ("as_of", "job", "finished_at", "status", "duration_s")
HISTORY_FILE = "history.csv"


def flatten_metrics(metrics: dict, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a nested metrics dict as ``{"a.b.c": value}``.

    Notes
    -----
    Keys are joined with ``.``; a ``.`` inside a key becomes ``_`` so a column name splits back
    into its path unambiguously. Only finite int/float leaves are kept (booleans, text, lists and
    nulls are dropped: history is for numbers that can change). Top-level keys that clash with
    the fixed history columns are dropped.
    """
    out: dict[str, float] = {}
    for key, value in metrics.items():
        name = str(key).replace(".", "_")
        path = f"{prefix}.{name}" if prefix else name
        if isinstance(value, dict):
            out.update(flatten_metrics(value, path))
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        elif math.isfinite(value) and not (not prefix and name in HISTORY_COLUMNS):
            out[path] = float(value)
    return out


def read_history(path: Path) -> list[dict]:
    """Every row of a history file as text (an absent file has none)."""
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def history_row(result: Any) -> dict:
    """The history row of one job outcome (a :class:`~analysis.reporting.jobs.JobResult`)."""
    return {"as_of": result.as_of, "job": result.job, "finished_at": result.finished_at, "status": result.status,
            "duration_s": f"{result.duration_s:.2f}",
            **{k: repr(v) for k, v in flatten_metrics(result.metrics).items()}}


def write_history(path: Path, rows: list[dict]) -> None:
    """Write ``rows`` as ``history.csv`` (temp file, then rename): the fixed columns, then every
    metric seen in any row, sorted; a metric a job does not report is left empty."""
    metric_cols = sorted({k for row in rows for k in row} - set(HISTORY_COLUMNS))
    with atomic_file(path) as fh:
        writer = csv.DictWriter(fh, fieldnames=[*HISTORY_COLUMNS, *metric_cols], restval="")
        writer.writeheader()
        writer.writerows(rows)


def append_history(reports_root: os.PathLike | str, results: Iterable[Any]) -> Path:
    """Append one row per job outcome to ``history.csv`` (the whole file is rewritten atomically).

    Call it while holding the reports folder's publish lock
    (:func:`analysis.reporting.store.publish_lock`).
    """
    path = Path(reports_root) / HISTORY_FILE
    rows = read_history(path)
    rows.extend(history_row(r) for r in results)
    write_history(path, rows)
    return path


@dataclass(frozen=True)
class PreviousRun:
    """The last successful run of a job before a date, as recorded in ``history.csv``."""

    job: str
    as_of: str
    finished_at: str
    metrics: dict

    def summary(self):
        import pandas as pd

        return pd.Series(self.metrics, name=self.as_of).rename_axis("metric").to_frame()


def previous_metrics(reports_root: os.PathLike | str | None, job: str, before_as_of: str) -> PreviousRun | None:
    """The flattened metrics of ``job``'s latest successful run with an as-of date strictly
    before ``before_as_of`` (a re-run of the same date compares with the date before), or None."""
    root = Path(reports_root or config.reports_dir())
    best = None
    for row in read_history(root / HISTORY_FILE):
        if row.get("job") != job or row.get("status") != OK or not row.get("as_of", "") < str(before_as_of):
            continue
        key = (row["as_of"], row.get("finished_at", ""))
        if best is None or key >= (best["as_of"], best.get("finished_at", "")):
            best = row
    if best is None:
        return None
    metrics = {k: float(v) for k, v in best.items() if k not in HISTORY_COLUMNS and v not in ("", None)}
    return PreviousRun(job, best["as_of"], best.get("finished_at", ""), metrics)


@dataclass(frozen=True)
class MetricChanges:
    """Headline metrics now against the job's previous run (``previous_as_of`` None: first run)."""

    job: str
    as_of: str
    previous_as_of: str | None
    table: Any  # DataFrame: metric, previous, current, change

    def summary(self):
        return self.table

    def _repr_html_(self) -> str:
        if self.previous_as_of is None:
            return f"<p>No earlier run of <code>{self.job}</code> in the history: nothing to compare yet.</p>"
        return (f"<p>Change since the run of {self.previous_as_of}:</p>"
                + self.table.to_html(index=False, float_format=lambda x: f"{x:,.4g}"))


def change_since_last_run(metrics: dict, as_of: str, job: str | None = None,
                          reports_root: os.PathLike | str | None = None, changed_only: bool = True) -> MetricChanges:
    """Compare this run's metrics with the previous run of the same job (from ``history.csv``).

    ``job`` defaults to ``AIBUBBLE_JOB``, which the report runner sets for the kernel, so a
    notebook need not know the name the batch config gave it.
    """
    import pandas as pd

    job = job or os.environ.get("AIBUBBLE_JOB", "")
    previous = previous_metrics(reports_root, job, as_of) if job else None
    current = flatten_metrics(metrics)
    rows = []
    if previous is not None:
        for name, now in current.items():
            before = previous.metrics.get(name)
            if before is None or (changed_only and before == now):
                continue
            rows.append({"metric": name, "previous": before, "current": now, "change": now - before})
    table = pd.DataFrame(rows, columns=["metric", "previous", "current", "change"])
    return MetricChanges(job, as_of, previous.as_of if previous else None, table)
