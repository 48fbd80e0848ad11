"""Batch runs (``aibubble run``): config validation, fan-out to processes and Dask, failures and
timeouts, the run lock, a SIGKILL mid-run, retention, history and the change since the last run.

Tiny notebooks keep this fast; one real two-job run covers the shipped notebooks.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from analysis import config
from analysis.errors import ConfigError, ParameterError
from analysis.reporting import batch
from analysis.reporting.index import list_runs

from tests.conftest import AS_OF, FIXTURES

NEXT_AS_OF = "2025-07-31"


def _notebook(path: Path, body: str) -> Path:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = new_code_cell('as_of = ""  # report date\ntop_n = 5  # a number the test varies')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, new_code_cell(body)]
    nbformat.write(nb, path)
    return path


METRICS_BODY = ("from analysis.reporting import publish_metrics\n"
                "publish_metrics({'score': {'value': top_n * 1.5, 'a.b': 2}, 'label': 'text', 'flag': True})")


def _config(folder: Path, jobs: str, defaults: str = "timeout: 60") -> Path:
    path = folder / "batch.yaml"
    path.write_text(f"defaults:\n  {defaults}\njobs:\n{textwrap.indent(textwrap.dedent(jobs), '  ')}")
    return path


def _history(root: Path) -> list[dict]:
    with open(root / "history.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "analysis.reporting.batch_cli", *args]


def _env(root: Path) -> dict:
    return {**os.environ, "AIBUBBLE_REPORTS_DIR": str(root), "PYTHONPATH": str(config.ROOT)}


# ------------------------------------------------------------------------------------------
# Config validation: nothing starts when anything is wrong
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("jobs, expected", [
    ("- name: a\n  notebook: ok.ipynb\n  paramters: {}\n", "job 'a': unknown key 'paramters'"),
    ("- name: a\n  notebook: ok.ipynb\n  parameters: {top_n: many}\n", "job 'a': parameters.top_n: 'many'"),
    ("- name: a\n  notebook: ok.ipynb\n  parameters: {colour: red}\n", "job 'a': parameters.colour: not a parameter of ok.ipynb"),
    ("- name: a\n  notebook: ok.ipynb\n  parameters: {as_of: 2025-01-01}\n", "job 'a': parameters.as_of"),
    ("- name: a\n  notebook: missing.ipynb\n", "job 'a': notebook: file not found"),
    ("- name: A b\n  notebook: ok.ipynb\n", "job 'A b': name"),
    ("- name: a\n  notebook: ok.ipynb\n- name: a\n  notebook: ok.ipynb\n", "job 'a': name: used twice"),
    ("- name: a-{top_n}\n  notebook: ok.ipynb\n  matrix: {top_n: 3}\n", "matrix.top_n"),
    ("- name: a\n  notebook: ok.ipynb\n  timeout: -1\n", "job 'a': timeout: -1"),
])
def test_config_errors_are_one_line_and_name_job_and_key(tmp_path, jobs, expected):
    _notebook(tmp_path / "ok.ipynb", "pass")
    with pytest.raises((ConfigError, ParameterError)) as err:
        batch.load_config(_config(tmp_path, jobs))
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_config_cli_errors_exit_2_before_anything_starts(tmp_path, capsys):
    from analysis.reporting.batch_cli import main

    _notebook(tmp_path / "ok.ipynb", "pass")
    out = tmp_path / "reports"
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("jobs: [unclosed\n")
    assert main([str(bad_yaml), "--out", str(out)]) == 2
    assert "bad.yaml: not valid YAML at line" in capsys.readouterr().err
    cfg = _config(tmp_path, "- name: a\n  notebook: ok.ipynb\n")
    assert main([str(cfg), "--only", "nope", "--out", str(out)]) == 2
    assert "--only nope: no such job" in capsys.readouterr().err
    assert not out.exists()  # no lock, no staging folder, no kernel


def test_matrix_fans_out_over_the_taxonomy_and_defaults_apply_where_declared(tmp_path):
    from analysis.data.taxonomy import load_taxonomy

    cfg = batch.load_config(config.ROOT / "reports.yaml", as_of=AS_OF)
    domains = load_taxonomy().ids
    assert cfg.names == ("bubble-risk", *(f"domain-{d}" for d in domains))
    assert len(cfg.jobs) == 14
    deep = cfg.jobs[1]
    assert deep.parameters["domain"] == domains[0] and deep.parameters["offline"] is True
    assert deep.parameters["as_of"] == AS_OF and deep.title == f"AI domain deep-dive: {domains[0]}"
    only = batch.load_config(config.ROOT / "reports.yaml", as_of=AS_OF, only=["domain-bio*", "bubble-risk"])
    assert only.names == ("bubble-risk", "domain-biology")


def test_flatten_metrics_documents_the_history_columns():
    flat = batch.flatten_metrics({"llm_share_by_year": {"broad": {"2025": 0.61, "2024": None}},
                                  "ledger": {"rounds": 12, "source": "x"}, "v1.2": 3.0, "ok": True,
                                  "duration_s": 9.0, "nan": float("nan")})
    assert flat == {"llm_share_by_year.broad.2025": 0.61, "ledger.rounds": 12.0, "v1_2": 3.0}


def test_progress_redraws_on_a_terminal_and_logs_plain_lines_otherwise():
    result = batch.JobResult("a", AS_OF, "ok", 1.25, "now", report="x/a.html")
    plain = io.StringIO()
    p = batch.Progress(plain, interactive=False)
    p.start(2, "2 job(s)")
    p.job_started("a")
    p.job_finished(result)
    p.close()
    lines = plain.getvalue().splitlines()
    assert "\r" not in plain.getvalue() and "\033" not in plain.getvalue()
    assert lines[1].endswith("start a") and "ok      a (1.2 s) [1/2] x/a.html" in lines[2]
    tty = io.StringIO()
    p = batch.Progress(tty, interactive=True)
    p.start(2, "2 job(s)")
    p.job_started("a")
    p.close()
    assert "\r\033[K[0/2] 00:00 failed 0 | running: a" in tty.getvalue()


# ------------------------------------------------------------------------------------------
# Running
# ------------------------------------------------------------------------------------------

def test_two_job_batch_end_to_end_history_previous_metrics_and_retention(tmp_path):
    root = tmp_path / "reports"
    _notebook(tmp_path / "m.ipynb", METRICS_BODY)
    cfg = _config(tmp_path, """\
        - name: m-{top_n}
          notebook: m.ipynb
          title: "Metrics {top_n}"
          matrix: {top_n: [2, 4]}
    """)
    first = batch.run_batch(batch.load_config(cfg, as_of=AS_OF), root, workers=2, progress=batch.Progress(io.StringIO()))
    assert first.ok and first.exit_code == 0
    assert [r.job for r in first.results] == ["m-2", "m-4"]
    for job in ("m-2", "m-4"):
        for ext in ("ipynb", "html", "metrics.json", "run.json"):
            assert (root / AS_OF / f"{job}.{ext}").is_file()
    assert json.loads((root / AS_OF / "m-4.metrics.json").read_text())["score"]["value"] == 6.0
    index = (root / "index.html").read_text()
    assert f'href="{AS_OF}/m-2.html"' in index and f'href="{AS_OF}/m-4.html"' in index

    second = batch.run_batch(batch.load_config(cfg, as_of=NEXT_AS_OF), root, workers=2, keep=1,
                             progress=batch.Progress(io.StringIO()))
    assert second.ok and second.removed == (AS_OF,)
    assert not (root / AS_OF).exists() and (root / NEXT_AS_OF / "m-2.html").is_file()
    assert {r["as_of"] for r in list_runs(root)} == {NEXT_AS_OF}

    rows = _history(root)
    assert [(r["as_of"], r["status"]) for r in rows].count((AS_OF, "ok")) == 2  # history outlives retention
    assert list(rows[0])[:5] == list(batch.HISTORY_COLUMNS)
    assert {r["score.value"] for r in rows if r["job"] == "m-4"} == {"6.0"}
    assert "flag" not in rows[0] and "label" not in rows[0] and "score.a_b" in rows[0]
    prev = batch.previous_metrics(root, "m-4", NEXT_AS_OF)
    assert prev.as_of == AS_OF and prev.metrics == {"score.value": 6.0, "score.a_b": 2.0}
    assert batch.previous_metrics(root, "m-4", AS_OF) is None  # nothing before the first run
    change = batch.change_since_last_run({"score": {"value": 7.5, "a.b": 2}}, NEXT_AS_OF, "m-4", root)
    assert change.previous_as_of == AS_OF
    assert change.table.to_dict("records") == [{"metric": "score.value", "previous": 6.0, "current": 7.5, "change": 1.5}]


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    """Good jobs around a failing one and one that outlives its wall-clock timeout, with an
    older as-of folder that retention must NOT remove because a job failed."""
    tmp = tmp_path_factory.mktemp("mixed")
    root = tmp / "reports"
    (root / "2025-01-31").mkdir(parents=True)
    (root / "2025-01-31" / "old.run.json").write_text(json.dumps(
        {"job": "old", "as_of": "2025-01-31", "status": "ok", "finished_at": "x"}))
    _notebook(tmp / "good.ipynb", METRICS_BODY)
    _notebook(tmp / "bad.ipynb", "raise RuntimeError('boom in the job')")
    # The cell sleeps far past the job timeout: only the supervisor can stop it (papermill's
    # own cell timeout is longer than the job's, so it cannot be what fires).
    _notebook(tmp / "slow.ipynb", "import time\ntime.sleep(120)")
    cfg = _config(tmp, """\
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
    out = subprocess.run(_cli(str(cfg), "--workers", "2", "--as-of", AS_OF, "--keep", "1", "--out", str(root)),
                         capture_output=True, text=True, cwd=config.ROOT, env=_env(root), timeout=150)
    return root, out


def test_failing_job_is_reported_and_the_others_complete(mixed_run):
    root, out = mixed_run
    assert out.returncode == batch.EXIT_JOB_FAILED
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
    assert {r["job"]: r["status"] for r in _history(root)} == {"good-a": "ok", "good-b": "ok", "bad": "failed",
                                                               "slow": "timeout"}


def test_timeout_is_detected_marked_in_the_kept_notebook_and_cleaned_up(mixed_run):
    root, out = mixed_run
    line = next(l for l in out.stdout.splitlines() if l.startswith("slow "))
    assert "timeout" in line and "cell 2 job timed out after 12 s" in line
    duration = float(line.split()[2])
    assert 12.0 <= duration < 40.0  # killed at the limit (+ SIGTERM grace, salvage), not at 120 s
    slow = next(r for r in list_runs(root) if r["job"] == "slow")
    kept = nbformat.read(root / slow["href"], as_version=4)
    errors = [o for c in kept.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "JobTimeout"
    assert not list(root.glob(".staging-*"))


def _wait_for(condition, timeout: float = 300.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass (kernels start slowly under load)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_concurrent_runs_never_interleave(tmp_path, capsys):
    root = tmp_path / "reports"
    trace, release = tmp_path / "trace.txt", tmp_path / "release"
    # Each job logs its start and end; jobs hold on until the test releases them, so the second
    # run is certain to arrive while the first holds the folder. The jobs' own time limit is far
    # beyond the test's waits: on a loaded machine one kernel can start a minute after the other,
    # and a job that gave up early would end before its sibling started.
    body = (f"import os, time\nopen({str(trace)!r}, 'a').write(os.environ['AIBUBBLE_JOB'] + ' start\\n')\n"
            f"t = time.monotonic()\nwhile not os.path.exists({str(release)!r}) and time.monotonic() - t < 900:\n"
            f"    time.sleep(0.1)\nopen({str(trace)!r}, 'a').write(os.environ['AIBUBBLE_JOB'] + ' end\\n')")
    _notebook(tmp_path / "t.ipynb", body)
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    cfg_one = _config(tmp_path / "one", "- name: one-{top_n}\n  notebook: ../t.ipynb\n  matrix: {top_n: [1, 2]}\n")
    cfg_two = _config(tmp_path / "two", "- name: two\n  notebook: ../t.ipynb\n")
    first = subprocess.Popen(_cli(str(cfg_one), "--workers", "2", "--as-of", AS_OF, "--out", str(root)),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=config.ROOT, env=_env(root))
    try:
        assert _wait_for(lambda: (root / ".run.lock.info").exists()), "the first run never took the lock"
        # The second and third runs are in this process: the lock is an OS lock between processes,
        # and the first run is a separate process.
        from analysis.reporting.batch_cli import main

        assert main([str(cfg_two), "--no-wait", "--as-of", AS_OF, "--out", str(root)]) == batch.EXIT_BUSY
        busy = capsys.readouterr().err
        assert "is busy: another run holds it (pid" in busy and "--no-wait" in busy
        log, results = io.StringIO(), []
        waiter = threading.Thread(target=lambda: results.append(batch.run_batch(
            batch.load_config(cfg_two, as_of=AS_OF), root, progress=batch.Progress(log, interactive=False))))
        waiter.start()
        assert _wait_for(lambda: "waiting:" in log.getvalue()), "the second run never reported waiting"
        assert _wait_for(lambda: trace.exists() and trace.read_text().count("start") == 2), \
            "the first run's two jobs never both started"
    finally:
        release.write_text("go")  # never leave the jobs hanging, whatever failed above
    assert first.wait(timeout=300) == 0
    waiter.join(timeout=300)
    assert results and results[0].ok
    assert "waiting: another run holds reports/ (pid" in log.getvalue()
    events = trace.read_text().split("\n")[:-1]
    # the two jobs of the first run overlap each other; the second run starts after both ended
    assert sorted(events[:2]) == ["one-1 start", "one-2 start"]
    assert sorted(events[2:4]) == ["one-1 end", "one-2 end"]
    assert events[4:] == ["two start", "two end"]
    assert {r["job"] for r in list_runs(root)} == {"one-1", "one-2", "two"}
    assert len(_history(root)) == 3


def test_a_run_killed_with_sigkill_leaves_the_published_reports_and_index_intact(tmp_path):
    root = tmp_path / "reports"
    marker = tmp_path / "started"
    _notebook(tmp_path / "quick.ipynb", "print('published before the crash')")
    _notebook(tmp_path / "hang.ipynb", f"import time\nopen({str(marker)!r}, 'w').write('x')\ntime.sleep(60)\n"
                                       f"open({str(marker)!r}, 'w').write('finished')")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    good = _config(tmp_path / "a", "- name: quick\n  notebook: ../quick.ipynb\n")
    assert batch.run_batch(batch.load_config(good, as_of=AS_OF), root, progress=batch.Progress(io.StringIO())).ok
    before = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file() and p.suffix != ".lock"}
    hang = _config(tmp_path / "b", "- name: quick\n  notebook: ../hang.ipynb\n")  # same job and date: a re-run
    proc = subprocess.Popen(_cli(str(hang), "--as-of", AS_OF, "--out", str(root)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=config.ROOT, env=_env(root))
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marker.exists(), "the job never started"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(3)  # job process and kernel notice the dead parent within ~1.5 s and exit
    assert marker.read_text() == "x"  # the orphaned job did not carry on
    assert list(root.glob(".staging-*"))  # left behind by the kill ...
    assert [r["job"] for r in list_runs(root)] == ["quick"]  # ... and never listed
    after = {p.relative_to(root): p.read_bytes() for p in root.rglob("*")
             if p.is_file() and p.suffix != ".lock" and not any(part.startswith(".") for part in p.relative_to(root).parts)}
    assert after == before
    # the lock died with the process; the next run cleans up what the killed one left
    assert batch.run_batch(batch.load_config(good, as_of=AS_OF), root, wait=False,
                           progress=batch.Progress(io.StringIO())).ok
    assert not list(root.glob(".staging-*")) and not list(root.glob(".*.tmp"))


def test_dask_local_cluster_runs_the_jobs_in_worker_processes(tmp_path):
    from dask.distributed import LocalCluster

    root = tmp_path / "reports"
    _notebook(tmp_path / "m.ipynb", METRICS_BODY)
    _notebook(tmp_path / "bad.ipynb", "1 / 0")
    cfg = _config(tmp_path, "- name: m-{top_n}\n  notebook: m.ipynb\n  matrix: {top_n: [1, 3]}\n"
                            "- name: bad\n  notebook: bad.ipynb\n")
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        run = batch.run_batch(batch.load_config(cfg, as_of=AS_OF), root, scheduler=cluster.scheduler_address,
                              progress=batch.Progress(io.StringIO()))
    assert run.executor == "dask" and run.exit_code == batch.EXIT_JOB_FAILED
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
    run = batch.run_batch(batch.load_config(cfg, as_of=AS_OF), root, workers=2, progress=batch.Progress(io.StringIO()))
    assert run.ok, run.table()
    assert (root / AS_OF / "metrics.json").is_file()  # the bubble-risk job keeps its metrics.json
    row = {r["job"]: r for r in _history(root)}
    # hand-computed on the fixture ledger (tests/test_reporting.py): 2.1 of 2.5 bn went to LLMs in 2024
    assert float(row["bubble-risk"]["llm_share_by_year.broad.2024"]) == pytest.approx(2.1 / 2.5, abs=1e-4)
    deep = json.loads((root / AS_OF / "domain-llm_foundation.metrics.json").read_text())
    assert deep["domain"] == "llm_foundation" and deep["listed"]["available"] is False
    html = (root / AS_OF / "domain-llm_foundation.html").read_text()
    assert "No market data in the cache" in html and "Change since the last run" in html
