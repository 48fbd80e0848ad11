"""One job in its own process: start it, enforce the wall-clock timeout, salvage what a killed or
crashed job left, and return its outcome as a :class:`~analysis.reporting.jobs.JobResult` dict.

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

import datetime as dt
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

from analysis import config
from analysis.files import atomic_file, atomic_write_text
from analysis.reporting.execute import failed_cell
from analysis.reporting.index import write_index
from analysis.reporting.jobs import FAILED, OK, TIMEOUT, JobResult, display_parameters
from analysis.reporting.store import publish_lock

#: Job processes this process is waiting on (stopped when the run is interrupted).
_ACTIVE: set[subprocess.Popen] = set()
_ACTIVE_LOCK = threading.Lock()

# Run by the job process; kept as text so the job starts with `python -c` and never re-imports
# this module as __main__.
_CHILD = "import sys; from analysis.reporting.supervise import job_main; sys.exit(job_main(sys.argv[1], sys.argv[2]))"


def now_utc() -> str:
    # Seconds, not minutes: history rows of one as-of date are ordered by this.
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


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


def job_main(spec_path: str, result_path: str) -> int:
    """Entry point of a job process: run the notebook, write a JSON result, exit."""
    _watch_parent()
    from analysis.errors import NotebookExecutionError
    from analysis.reporting.execute import run_notebook

    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    root = Path(spec["reports_root"])
    started = time.monotonic()
    try:
        run = run_notebook(Path(spec["notebook"]), spec["parameters"], as_of=spec["as_of"], job=spec["job"],
                           reports_root=root, cell_timeout=spec["cell_timeout"],
                           title=spec["title"] or "AI bubble-risk briefing", lock=False, run_id=spec["run_id"])
        result = JobResult(spec["job"], spec["as_of"], OK, round(run.duration_s, 2), now_utc(),
                           report=run.html.relative_to(root).as_posix(), charts=run.chart_count,
                           metrics=run.metrics)
    except NotebookExecutionError as exc:
        kept = getattr(exc, "kept_path", None)
        result = JobResult(spec["job"], spec["as_of"], FAILED, round(time.monotonic() - started, 2), now_utc(),
                           error=str(exc), report=Path(kept).relative_to(root).as_posix() if kept else "")
    except Exception as exc:  # anything else is still this job's failure, never the batch's
        result = JobResult(spec["job"], spec["as_of"], FAILED, round(time.monotonic() - started, 2), now_utc(),
                           error=f"{spec['job']}: {type(exc).__name__}: {exc}".replace("\n", " "))
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


def record_failure(spec: dict, status: str, duration: float, error: str, kept: Path | None) -> None:
    """A ``failed/<as-of>-<job>-<stamp>.run.json`` record, so the index lists failed runs too
    (linking the kept notebook) while the last good report of the job stays where it was."""
    root = Path(spec["reports_root"])
    failed = root / "failed"
    failed.mkdir(parents=True, exist_ok=True)
    stem = kept.stem if kept else f"{spec['as_of']}-{spec['job']}-{dt.datetime.now().strftime('%Y%m%dT%H%M%S')}"
    record = {"job": spec["job"], "as_of": spec["as_of"], "status": status, "duration_s": round(duration, 2),
              "finished_at": now_utc(), "error": error,
              "parameters": display_parameters(spec["parameters"])}
    record["href"] = f"failed/{kept.name}" if kept else None  # None: nothing to link to
    with publish_lock(root):
        atomic_write_text(failed / f"{stem}.run.json", json.dumps(record, indent=2))
        write_index(root)


def _salvage_timeout(spec: dict, duration: float) -> tuple[str, Path | None]:
    """After a killed job: keep its partial notebook under ``failed/`` with the timeout marked,
    and remove its staging folder."""
    import nbformat

    root = Path(spec["reports_root"])
    staging = staging_folder(spec)
    executed = staging / f"{spec['job']}.ipynb"
    kept = None
    where = "the notebook"
    text = f"job timed out after {spec['timeout_s']:.0f} s (wall-clock job timeout)"
    try:
        if executed.exists():
            nb = nbformat.read(executed, as_version=4)
            cell_no, text = _mark_timeout(nb, spec["timeout_s"])
            where = f"cell {cell_no}" if cell_no else where
            (root / "failed").mkdir(exist_ok=True)
            kept = root / "failed" / f"{spec['as_of']}-{spec['job']}-{dt.datetime.now().strftime('%Y%m%dT%H%M%S')}.ipynb"
            with atomic_file(kept) as handle:
                nbformat.write(nb, handle)
    except Exception:  # a notebook cut mid-write: the timeout is still reported
        kept = None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    message = f"{spec['job']}: {where} {text}"
    if kept:
        message += f" (executed notebook kept at {root.name}/failed/{kept.name})"
    return message, kept


def supervise_job(spec: dict) -> dict:
    """Run one job in a fresh Python process with a wall-clock timeout; return a result dict.

    Runs in a thread of the run's process or in a Dask worker. Never raises for a job's own
    failure: failures and timeouts come back as results (``status`` failed/timeout), with a run
    record in ``failed/`` so the index lists them.
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
        if timed_out:
            message, kept = _salvage_timeout(spec, duration)
            record_failure(spec, TIMEOUT, duration, message, kept)
            root = Path(spec["reports_root"])
            return JobResult(spec["job"], spec["as_of"], TIMEOUT, round(duration, 2), now_utc(), error=message,
                             report=kept.relative_to(root).as_posix() if kept else "").to_dict()
        if result_path.exists():
            result = json.loads(result_path.read_text(encoding="utf-8"))
        else:  # the process died without a word (OOM killer, segfault): keep the last log lines
            tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:] or ["no output"]
            result = JobResult(spec["job"], spec["as_of"], FAILED, round(duration, 2), now_utc(),
                               error=f"{spec['job']}: job process exited with code {proc.returncode}: {tail[0][:200]}"
                               ).to_dict()
            shutil.rmtree(staging_folder(spec), ignore_errors=True)
        # The job's cost as the batch sees it: process start, imports, kernel, export, publish.
        result["duration_s"] = round(duration, 2)
        if result["status"] != OK:
            kept = Path(spec["reports_root"]) / result["report"] if result.get("report") else None
            record_failure(spec, result["status"], result["duration_s"], result["error"], kept)
        return result
