"""Dataset validation: every problem reported at once, located by file, line and column."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from analysis import config
from analysis.cli import main
from analysis.data.ledger import load_ledger, read_table, validate_files
from analysis.errors import DataValidationError
from tests.conftest import FIXTURES


def _copy_fixture(tmp_path, edit=None):
    for name in ("funding_rounds.csv", "companies.csv", "investors.csv"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    if edit:
        path = tmp_path / "funding_rounds.csv"
        lines = path.read_text().splitlines()
        edit(lines)
        path.write_text("\n".join(lines) + "\n")
    return tmp_path / "funding_rounds.csv"


def test_bundled_datasets_pass_validation():
    assert validate_files() == []


def test_bundled_ledger_meets_its_provenance_rules():
    ledger = load_ledger()
    rounds = ledger.rounds
    assert rounds["source_url"].str.startswith("http").all()
    assert rounds["source_title"].str.len().gt(0).all()
    assert rounds["source_publisher"].str.len().gt(0).all()
    assert rounds["source_date"].notna().all()
    assert rounds["round_id"].is_unique
    assert set(rounds["effective_domain"]) <= set(config_domains())
    assert rounds["announced_on"].min() >= pd.Timestamp("2019-01-01")


def config_domains():
    from analysis.data.taxonomy import load_taxonomy

    return load_taxonomy().ids


def test_every_problem_is_reported_with_line_and_column(tmp_path):
    def corrupt(lines):
        lines[1] = lines[1].replace(",series_a,", ",series_z,")          # line 2: bad enum
        lines[2] = lines[2].replace("2023-07-10", "2023-13-45")          # line 3: bad date
        lines[3] = lines[3].replace(",20000000,", ",-20000000,")         # line 4: negative amount
        lines[4] = lines[4].replace("Gamma Chips,,", "Gamma Chips,quantum_ai,")  # line 5: unknown domain
    path = _copy_fixture(tmp_path, corrupt)
    with pytest.raises(DataValidationError) as err:
        read_table(path, "funding_rounds")
    found = {(p.line, p.column) for p in err.value.problems}
    assert {(2, "investment_type"), (3, "announced_on"), (4, "raised_amount_usd"), (5, "domain")} <= found
    messages = [str(p) for p in err.value.problems]
    assert any("funding_rounds.csv:4: column raised_amount_usd value -20000000" in m for m in messages)


def test_malformed_csv_names_the_line(tmp_path):
    path = _copy_fixture(tmp_path, lambda lines: lines.insert(3, "a,b,c" + ",x" * 30))
    with pytest.raises(DataValidationError) as err:
        read_table(path, "funding_rounds")
    problem = err.value.problems[0]
    assert problem.line == 4 and "malformed CSV" in problem.rule


def test_unknown_and_missing_columns(tmp_path):
    path = tmp_path / "funding_rounds.csv"
    frame = pd.read_csv(FIXTURES / "funding_rounds.csv", dtype=str).drop(columns=["confidence"])
    frame["extra"] = "x"
    frame.to_csv(path, index=False)
    with pytest.raises(DataValidationError) as err:
        read_table(path, "funding_rounds")
    rules = {(p.column, p.rule) for p in err.value.problems}
    assert ("extra", "unknown column (not in the schema)") in rules
    assert ("confidence", "required column is missing") in rules


def test_cross_file_rules(tmp_path):
    def corrupt(lines):
        lines[1] = lines[1].replace("Alpha Labs", "Nobody Inc")              # unknown company
        lines[2] = lines[2].replace(",4000000000,", ",900000000,")            # valuation < amount
        lines.append(lines[6].replace("alpha-2024-02", "alpha-2024-02-again"))  # duplicate deal
    path = _copy_fixture(tmp_path, corrupt)
    with pytest.raises(DataValidationError) as err:
        load_ledger(path)
    rules = " | ".join(str(p) for p in err.value.problems)
    assert "company not in companies.csv" in rules
    assert "post-money valuation below the amount raised" in rules
    assert "duplicate of another round" in rules


def test_future_round_is_rejected_by_validate(tmp_path):
    path = _copy_fixture(tmp_path, lambda lines: lines.__setitem__(1, lines[1].replace("2023-01-15", "2099-01-15")))
    problems = validate_files({"funding_rounds": path, "companies": tmp_path / "companies.csv"})
    assert any(p.column == "announced_on" and "as-of date" in p.rule for p in problems)


def test_cli_validate_prints_one_line_per_problem_and_exits_1(tmp_path, capsys):
    def corrupt(lines):
        lines[1] = lines[1].replace(",series_a,", ",series_z,")
        lines[3] = lines[3].replace(",20000000,", ",-20000000,")
    path = _copy_fixture(tmp_path, corrupt)
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 2
    assert out[0].startswith("funding_rounds.csv:2: column investment_type value 'series_z'")
    assert main(["validate"]) == 0


def test_as_of_cuts_the_ledger():
    ledger = load_ledger(FIXTURES / "funding_rounds.csv", as_of="2023-12-31")
    assert ledger.rounds["announced_on"].max() <= pd.Timestamp("2023-12-31")
    assert len(ledger.rounds) == 5


def test_cli_validate_checks_every_file_and_guesses_from_the_header(tmp_path, capsys):
    good = tmp_path / "good"
    good.mkdir()
    bad = _copy_fixture(tmp_path, lambda lines: lines.__setitem__(1, lines[1].replace(",series_a,", ",series_z,")))
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


def test_reference_points_schema_reports_each_bad_row(tmp_path):
    head = ("id,category,subject,metric,value,unit,period,low,high,definition,source_url,source_title,"
            "source_publisher,source_date,notes")
    good = "a_b,drawdown,X,m,-0.5,fraction,2000,,,d,https://e.org/a,T,P,2020-01-01,"
    rows = [
        good,
        "bad_cat,bubble,X,m,1,ratio,2000,,,d,https://e.org/a,T,P,,",           # line 3: category
        "no_value,other,X,m,,ratio,2000,1,,d,https://e.org/a,T,P,,",            # line 4: no value, no range
        "upside_down,other,X,m,,ratio,2000,3,2,d,https://e.org/a,T,P,,",        # line 5: low > high
        "big_share,supplier_exposure,X,m,1.5,fraction,2000,,,d,https://e.org/a,T,P,,",  # line 6
        "no_url,other,X,m,1,ratio,2000,,,d,www.e.org,T,P,,",                    # line 7: not http(s)
        "Bad-Id,other,X,m,1,ratio,2000,,,d,https://e.org/a,T,P,,",              # line 8: id format
        good,                                                                   # line 9: duplicate id
    ]
    path = tmp_path / "reference_points.csv"
    path.write_text("\n".join([head, *rows]) + "\n")
    with pytest.raises(DataValidationError) as err:
        read_table(path, "reference_points")
    found = {(p.line, p.column) for p in err.value.problems}
    assert {(3, "category"), (7, "source_url"), (8, "id"), (9, "id")} <= found
    text = "\n".join(str(p) for p in err.value.problems)
    for message in ("needs a value or a low-high range", "low is above high", "a fraction must lie in [-1, 1]"):
        assert message in text
    # the good row is blamed only for sharing its id with line 9
    assert all("unique" in str(p) for p in err.value.problems if p.line == 2)
    ok = tmp_path / "ok.csv"
    ok.write_text(head + "\n" + good + "\n")
    assert read_table(ok, "reference_points").loc[0, "value"] == -0.5
