"""Report jobs: the batch YAML config (``reports.yaml``), the one-job batch of ``aibubble report``,
and the outcome of a job.

Everything here is validated before any kernel starts: :func:`load_config` reads the YAML (safe
loader), expands ``matrix`` fan-outs and resolves every job's parameters with
:func:`analysis.params.resolve`; :func:`report_job` does the same for ``aibubble report``. The
runner (:mod:`analysis.reporting.runner`) receives jobs whose parameters are final and never
parses them again.
"""

from __future__ import annotations

import fnmatch
import itertools
import math
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from analysis import config
from analysis.errors import ConfigError, ParameterError

OK, FAILED, TIMEOUT = "ok", "failed", "timeout"

#: Parameters that name files: resolved to absolute paths for the kernel, shown repo-relative.
PATH_PARAMETERS = ("ledger",)
JOB_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
CONFIG_KEYS = ("defaults", "jobs")
DEFAULT_KEYS = ("timeout", "cell_timeout", "parameters")
JOB_KEYS = ("name", "notebook", "title", "parameters", "matrix", "timeout", "cell_timeout")
#: The matrix value that fans a job out over every domain of ``data/taxonomy.yaml``.
TAXONOMY_MATRIX = "taxonomy"
DEFAULT_TITLE = "AI bubble-risk briefing"


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


def display_parameters(params: dict) -> dict:
    """Parameters as a report may show them: path values reduced to repo-relative names."""
    return {k: (config.display_path(v) if k in PATH_PARAMETERS and v else v) for k, v in params.items()}


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
    """Every job of a run, validated, for one as-of date.

    ``command`` says who holds the reports folder while it runs (shown to a run that waits).
    """

    source: Path | None
    as_of: str
    jobs: tuple[Job, ...]
    command: str = "aibubble run"

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
    #: What the command exits with for this outcome: 0 ok, 3 the notebook failed or timed out,
    #: 1 the reports folder could not be written (a full disk, permissions).
    exit_code: int = 0

    @property
    def ok(self) -> bool:
        return self.status == OK

    @classmethod
    def from_dict(cls, data: dict) -> "JobResult":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


# --------------------------------------------------------------------------------------------
# Checks shared by the config file and the command line
# --------------------------------------------------------------------------------------------

def positive_seconds(where: str, value: Any, integer: bool = False, error: type = ConfigError) -> float:
    """A timeout: a finite number of seconds above zero (zero or less would silently disable it)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or not math.isfinite(value):
        raise error(f"{where}: {value!r} must be a positive number of seconds")
    if integer and int(value) != value:
        raise error(f"{where}: {value!r} must be a whole number of seconds")
    return int(value) if integer else float(value)


def resolve_parameters(where: str, notebook: Path, overrides: dict) -> dict:
    """:func:`analysis.params.resolve` (the notebook's defaults, then the overrides, every value
    validated) with the job named in its one-line message."""
    from analysis import params as P

    try:
        return P.resolve(notebook, overrides)
    except ParameterError as exc:
        raise ParameterError(f"{where}: parameters: {exc}") from None


def check_ledgers(jobs: Iterable[Job]) -> None:
    """Validate every ledger file a job names, each once, before any kernel starts: the same
    :func:`analysis.data.ledger.load_ledger` the notebooks call, so a bad file fails here in a
    second, with every problem listed, instead of in a cell after a kernel has started.

    Raises
    ------
    LedgerParameterError
        Every problem of the first ledger that fails (file, line, column, value, rule); exit 2.
    """
    from analysis.data.ledger import load_ledger
    from analysis.errors import DataValidationError, LedgerParameterError

    seen: set[str] = set()
    for job in jobs:
        path = job.parameters.get("ledger")
        if not path or path in seen:
            continue
        seen.add(path)
        try:
            load_ledger(path)
        except DataValidationError as exc:
            raise LedgerParameterError(exc.problems) from None


def report_job(notebook: Path, overrides: dict, cell_timeout: Any, name: str | None = None,
               title: str = DEFAULT_TITLE, timeout_s: float | None = None) -> Job:
    """The job of ``aibubble report``: one notebook, its parameters resolved once, here."""
    from analysis import params as P

    notebook = Path(notebook)
    values = P.resolve(notebook, overrides)
    cell = positive_seconds("--timeout", cell_timeout, integer=True, error=ParameterError)
    wall = positive_seconds("--job-timeout", default_job_timeout_s() if timeout_s is None else timeout_s,
                            error=ParameterError)
    job = Job(name or notebook.stem, notebook.resolve(), values, title, wall, cell)
    check_ledgers([job])
    return job


# --------------------------------------------------------------------------------------------
# The batch config file
# --------------------------------------------------------------------------------------------

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


def _read_yaml(path: Path) -> dict:
    shown = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read ({exc.strerror})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{shown}: not valid YAML{where} ({exc.__class__.__name__})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{shown}: expected a mapping with a 'jobs' list")
    return raw


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
    LedgerParameterError
        A ledger file a job names fails validation (:func:`check_ledgers`).

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
    raw = _read_yaml(path)
    _check_keys(shown, raw, CONFIG_KEYS)
    defaults = _mapping(shown, "defaults", raw.get("defaults"))
    _check_keys(f"{shown}: defaults", defaults, DEFAULT_KEYS)
    default_timeout = positive_seconds(f"{shown}: defaults: timeout", defaults.get("timeout", default_job_timeout_s()))
    default_cell = positive_seconds(f"{shown}: defaults: cell_timeout",
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
        timeout = positive_seconds(f"{where}: timeout", entry.get("timeout", default_timeout))
        cell_timeout = positive_seconds(f"{where}: cell_timeout", entry.get("cell_timeout", default_cell), integer=True)
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
            values_ok = resolve_parameters(job_where, notebook, overrides)
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
    check_ledgers(jobs)
    return BatchConfig(path, as_of, tuple(jobs), command=f"aibubble run {shown}")
