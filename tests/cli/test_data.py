"""``aibubble import``: two outputs that are one file are refused before anything is written."""

from __future__ import annotations

from analysis.cli import main
from tests.conftest import FIXTURES


def test_out_and_report_naming_one_file_are_refused(tmp_path, capsys):
    deals = FIXTURES / "pitchbook" / "deals.csv"
    out = tmp_path / "ledger.csv"
    assert main(["import", "pitchbook", "--deals", str(deals), "--out", str(out), "--report", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "the same file as --out" in err[0]
    assert not out.exists()
    (tmp_path / "sub").mkdir()
    again = tmp_path / "sub" / ".." / "ledger.csv"  # the same file by another path
    assert main(["import", "pitchbook", "--deals", str(deals), "--out", str(out), "--report", str(again)]) == 2
    assert not out.exists()
