"""Runs (``aibubble run`` and ``aibubble report``): fan-out to processes and Dask, failures and
timeouts, the run lock between concurrent runs, retention.

Tiny notebooks keep this fast; one real two-job run covers the shipped notebooks. Nothing here
sleeps: tests wait on events (named pipes, process exits) with generous deadlines that only
matter when something is broken.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import textwrap
import threading

import nbformat
import pytest

from analysis import config
from analysis.reporting.index import list_runs
from analysis.reporting.jobs import load_config
from analysis.reporting.progress import Progress
from analysis.reporting.runner import EXIT_BUSY, EXIT_JOB_FAILED, run_batch
from tests.conftest import AS_OF, FIXTURES
from tests.reporting.faults import ENV as FAULTS_ENV
from tests.reporting.faults import Faults, executed_notebook, sitecustomize_dir
from tests.reporting.support import (METRICS_BODY, Fifo, aibubble, batch_config, env_for, history_rows,
                                     tiny_notebook)

NEXT_AS_OF = "2025-07-31"


def _quiet() -> Progress:
    return Progress(io.StringIO())


def test_two_job_batch_end_to_end_history_and_retention(tmp_path):
    root = tmp_path / "reports"
    tiny_notebook(tmp_path / "m.ipynb", METRICS_BODY)
    cfg = batch_config(tmp_path, """\
        - name: m-{top_n}
          notebook: m.ipynb
          title: "Metrics {top_n}"
          matrix: {top_n: [2, 4]}
    """)
    first = run_batch(load_config(cfg, as_of=AS_OF), root, workers=2, progress=_quiet())
    assert first.ok and first.exit_code == 0
    assert [r.job for r in first.results] == ["m-2", "m-4"]
    for job in ("m-2", "m-4"):
        for ext in ("ipynb", "html", "metrics.json", "run.json"):
            assert (root / AS_OF / f"{job}.{ext}").is_file()
    assert json.loads((root / AS_OF / "m-4.metrics.json").read_text())["score"]["value"] == 6.0
    assert "Metrics 4" in (root / AS_OF / "m-4.html").read_text()
    index = (root / "index.html").read_text()
    assert f'href="{AS_OF}/m-2.html"' in index and f'href="{AS_OF}/m-4.html"' in index

    second = run_batch(load_config(cfg, as_of=NEXT_AS_OF), root, keep=1, progress=_quiet())
    assert second.ok and second.removed == (AS_OF,)
    assert not (root / AS_OF).exists() and (root / NEXT_AS_OF / "m-2.html").is_file()
    assert {r["as_of"] for r in list_runs(root)} == {NEXT_AS_OF}
    rows = history_rows(root)
    assert [(r["as_of"], r["status"]) for r in rows].count((AS_OF, "ok")) == 2  # history outlives retention
    assert {r["score.value"] for r in rows if r["job"] == "m-4"} == {"6.0"}


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    """Good jobs around a failing one and one that outlives its wall-clock timeout, with an
    older as-of folder that retention must NOT remove because a job failed."""
    tmp = tmp_path_factory.mktemp("mixed")
    root = tmp / "reports"
    (root / "2025-01-31").mkdir(parents=True)
    (root / "2025-01-31" / "old.run.json").write_text(json.dumps(
        {"job": "old", "as_of": "2025-01-31", "status": "ok", "finished_at": "x"}))
    tiny_notebook(tmp / "good.ipynb", METRICS_BODY)
    tiny_notebook(tmp / "bad.ipynb", "raise RuntimeError('boom in the job')")
    # The cell sleeps far past the job timeout: only the supervisor can stop it (papermill's
    # own cell timeout is longer than the job's, so it cannot be what fires).
    tiny_notebook(tmp / "slow.ipynb", "import time\ntime.sleep(120)")
    cfg = batch_config(tmp, """\
        - name: good-a
          notebook: good.ipynb
        - name: bad
          notebook: bad.ipynb
        - name: slow
          notebook: slow.ipynb
          timeout: 12
        - name: good-b
          notebook: good.ipynb
    """, defaults="cell_timeout: 300")
    out = subprocess.run(aibubble("run", str(cfg), "--workers", "2", "--as-of", AS_OF, "--keep", "1", "--out", str(root)),
                         capture_output=True, text=True, cwd=config.ROOT, env=env_for(root), timeout=150)
    return root, out


def test_failing_job_is_reported_and_the_others_complete(mixed_run):
    root, out = mixed_run
    assert out.returncode == EXIT_JOB_FAILED
    table = out.stdout[out.stdout.index("job "):]
    assert "bad     failed" in table and "cell 2 failed: RuntimeError: boom in the job" in table
    assert "good-a  ok" in table and "good-b  ok" in table
    assert "4 job(s), 2 failed" in table
    assert "retention skipped" in table and (root / "2025-01-31").is_dir()
    for job in ("good-a", "good-b"):
        assert (root / AS_OF / f"{job}.html").is_file()
    assert not (root / AS_OF / "bad.html").exists()
    statuses = {(r["job"], r["status"]) for r in list_runs(root)}
    assert {("good-a", "ok"), ("good-b", "ok"), ("bad", "failed"), ("slow", "timeout")} <= statuses
    bad = next(r for r in list_runs(root) if r["job"] == "bad")
    assert bad["href"].startswith("failed/") and (root / bad["href"]).is_file()
    assert {r["job"]: r["status"] for r in history_rows(root)} == {"good-a": "ok", "good-b": "ok", "bad": "failed",
                                                                   "slow": "timeout"}


def test_timeout_is_detected_marked_in_the_kept_notebook_and_cleaned_up(mixed_run):
    root, out = mixed_run
    line = next(line for line in out.stdout.splitlines() if line.startswith("slow "))
    assert "timeout" in line and "cell 2 job timed out after 12 s" in line
    duration = float(line.split()[2])
    assert 12.0 <= duration < 40.0  # killed at the limit (+ SIGTERM grace, salvage), not at 120 s
    slow = next(r for r in list_runs(root) if r["job"] == "slow")
    kept = nbformat.read(root / slow["href"], as_version=4)
    errors = [o for c in kept.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "JobTimeout"
    assert not list(root.glob(".staging-*"))


class _Events(Progress):
    """Progress that also sets an event when the run starts waiting for the folder."""

    def __init__(self):
        super().__init__(io.StringIO(), interactive=False)
        self.waiting = threading.Event()

    def message(self, text: str) -> None:
        super().message(text)
        if text.startswith("waiting:"):
            self.waiting.set()


def test_concurrent_runs_never_interleave(tmp_path, capsys):
    root = tmp_path / "reports"
    # Each job reports its start on one pipe and then blocks on another until the test releases
    # it, so the second run is certain to arrive while the first holds the folder, however slowly
    # the kernels start on a loaded machine.
    trace, release = Fifo(tmp_path / "trace"), Fifo(tmp_path / "release")
    body = (f"import os\njob = os.environ['AIBUBBLE_JOB']\n"
            f"open({str(trace.path)!r}, 'w').write(job + ' start\\n')\n"
            f"open({str(release.path)!r}, 'rb', buffering=0).read(1)\n"
            f"open({str(trace.path)!r}, 'w').write(job + ' end\\n')")
    tiny_notebook(tmp_path / "t.ipynb", body)
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    cfg_one = batch_config(tmp_path / "one", "- name: one-{top_n}\n  notebook: ../t.ipynb\n  matrix: {top_n: [1, 2]}\n",
                           defaults="timeout: 900")
    cfg_two = batch_config(tmp_path / "two", "- name: two\n  notebook: ../t.ipynb\n", defaults="timeout: 900")
    first = subprocess.Popen(aibubble("run", str(cfg_one), "--workers", "2", "--as-of", AS_OF, "--out", str(root)),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=config.ROOT, env=env_for(root))
    results, progress = [], _Events()
    waiter = threading.Thread(target=lambda: results.append(run_batch(load_config(cfg_two, as_of=AS_OF), root,
                                                                      progress=progress)))
    try:
        # Both jobs of the first run are inside their notebook, so the first run holds the lock.
        assert sorted(trace.read_lines(2)) == ["one-1 start", "one-2 start"], "the first run's jobs never started"
        # The second and third runs are in this process: the lock is an OS lock between processes.
        from analysis.cli import main

        assert main(["run", str(cfg_two), "--no-wait", "--as-of", AS_OF, "--out", str(root)]) == EXIT_BUSY
        busy = capsys.readouterr().err
        assert "is busy: another run holds it (pid" in busy and "--no-wait" in busy
        waiter.start()
        assert progress.waiting.wait(300), "the second run never reported waiting"
        assert len(trace.lines) == 2  # ... and it has not started its job
    finally:
        release.release(3)  # never leave the jobs hanging, whatever failed above
        try:
            first.wait(timeout=300)
        finally:
            first.kill()
    assert first.returncode == 0
    waiter.join(timeout=300)
    assert results and results[0].ok
    assert "waiting: another run holds reports/ (pid" in progress.stream.getvalue()
    events = trace.read_lines(6)
    trace.close()
    release.close()
    # the two jobs of the first run overlap each other; the second run starts after both ended
    assert sorted(events[:2]) == ["one-1 start", "one-2 start"]
    assert sorted(events[2:4]) == ["one-1 end", "one-2 end"]
    assert events[4:] == ["two start", "two end"]
    assert {r["job"] for r in list_runs(root)} == {"one-1", "one-2", "two"}
    assert len(history_rows(root)) == 3


def test_a_report_is_never_cleaned_up_by_the_next_while_it_writes_its_history(tmp_path):
    """Report A pauses right after it has created its history file's temporary file; report B
    starts meanwhile. B must wait for A (A's history row is part of A's run), not start its own
    run and clean A's files up. Each report pauses at a named pipe, so the test decides the
    order: no sleeps."""
    root = tmp_path / "reports"
    a = tiny_notebook(tmp_path / "a.ipynb", "pass")
    b = tiny_notebook(tmp_path / "b.ipynb", "pass")
    site = sitecustomize_dir(tmp_path / "site")
    executed = executed_notebook(tmp_path / "executed.ipynb", 1.0)
    paused, release_a, release_b = Fifo(tmp_path / "paused"), Fifo(tmp_path / "release-a"), Fifo(tmp_path / "release-b")
    # A stops after creating its history temp file; B stops at its first write after its notebook
    # ran, which it can only reach while A is paused if nothing made it wait for A.
    stop_a = Faults(root, "pause", 1, executed=executed, match=".history.csv.", pause=(str(paused.path), str(release_a.path)))
    stop_b = Faults(root, "pause", 1, executed=executed, pause=(str(paused.path), str(release_b.path)))

    def start(notebook, faults):
        env = env_for(root, PYTHONPATH=f"{site}{os.pathsep}{config.ROOT}", **{FAULTS_ENV: faults.spec()})
        return subprocess.Popen(aibubble("report", "--notebook", str(notebook), "--out", str(root), "--as-of", AS_OF),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=config.ROOT, env=env)

    first = start(a, stop_a)
    second, err_b, said = None, [], threading.Event()

    def watch():
        for line in second.stderr:
            err_b.append(line)
            if line.startswith("waiting:"):
                said.set()

    try:
        assert paused.read_lines(1, timeout=300), "report A never reached its history write"
        second = start(b, stop_b)
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        waiter = threading.Thread(target=lambda: paused.read_lines(2, timeout=300) and said.set(), daemon=True)
        waiter.start()
        assert said.wait(300), "report B neither waited for A nor ran"
        b_ran_while_a_was_paused = len(paused.lines) == 2
    finally:
        release_a.release(1)
        release_b.release(1)
        _, err_a = first.communicate(timeout=300)
        if second is not None:
            second.wait(timeout=300)
            watcher.join(timeout=60)
    assert first.returncode == 0, err_a
    assert second.returncode == 0, "".join(err_b)
    assert not b_ran_while_a_was_paused, "report B ran (and cleaned up) while report A was still writing"
    assert any(line.startswith("waiting: another run holds reports/") for line in err_b)
    assert sorted(r["job"] for r in history_rows(root)) == ["a", "b"]
    assert {r["job"] for r in list_runs(root)} == {"a", "b"}
    for fifo in (paused, release_a, release_b):
        fifo.close()


def test_two_reports_and_a_batch_at_once_ten_times_lose_nothing(tmp_path):
    """Three runs started together into one folder wait for each other: all exit 0, every
    history row is there and the index lists every run (the lock covers history and clean-up).

    The notebooks' execution is replaced by an executed copy (no kernels: the race is in what
    happens around the notebook), which keeps 30 runs fast enough for every CI run."""
    root = tmp_path / "reports"
    a = tiny_notebook(tmp_path / "a.ipynb", "pass")
    b = tiny_notebook(tmp_path / "b.ipynb", "pass")
    cfg = batch_config(tmp_path, "- name: c\n  notebook: a.ipynb\n")
    site = sitecustomize_dir(tmp_path / "site")
    fake = Faults(root, "count", executed=executed_notebook(tmp_path / "executed.ipynb", 1.0))
    env = env_for(root, PYTHONPATH=f"{site}{os.pathsep}{config.ROOT}", **{FAULTS_ENV: fake.spec()})
    expected = set()
    for i in range(10):
        as_of = f"2025-01-{10 + i:02d}"
        commands = [aibubble("report", "--notebook", str(a), "--out", str(root), "--as-of", as_of),
                    aibubble("report", "--notebook", str(b), "--out", str(root), "--as-of", as_of),
                    aibubble("run", str(cfg), "--out", str(root), "--as-of", as_of)]
        runs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=config.ROOT,
                                 env=env) for c in commands]
        for run in runs:
            out, err = run.communicate(timeout=600)
            assert run.returncode == 0, f"round {i}: exit {run.returncode}: {err or out}"
        expected |= {(as_of, "a"), (as_of, "b"), (as_of, "c")}
    rows = history_rows(root)
    assert len(rows) == 30 and {(r["as_of"], r["job"]) for r in rows} == expected
    assert {(r["as_of"], r["job"]) for r in list_runs(root)} == expected
    assert not [p for p in root.iterdir() if p.name.startswith(".staging")]


def test_dask_local_cluster_runs_the_jobs_in_worker_processes(tmp_path):
    from dask.distributed import LocalCluster

    root = tmp_path / "reports"
    tiny_notebook(tmp_path / "m.ipynb", METRICS_BODY)
    tiny_notebook(tmp_path / "bad.ipynb", "1 / 0")
    cfg = batch_config(tmp_path, "- name: m-{top_n}\n  notebook: m.ipynb\n  matrix: {top_n: [1, 3]}\n"
                                 "- name: bad\n  notebook: bad.ipynb\n")
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        run = run_batch(load_config(cfg, as_of=AS_OF), root, scheduler=cluster.scheduler_address, progress=_quiet())
    assert run.executor == "dask" and run.exit_code == EXIT_JOB_FAILED
    assert {r.job: r.status for r in run.results} == {"m-1": "ok", "m-3": "ok", "bad": "failed"}
    assert json.loads((root / AS_OF / "m-3.metrics.json").read_text())["score"]["value"] == 4.5
    assert "ZeroDivisionError" in run.results[2].error


@pytest.mark.slow
def test_real_two_job_batch_with_the_shipped_notebooks(tmp_path):
    """The briefing and one domain deep-dive on the fixture ledger, two local workers."""
    root = tmp_path / "reports"
    cfg = tmp_path / "real.yaml"
    cfg.write_text(textwrap.dedent(f"""\
        defaults:
          parameters: {{ledger: {FIXTURES / 'funding_rounds.csv'}, start_year: 2023, offline: true}}
        jobs:
          - name: bubble-risk
            notebook: {config.DEFAULT_BRIEFING}
          - name: domain-{{domain}}
            notebook: {config.BRIEFINGS_DIR / 'domain-deep-dive.ipynb'}
            matrix: {{domain: [llm_foundation]}}
    """))
    run = run_batch(load_config(cfg, as_of=AS_OF), root, workers=2, progress=_quiet())
    assert run.ok, run.table()
    assert (root / AS_OF / "metrics.json").is_file()  # the bubble-risk job keeps its metrics.json
    row = {r["job"]: r for r in history_rows(root)}
    # hand-computed on the fixture ledger (tests/reporting/test_execute.py): 2.1 of 2.5 bn went to LLMs in 2024
    assert float(row["bubble-risk"]["llm_share_by_year.broad.2024"]) == pytest.approx(2.1 / 2.5, abs=1e-4)
    deep = json.loads((root / AS_OF / "domain-llm_foundation.metrics.json").read_text())
    assert deep["domain"] == "llm_foundation" and deep["listed"]["available"] is False
    html = (root / AS_OF / "domain-llm_foundation.html").read_text()
    assert "No market data in the cache" in html and "Change since the last run" in html
