"""The command line: one-line errors, exit codes, and nothing started when parameters are bad."""

from __future__ import annotations

import os

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from analysis.cli import main


def test_bad_parameters_fail_before_any_kernel(tmp_path, capsys):
    out = tmp_path / "reports"
    for argv in (["report", "-p", "period=week"], ["report", "-p", "colour=red"],
                 ["report", "--as-of", "2025-02-30"], ["report", "-p", "infra_llm_share=2"]):
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
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = new_code_cell('as_of = ""  # date')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, new_code_cell("1 / 0")]
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    code = main(["report", "--notebook", str(path), "--out", str(tmp_path / "r"), "--as-of", "2025-01-02"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3
    assert len(err) == 1 and "cell 2 failed: ZeroDivisionError" in err[0]
    assert os.listdir(tmp_path / "r" / "failed")


def test_debug_shows_the_traceback(tmp_path):
    import pytest

    from analysis.errors import ParameterError

    with pytest.raises(ParameterError):
        main(["--debug", "report", "-p", "period=week", "--out", str(tmp_path / "r")])
