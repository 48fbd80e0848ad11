"""Run a parameterised notebook with papermill into a dated report folder, atomically.

The executed notebook is the run's log: it is kept even when a cell fails (under
``reports/failed/``), while the previous good report and the index stay untouched, because
everything is built in a staging folder and only moved into place once it is complete.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import papermill

from analysis import config
from analysis.errors import NotebookExecutionError
from analysis.files import atomic_write_text
from analysis.reporting.export import export_html
from analysis.reporting.index import write_index
from analysis.reporting.jobs import PATH_PARAMETERS, display_parameters
from analysis.reporting.metrics import collect_metrics
from analysis.reporting.store import clean_stale, publish_lock, run_lock


@dataclass(frozen=True)
class ReportRun:
    """A finished, published report run."""

    job: str
    as_of: str
    folder: Path
    html: Path
    notebook: Path
    metrics_path: Path
    metrics: dict
    duration_s: float
    chart_count: int
    parameters: dict = field(default_factory=dict)

    def summary(self):
        import pandas as pd

        return pd.DataFrame([{"job": self.job, "as_of": self.as_of, "html": config.display_path(self.html),
                              "charts": self.chart_count, "duration_s": round(self.duration_s, 1)}])


def scrub_paths(text: str) -> str:
    """Remove machine-specific paths (the repo root, the home folder) from report text."""
    root = str(config.ROOT)
    text = text.replace(root + os.sep, "").replace(root, ".")
    home = os.path.expanduser("~")
    if home not in ("", "/"):
        text = text.replace(home + os.sep, "~" + os.sep)
    return text


def failed_cell(nb) -> tuple[int | None, str]:
    """The 1-based index (among the notebook's own code cells) of the cell that failed or was
    running, and the error text. The cell papermill injects is not counted, so the number
    matches what the author sees in the source notebook."""
    code_number = 0
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.cell_type != "code" or "injected-parameters" in tags:
            continue
        code_number += 1
        status = cell.get("metadata", {}).get("papermill", {}).get("status")
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            err = errors[-1]
            return code_number, f"{err.get('ename')}: {err.get('evalue')}"
        if status == "running":
            return code_number, "did not finish (timeout or dead kernel)"
    return None, "unknown error"


def run_notebook(notebook: Path, params: dict, as_of: str, job: str | None = None,
                 reports_root: Path | None = None, cell_timeout: int = 900,
                 title: str = "AI bubble-risk briefing", lock: bool = True,
                 run_id: str | None = None) -> ReportRun:
    """Execute ``notebook`` with ``params`` and publish ``<as_of>/<job>.{ipynb,html}`` + metrics.

    ``lock`` holds :func:`run_lock` for the run (waiting, with a message on stderr, while another
    run holds the folder); the batch runner passes False because it holds the lock itself.
    ``run_id`` names the staging folder (``.staging-<as_of>-<job>-<run_id>``) so a supervisor
    that kills the run knows what to clean up.

    Raises
    ------
    NotebookExecutionError
        A cell raised or timed out; the executed notebook is kept under ``reports/failed/``
        (its path in the exception's ``kept_path`` attribute).
    """
    reports_root = Path(reports_root or config.reports_dir())
    if lock:
        def waiting(holder: str) -> None:
            print(f"waiting: another run holds {reports_root.name}/ ({holder})", file=sys.stderr, flush=True)

        with run_lock(reports_root, on_wait=waiting, what=f"aibubble report {job or Path(notebook).stem}"):
            clean_stale(reports_root)
            return run_notebook(notebook, params, as_of, job, reports_root, cell_timeout, title, lock=False,
                                run_id=run_id)
    notebook = Path(notebook)
    job = job or notebook.stem
    reports_root.mkdir(parents=True, exist_ok=True)
    staging = reports_root / f".staging-{as_of}-{job}-{run_id or uuid.uuid4().hex[:8]}"
    staging.mkdir()
    executed_path = staging / f"{job}.ipynb"
    started = time.monotonic()
    try:
        # Kernels inherit the environment: tell notebooks that nobody can click (no widgets), and
        # which job and reports folder they run for (to compare with the previous run).
        kernel_env = {config.HEADLESS_ENV: "1", "AIBUBBLE_JOB": job,
                      "AIBUBBLE_REPORTS_DIR": str(reports_root.resolve())}
        saved = {k: os.environ.get(k) for k in kernel_env}
        os.environ.update(kernel_env)
        try:
            papermill.execute_notebook(
                str(notebook), str(executed_path), parameters=params, kernel_name=config.KERNEL_NAME,
                cwd=str(notebook.parent), execution_timeout=cell_timeout, progress_bar=False,
                log_output=False, report_mode=False,
            )
        except Exception as exc:  # papermill, nbclient timeouts, dead kernels: all end here
            raise _keep_failed(executed_path, reports_root, as_of, job, exc) from None
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        duration = time.monotonic() - started
        nb = nbformat.read(executed_path, as_version=4)
        _scrub_notebook(nb, notebook, params)
        metrics = collect_metrics(nb)
        metrics.setdefault("as_of", as_of)
        header = {
            "title": title,
            "as_of": as_of,
            "generated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "parameters": display_parameters(params),
            "freshness": metrics.get("freshness", {}),
            "banners": metrics.get("banners", []),
        }
        html, info = export_html(nb, header)
        (staging / f"{job}.html").write_text(scrub_paths(html), encoding="utf-8")
        nbformat.write(nb, executed_path)
        metrics_text = json.dumps(metrics, indent=2, sort_keys=True)
        (staging / f"{job}.metrics.json").write_text(metrics_text, encoding="utf-8")
        run_record = {"job": job, "as_of": as_of, "status": "ok", "duration_s": round(duration, 2),
                      "finished_at": header["generated"], "charts": info["chart_count"],
                      "parameters": display_parameters(params)}
        (staging / f"{job}.run.json").write_text(json.dumps(run_record, indent=2), encoding="utf-8")
        folder = reports_root / as_of
        with publish_lock(reports_root):
            folder.mkdir(exist_ok=True)
            # The run record goes last: the index only lists jobs whose record exists, so a run
            # killed half-way through publishing never shows up as a report.
            for name in (f"{job}.ipynb", f"{job}.metrics.json", f"{job}.html", f"{job}.run.json"):
                os.replace(staging / name, folder / name)
            if job == "bubble-risk":
                atomic_write_text(folder / "metrics.json", metrics_text)
            write_index(reports_root)
        return ReportRun(job, as_of, folder, folder / f"{job}.html", folder / f"{job}.ipynb",
                         folder / f"{job}.metrics.json", metrics, duration, info["chart_count"], params)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _scrub_notebook(nb, notebook: Path, params: dict) -> None:
    pm = nb.metadata.get("papermill", {})
    pm["input_path"] = config.display_path(notebook)
    pm["output_path"] = f"{notebook.stem}.ipynb"
    if "parameters" in pm:
        pm["parameters"] = display_parameters(pm["parameters"])
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            for name in PATH_PARAMETERS:
                if params.get(name):
                    cell.source = cell.source.replace(str(params[name]), config.display_path(params[name]))
    text = scrub_paths(json.dumps(nb))
    nb.clear()
    nb.update(nbformat.from_dict(json.loads(text)))


def _keep_failed(executed_path: Path, reports_root: Path, as_of: str, job: str,
                 exc: Exception) -> NotebookExecutionError:
    failed_dir = reports_root / "failed"
    failed_dir.mkdir(exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%dT%H%M%S")
    kept = failed_dir / f"{as_of}-{job}-{stamp}.ipynb"
    if executed_path.exists():
        nb = nbformat.read(executed_path, as_version=4)
        cell, error = failed_cell(nb)
        os.replace(executed_path, kept)
        where = f"cell {cell}" if cell else "the notebook"
    else:
        where, error, kept = "the kernel", f"{type(exc).__name__}: {exc}", None
    if type(exc).__name__ in ("CellTimeoutError", "TimeoutError"):
        error = f"timed out ({str(exc).splitlines()[0] if str(exc) else 'cell timeout'})"
    message = f"{job}: {where} failed: {error}"
    if kept:
        message += f" (executed notebook kept at {reports_root.name}/failed/{kept.name})"
    err = NotebookExecutionError(message.replace("\n", " "))
    err.kept_path = kept
    return err
