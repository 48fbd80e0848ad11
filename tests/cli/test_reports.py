"""``aibubble report`` and ``aibubble run``: one-line errors, exit codes, nothing started when
parameters are bad, and ``report`` as a batch of one job through the same runner as ``run``."""

from __future__ import annotations

import os

import pytest

from analysis.cli import main
from analysis.errors import ParameterError
from tests.reporting.support import METRICS_BODY, batch_config, history_rows, tiny_notebook


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
