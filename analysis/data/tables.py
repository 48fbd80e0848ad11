"""Read one curated dataset CSV and validate it against its schema, reporting every problem at once.

The generic reader behind every loader (:mod:`analysis.data.ledger`, the market tickers, the FX
rates) and ``aibubble validate``. Line numbers in problems count the header as line 1 and
the physical lines of quoted multi-line fields, so ``funding_rounds.csv:12`` is what an editor
shows.
"""

from __future__ import annotations

import ast
import csv
import functools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.errors

from analysis import clock, config
from analysis.data.csvlines import LineMap
from analysis.data.schemas import SCHEMAS
from analysis.errors import DataValidationError, Problem

_PARSER_LINE = re.compile(r"line (\d+)")
#: What a failed check's exception looks like in pandera's failure cases (a consequence of a
#: value that could not be converted, which is reported once on its own).
_EXCEPTION_TEXT = re.compile(r"^[A-Za-z]*(?:Error|Exception)\(")
#: ``DataFrame.attrs`` key under which :func:`read_table` records the file it read (for line numbers).
SOURCE_ATTR = "aibubble_source"
#: The one rule for a numeric cell that is not a plain finite number ("inf", "NaN", "NA", "1,5").
NOT_A_NUMBER = "not a finite number (plain digits, no thousands separators; leave the cell empty when unknown)"


def frame_line(index_value, frame: pd.DataFrame | None = None) -> int | None:
    """The file line of a row of a frame read by :func:`read_table` (header = line 1).

    Counts physical lines, so rows after a quoted multi-line field are still placed right;
    without ``frame`` (or for a frame not read from a file) it assumes one line per row.
    """
    try:
        row = int(index_value)
    except (TypeError, ValueError):
        return None
    source = frame.attrs.get(SOURCE_ATTR) if frame is not None else None
    if source:
        line = _line_map(*source).line(row)
        if line is not None:
            return line
    return row + 2


@functools.lru_cache(maxsize=16)
def _line_map(path: str, mtime_ns: int, size: int) -> LineMap:
    return LineMap(Path(path))  # keyed by mtime and size: an edited file is scanned again


def _source_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path), stat.st_mtime_ns, stat.st_size


def read_table(path: Path | str, dataset: str) -> pd.DataFrame:
    """Read one dataset CSV and validate it against its schema, reporting every problem at once.

    A file read before in this process, unchanged since (same modification time and size) and on
    the same day (the year checks move with the calendar), is not parsed and validated again:
    the caller gets a copy of the validated table. A briefing reads the publishers, companies and
    reference points several times.

    Cells are read as text: only an empty field is missing, so "NA" stays a valid ticker or
    name. A numeric column takes plain finite numbers only: "NaN", "NA", "inf" and "1,000" are
    all refused with the same rule (:data:`NOT_A_NUMBER`), never read as missing or infinite.

    Raises
    ------
    DataValidationError
        With one :class:`Problem` per failing cell (file, physical line, column, the cell's text),
        missing/unknown column or unparseable line.
    """
    path = Path(path)
    try:
        source = _source_key(path)
    except OSError:  # missing or unreadable: the uncached read reports it
        return _validated_table(path, dataset)
    return _cached_table(source, dataset, clock.today()).copy()


@functools.lru_cache(maxsize=32)
def _cached_table(source: tuple[str, int, int], dataset: str, today) -> pd.DataFrame:
    return _validated_table(Path(source[0]), dataset)


def _validated_table(path: Path, dataset: str) -> pd.DataFrame:
    shown = config.display_path(path)
    model = SCHEMAS[dataset]
    try:
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
    except OSError as exc:
        raise DataValidationError([Problem(shown, None, None, None, f"cannot read: {exc.strerror}")]) from None
    source = _source_key(path)
    lines = _line_map(*source)
    raw, bad_numbers = _check_numbers(raw, model)
    problems = [Problem(shown, lines.line(i), column, text, NOT_A_NUMBER) for i, column, text in bad_numbers]
    try:
        table = model.validate(raw, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        skip = {(i, column) for i, column, _ in bad_numbers}
        problems += _problems_from(exc, shown, lines, raw_text=raw, skip=skip)
        table = None
    if problems:
        problems.sort(key=lambda p: (p.line or 0, p.column or ""))
        raise DataValidationError(_dedupe(problems))
    table.attrs[SOURCE_ATTR] = source
    return table


def _numeric_columns(model) -> list[str]:
    return [name for name, column in model.columns.items()
            if pd.api.types.is_numeric_dtype(column.dtype.type)]


def _check_numbers(raw: pd.DataFrame, model) -> tuple[pd.DataFrame, list[tuple[int, str, str]]]:
    """Cells of numeric columns that are present but not finite numbers, blanked for pandera.

    pandas reads "inf" as infinity and "NaN" as missing; neither may pass as a number here.
    """
    bad: list[tuple[int, str, str]] = []
    copied = False
    for column in _numeric_columns(model):
        if column not in raw:
            continue
        text = raw[column]
        values = pd.to_numeric(text.str.strip(), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        wrong = text.notna().to_numpy() & ~np.isfinite(values)
        if wrong.any():
            positions = np.flatnonzero(wrong)
            bad += [(int(raw.index[i]), column, str(text.iloc[i])) for i in positions]
            if not copied:
                raw, copied = raw.copy(), True
            raw.loc[raw.index[positions], column] = None
    return raw, bad


def _problems_from(exc: pandera.errors.SchemaErrors, shown: str, lines: LineMap, *, raw_text: pd.DataFrame,
                   skip: set[tuple[int, str]]) -> list[Problem]:
    problems = []
    cases = exc.failure_cases
    unreadable = set(cases.loc[cases["check"].astype(str).str.startswith("coerce_dtype"), "column"])
    for row in cases.itertuples(index=False):
        check = str(row.check)
        column = None if pd.isna(row.column) else str(row.column)
        value = None if pd.isna(row.failure_case) else row.failure_case
        index = None if row.index is None or pd.isna(row.index) else int(row.index)
        if check == "column_in_schema":
            problems.append(Problem(shown, 1, str(value), None, "unknown column (not in the schema)"))
            continue
        if check == "column_in_dataframe":
            problems.append(Problem(shown, 1, str(value), None, "required column is missing"))
            continue
        # Consequences of a value that could not be converted (reported once, as such): the
        # dtype check, and checks that raised on the unconverted column.
        if (index, column) in skip or (column in unreadable and check.startswith("dtype(")):
            continue
        if index is None and isinstance(value, str) and _EXCEPTION_TEXT.match(value):
            continue
        if index is not None and column in raw_text and index in raw_text.index:
            value = raw_text.at[index, column]  # the cell as written, not its converted form
            value = None if pd.isna(value) else value
        elif hasattr(value, "item"):
            value = value.item()
        line = lines.line(index) if index is not None else None
        problems.append(Problem(shown, line, column, value, _describe_check(check)))
    return problems


def _describe_check(check: str) -> str:
    name, _, args = check.partition("(")
    args = args[:-1] if args.endswith(")") else args
    if name == "coerce_dtype":
        return f"cannot be read as {args.strip(chr(39))}"
    if check == "not_nullable":
        return "must not be empty"
    if check == "field_uniqueness" or name == "unique":
        return "must be unique"
    bounds = {"greater_than_or_equal_to": ">=", "greater_than": ">", "less_than_or_equal_to": "<=",
              "less_than": "<"}
    if name in bounds:
        return f"must be {bounds[name]} {args.removesuffix(' 00:00:00')}"
    if name == "not_after_year":
        ahead = int(args.rpartition("=")[2] or 0)
        year = clock.today().year + ahead
        return f"must not be after {year} (the current year{f' + {ahead}' if ahead else ''})"
    if name == "isin":
        try:
            allowed = [str(v) for v in ast.literal_eval(args)]
        except (ValueError, SyntaxError):
            return f"must be one of {args}"
        more = f", ... ({len(allowed)} values; see data/README.md)" if len(allowed) > 8 else ""
        shown = ", ".join(allowed[:8]) + more
        return f"must be one of: {shown}"
    if name == "str_matches":
        return f"must match {args}"
    if name == "str_length":
        return "must not be empty"
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
    return for_analysis(read_table(path or config.DATASET_FILES[dataset], dataset))


def for_analysis(table: pd.DataFrame) -> pd.DataFrame:
    """A validated table without the file record :func:`read_table` keeps for line numbers.

    pandas deep-copies ``DataFrame.attrs`` into the result of every operation (``__finalize__``),
    which cost a briefing about 10,000 copies; once a table has passed validation, its line
    numbers are no longer needed.
    """
    table.attrs.clear()
    return table


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
    # Every required column and nothing unknown (v2 optional columns may be absent).
    matches = [dataset for dataset, schema in SCHEMAS.items()
               if {n for n, c in schema.columns.items() if c.required} <= header
               <= set(schema.columns)]
    return matches[0] if len(matches) == 1 else None
