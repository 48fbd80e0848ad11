"""Run one parameterised notebook with papermill and publish it into ``reports/<as-of>/``.

Everything a run produces (the executed notebook, the HTML briefing, its metrics, its run record
and its history row) is built in a staging folder and published in one transaction
(:func:`analysis.reporting.store.publish`). The executed notebook is the run's log: when a cell
fails it is kept under ``reports/failed/`` (paths scrubbed) with a run record and a history row,
while the previous good report stays where it was.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import papermill

from analysis import clock, config
from analysis.errors import NotebookExecutionError, os_error_message
from analysis.reporting import engine
from analysis.reporting.export import export_html
from analysis.reporting.history import history_row
from analysis.reporting.jobs import FAILED, OK, PATH_PARAMETERS, JobResult, display_parameters
from analysis.reporting.metrics import collect_metrics
from analysis.reporting.store import FAILED as FAILED_FOLDER
from analysis.reporting.store import clean_stale, prepare_root, publish, run_lock


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
                 run_id: str | None = None, wait: bool = True) -> ReportRun:
    """Execute ``notebook`` with ``params`` and publish ``<as_of>/<job>.{ipynb,html}``, its metrics,
    run record and history row in one transaction.

    ``lock`` holds :func:`~analysis.reporting.store.run_lock` for the run (``wait``: queue behind
    another run, saying so on stderr, or raise ``ReportsBusyError``); the runner passes False
    because it holds the lock itself. ``run_id`` names the staging folder
    (``.staging-<as_of>-<job>-<run_id>``) so a supervisor that kills the run knows what to remove,
    and goes into the run record so it can tell whether the run published before it died.

    Raises
    ------
    NotebookExecutionError
        A cell raised or timed out; the executed notebook is kept under ``reports/failed/``
        (its path in the exception's ``kept_path`` attribute).
    OSError
        The reports folder could not be written (a full disk, permissions): nothing was published.
    """
    reports_root = Path(reports_root or config.reports_dir())
    run_id = run_id or secrets.token_hex(6)
    if lock:
        prepare_root(reports_root)

        def waiting(holder: str) -> None:
            print(f"waiting: another run holds {reports_root.name}/ ({holder})", file=sys.stderr, flush=True)

        with run_lock(reports_root, wait=wait, on_wait=waiting, what=f"aibubble report {job or Path(notebook).stem}"):
            clean_stale(reports_root)
            return run_notebook(notebook, params, as_of, job, reports_root, cell_timeout, title, lock=False,
                                run_id=run_id)
    notebook = Path(notebook)
    job = job or notebook.stem
    staging = reports_root / f".staging-{as_of}-{job}-{run_id}"
    staging.mkdir(parents=True)
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
                log_output=False, report_mode=False, engine_name=engine.ENGINE_NAME,
            )
        except Exception as exc:  # papermill, nbclient timeouts, dead kernels: all end here
            raise _keep_failed(executed_path, reports_root, as_of, job, exc, notebook, params, run_id,
                               time.monotonic() - started) from None
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        duration = time.monotonic() - started
        nb = nbformat.read(executed_path, as_version=4)
        scrub_notebook(nb, notebook, params)
        metrics = collect_metrics(nb)
        metrics.setdefault("as_of", as_of)
        now = clock.now()
        header = {
            "title": title,
            "as_of": as_of,
            "generated": f"{now:%Y-%m-%d %H:%M} {clock.zone_name()}",
            "parameters": display_parameters(params),
            "freshness": metrics.get("freshness", {}),
            "banners": metrics.get("banners", []),
        }
        html, info = export_html(nb, header)
        (staging / f"{job}.html").write_text(scrub_paths(html), encoding="utf-8")
        nbformat.write(nb, executed_path)
        (staging / f"{job}.metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True), encoding="utf-8")
        result = JobResult(job, as_of, OK, round(duration, 2), now.isoformat(timespec="seconds"),
                           report=f"{as_of}/{job}.html", charts=info["chart_count"], metrics=metrics)
        run_record = {"job": job, "as_of": as_of, "status": OK, "duration_s": result.duration_s,
                      "finished_at": result.finished_at, "charts": result.charts,
                      "parameters": display_parameters(params), "run_id": run_id}
        (staging / f"{job}.run.json").write_text(json.dumps(run_record, indent=2), encoding="utf-8")
        files = {f"{as_of}/{job}.{ext}": staging / f"{job}.{ext}" for ext in ("ipynb", "metrics.json", "html", "run.json")}
        if job == "bubble-risk":  # the briefing's headline numbers also under the name the README documents
            files[f"{as_of}/metrics.json"] = staging / f"{job}.metrics.json"
        publish(reports_root, files, history_rows=[history_row(result)])
        folder = reports_root / as_of
        return ReportRun(job, as_of, folder, folder / f"{job}.html", folder / f"{job}.ipynb",
                         folder / f"{job}.metrics.json", metrics, duration, info["chart_count"], params)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def scrub_notebook(nb, notebook: Path, params: dict) -> None:
    """Remove machine paths from an executed notebook (metadata, injected parameters, outputs and
    tracebacks), in place: it is published, or kept under ``failed/``, and may be shared."""
    pm = nb.metadata.get("papermill", {})
    pm["input_path"] = config.display_path(notebook)
    pm["output_path"] = f"{Path(notebook).stem}.ipynb"
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


def record_failure(reports_root: Path, job: str, as_of: str, status: str, duration: float, message: str,
                   params: dict, run_id: str, nb=None, notebook: Path | None = None) -> tuple[str, Path | None]:
    """Publish a failed run in one transaction: the executed notebook ``nb`` (scrubbed) as
    ``failed/<as-of>-<job>-<stamp>-<id>.ipynb``, a run record beside it (so the index lists the
    failure and links the notebook) and a history row. The job's last good report stays.

    Returns the message (with where the notebook was kept) and the kept notebook's path. A
    failure that cannot be recorded (a full disk) says so in the message instead of raising.
    """
    root = Path(reports_root)
    stem = f"{as_of}-{job}-{clock.now():%Y%m%dT%H%M%S}-{run_id[:6]}"
    base = message.replace("\n", " ")
    kept = root / FAILED_FOLDER / f"{stem}.ipynb" if nb is not None else None
    shown = base + (f" (executed notebook kept at {root.name}/{FAILED_FOLDER}/{kept.name})" if kept else "")
    result = JobResult(job, as_of, status, round(duration, 2), clock.stamp(), error=shown)
    record = {"job": job, "as_of": as_of, "status": status, "duration_s": result.duration_s,
              "finished_at": result.finished_at, "error": shown, "parameters": display_parameters(params),
              "run_id": run_id, "href": f"{FAILED_FOLDER}/{kept.name}" if kept else None}  # None: nothing to link
    staging = root / f".staging-failed-{stem}-{secrets.token_hex(3)}"
    try:
        staging.mkdir(parents=True)
        (staging / "run.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
        files = {f"{FAILED_FOLDER}/{stem}.run.json": staging / "run.json"}
        if nb is not None:
            if notebook is not None:
                scrub_notebook(nb, notebook, params)
            nbformat.write(nb, staging / "executed.ipynb")
            files[f"{FAILED_FOLDER}/{stem}.ipynb"] = staging / "executed.ipynb"
        publish(root, files, history_rows=[history_row(result)])
    except OSError as exc:
        return f"{base}; the failure could not be recorded: {os_error_message(exc)}", None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return shown, kept


def _keep_failed(executed_path: Path, reports_root: Path, as_of: str, job: str, exc: Exception,
                 notebook: Path, params: dict, run_id: str, duration: float) -> NotebookExecutionError:
    nb = None
    if executed_path.exists():
        nb = nbformat.read(executed_path, as_version=4)
        cell, error = failed_cell(nb)
        where = f"cell {cell}" if cell else "the notebook"
    else:
        where, error = "the kernel", f"{type(exc).__name__}: {exc}"
    if type(exc).__name__ in ("CellTimeoutError", "TimeoutError"):
        error = f"timed out ({str(exc).splitlines()[0] if str(exc) else 'cell timeout'})"
    message, kept = record_failure(reports_root, job, as_of, FAILED, duration, f"{job}: {where} failed: {error}",
                                   params, run_id, nb=nb, notebook=notebook)
    err = NotebookExecutionError(message)
    err.kept_path = kept
    return err
