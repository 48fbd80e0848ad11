"""Malformed exports: every problem with file, line and column, and the offending value."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.data.importers import import_crunchbase, import_pitchbook
from analysis.errors import DataValidationError
from tests.data.importers.common import CB, PB, raw_csv, write_rows


MALFORMED = [
    # (importer kwargs, file shown in the message, line, column, rule fragment)
    ({"funding_rounds": CB / "ragged_funding_rounds.csv"}, "ragged_funding_rounds.csv", 5, None,
     "expected 24 fields, found 25"),
    ({"funding_rounds": CB / "missing_column_funding_rounds.csv"}, "missing_column_funding_rounds.csv", 1,
     "announced_on", "required column is missing"),
    ({"funding_rounds": CB / "bad_date_funding_rounds.csv"}, "bad_date_funding_rounds.csv", 5, "announced_on",
     "not a date"),
    ({"funding_rounds": CB / "negative_amount_funding_rounds.csv"}, "negative_amount_funding_rounds.csv", 3,
     "raised_amount_usd", "negative amount"),
    ({"deals": PB / "ragged_deals.csv"}, "ragged_deals.csv", 3, None, "expected 15 fields, found 13"),
    ({"deals": PB / "missing_column_deals.csv"}, "missing_column_deals.csv", 1, "DEAL_DATE",
     "required column is missing"),
    ({"deals": PB / "bad_date_deals.csv"}, "bad_date_deals.csv", 4, "DEAL_DATE", "not a date"),
    ({"deals": PB / "negative_amount_deals.csv"}, "negative_amount_deals.csv", 3, "DEAL_SIZE", "negative amount"),
]


def _run_import(kwargs):
    if "deals" in kwargs:
        return import_pitchbook(kwargs["deals"])
    return import_crunchbase(kwargs["funding_rounds"], CB / "organizations.csv")


@pytest.mark.parametrize("kwargs, name, line, column, rule", MALFORMED, ids=[m[1] for m in MALFORMED])
def test_malformed_exports_name_file_line_and_column(kwargs, name, line, column, rule):
    with pytest.raises(DataValidationError) as info:
        _run_import(kwargs)
    problem = info.value.problems[0]
    assert len(info.value.problems) == 1
    assert (Path(problem.file).name, problem.line, problem.column) == (name, line, column)
    assert rule in problem.rule
    text = str(problem)
    assert f"{name}:{line}" in text and (column is None or f"column {column}" in text)


def test_bad_values_are_all_reported_with_the_offending_value(tmp_path):
    rows = raw_csv(CB / "funding_rounds.csv")
    rows[0]["announced_on"] = "15/03/2021"
    rows[2]["raised_amount_usd"] = "lots"
    rows[4]["raised_amount_currency_code"] = "EURO"
    path = write_rows(tmp_path / "funding_rounds.csv", rows)
    with pytest.raises(DataValidationError) as info:
        import_crunchbase(path, CB / "organizations.csv")
    found = {(p.line, p.column, p.value) for p in info.value.problems}
    assert found == {(2, "announced_on", "15/03/2021"), (4, "raised_amount_usd", "lots"),
                     (6, "raised_amount_currency_code", "EURO")}


def test_empty_missing_and_non_utf8_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    latin = tmp_path / "latin.csv"
    latin.write_bytes((CB / "funding_rounds.csv").read_bytes().replace(b"Helix Therapeutics AI,a0",
                                                                        b"H\xe9lix Therapeutics AI,a0", 1))
    for path, fragment in ((empty, "file is empty"), (tmp_path / "nope.csv", "file not found"),
                           (latin, "not UTF-8")):
        with pytest.raises(DataValidationError, match=fragment):
            import_crunchbase(path, CB / "organizations.csv")


@pytest.mark.parametrize("text", ["inf", "-inf", "Infinity", "1e999", "nan", "NaN"])
def test_non_finite_amounts_are_errors(tmp_path, text):
    rounds = raw_csv(CB / "funding_rounds.csv")
    rounds[2]["raised_amount_usd"] = text
    with pytest.raises(DataValidationError) as info:
        import_crunchbase(write_rows(tmp_path / "funding_rounds.csv", rounds), CB / "organizations.csv")
    assert [(p.line, p.column, p.value) for p in info.value.problems] == [(4, "raised_amount_usd", text)]
    assert "not a finite number" in info.value.problems[0].rule
    deals = raw_csv(PB / "deals.csv")
    deals[1]["POST_VALUATION"] = text
    with pytest.raises(DataValidationError) as info:
        import_pitchbook(write_rows(tmp_path / "deals.csv", deals))
    assert [(p.line, p.column, p.value) for p in info.value.problems] == [(3, "POST_VALUATION", text)]
