"""``reports/history.csv``: one row per job run with its headline numbers, and the change since
the previous run that the briefings show.

Pages (the briefing, the deep-dives) import this module to read history; it never imports the
process runner. Rows are written only inside the publish transaction
(:func:`analysis.reporting.store.publish`), together with the run they describe. Reading never
fails on the file's content: a cell edited in a spreadsheet, a latin-1 byte or a file that is
not CSV at all is skipped and reported (``MetricChanges.problems``), not raised.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from analysis import config
from analysis.files import atomic_file

OK = "ok"
STATUSES = ("ok", "failed", "timeout")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RAW = None  # key of a kept row's original fields when their count did not match the header
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


@dataclass(frozen=True)
class HistoryFile:
    """``history.csv`` as read: the rows a reader may use, and what was wrong with the rest.

    ``rows`` passed every check (a date, a known status, numbers in the metric columns);
    ``kept`` is every row as text, bad cells included, which is what the writer carries forward
    (a reader's problem is never a reason to destroy a user's data); ``problems`` has one line
    per skipped row, or one for a file that is not a history file at all (``readable`` False).
    """

    rows: tuple[dict, ...] = ()
    kept: tuple[dict, ...] = ()
    problems: tuple[str, ...] = ()
    readable: bool = True


def _not_a_number(value: str) -> bool:
    try:
        return not math.isfinite(float(value))
    except ValueError:
        return True


def _row_problem(row: dict, fields: int, header: int) -> str | None:
    if fields != header:
        return f"{fields} fields where the header has {header}"
    if any("\udc80" <= ch <= "\udcff" for value in row.values() for ch in value):
        return "not UTF-8 text"
    if not _DATE.match(row.get("as_of") or ""):
        return f"as_of {row.get('as_of')!r} is not a date"
    if row.get("status") not in STATUSES:
        return f"status {row.get('status')!r} is not one of {', '.join(STATUSES)}"
    for name, value in row.items():
        if name not in HISTORY_COLUMNS and value not in ("", None) and _not_a_number(value):
            return f"{name} {value!r} is not a number"
    return None


def load_history(path: Path) -> HistoryFile:
    """Read a history file without ever failing on its content (see :class:`HistoryFile`)."""
    path = Path(path)
    shown = path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return HistoryFile()
    except OSError as exc:
        return HistoryFile(problems=(f"{shown}: cannot read ({exc.strerror}); ignored",), readable=False)
    if b"\x00" in data:
        return HistoryFile(problems=(f"{shown}: binary data, not a CSV file; ignored",), readable=False)
    # Bytes that are not UTF-8 (a latin-1 spreadsheet export) survive as surrogates, so the rows
    # they are in can be reported and written back unchanged.
    text = data.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        return HistoryFile(problems=(f"{shown}: not a CSV file ({exc}); ignored",), readable=False)
    if not records:
        return HistoryFile()
    header = records[0]
    if not {"as_of", "job", "status"} <= set(header):
        return HistoryFile(problems=(f"{shown}: no history header ({', '.join(HISTORY_COLUMNS)}, ...); ignored",),
                           readable=False)
    rows, kept, problems = [], [], []
    for line, values in enumerate(records[1:], start=2):
        if not values:
            continue
        row = dict(zip(header, values + [""] * (len(header) - len(values))))
        problem = _row_problem(row, len(values), len(header))
        kept.append({**row, _RAW: values} if len(values) != len(header) else row)
        if problem:
            problems.append(f"{shown} line {line}: {problem}; row skipped")
        else:
            rows.append(row)
    return HistoryFile(tuple(rows), tuple(kept), tuple(problems))


def read_history(path: Path) -> list[dict]:
    """The usable rows of a history file (see :func:`load_history`)."""
    return list(load_history(path).rows)


def history_row(result: Any) -> dict:
    """The history row of one job outcome (a :class:`~analysis.reporting.jobs.JobResult`)."""
    return {"as_of": result.as_of, "job": result.job, "finished_at": result.finished_at, "status": result.status,
            "duration_s": f"{result.duration_s:.2f}",
            **{k: repr(v) for k, v in flatten_metrics(result.metrics).items()}}


def write_history(path: Path, rows: list[dict]) -> None:
    """Write ``rows`` as ``history.csv`` (temp file, then rename): the fixed columns, then every
    metric seen in any row, sorted; a metric a job does not report is left empty."""
    metric_cols = sorted({k for row in rows for k in row if isinstance(k, str)} - set(HISTORY_COLUMNS))
    columns = [*HISTORY_COLUMNS, *metric_cols]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:  # a row whose field count was wrong is written back as it was, still wrong
        writer.writerow(row[_RAW] if _RAW in row else [row.get(c, "") for c in columns])
    with atomic_file(path, "wb") as fh:
        fh.write(buffer.getvalue().encode("utf-8", errors="surrogateescape"))


def append_rows(path: Path, rows: Iterable[dict]) -> tuple[str, ...]:
    """Append rows to the history file at ``path``, keeping every row already there.

    A file that is not a history file at all is set aside as ``history.unreadable-<stamp>.csv``
    (next to it, never deleted) and a new history starts. Returns the problems found in the file.
    Only the publish transaction calls this, on the generation it is building
    (:func:`analysis.reporting.store.publish`).
    """
    from analysis import clock

    path = Path(path)
    found = load_history(path)
    kept = list(found.kept)
    if not found.readable and path.exists():
        os.replace(path, path.with_name(f"history.unreadable-{clock.now():%Y%m%dT%H%M%S}.csv"))
        kept = []
    write_history(path, kept + list(rows))
    return found.problems


def append_history(reports_root: os.PathLike | str, results: Iterable[Any]) -> Path:
    """Publish one history row per job outcome (a transaction of its own; runs publish theirs
    together with their files)."""
    from analysis.reporting.store import publish

    root = Path(reports_root)
    publish(root, history_rows=[history_row(r) for r in results])
    return root / HISTORY_FILE


def _when(finished_at: str) -> float:
    """A ``finished_at`` stamp as seconds since the epoch, whichever format wrote it
    (ISO 8601 with an offset now; ``YYYY-MM-DD HH:MM:SS UTC`` before)."""
    text = (finished_at or "").strip().replace(" UTC", "+00:00").replace("Z", "+00:00")
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return -math.inf
    return (when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)).timestamp()


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


def _previous(rows: Iterable[dict], job: str, before_as_of: str) -> PreviousRun | None:
    """The latest ok run of ``job`` whose as-of date is not after ``before_as_of``: a re-run of
    the same date (another ledger, market data added) compares with the earlier run of that date.
    The current run is not in the history yet (its row is written when it is published)."""
    best = None
    for row in rows:
        if row.get("job") != job or row.get("status") != OK or not row.get("as_of", "") <= str(before_as_of):
            continue
        if best is None or (row["as_of"], _when(row.get("finished_at", ""))) >= \
                (best["as_of"], _when(best.get("finished_at", ""))):
            best = row
    if best is None:
        return None
    metrics = {k: float(v) for k, v in best.items() if k not in HISTORY_COLUMNS and v not in ("", None)}
    return PreviousRun(job, best["as_of"], best.get("finished_at", ""), metrics)


def previous_metrics(reports_root: os.PathLike | str | None, job: str, before_as_of: str) -> PreviousRun | None:
    """The flattened metrics of ``job``'s latest successful run with an as-of date not after
    ``before_as_of`` (same-day re-runs included, latest finished first), or None. Rows that
    cannot be read are skipped (:func:`load_history`)."""
    root = Path(reports_root or config.reports_dir())
    return _previous(load_history(root / HISTORY_FILE).rows, job, before_as_of)


@dataclass(frozen=True)
class MetricChanges:
    """Headline metrics now against the job's previous run (``previous_as_of`` None: first run)."""

    job: str
    as_of: str
    previous_as_of: str | None
    table: Any  # DataFrame: metric, previous, current, change
    #: Rows of history.csv that could not be read (skipped), or an unreadable file: one line each.
    problems: tuple[str, ...] = ()
    #: When the run compared with finished (ISO stamp), to tell same-day runs apart.
    previous_finished_at: str = ""

    @property
    def banner(self) -> str | None:
        """One line for the briefing's banner when part of the history was skipped, else None."""
        if not self.problems:
            return None
        shown = "; ".join(self.problems[:3]) + (f"; and {len(self.problems) - 3} more" if len(self.problems) > 3 else "")
        return f"Run history partly unreadable, the comparison ignores it: {shown}"

    def summary(self):
        return self.table

    def _repr_html_(self) -> str:
        warning = f'<p class="aibubble-banner">{html.escape(self.banner)}</p>' if self.banner else ""
        if self.previous_as_of is None:
            return warning + (f"<p>No earlier run of <code>{html.escape(self.job)}</code> in the history: "
                              "nothing to compare yet.</p>")
        finished = f", finished {html.escape(self.previous_finished_at)}" if self.previous_finished_at else ""
        return (warning + f"<p>Change since the run of <code>{html.escape(self.job)}</code> as of "
                          f"{html.escape(self.previous_as_of)}{finished}:</p>"
                + self.table.to_html(index=False, float_format=lambda x: f"{x:,.4g}"))


def change_since_last_run(metrics: dict, as_of: str, job: str | None = None,
                          reports_root: os.PathLike | str | None = None, changed_only: bool = True) -> MetricChanges:
    """Compare this run's metrics with the previous run of the same job (from ``history.csv``).

    ``job`` defaults to ``AIBUBBLE_JOB``, which the report runner sets for the kernel, so a
    notebook need not know the name the batch config gave it. A damaged history never fails the
    report: unreadable rows are skipped and listed in ``problems`` (and ``banner``).
    """
    import pandas as pd

    job = job or os.environ.get("AIBUBBLE_JOB", "")
    found = load_history(Path(reports_root or config.reports_dir()) / HISTORY_FILE)
    previous = _previous(found.rows, job, as_of) if job else None
    current = flatten_metrics(metrics)
    rows = []
    if previous is not None:
        for name, now in current.items():
            before = previous.metrics.get(name)
            if before is None or (changed_only and before == now):
                continue
            rows.append({"metric": name, "previous": before, "current": now, "change": now - before})
    table = pd.DataFrame(rows, columns=["metric", "previous", "current", "change"])
    return MetricChanges(job, as_of, previous.as_of if previous else None, table, found.problems,
                         previous.finished_at if previous else "")
