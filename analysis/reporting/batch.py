"""Batch report runs: a YAML config of named notebook jobs, fanned out to local worker processes
or a Dask cluster, published into ``reports/<as-of>/``, with run history and retention.

The flow of one ``aibubble run reports.yaml``:

1. :func:`load_config` reads the YAML (safe loader), expands ``matrix`` fan-outs and validates
   every job's parameters with :func:`analysis.params.resolve` -- before any kernel starts.
2. :func:`run_batch` takes the reports folder's run lock (:func:`analysis.reporting.execute.run_lock`),
   removes what killed runs left behind (staging folders, temp files), and hands every job to an
   executor. Each job runs in its own Python process (papermill is process-safe, not
   thread-safe) under :func:`supervise_job`, which enforces the wall-clock job timeout, kills the
   process on expiry and records the timeout itself (papermill leaves the cell "running" and says
   nothing).
3. Every finished job is appended to ``reports/history.csv`` at once (so a batch killed later
   still keeps what it finished); the index is rebuilt; retention (``keep``) deletes the oldest
   as-of folders only when every job of this batch succeeded.

Process model
-------------
``supervise_job`` runs in a thread of the ``aibubble run`` process (local executor) or in a Dask
worker (``--scheduler``); either way it starts ``python -c ...`` for the job and waits. The job
process watches its parent and exits when the parent dies, and the Jupyter kernel it starts exits
with it (ipykernel's parent poller), so a ``SIGKILL`` of the batch never leaves workers writing
into a folder whose lock has been released. A Dask cluster must see the same filesystem (the repo
and the reports folder at the same paths) as the machine that submits the batch.
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import itertools
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from analysis import config
from analysis.errors import AIBubbleError, ConfigError, ParameterError
from analysis.files import atomic_file, atomic_write_text
from analysis.reporting.execute import (PATH_PARAMETERS, ReportsBusyError, _failed_cell, clean_stale,
                                        display_parameters, publish_lock, run_lock)
from analysis.reporting.index import write_index

OK, FAILED, TIMEOUT = "ok", "failed", "timeout"

#: Fixed leading columns of ``history.csv``; metric columns follow in sorted order.
HISTORY_COLUMNS = ("as_of", "job", "finished_at", "status", "duration_s")
HISTORY_FILE = "history.csv"
JOB_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
AS_OF_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CONFIG_KEYS = ("defaults", "jobs")
DEFAULT_KEYS = ("timeout", "cell_timeout", "parameters")
JOB_KEYS = ("name", "notebook", "title", "parameters", "matrix", "timeout", "cell_timeout")
#: The matrix value that fans a job out over every domain of ``data/taxonomy.yaml``.
TAXONOMY_MATRIX = "taxonomy"
#: Exit code when the reports folder is busy and ``--no-wait`` was given (EX_TEMPFAIL: cron may retry).
EXIT_BUSY = ReportsBusyError.exit_code
#: Exit code when at least one job failed or timed out (as ``aibubble report`` for a failed cell).
EXIT_JOB_FAILED = 3


def default_job_timeout_s() -> float:
    """Wall-clock limit of one job, kernel start to published report: 30 minutes.

    Three times the slowest briefing seen on a 2-core machine (about 30 s with a warm market cache,
    a few minutes with a live refresh) would be far lower; the margin is for cold caches and slow
    CI runners. A job that needs longer should say so in the config.
    """
    return 1800.0


def default_cell_timeout_s() -> int:
    """Per-cell limit, the same as ``aibubble report --timeout`` (900 s)."""
    return 900


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Job:
    """One validated job: a notebook, its full parameter set, and its limits."""

    name: str
    notebook: Path
    parameters: dict
    title: str
    timeout_s: float
    cell_timeout: int

    def spec(self, as_of: str, reports_root: Path) -> dict:
        """The JSON-able description a worker process needs (absolute paths)."""
        return {"job": self.name, "notebook": str(self.notebook), "parameters": self.parameters,
                "title": self.title, "timeout_s": self.timeout_s, "cell_timeout": self.cell_timeout,
                "as_of": as_of, "reports_root": str(Path(reports_root).resolve()),
                "run_id": uuid.uuid4().hex[:12]}


@dataclass(frozen=True)
class BatchConfig:
    """Every job of a config file, validated, for one as-of date."""

    source: Path
    as_of: str
    jobs: tuple[Job, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(j.name for j in self.jobs)

    def summary(self):
        import pandas as pd

        return pd.DataFrame([{"job": j.name, "notebook": config.display_path(j.notebook),
                              "parameters": display_parameters(j.parameters), "timeout_s": j.timeout_s}
                             for j in self.jobs])

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)


def _positive(where: str, key: str, value: Any, integer: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or not math.isfinite(value):
        raise ConfigError(f"{where}: {key}: {value!r} must be a positive number of seconds")
    if integer and int(value) != value:
        raise ConfigError(f"{where}: {key}: {value!r} must be a whole number of seconds")
    return int(value) if integer else float(value)


def _mapping(where: str, key: str, value: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {key}: expected a mapping, got {type(value).__name__}")
    return value


def _check_keys(where: str, data: dict, known: tuple[str, ...]) -> None:
    unknown = [k for k in data if k not in known]
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(known)})")


def _expand_matrix(where: str, job: dict) -> list[tuple[str, dict]]:
    """``matrix: {domain: [a, b]}`` -> one (name, values) pair per combination; the name template
    must use every matrix key so the expanded names are distinct."""
    name = job.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: name: every job needs a name")
    matrix = _mapping(where, "matrix", job.get("matrix"))
    if not matrix:
        return [(name, {})]
    axes = {}
    for key, values in matrix.items():
        if values == TAXONOMY_MATRIX:
            from analysis.data.taxonomy import load_taxonomy

            values = list(load_taxonomy().ids)
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{where}: matrix.{key}: expected a non-empty list or {TAXONOMY_MATRIX!r}")
        if "{" + str(key) + "}" not in name:
            raise ConfigError(f"{where}: name: {name!r} must contain {{{key}}} to fan out over matrix.{key}")
        axes[str(key)] = values
    out = []
    for combo in itertools.product(*axes.values()):
        values = dict(zip(axes, combo))
        try:
            out.append((name.format(**values), values))
        except (KeyError, IndexError, ValueError) as exc:
            raise ConfigError(f"{where}: name: cannot fill {name!r} ({exc})") from None
    return out


def load_config(path: os.PathLike | str, as_of: str | None = None, only: Iterable[str] | None = None) -> BatchConfig:
    """Read and validate a batch config; nothing is executed.

    Parameters
    ----------
    path : path-like
        YAML file (safe loader) with ``jobs`` (a list) and optional ``defaults``; notebook and
        ledger paths are relative to the file's folder.
    as_of : str, optional
        Report date for every job (YYYY-MM-DD); default today. Jobs may not set their own.
    only : iterable of str, optional
        Job names or shell-style patterns (``domain-*``) to keep; an unmatched name is an error.

    Returns
    -------
    BatchConfig

    Raises
    ------
    ConfigError
        Unreadable or malformed file; the message is one line naming the job and the key.
    ParameterError
        A job's parameter is unknown to its notebook or has a bad value (job named).

    Notes
    -----
    Format::

        defaults:               # optional
          timeout: 1800         # wall-clock seconds per job
          cell_timeout: 900     # seconds per notebook cell
          parameters: {offline: true}   # applied to every job whose notebook declares the name
        jobs:
          - name: bubble-risk
            notebook: notebooks/briefings/bubble-risk.ipynb
            title: AI bubble-risk briefing
            parameters: {definition: broad}
          - name: domain-{domain}           # fan-out: one job per matrix value
            notebook: notebooks/briefings/domain-deep-dive.ipynb
            matrix: {domain: taxonomy}      # or an explicit list
    """
    from analysis import params as P

    path = Path(path)
    shown = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{shown}: not valid YAML{where} ({exc.__class__.__name__})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{shown}: expected a mapping with a 'jobs' list")
    _check_keys(shown, raw, CONFIG_KEYS)
    defaults = _mapping(shown, "defaults", raw.get("defaults"))
    _check_keys(f"{shown}: defaults", defaults, DEFAULT_KEYS)
    default_timeout = _positive(f"{shown}: defaults", "timeout", defaults.get("timeout", default_job_timeout_s()))
    default_cell = _positive(f"{shown}: defaults", "cell_timeout",
                             defaults.get("cell_timeout", default_cell_timeout_s()), integer=True)
    default_params = _mapping(f"{shown}: defaults", "parameters", defaults.get("parameters"))
    jobs_raw = raw.get("jobs")
    if not isinstance(jobs_raw, list) or not jobs_raw:
        raise ConfigError(f"{shown}: jobs: expected a non-empty list of jobs")
    as_of = P.VALIDATORS["as_of"](as_of or "")
    base = path.resolve().parent
    jobs: list[Job] = []
    used_defaults: set[str] = set()
    for number, entry in enumerate(jobs_raw, start=1):
        where = f"{shown}: job {number}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a mapping with name and notebook")
        if isinstance(entry.get("name"), str):
            where = f"{shown}: job {entry['name']!r}"
        _check_keys(where, entry, JOB_KEYS)
        if not isinstance(entry.get("notebook"), str):
            raise ConfigError(f"{where}: notebook: expected a path to a .ipynb file")
        notebook = (base / entry["notebook"]).resolve()
        if not notebook.is_file():
            raise ConfigError(f"{where}: notebook: file not found: {entry['notebook']}")
        params = _mapping(where, "parameters", entry.get("parameters"))
        timeout = _positive(where, "timeout", entry.get("timeout", default_timeout))
        cell_timeout = _positive(where, "cell_timeout", entry.get("cell_timeout", default_cell), integer=True)
        title = entry.get("title", "")
        if not isinstance(title, str):
            raise ConfigError(f"{where}: title: expected text")
        try:
            declared = P.notebook_defaults(notebook)
        except Exception as exc:  # nbformat/papermill: a broken notebook file
            raise ConfigError(f"{where}: notebook: cannot read {notebook.name} ({type(exc).__name__})") from None
        for name, values in _expand_matrix(where, entry):
            job_where = f"{shown}: job {name!r}"
            if not JOB_NAME.match(name):
                raise ConfigError(f"{job_where}: name: use lower-case letters, digits, '.', '_' and '-' "
                                  "(it becomes a file name)")
            overrides = {k: v for k, v in default_params.items() if k in declared}
            used_defaults.update(overrides)
            overrides.update(params)
            overrides.update(values)
            if "as_of" in overrides:
                raise ConfigError(f"{job_where}: parameters.as_of: the date is set for the whole batch "
                                  "(--as-of), not per job")
            for key in PATH_PARAMETERS:
                if isinstance(overrides.get(key), str) and overrides[key]:
                    overrides[key] = str((base / Path(overrides[key]).expanduser()).resolve())
            if "as_of" in declared:
                overrides["as_of"] = as_of
            # P.resolve's rules, with the notebook inspected once per entry, not once per job
            unknown = sorted(set(overrides) - set(declared))
            if unknown:
                raise ParameterError(f"{job_where}: parameters.{unknown[0]}: not a parameter of {notebook.name} "
                                     f"(known: {', '.join(sorted(declared))})")
            try:
                values_ok = P.validate({**declared, **overrides})
            except ParameterError as exc:  # the validators' messages start with the parameter name
                raise ParameterError(f"{job_where}: parameters.{exc}") from None
            try:
                shown_title = title.format(**values) if values else title
            except (KeyError, IndexError, ValueError):
                raise ConfigError(f"{job_where}: title: cannot fill {title!r} from the matrix") from None
            jobs.append(Job(name, notebook, values_ok, shown_title, timeout, cell_timeout))
    unused = sorted(set(default_params) - used_defaults)
    if unused:
        raise ConfigError(f"{shown}: defaults: parameters.{unused[0]}: no job's notebook declares it")
    seen: set[str] = set()
    for job in jobs:
        if job.name in seen:
            raise ConfigError(f"{shown}: job {job.name!r}: name: used twice")
        seen.add(job.name)
    if only:
        patterns = list(only)
        for pattern in patterns:
            if not any(fnmatch.fnmatchcase(j.name, pattern) for j in jobs):
                raise ConfigError(f"--only {pattern}: no such job in {shown} (jobs: {', '.join(j.name for j in jobs)})")
        jobs = [j for j in jobs if any(fnmatch.fnmatchcase(j.name, p) for p in patterns)]
    return BatchConfig(path, as_of, tuple(jobs))


# --------------------------------------------------------------------------------------------
# One job: supervised in its own process
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class JobResult:
    """The outcome of one job: ``status`` is ``ok``, ``failed`` or ``timeout``."""

    job: str
    as_of: str
    status: str
    duration_s: float
    finished_at: str
    error: str = ""
    report: str = ""      # path of the HTML (ok) or the kept notebook (failed), relative to the reports folder
    charts: int = 0
    metrics: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == OK

    @classmethod
    def from_dict(cls, data: dict) -> "JobResult":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


#: Job processes this process is waiting on (stopped when the batch is interrupted).
_ACTIVE: set[subprocess.Popen] = set()
_ACTIVE_LOCK = threading.Lock()

# Run by the job process; kept as text so the job starts with `python -c` and never re-imports
# this module as __main__.
_CHILD = "import sys; from analysis.reporting.batch import _job_main; sys.exit(_job_main(sys.argv[1], sys.argv[2]))"


def _now_utc() -> str:
    # Seconds, not minutes: history rows of one as-of date are ordered by this.
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _watch_parent(interval: float = 0.5) -> None:
    """Exit the job process as soon as its parent (the batch, or a Dask worker) dies, so an
    orphaned job never writes into a reports folder whose lock has been released."""
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                os._exit(137)

    threading.Thread(target=watch, name="aibubble-parent-watch", daemon=True).start()


def _job_main(spec_path: str, result_path: str) -> int:
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
        result = JobResult(spec["job"], spec["as_of"], OK, round(run.duration_s, 2), _now_utc(),
                           report=run.html.relative_to(root).as_posix(), charts=run.chart_count,
                           metrics=run.metrics)
    except NotebookExecutionError as exc:
        kept = getattr(exc, "kept_path", None)
        result = JobResult(spec["job"], spec["as_of"], FAILED, round(time.monotonic() - started, 2), _now_utc(),
                           error=str(exc), report=Path(kept).relative_to(root).as_posix() if kept else "")
    except Exception as exc:  # anything else is still this job's failure, never the batch's
        result = JobResult(spec["job"], spec["as_of"], FAILED, round(time.monotonic() - started, 2), _now_utc(),
                           error=f"{spec['job']}: {type(exc).__name__}: {exc}".replace("\n", " "))
    atomic_write_text(Path(result_path), json.dumps(result.to_dict()))
    return 0


def _stop(proc: subprocess.Popen, grace_s: float = 3.0) -> None:
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


def _mark_timeout(nb, seconds: float) -> tuple[int | None, str]:
    """Papermill leaves a timed-out cell as "running" with no error: add one, so the kept
    notebook says what happened where it happened."""
    from nbformat.v4 import new_output

    cell_no, _ = _failed_cell(nb)
    text = f"job timed out after {seconds:.0f} s (wall-clock job timeout); the kernel was stopped"
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.get("metadata", {}).get("papermill", {}).get("status") == "running":
            cell.outputs.append(new_output("error", ename="JobTimeout", evalue=text, traceback=[text]))
            cell.metadata["papermill"]["status"] = "failed"
            break
    return cell_no, text


def _record_failure(spec: dict, status: str, duration: float, error: str, kept: Path | None) -> None:
    """A ``failed/<as-of>-<job>-<stamp>.run.json`` record, so the index lists failed runs too
    (linking the kept notebook) while the last good report of the job stays where it was."""
    root = Path(spec["reports_root"])
    failed = root / "failed"
    failed.mkdir(parents=True, exist_ok=True)
    stem = kept.stem if kept else f"{spec['as_of']}-{spec['job']}-{dt.datetime.now().strftime('%Y%m%dT%H%M%S')}"
    record = {"job": spec["job"], "as_of": spec["as_of"], "status": status, "duration_s": round(duration, 2),
              "finished_at": _now_utc(), "error": error,
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
    staging = root / f".staging-{spec['as_of']}-{spec['job']}-{spec['run_id']}"
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

    Runs in a thread of the batch process or in a Dask worker. Never raises for a job's own
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
                _stop(proc)
            except BaseException:
                _stop(proc)
                raise
            finally:
                with _ACTIVE_LOCK:
                    _ACTIVE.discard(proc)
        duration = time.monotonic() - started
        if timed_out:
            message, kept = _salvage_timeout(spec, duration)
            _record_failure(spec, TIMEOUT, duration, message, kept)
            root = Path(spec["reports_root"])
            return JobResult(spec["job"], spec["as_of"], TIMEOUT, round(duration, 2), _now_utc(), error=message,
                             report=kept.relative_to(root).as_posix() if kept else "").to_dict()
        if result_path.exists():
            result = json.loads(result_path.read_text(encoding="utf-8"))
        else:  # the process died without a word (OOM killer, segfault): keep the last log lines
            tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:] or ["no output"]
            result = JobResult(spec["job"], spec["as_of"], FAILED, round(duration, 2), _now_utc(),
                               error=f"{spec['job']}: job process exited with code {proc.returncode}: {tail[0][:200]}"
                               ).to_dict()
            shutil.rmtree(Path(spec["reports_root"]) / f".staging-{spec['as_of']}-{spec['job']}-{spec['run_id']}",
                          ignore_errors=True)
        # The job's cost as the batch sees it: process start, imports, kernel, export, publish.
        result["duration_s"] = round(duration, 2)
        if result["status"] != OK:
            kept = Path(spec["reports_root"]) / result["report"] if result.get("report") else None
            _record_failure(spec, result["status"], result["duration_s"], result["error"], kept)
        return result


# --------------------------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------------------------

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


def _read_history(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def append_history(reports_root: os.PathLike | str, results: Iterable[JobResult]) -> Path:
    """Append one row per job run to ``history.csv`` (rewritten to a temp file, then renamed).

    Columns: :data:`HISTORY_COLUMNS`, then every flattened metric (:func:`flatten_metrics`) seen
    in any row, sorted; a metric a job does not report is left empty.
    """
    root = Path(reports_root)
    path = root / HISTORY_FILE
    with publish_lock(root):
        rows = _read_history(path)
        for r in results:
            rows.append({"as_of": r.as_of, "job": r.job, "finished_at": r.finished_at, "status": r.status,
                         "duration_s": f"{r.duration_s:.2f}",
                         **{k: repr(v) for k, v in flatten_metrics(r.metrics).items()}})
        metric_cols = sorted({k for row in rows for k in row} - set(HISTORY_COLUMNS))
        with atomic_file(path) as fh:
            writer = csv.DictWriter(fh, fieldnames=[*HISTORY_COLUMNS, *metric_cols], restval="")
            writer.writeheader()
            writer.writerows(rows)
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
    for row in _read_history(root / HISTORY_FILE):
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


# --------------------------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------------------------

class Progress:
    """Progress of a batch: a redrawn status line on a terminal, plain timestamped log lines
    otherwise (cron, CI, pipes). Thread-safe."""

    def __init__(self, stream=None, interactive: bool | None = None):
        self.stream = stream or sys.stdout
        if interactive is None:
            interactive = (hasattr(self.stream, "isatty") and self.stream.isatty()
                           and os.environ.get("TERM", "") not in ("", "dumb") and not os.environ.get("CI"))
        self.interactive = interactive
        self._lock = threading.Lock()
        self._running: list[str] = []
        self.done = self.failed = self.total = 0
        self._t0 = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _line(self, text: str) -> None:
        stamp = dt.datetime.now().strftime("%H:%M:%S")
        if self.interactive:
            self.stream.write("\r\033[K")
        self.stream.write(f"{stamp} {text}\n")
        if self.interactive:
            self._draw()
        self.stream.flush()

    def _draw(self) -> None:
        elapsed = time.monotonic() - self._t0
        current = ", ".join(self._running[:3]) + (" ..." if len(self._running) > 3 else "")
        self.stream.write(f"\r\033[K[{self.done}/{self.total}] {int(elapsed) // 60:02d}:{int(elapsed) % 60:02d} "
                          f"failed {self.failed} | running: {current or '-'}")
        self.stream.flush()

    def start(self, total: int, text: str) -> None:
        with self._lock:
            self.total, self._t0 = total, time.monotonic()
            self._line(text)
        if self.interactive:
            def tick():
                while not self._stop.wait(1.0):
                    with self._lock:
                        self._draw()
            self._thread = threading.Thread(target=tick, daemon=True)
            self._thread.start()

    def message(self, text: str) -> None:
        with self._lock:
            self._line(text)

    def job_started(self, name: str) -> None:
        with self._lock:
            self._running.append(name)
            if not self.interactive:
                self._line(f"start {name}")
            else:
                self._draw()

    def job_finished(self, result: JobResult) -> None:
        with self._lock:
            if result.job in self._running:
                self._running.remove(result.job)
            self.done += 1
            self.failed += 0 if result.ok else 1
            detail = result.report if result.ok else result.error
            self._line(f"{result.status:<7} {result.job} ({result.duration_s:.1f} s) [{self.done}/{self.total}] {detail}")

    def close(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        if self.interactive:
            with self._lock:
                self.stream.write("\r\033[K")
                self.stream.flush()


# --------------------------------------------------------------------------------------------
# The batch
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BatchRun:
    """The outcome of a batch: one :class:`JobResult` per job, in config order."""

    as_of: str
    results: tuple[JobResult, ...]
    duration_s: float
    executor: str
    workers: int
    removed: tuple[str, ...] = ()
    retention_note: str = ""

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else EXIT_JOB_FAILED

    def summary(self):
        import pandas as pd

        return pd.DataFrame([{"job": r.job, "status": r.status, "duration_s": r.duration_s,
                              "report": r.report, "error": r.error} for r in self.results])

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)

    def table(self) -> str:
        """A plain-text summary table for stdout (fits cron mails and CI logs)."""
        width = max([len("job")] + [len(r.job) for r in self.results])
        lines = [f"{'job':<{width}}  {'status':<7}  {'seconds':>8}  report / error",
                 f"{'-' * width}  {'-' * 7}  {'-' * 8}  {'-' * 14}"]
        for r in self.results:
            detail = r.report if r.ok else r.error
            lines.append(f"{r.job:<{width}}  {r.status:<7}  {r.duration_s:>8.1f}  {detail}")
        failed = sum(not r.ok for r in self.results)
        lines.append(f"{len(self.results)} job(s), {failed} failed, {self.duration_s:.1f} s wall "
                     f"({self.executor}, {self.workers} worker(s))")
        if self.removed:
            lines.append(f"retention removed: {', '.join(self.removed)}")
        if self.retention_note:
            lines.append(self.retention_note)
        return "\n".join(lines)


def apply_retention(reports_root: os.PathLike | str, keep: int, protect: Iterable[str] = ()) -> tuple[str, ...]:
    """Delete all but the ``keep`` newest as-of folders (and their failed runs) except ``protect``.

    A folder is first renamed to a dot-name (never listed, finished by the next run's cleanup if
    this one is killed), then removed; the index is rebuilt after.
    """
    if keep < 1:
        raise ParameterError(f"--keep: {keep} must be at least 1")
    root = Path(reports_root)
    folders = sorted((p.name for p in root.iterdir() if p.is_dir() and AS_OF_FOLDER.match(p.name)), reverse=True)
    doomed = [name for name in folders[keep:] if name not in set(protect)]
    with publish_lock(root):
        for name in doomed:
            trash = root / f".trash-{name}-{uuid.uuid4().hex[:8]}"
            os.replace(root / name, trash)
            for failed in (root / "failed").glob(f"{name}-*"):
                failed.unlink(missing_ok=True)
        write_index(root)
    for trash in root.glob(".trash-*"):
        shutil.rmtree(trash, ignore_errors=True)
    return tuple(doomed)


def _local_results(specs: list[dict], workers: int, progress: Progress):
    def run(spec):
        progress.job_started(spec["job"])
        return supervise_job(spec)

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aibubble-job") as pool:
        futures = [pool.submit(run, spec) for spec in specs]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:  # Ctrl-C: stop queued and running jobs instead of waiting for them
            for f in futures:
                f.cancel()
            with _ACTIVE_LOCK:
                running = list(_ACTIVE)
            for proc in running:
                _stop(proc, grace_s=1.0)
            raise


def _dask_results(specs: list[dict], scheduler: str, progress: Progress):
    try:
        from dask.distributed import Client, as_completed as dask_completed
    except ImportError:  # pragma: no cover - dask is a declared dependency
        raise AIBubbleError("--scheduler needs dask.distributed (pip install distributed)") from None
    try:
        client = Client(scheduler, timeout="15s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise AIBubbleError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({type(exc).__name__})") from None
    try:
        workers = len(client.scheduler_info().get("workers", {}))
        progress.message(f"sent {len(specs)} job(s) to {scheduler} ({workers} worker(s))")
        futures = []
        for spec in specs:
            progress.job_started(spec["job"])
            futures.append(client.submit(supervise_job, spec, pure=False, key=f"aibubble-{spec['job']}-{spec['run_id']}",
                                         retries=0))
        for future in dask_completed(futures, loop=client.loop):
            try:
                yield future.result()
            except Exception as exc:  # a lost worker: this job failed, the others continue
                spec = next(s for s in specs if future.key.endswith(s["run_id"]))
                yield JobResult(spec["job"], spec["as_of"], FAILED, 0.0, _now_utc(),
                                error=f"{spec['job']}: Dask task failed: {type(exc).__name__}: {exc}").to_dict()
    finally:
        client.close()


def run_batch(batch: BatchConfig, reports_root: os.PathLike | str | None = None, workers: int = 1,
              scheduler: str | None = None, keep: int | None = None, wait: bool = True,
              progress: Progress | None = None) -> BatchRun:
    """Run every job of ``batch`` and publish the results; see the module docstring.

    Parameters
    ----------
    batch : BatchConfig
        From :func:`load_config` (already validated).
    reports_root : path-like, optional
        Default ``config.reports_dir()``.
    workers : int
        Local job processes at a time (ignored with ``scheduler``: the cluster's size decides).
    scheduler : str, optional
        Dask scheduler address (``tcp://host:8786``); jobs run through ``dask.distributed``.
    keep : int, optional
        Keep this many as-of folders; older ones are removed only if every job succeeded.
    wait : bool
        When another run holds the reports folder: wait (True) or raise :class:`ReportsBusyError`.
    progress : Progress, optional
        Default: a :class:`Progress` on stdout.

    Returns
    -------
    BatchRun
        Failed and timed-out jobs are results, not exceptions; ``exit_code`` is non-zero if any.
    """
    if workers < 1:
        raise ParameterError(f"--workers: {workers} must be at least 1")
    if keep is not None and keep < 1:
        raise ParameterError(f"--keep: {keep} must be at least 1")
    root = Path(reports_root or config.reports_dir())
    root.mkdir(parents=True, exist_ok=True)
    progress = progress or Progress()
    t0 = time.monotonic()

    def waiting(holder: str) -> None:
        progress.message(f"waiting: another run holds {root.name}/ ({holder})")

    with run_lock(root, wait=wait, on_wait=waiting, what=f"aibubble run {batch.source.name}"):
        clean_stale(root)
        specs = [job.spec(batch.as_of, root) for job in batch.jobs]
        by_name: dict[str, JobResult] = {}
        executor = f"dask {scheduler}" if scheduler else "local"
        progress.start(len(specs), f"{len(specs)} job(s) for {batch.as_of} -> {root.name}/ ({executor}"
                                   f"{'' if scheduler else f', {workers} worker(s)'})")
        try:
            results = _dask_results(specs, scheduler, progress) if scheduler else _local_results(specs, workers, progress)
            for data in results:
                result = JobResult.from_dict(data)
                by_name[result.job] = result
                append_history(root, [result])
                progress.job_finished(result)
        finally:
            progress.close()
        write_index(root)
        ordered = tuple(by_name[name] for name in batch.names)
        removed, note = (), ""
        if keep is not None:
            if all(r.ok for r in ordered):
                removed = apply_retention(root, keep, protect=[batch.as_of])
            else:
                note = "retention skipped: not every job succeeded, so no older run was removed"
    return BatchRun(batch.as_of, ordered, time.monotonic() - t0, "dask" if scheduler else "local",
                    workers if not scheduler else 0, removed, note)
