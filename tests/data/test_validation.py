"""``aibubble validate``: schemas and the cross-file rules over the bundled data and given files."""

from __future__ import annotations

import pytest

from analysis.cli import main
from analysis.data.ledger import load_ledger
from analysis.data.validation import validate_files
from analysis.errors import DataValidationError
from tests.conftest import FIXTURES
from tests.data.helpers import copy_fixture


def test_bundled_datasets_pass_validation():
    assert validate_files() == []


def test_cross_file_rules(tmp_path):
    def corrupt(lines):
        lines[1] = lines[1].replace("Alpha Labs", "Nobody Inc")              # unknown company
        lines[2] = lines[2].replace(",4000000000,", ",900000000,")            # valuation < amount
        lines.append(lines[6].replace("alpha-2024-02", "alpha-2024-02-again"))  # duplicate deal
    path = copy_fixture(tmp_path, corrupt)
    with pytest.raises(DataValidationError) as err:
        load_ledger(path)
    rules = " | ".join(str(p) for p in err.value.problems)
    assert "company not in companies.csv" in rules
    assert "post-money valuation below the amount raised" in rules
    assert "duplicate of another round" in rules


def test_future_round_is_rejected_by_validate(tmp_path):
    path = copy_fixture(tmp_path, lambda lines: lines.__setitem__(1, lines[1].replace("2023-01-15", "2099-01-15")))
    problems = validate_files({"funding_rounds": path, "companies": tmp_path / "companies.csv"})
    assert any(p.column == "announced_on" and "as-of date" in p.rule for p in problems)


def test_cli_validate_prints_one_line_per_problem_and_exits_1(tmp_path, capsys):
    def corrupt(lines):
        lines[1] = lines[1].replace(",series_a,", ",series_z,")
        lines[3] = lines[3].replace(",20000000,", ",-20000000,")
    path = copy_fixture(tmp_path, corrupt)
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2
    assert out[0].startswith("funding_rounds.csv:2: column investment_type value 'series_z'")
    assert main(["validate"]) == 0


def test_cli_validate_checks_every_file_and_guesses_from_the_header(tmp_path, capsys):
    good = tmp_path / "good"
    good.mkdir()
    bad = copy_fixture(tmp_path, lambda lines: lines.__setitem__(1, lines[1].replace(",series_a,", ",series_z,")))
    # Two ledgers in one call: both are checked (the bad one is not hidden behind the good one),
    # and a name that says nothing ("export.csv") is recognised by its columns.
    (good / "export.csv").write_bytes((FIXTURES / "funding_rounds.csv").read_bytes())
    assert main(["validate", str(bad), str(good / "export.csv")]) == 1
    captured = capsys.readouterr()
    assert "series_z" in captured.out and "export.csv" in captured.err
    assert main(["validate", str(good / "export.csv"), str(bad)]) == 1
    assert main(["validate", str(good / "export.csv")]) == 0
    (good / "notes.csv").write_text("a,b\n1,2\n")
    assert main(["validate", str(good / "notes.csv")]) == 1
    assert "cannot tell which dataset" in capsys.readouterr().err
