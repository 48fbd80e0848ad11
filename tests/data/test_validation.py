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
    (good / "companies.csv").write_bytes((FIXTURES / "companies.csv").read_bytes())  # its reference table
    assert main(["validate", str(bad), str(good / "export.csv")]) == 1
    captured = capsys.readouterr()
    assert "series_z" in captured.out and "export.csv" in captured.err
    assert main(["validate", str(good / "export.csv"), str(bad)]) == 1
    assert main(["validate", str(good / "export.csv")]) == 0
    (good / "notes.csv").write_text("a,b\n1,2\n")
    assert main(["validate", str(good / "notes.csv")]) == 1
    assert "cannot tell which dataset" in capsys.readouterr().err


def _lone_ledger(tmp_path, edit):
    """The fixture ledger alone in a folder (no companies.csv beside it)."""
    path = copy_fixture(tmp_path, edit)
    (tmp_path / "companies.csv").unlink()
    (tmp_path / "investors.csv").unlink()
    return path


def test_a_lone_ledger_is_checked_against_the_bundled_companies(tmp_path, capsys):
    # Regression: a ledger given alone skipped every cross-file rule.
    def corrupt(lines):
        lines.append(lines[6].replace("alpha-2024-02", "alpha-2024-02-again"))       # duplicate deal
        lines.append(lines[3].replace("beta-2023-03", "beta-2200").replace("2023-03-01", "2200-03-01", 1))
        lines.append(lines[3].replace("beta-2023-03", "nobody-1").replace("Beta Code", "Nobody Inc"))
    path = _lone_ledger(tmp_path, corrupt)
    problems = validate_files({"funding_rounds": path})
    found = {(p.line, p.column): p.rule for p in problems}
    assert "duplicate of another round" in found[(13, "round_id")]
    assert "after the data's as-of date" in found[(14, "announced_on")]
    assert "not in data/companies.csv" in found[(15, "org_name")]
    # The bundled companies are the reference, so the fixture's own names are unknown too;
    # a round with its own domain needs no company row (as load_ledger reads imported ledgers).
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert "checked against data/companies.csv" in out


def test_a_lone_ledger_with_domains_validates_and_loads_alike(tmp_path, capsys):
    def with_domains(lines):
        domains = {"Alpha Labs": "llm_foundation", "Beta Code": "llm_applications", "Gamma Chips": "ai_infrastructure",
                   "Delta Bio": "biology", "Epsilon Robots": "robotics"}
        for i, line in enumerate(lines[1:], start=1):
            name = line.split(",")[1]
            lines[i] = line.replace(f",{name},,", f",{name},{domains[name]},", 1)
    path = _lone_ledger(tmp_path, with_domains)
    assert validate_files({"funding_rounds": path}) == []
    assert len(load_ledger(path).rounds) == 11
    assert main(["validate", str(path)]) == 0
    assert "checked against data/companies.csv" in capsys.readouterr().out


def test_cli_validate_refuses_an_infinite_amount_with_its_place(tmp_path, capsys):
    path = copy_fixture(tmp_path, lambda lines: lines.__setitem__(2, lines[2].replace(",1000000000,", ",inf,")))
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert "funding_rounds.csv:3: column raised_amount_usd value 'inf': not a finite number" in out
