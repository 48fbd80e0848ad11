"""Read one curated dataset CSV and validate it against its schema, reporting every problem at once.

The generic reader behind every loader (:mod:`analysis.data.ledger`, the market tickers, the FX
rates) and ``aibubble validate``. Line numbers in problems count the header as line 1, so
``funding_rounds.csv:12`` is what an editor shows.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pandera.errors

from analysis import config
from analysis.data.schemas import SCHEMAS
from analysis.errors import DataValidationError, Problem

_PARSER_LINE = re.compile(r"line (\d+)")


def frame_line(index_value) -> int | None:
    try:
        return int(index_value) + 2
    except (TypeError, ValueError):
        return None


def read_table(path: Path | str, dataset: str) -> pd.DataFrame:
    """Read one dataset CSV and validate it against its schema, reporting every problem at once.

    Raises
    ------
    DataValidationError
        With one :class:`Problem` per failing cell, missing/unknown column or unparseable line.
    """
    path = Path(path)
    shown = config.display_path(path)
    model = SCHEMAS[dataset]
    try:
        # Strings only, and only empty fields are missing: "NA" is a valid ticker, not a null.
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    except FileNotFoundError:
        raise DataValidationError([Problem(shown, None, None, None, "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise DataValidationError([Problem(shown, None, None, None, f"not UTF-8 text ({exc.reason})")]) from None
    except pd.errors.EmptyDataError:
        raise DataValidationError([Problem(shown, None, None, None, "file is empty (no header row)")]) from None
    except pd.errors.ParserError as exc:
        match = _PARSER_LINE.search(str(exc))
        line = int(match.group(1)) if match else None
        raise DataValidationError([Problem(shown, line, None, None, f"malformed CSV: {str(exc).strip()}")]) from None
    try:
        return model.validate(raw, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        raise DataValidationError(_problems_from(exc, shown)) from None


def _problems_from(exc: pandera.errors.SchemaErrors, shown: str) -> list[Problem]:
    problems = []
    cases = exc.failure_cases
    for row in cases.itertuples(index=False):
        check = str(row.check)
        column = None if pd.isna(row.column) else str(row.column)
        value = None if pd.isna(row.failure_case) else row.failure_case
        if check == "column_in_schema":
            problems.append(Problem(shown, 1, str(value), None, "unknown column (not in the schema)"))
        elif check == "column_in_dataframe":
            problems.append(Problem(shown, 1, str(value), None, "required column is missing"))
        else:
            rule = _describe_check(check)
            problems.append(Problem(shown, frame_line(row.index), column, value, rule))
    problems.sort(key=lambda p: (p.line or 0, p.column or ""))
    return _dedupe(problems)


def _describe_check(check: str) -> str:
    if check.startswith("coerce_dtype"):
        wanted = check.split("(", 1)[-1].rstrip(")").strip("'")
        return f"cannot be read as {wanted}"
    if check == "not_nullable":
        return "must not be empty"
    if check == "field_uniqueness" or check.startswith("unique"):
        return "must be unique"
    return f"fails check {check}"


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        key = (p.line, p.column, repr(p.value), p.rule)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def load_dataset(dataset: str, path: Path | str | None = None) -> pd.DataFrame:
    """Load one validated reference dataset (companies, lab_financials, market_totals, ...)."""
    return read_table(path or config.DATASET_FILES[dataset], dataset)


def guess_dataset(path: Path) -> str | None:
    """Which schema a file uses: from its name (``my_rounds.csv`` -> funding_rounds), else from
    its header (the exact column set of one schema, in any order and quoting)."""
    stem = path.stem.lower()
    for dataset in SCHEMAS:
        if dataset in stem:
            return dataset
    if "round" in stem or "ledger" in stem:
        return "funding_rounds"
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            header = {name.strip() for name in next(csv.reader(fh), [])}
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    matches = [dataset for dataset, schema in SCHEMAS.items() if set(schema.to_schema().columns) == header]
    return matches[0] if len(matches) == 1 else None
