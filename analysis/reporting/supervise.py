"""One job in its own process: start it, enforce the wall-clock timeout, and turn whatever
happened (a published report, a failed cell, a timeout, a process that died) into a
:class:`~analysis.reporting.jobs.JobResult` dict, every failure recorded in ``reports/failed/``,
the index and the history.

Process model
-------------
:func:`supervise_job` runs in a thread of the ``aibubble`` process (local executor) or in a Dask
worker; either way it starts ``python -c ...`` for the job and waits. Each job runs in its own
Python process because papermill is process-safe, not thread-safe. The job process watches its
parent and exits when the parent dies, and the Jupyter kernel it starts exits with it
(ipykernel's parent poller), so a ``SIGKILL`` of the run never leaves workers writing into a
folder whose lock has been released. Papermill leaves a timed-out cell "running" and says
nothing, so the supervisor records the timeout itself.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from analysis import clock, config
from analysis.errors import AIBubbleError, NotebookExecutionError, os_error_message
from analysis.files import atomic_write_text
from analysis.reporting.execute import failed_cell, record_failure
from analysis.reporting.jobs import FAILED, OK, TIMEOUT, JobResult
from analysis.reporting.store import published_record

#: Job processes this process is waiting on (stopped when the run is interrupted).
_ACTIVE: set[subprocess.Popen] = set()
_ACTIVE_LOCK = threading.Lock()

# Run by the job process; kept as text so the job starts with `python -c` and never re-imports
# this module as __main__.
_CHILD = "import sys; from analysis.reporting.supervise import job_main; sys.exit(job_main(sys.argv[1], sys.argv[2]))"
EXIT_NOTEBOOK, EXIT_OUTPUT = 3, 1


def staging_folder(spec: dict) -> Path:
    """Where the job builds its files before publishing (named by its run id, so the supervisor
    of a killed job knows what to remove)."""
    return Path(spec["reports_root"]) / f".staging-{spec['as_of']}-{spec['job']}-{spec['run_id']}"


def _watch_parent(interval: float = 0.5) -> None:
    """Exit the job process as soon as its parent (the run, or a Dask worker) dies, so an
    orphaned job never writes into a reports folder whose lock has been released."""
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(137)

    threading.Thread(target=watch, name="aibubble-parent-watch", daemon=True).start()


def _failure(spec: dict, status: str, duration: float, message: str, exit_code: int, nb=None) -> JobResult:
    """Record a failure (kept notebook, run record, history row: one transaction) and return it."""
    root = Path(spec["reports_root"])
    shown, kept = record_failure(root, spec["job"], spec["as_of"], status, duration, message, spec["parameters"],
                                 spec["run_id"], nb=nb, notebook=Path(spec["notebook"]))
    return JobResult(spec["job"], spec["as_of"], status, round(duration, 2), clock.stamp(), error=shown,
                     report=kept.relative_to(root).as_posix() if kept else "", exit_code=exit_code)


def job_main(spec_path: str, result_path: str) -> int:
    """Entry point of a job process: run the notebook, write a JSON result, exit."""
    _watch_parent()
    from analysis.reporting.execute import run_notebook

    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    root = Path(spec["reports_root"])
    job = spec["job"]
    started = time.monotonic()
    try:
        run = run_notebook(Path(spec["notebook"]), spec["parameters"], as_of=spec["as_of"], job=job,
                           reports_root=root, cell_timeout=spec["cell_timeout"],
                           title=spec["title"] or "AI bubble-risk briefing", lock=False, run_id=spec["run_id"])
        record = published_record(root, spec["as_of"], job) or {}
        result = JobResult(job, spec["as_of"], OK, round(run.duration_s, 2), record.get("finished_at", clock.stamp()),
                           report=run.html.relative_to(root).as_posix(), charts=run.chart_count, metrics=run.metrics)
    except NotebookExecutionError as exc:  # recorded by run_notebook
        kept = getattr(exc, "kept_path", None)
        result = JobResult(job, spec["as_of"], FAILED, round(time.monotonic() - started, 2), clock.stamp(),
                           error=str(exc), report=Path(kept).relative_to(root).as_posix() if kept else "",
                           exit_code=EXIT_NOTEBOOK)
    except OSError as exc:  # nothing was published; the record of the failure may not fit either
        result = _failure(spec, FAILED, time.monotonic() - started, f"{job}: {os_error_message(exc)}", EXIT_OUTPUT)
    except AIBubbleError as exc:
        result = _failure(spec, FAILED, time.monotonic() - started, f"{job}: {exc}", exc.exit_code)
    except Exception as exc:  # anything else is still this job's failure, never the batch's
        result = _failure(spec, FAILED, time.monotonic() - started, f"{job}: {type(exc).__name__}: {exc}",
                          EXIT_NOTEBOOK)
    atomic_write_text(Path(result_path), json.dumps(result.to_dict()))
    return 0


def stop(proc: subprocess.Popen, grace_s: float = 3.0) -> None:
    """SIGTERM, then SIGKILL after ``grace_s``; the kernel follows its parent (parent poller)."""
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    except ProcessLookupError:
        pass


def stop_all(grace_s: float = 1.0) -> None:
    """Stop every job process this process started (an interrupted run)."""
    with _ACTIVE_LOCK:
        running = list(_ACTIVE)
    for proc in running:
        stop(proc, grace_s=grace_s)


def _mark_timeout(nb, seconds: float) -> tuple[int | None, str]:
    """Papermill leaves a timed-out cell as "running" with no error: add one, so the kept
    notebook says what happened where it happened."""
    from nbformat.v4 import new_output

    cell_no, _ = failed_cell(nb)
    text = f"job timed out after {seconds:.0f} s (wall-clock job timeout); the kernel was stopped"
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.get("metadata", {}).get("papermill", {}).get("status") == "running":
            cell.outputs.append(new_output("error", ename="JobTimeout", evalue=text, traceback=[text]))
            cell.metadata["papermill"]["status"] = "failed"
            break
    return cell_no, text


def _after_death(spec: dict, duration: float, timed_out: bool, returncode: int | None, log_tail: str) -> JobResult:
    """The job process ended without a result: it published and then died, it timed out (keep
    its partial notebook with the timeout marked), or it died (OOM killer, segfault)."""
    import nbformat

    root = Path(spec["reports_root"])
    record = published_record(root, spec["as_of"], spec["job"])
    if record and record.get("run_id") == spec["run_id"]:
        try:
            metrics = json.loads((root / spec["as_of"] / f"{spec['job']}.metrics.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            metrics = {}
        return JobResult(spec["job"], spec["as_of"], OK, round(duration, 2), record.get("finished_at", ""),
                         report=f"{spec['as_of']}/{spec['job']}.html", charts=record.get("charts", 0), metrics=metrics)
    if not timed_out:
        return _failure(spec, FAILED, duration, f"{spec['job']}: job process exited with code {returncode}: "
                                                f"{log_tail[:200]}", EXIT_NOTEBOOK)
    nb, where = None, "the notebook"
    text = f"job timed out after {spec['timeout_s']:.0f} s (wall-clock job timeout)"
    try:
        nb = nbformat.read(staging_folder(spec) / f"{spec['job']}.ipynb", as_version=4)
        cell_no, text = _mark_timeout(nb, spec["timeout_s"])
        where = f"cell {cell_no}" if cell_no else where
    except Exception:  # no notebook yet, or one cut mid-write: the timeout is still reported
        nb = None
    return _failure(spec, TIMEOUT, duration, f"{spec['job']}: {where} {text}", EXIT_NOTEBOOK, nb=nb)


def supervise_job(spec: dict) -> dict:
    """Run one job in a fresh Python process with a wall-clock timeout; return a result dict.

    Runs in a thread of the run's process or in a Dask worker. Never raises for a job's own
    failure: failures and timeouts come back as results (``status`` failed/timeout), recorded in
    ``failed/``, the index and the history.
    """
    started = time.monotonic()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(config.ROOT), env.get("PYTHONPATH", "")) if p)
    env["AIBUBBLE_REPORTS_DIR"] = spec["reports_root"]
    with tempfile.TemporaryDirectory(prefix="aibubble-job-") as tmp:
        spec_path, result_path, log_path = Path(tmp) / "spec.json", Path(tmp) / "result.json", Path(tmp) / "log.txt"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        timed_out = False
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(spec_path), str(result_path)],
                                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    cwd=str(config.ROOT), env=env)
            with _ACTIVE_LOCK:
                _ACTIVE.add(proc)
            try:
                proc.wait(timeout=spec["timeout_s"])
            except subprocess.TimeoutExpired:
                timed_out = True
                stop(proc)
            except BaseException:
                stop(proc)
                raise
            finally:
                with _ACTIVE_LOCK:
                    _ACTIVE.discard(proc)
        duration = time.monotonic() - started
        try:
            if result_path.exists() and not timed_out:
                result = json.loads(result_path.read_text(encoding="utf-8"))
            else:
                tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:] or ["no output"]
                result = _after_death(spec, duration, timed_out, proc.returncode, tail[0]).to_dict()
        finally:
            shutil.rmtree(staging_folder(spec), ignore_errors=True)
        # The job's cost as the batch sees it: process start, imports, kernel, export, publish.
        result["duration_s"] = round(duration, 2)
        return result
