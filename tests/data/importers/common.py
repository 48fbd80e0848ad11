"""Fixture exports and helpers shared by the importer tests.

The fixtures in tests/fixtures/crunchbase and tests/fixtures/pitchbook are small enough to check
by eye; the expected domain and rule of every company are written out in the tests.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from tests.conftest import FIXTURES

CB = FIXTURES / "crunchbase"
PB = FIXTURES / "pitchbook"


def uuid(n: int) -> str:
    return f"b0000000-0000-4000-8000-{n:012d}"


def row_of(result, round_id: str) -> pd.Series:
    rows = result.ledger[result.ledger["round_id"] == round_id]
    assert len(rows) == 1, round_id
    return rows.iloc[0]


def raw_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path
