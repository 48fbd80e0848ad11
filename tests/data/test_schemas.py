"""Schema bounds that depend on the calendar move with :func:`analysis.clock.today`."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import config
from analysis.data.tables import read_table
from analysis.data.validation import validate_files
from analysis.errors import DataValidationError
from tests.conftest import FIXTURES


def test_bundled_data_still_validates_years_from_now(monkeypatch):
    # A bound written as "<= 2026" would start rejecting correct rows on 2027-01-01.
    monkeypatch.setenv("AIBUBBLE_TODAY", "2030-01-01")
    assert validate_files() == []


def _companies_with_founded_year(tmp_path, year: str):
    frame = pd.read_csv(FIXTURES / "companies.csv", dtype=str, keep_default_na=False)
    frame.loc[1, "founded_year"] = year   # Beta Code, line 3
    path = tmp_path / "companies.csv"
    frame.to_csv(path, index=False)
    return path


def test_a_founded_year_after_today_is_rejected(monkeypatch, tmp_path):
    path = _companies_with_founded_year(tmp_path, "2031")
    monkeypatch.setenv("AIBUBBLE_TODAY", "2030-01-01")
    with pytest.raises(DataValidationError) as err:
        read_table(path, "companies")
    (problem,) = err.value.problems
    assert (problem.line, problem.column, problem.value) == (3, "founded_year", "2031")
    # The same row is fine once the calendar has reached its year.
    monkeypatch.setenv("AIBUBBLE_TODAY", "2031-01-01")
    assert read_table(path, "companies").loc[1, "founded_year"] == 2031


@pytest.mark.parametrize("column, value, ok", [
    ("calendar_year", "2030", True), ("calendar_year", "2031", False),
    # A fiscal year may run one ahead of the calendar (Microsoft's FY2031 starts in July 2030).
    ("fiscal_year", "2031", True), ("fiscal_year", "2032", False),
])


def test_financial_years_are_bounded_by_today(monkeypatch, tmp_path, column, value, ok):
    monkeypatch.setenv("AIBUBBLE_TODAY", "2030-06-30")
    frame = pd.read_csv(config.DATASET_FILES["hyperscaler_financials"], dtype=str, keep_default_na=False).head(3)
    frame.loc[2, column] = value
    path = tmp_path / "hyperscaler_financials.csv"
    frame.to_csv(path, index=False)
    if ok:
        assert len(read_table(path, "hyperscaler_financials")) == 3
    else:
        with pytest.raises(DataValidationError) as err:
            read_table(path, "hyperscaler_financials")
        assert [(p.line, p.column) for p in err.value.problems] == [(4, column)]
