"""Reading one dataset CSV: every problem reported at once, located by file, line and column."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from analysis.data.tables import read_table
from analysis.errors import DataValidationError
from tests.conftest import FIXTURES
from tests.data.helpers import copy_fixture


def test_every_problem_is_reported_with_line_and_column(tmp_path):
    def corrupt(lines):
        lines[1] = lines[1].replace(",series_a,", ",series_z,")          # line 2: bad enum
        lines[2] = lines[2].replace("2023-07-10", "2023-13-45")          # line 3: bad date
        lines[3] = lines[3].replace(",20000000,", ",-20000000,")         # line 4: negative amount
        lines[4] = lines[4].replace("Gamma Chips,,", "Gamma Chips,quantum_ai,")  # line 5: unknown domain
    path = copy_fixture(tmp_path, corrupt)
    with pytest.raises(DataValidationError) as err:
        read_table(path, "funding_rounds")
    found = {(p.line, p.column) for p in err.value.problems}
    assert {(2, "investment_type"), (3, "announced_on"), (4, "raised_amount_usd"), (5, "domain")} <= found
    messages = [str(p) for p in err.value.problems]
    assert any("funding_rounds.csv:4: column raised_amount_usd value '-20000000': must be >= 0" in m for m in messages)


def test_malformed_csv_names_the_line(tmp_path):
    path = copy_fixture(tmp_path, lambda lines: lines.insert(3, "a,b,c" + ",x" * 30))
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


@pytest.mark.parametrize("text", ["inf", "-inf", "Infinity", "1e999", "NaN", "nan", "NA", "n/a"])
def test_numbers_must_be_finite_and_nan_and_na_are_refused_alike(tmp_path, text):
    # Regression: "inf" passed (and broke the headline model), "NaN" was read as an empty cell
    # while "NA" was "cannot be read as float64". Now every non-number is one and the same error.
    path = copy_fixture(tmp_path, lambda lines: lines.__setitem__(4, lines[4].replace(",300000000,", f",{text},")))
    with pytest.raises(DataValidationError) as err:
        read_table(path, "funding_rounds")
    (problem,) = err.value.problems
    assert (problem.line, problem.column, problem.value) == (5, "raised_amount_usd", text)
    assert problem.rule.startswith("not a finite number")


def test_a_value_of_the_wrong_type_is_one_problem_without_library_noise(tmp_path):
    def corrupt(lines):
        lines[1] = lines[1].replace(",500000000,", ",lots,")        # post_money_valuation_usd (gt=0)
        lines[2] = lines[2].replace("2023-07-10", "soon", 1)          # announced_on (ge=2010-01-01)
    path = copy_fixture(tmp_path, corrupt)
    with pytest.raises(DataValidationError) as err:
        read_table(path, "funding_rounds")
    problems = err.value.problems
    assert [(p.line, p.column, p.value) for p in problems] == [
        (2, "post_money_valuation_usd", "lots"), (3, "announced_on", "soon")]
    assert not any("TypeError" in str(p) or "dtype(" in str(p) for p in problems)


def test_line_numbers_count_the_physical_lines_of_quoted_multi_line_fields(tmp_path):
    def corrupt(lines):
        lines[1] = lines[1][: -len("confirmed,")] + 'confirmed,"first line\nsecond line"'  # notes over 2 lines
        lines[4] = lines[4].replace(",series_c,", ",series_z,")       # the 4th record: physical line 6
    path = copy_fixture(tmp_path, corrupt)
    with pytest.raises(DataValidationError) as err:
        read_table(path, "funding_rounds")
    assert [(p.line, p.column) for p in err.value.problems] == [(6, "investment_type")]


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


def test_a_file_read_again_is_a_fresh_copy_and_an_edit_is_seen(tmp_path):
    path = copy_fixture(tmp_path, lambda lines: None)
    first = read_table(path, "funding_rounds")
    first.loc[first.index[0], "org_name"] = "changed by the caller"
    again = read_table(path, "funding_rounds")
    assert again is not first and again["org_name"].iloc[0] != "changed by the caller"
    # An edit that keeps the file's size (and, on a coarse clock, its time) still counts: the key
    # is the modification time in nanoseconds and the size, so force a new time explicitly.
    text = path.read_text(encoding="utf-8").replace(",series_a,", ",series_z,", 1)
    path.write_text(text, encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    with pytest.raises(DataValidationError):
        read_table(path, "funding_rounds")
