"""Runs: a batch of jobs (``aibubble run``) or one job (``aibubble report``), fanned out to local
worker processes or a Dask cluster, published into ``reports/<as-of>/``, with history and retention.

The flow of one run:

1. The jobs come validated from :mod:`analysis.reporting.jobs` (no kernel has started).
2. :func:`run_batch` takes the reports folder's run lock (:func:`analysis.reporting.store.run_lock`),
   removes what killed runs left behind, and hands every job to an executor. Each job runs in its
   own process under :func:`analysis.reporting.supervise.supervise_job` (wall-clock timeout).
3. Every job publishes its files, run record, history row and the rebuilt index in one
   transaction (:func:`analysis.reporting.store.publish`) as soon as it finishes, failures
   included, so a batch killed later keeps what it finished. Retention (``keep``) removes the
   oldest as-of folders, in one more transaction, only when every job of this batch succeeded.

A Dask cluster must see the same filesystem (the repo and the reports folder at the same paths)
as the machine that submits the batch.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from analysis import clock, config
from analysis.errors import AIBubbleError, ParameterError, ReportsBusyError
from analysis.reporting.jobs import FAILED, BatchConfig, JobResult
from analysis.reporting.progress import Progress
from analysis.reporting.store import AS_OF_FOLDER, FAILED as FAILED_FOLDER
from analysis.reporting.store import clean_stale, live, prepare_root, publish, run_lock
from analysis.reporting.supervise import EXIT_NOTEBOOK, EXIT_OUTPUT, stop_all, supervise_job

#: Exit code when the reports folder is busy and ``--no-wait`` was given (EX_TEMPFAIL: cron may retry).
EXIT_BUSY = ReportsBusyError.exit_code
#: Exit code when at least one job failed or timed out (as ``aibubble report`` for a failed cell).
EXIT_JOB_FAILED = 3


@dataclass(frozen=True)
class BatchRun:
    """The outcome of a run: one :class:`~analysis.reporting.jobs.JobResult` per job, in config order."""

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
        """0 every job ok; 1 a report could not be written (full disk, permissions); else 3."""
        if self.ok:
            return 0
        return EXIT_OUTPUT if any(r.exit_code == EXIT_OUTPUT for r in self.results) else EXIT_JOB_FAILED

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
    """Remove all but the ``keep`` newest as-of folders (and their failed runs) except ``protect``,
    in one publish transaction (the index is rebuilt in it; the history keeps every row)."""
    if keep < 1:
        raise ParameterError(f"--keep: {keep} must be at least 1")
    root = Path(reports_root)
    current = live(root)
    if current is None:
        return ()
    folders = sorted((p.name for p in current.iterdir() if p.is_dir() and AS_OF_FOLDER.match(p.name)), reverse=True)
    doomed = [name for name in folders[keep:] if name not in set(protect)]
    if doomed:
        failed = [f"{FAILED_FOLDER}/{p.name}" for p in (current / FAILED_FOLDER).glob("*")
                  if any(p.name.startswith(f"{name}-") for name in doomed)]
        publish(root, remove=[*doomed, *failed])
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
            stop_all()
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
                from analysis.reporting.execute import record_failure

                spec = next(s for s in specs if future.key.endswith(s["run_id"]))
                message, _ = record_failure(Path(spec["reports_root"]), spec["job"], spec["as_of"], FAILED, 0.0,
                                            f"{spec['job']}: Dask task failed: {type(exc).__name__}: {exc}",
                                            spec["parameters"], spec["run_id"])
                yield JobResult(spec["job"], spec["as_of"], FAILED, 0.0, clock.stamp(), error=message,
                                exit_code=EXIT_NOTEBOOK).to_dict()
    finally:
        client.close()


def run_batch(batch: BatchConfig, reports_root: os.PathLike | str | None = None, workers: int = 1,
              scheduler: str | None = None, keep: int | None = None, wait: bool = True,
              progress: Progress | None = None) -> BatchRun:
    """Run every job of ``batch`` and publish the results; see the module docstring.

    Parameters
    ----------
    batch : BatchConfig
        From :func:`~analysis.reporting.jobs.load_config` or, for one job,
        :func:`~analysis.reporting.jobs.report_job` (already validated).
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
        Default: a :class:`~analysis.reporting.progress.Progress` on stdout.

    Returns
    -------
    BatchRun
        Failed and timed-out jobs are results, not exceptions; ``exit_code`` is non-zero if any.
    """
    if workers < 1:
        raise ParameterError(f"--workers: {workers} must be at least 1")
    if keep is not None and keep < 1:
        raise ParameterError(f"--keep: {keep} must be at least 1")
    root = prepare_root(reports_root or config.reports_dir())  # a bad --out fails here, before any kernel
    progress = progress or Progress()
    t0 = time.monotonic()

    def waiting(holder: str) -> None:
        progress.message(f"waiting: another run holds {root.name}/ ({holder})")

    with run_lock(root, wait=wait, on_wait=waiting, what=batch.command):
        clean_stale(root)
        specs = [job.spec(batch.as_of, root) for job in batch.jobs]
        by_name: dict[str, JobResult] = {}
        executor = f"dask {scheduler}" if scheduler else "local"
        progress.start(len(specs), f"{len(specs)} job(s) for {batch.as_of} -> {root.name}/ ({executor}"
                                   f"{'' if scheduler else f', {workers} worker(s)'})")
        try:
            results = _dask_results(specs, scheduler, progress) if scheduler else _local_results(specs, workers, progress)
            for data in results:  # each job has published its outcome (history row included) itself
                result = JobResult.from_dict(data)
                by_name[result.job] = result
                progress.job_finished(result)
        finally:
            progress.close()
        ordered = tuple(by_name[name] for name in batch.names)
        removed, note = (), ""
        if keep is not None:
            if all(r.ok for r in ordered):
                removed = apply_retention(root, keep, protect=[batch.as_of])
            else:
                note = "retention skipped: not every job succeeded, so no older run was removed"
    return BatchRun(batch.as_of, ordered, time.monotonic() - t0, "dask" if scheduler else "local",
                    workers if not scheduler else 0, removed, note)
