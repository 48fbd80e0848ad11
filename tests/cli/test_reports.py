"""``aibubble report`` and ``aibubble run``: one-line errors, exit codes, nothing started when
parameters are bad, and ``report`` as a batch of one job through the same runner as ``run``."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from analysis import config
from analysis.cli import main
from analysis.errors import ParameterError
from tests.conftest import AS_OF
from tests.reporting.faults import ENV, Faults, executed_notebook, sitecustomize_dir
from tests.reporting.support import METRICS_BODY, aibubble, batch_config, env_for, history_rows, tiny_notebook


def test_bad_parameters_fail_before_any_kernel(tmp_path, capsys):
    out = tmp_path / "reports"
    for argv in (["report", "-p", "period=week"], ["report", "-p", "colour=red"],
                 ["report", "--as-of", "2025-02-30"], ["report", "-p", "infra_llm_share=2"],
                 ["report", "--timeout", "0"], ["report", "--timeout", "-3"]):
        assert main(argv + ["--out", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ")
    assert not out.exists()  # no run folder, no staging folder: nothing was started


def test_params_file_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "params.yaml"
    bad.write_text("period: [unclosed\n")
    assert main(["report", "--params", str(bad), "--out", str(tmp_path / "r")]) == 2
    assert "params.yaml: not valid YAML" in capsys.readouterr().err
    assert main(["report", "--params", str(tmp_path / "missing.yaml")]) == 2


def test_failing_notebook_exits_3_with_the_cell_named(tmp_path, capsys):
    path = tiny_notebook(tmp_path / "broken.ipynb", "1 / 0")
    code = main(["report", "--notebook", str(path), "--out", str(tmp_path / "r"), "--as-of", "2025-01-02"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3
    assert len(err) == 1 and "cell 2 failed: ZeroDivisionError" in err[0]
    assert os.listdir(tmp_path / "r" / "failed")


def test_report_is_a_batch_of_one_job_index_and_history_included(tmp_path, capsys):
    path = tiny_notebook(tmp_path / "brief.ipynb", METRICS_BODY)
    root = tmp_path / "r"
    assert main(["report", "--notebook", str(path), "--out", str(root), "--as-of", "2025-01-02", "-p", "top_n=2"]) == 0
    out = capsys.readouterr()
    assert out.out.startswith(f"wrote {root / '2025-01-02' / 'brief.html'} (0 charts, ") and out.err == ""
    assert (root / "2025-01-02" / "brief.run.json").is_file()
    assert 'href="2025-01-02/brief.html"' in (root / "index.html").read_text()
    assert [(r["job"], r["status"], r["score.value"]) for r in history_rows(root)] == [("brief", "ok", "3.0")]


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(ParameterError):
        main(["--debug", "report", "-p", "period=week", "--out", str(tmp_path / "r")])


def test_run_config_errors_exit_2_before_anything_starts(tmp_path, capsys):
    tiny_notebook(tmp_path / "ok.ipynb", "pass")
    out = tmp_path / "reports"
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("jobs: [unclosed\n")
    assert main(["run", str(bad_yaml), "--out", str(out)]) == 2
    assert "bad.yaml: not valid YAML at line" in capsys.readouterr().err
    cfg = batch_config(tmp_path, "- name: a\n  notebook: ok.ipynb\n")
    assert main(["run", str(cfg), "--only", "nope", "--out", str(out)]) == 2
    assert "--only nope: no such job" in capsys.readouterr().err
    assert main(["run", str(cfg), "--workers", "0", "--out", str(out)]) == 2
    assert "--workers: 0 must be at least 1" in capsys.readouterr().err
    assert not out.exists()  # no lock, no staging folder, no kernel


# ------------------------------------------------------------------------------------------
# Reliability: every OS error one line, waiting visible, checks before any kernel, one clock
# ------------------------------------------------------------------------------------------

def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def test_an_out_that_cannot_be_a_folder_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    nb = tiny_notebook(tmp_path / "brief.ipynb", "pass")
    a_file = tmp_path / "taken.txt"
    a_file.write_text("x")
    for out, says in ((a_file, "is a file, not a folder"), (a_file / "sub", "a part of the path is a file")):
        assert main(["report", "--notebook", str(nb), "--out", str(out)]) == 2
        line = _one_error_line(capsys)
        assert str(out) in line and says in line and "--out" in line
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    with monkeypatch.context() as patch:  # as root, chmod cannot make a folder read-only: the OS says so
        Faults(read_only, "erofs", 1, armed=True, every=True).install(patch.setattr)
        assert main(["report", "--notebook", str(nb), "--out", str(read_only)]) == 2
    line = _one_error_line(capsys)
    assert str(read_only) in line and "Read-only file system" in line and "choose a writable folder" in line
    assert a_file.read_text() == "x" and list(read_only.iterdir()) == []


def test_an_early_full_disk_is_one_line_naming_the_path_and_the_fix(tmp_path, capsys, monkeypatch):
    nb = tiny_notebook(tmp_path / "brief.ipynb", "pass")
    out = tmp_path / "reports"
    out.mkdir()
    with monkeypatch.context() as patch:
        Faults(out, "enospc", 1, armed=True, every=True).install(patch.setattr)
        assert main(["report", "--notebook", str(nb), "--out", str(out)]) == 1
    line = _one_error_line(capsys)
    assert str(out) in line and "No space left on device" in line and "free some disk space" in line


def _cli_with_faults(tmp_path, root, faults: Faults, *args: str) -> subprocess.CompletedProcess:
    """``aibubble ARGS`` in a new process (and its job processes) with ``faults`` installed."""
    site = sitecustomize_dir(tmp_path / "site")
    env = env_for(root, PYTHONPATH=f"{site}{os.pathsep}{config.ROOT}", **{ENV: faults.spec()})
    return subprocess.run(aibubble(*args), capture_output=True, text=True, cwd=config.ROOT, env=env, timeout=300)


def test_a_full_disk_while_publishing_is_one_line_exit_1_and_the_last_report_stays(tmp_path):
    nb = tiny_notebook(tmp_path / "bubble-risk.ipynb", "pass")
    root = tmp_path / "reports"
    args = ("report", "--notebook", str(nb), "--out", str(root), "--as-of", AS_OF)
    first = _cli_with_faults(tmp_path, root, Faults(root, executed=executed_notebook(tmp_path / "a.ipynb", 3.0)), *args)
    assert first.returncode == 0, first.stderr
    html = (root / AS_OF / "bubble-risk.html").read_bytes()
    full = Faults(root, "enospc", 1, executed=executed_notebook(tmp_path / "b.ipynb", 7.0), match="history.csv")
    second = _cli_with_faults(tmp_path, root, full, *args)
    assert second.returncode == 1, second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in second.stderr, second.stderr
    assert "No space left on device" in lines[0] and "free some disk space" in lines[0] and "history.csv" in lines[0]
    assert (root / AS_OF / "bubble-risk.html").read_bytes() == html  # the last good report, whole
    assert json.loads((root / AS_OF / "metrics.json").read_text())["score"]["value"] == 3.0
    # the failure itself is recorded once there is room (the fault hit one write only)
    assert [r["status"] for r in history_rows(root)] == ["ok", "failed"]


def test_report_no_wait_exits_75_when_busy_and_waiting_is_announced(tmp_path, capsys):
    from filelock import FileLock

    nb = tiny_notebook(tmp_path / "brief.ipynb", "pass")
    root = tmp_path / "reports"
    root.mkdir()
    (root / ".run.lock.info").write_text("pid 1, aibubble run reports.yaml, since 2025-06-30T06:00:00+00:00")
    with FileLock(str(root / ".run.lock")):
        assert main(["report", "--notebook", str(nb), "--out", str(root), "--no-wait"]) == 75
    line = _one_error_line(capsys)
    assert "is busy: another run holds it (pid 1, aibubble run reports.yaml" in line and "--no-wait" in line


def test_a_bad_ledger_is_rejected_before_any_kernel_starts(tmp_path, capsys):
    from tests.conftest import FIXTURES

    lines = (FIXTURES / "funding_rounds.csv").read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace("2023-07-10", "2023-13-45", 1)
    bad = tmp_path / "my_ledger.csv"
    bad.write_text("".join(lines))
    out = tmp_path / "reports"
    started = time.monotonic()
    assert main(["report", "-p", f"ledger={bad}", "--out", str(out)]) == 2
    assert time.monotonic() - started < 8  # no kernel (a kernel alone takes seconds)
    err = capsys.readouterr().err
    assert "my_ledger.csv:3: column announced_on value '2023-13-45'" in err and "Traceback" not in err
    assert not out.exists()


def test_one_clock_for_the_as_of_date_the_generated_stamp_and_history(tmp_path, capsys, monkeypatch):
    """``AIBUBBLE_TODAY`` fixes the day and ``AIBUBBLE_TZ`` the zone for every date a run writes;
    ``report`` and ``run`` write history stamps in one format (analysis.clock.stamp)."""
    monkeypatch.setenv("AIBUBBLE_TODAY", "2025-03-03")
    monkeypatch.setenv("AIBUBBLE_TZ", "Asia/Tokyo")
    nb = tiny_notebook(tmp_path / "brief.ipynb", METRICS_BODY)
    root = tmp_path / "r"
    assert main(["report", "--notebook", str(nb), "--out", str(root)]) == 0  # no --as-of: clock.today()
    assert (root / "2025-03-03" / "brief.html").is_file()
    assert "generated 2025-03-03 12:00 Asia/Tokyo" in (root / "2025-03-03" / "brief.html").read_text()
    cfg = batch_config(tmp_path, "- name: batch-job\n  notebook: brief.ipynb\n")
    assert main(["run", str(cfg), "--out", str(root)]) == 0
    stamps = {r["job"]: r["finished_at"] for r in history_rows(root)}
    assert stamps == {"brief": "2025-03-03T12:00:00+09:00", "batch-job": "2025-03-03T12:00:00+09:00"}
