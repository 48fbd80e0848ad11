"""Reading export CSVs and parsing their cells, shared by the Crunchbase and PitchBook importers.

Exports are read as pyarrow Tables of strings (empty fields null). Every problem names the file,
the line (header = line 1, counted in physical lines even when quoted fields span several) and
the column; at most :data:`MAX_PROBLEMS` are listed.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from analysis import config
from analysis.data.classifier import arrow_strings
from analysis.data.csvlines import LineMap
from analysis.errors import DataValidationError, Problem

#: Problems listed per failed import; the rest are summarised in one line.
MAX_PROBLEMS = 50
#: The rule for an amount that is present but not a finite number ("lots", "inf", "nan").
NOT_A_FINITE_AMOUNT = "not a finite number (digits, optionally with $ and thousands separators)"

_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"  # ignored time part
_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2})" + _TIME + r")?)?$")
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_DMY = re.compile(r"^(\d{1,2})-([A-Za-z]{3})-(\d{4})$")

ROUND_ID_BAD = re.compile(r"[^a-z0-9_.-]+")

def read_export(path: Path, required: tuple[str, ...], *, wanted: tuple[str, ...] | None = None,
                normalise=None) -> tuple[pa.Table, LineMap]:
    """Read an export CSV as a pyarrow Table of strings (empty fields null), checking its shape.

    Only the ``wanted`` columns are kept (all when None); every row's field count is still
    checked. Column names are normalised (``normalise`` maps PitchBook's "Deal Size" ->
    ``DEAL_SIZE``; by default names are stripped).
    """
    shown = config.display_path(path)
    if not path.is_file():
        raise DataValidationError([Problem(shown, None, None, None, "file not found")])
    normalise = normalise or (lambda c: str(c).strip())
    try:
        header = pd.read_csv(path, nrows=0, dtype=str, encoding="utf-8-sig").columns
        names = {raw: normalise(raw) for raw in header}
        usecols = None if wanted is None else [raw for raw, name in names.items() if name in wanted]
        # pyarrow's CSV reader: all columns as strings (only empty fields missing), several times
        # faster than pandas' C engine asked for strings, and unlike it, it rejects rows with too
        # few fields as well as too many (also when only some columns are kept).
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            column_types={raw: pa.string() for raw in header}, include_columns=usecols,
            strings_can_be_null=True, null_values=[""]))
    except pd.errors.EmptyDataError:
        raise DataValidationError([Problem(shown, None, None, None, "file is empty (no header row)")]) from None
    except (pa.ArrowInvalid, pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
        raise DataValidationError([_locate_parse_error(path, shown, exc)]) from None
    table = table.rename_columns([names.get(c, normalise(c)) for c in table.column_names])
    missing = [c for c in required if c not in table.column_names]
    if missing:
        raise DataValidationError([Problem(shown, 1, c, None, "required column is missing") for c in missing])
    return table, LineMap(path)


def read_export_frame(path: Path, required: tuple[str, ...], *, normalise=None) -> tuple[pd.DataFrame, LineMap]:
    """:func:`read_export` as a DataFrame of pandas strings (for the small PitchBook exports)."""
    table, lines = read_export(path, required, normalise=normalise)
    return table.to_pandas(types_mapper=STRING_TYPES.get), lines


def _locate_parse_error(path: Path, shown: str, exc: Exception) -> Problem:
    """Find the line of a malformed record with the csv module (the fast reader gives none)."""
    message = str(exc)
    if "UTF8" in message or "UTF-8" in message or isinstance(exc, UnicodeDecodeError):
        try:
            data = path.read_bytes()
            data.decode("utf-8")
        except UnicodeDecodeError as err:
            line = data[:err.start].count(b"\n") + 1
            return Problem(shown, line, None, None, f"not UTF-8 text ({err.reason}); save the export as UTF-8")
    expected, prev = None, 0
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, strict=True)
            for record in reader:
                start, prev = prev + 1, reader.line_num
                if not record:
                    continue
                if expected is None:
                    expected = len(record)
                elif len(record) != expected:
                    return Problem(shown, start, None, None,
                                   f"malformed CSV: expected {expected} fields, found {len(record)}")
    except csv.Error as err:
        return Problem(shown, prev + 1, None, None, f"malformed CSV: {err}")
    except UnicodeDecodeError as err:
        return Problem(shown, None, None, None, f"not UTF-8 text ({err.reason})")
    return Problem(shown, None, None, None, f"malformed CSV: {message.strip()}")

STRING_TYPES = {pa.string(): pd.StringDtype("pyarrow", na_value=np.nan),
                 pa.large_string(): pd.StringDtype("pyarrow", na_value=np.nan)}


def optional(frame: pd.DataFrame | pa.Table, column: str):
    """A column of a DataFrame or Table; all missing when the export lacks it."""
    if isinstance(frame, pa.Table):
        return frame[column] if column in frame.column_names else pa.nulls(len(frame), pa.string())
    if column in frame:
        return frame[column]
    return pd.Series(pd.NA, index=frame.index, dtype="str")


def as_series(values: pa.Array | pa.ChunkedArray) -> pd.Series:
    """pyarrow strings as a pandas string Series (zero-copy)."""
    return pd.Series(pd.array(values, dtype=STRING_TYPES[pa.string()]))


def as_strings(values, n: int) -> pa.Array:
    """Per-row text of any form (pyarrow array, Series, list, numpy array, None) -> pa.string array."""
    if values is None:
        return pa.nulls(n, pa.string())
    if isinstance(values, pd.Series):
        values = arrow_strings(values)
    elif not isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = pa.array(np.asarray(values, dtype=object), pa.string(), from_pandas=True)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.cast(pa.string())


@dataclass(frozen=True)
class Dates:
    """Parsed dates of an export column (parsed once per distinct string)."""

    values: np.ndarray     # datetime64[ns]; NaT when empty or unparseable
    precision: np.ndarray  # int8: 0 day, 1 year-month, 2 year only, -1 missing
    codes: np.ndarray      # index into ``uniques`` (-1: empty)
    uniques: np.ndarray    # the distinct stripped strings, then None
    iso_u: np.ndarray      # YYYY-MM-DD of each unique, then None
    bad: np.ndarray        # bool: present but not a date

    def subset(self, rows: np.ndarray) -> "Dates":
        return Dates(self.values[rows], self.precision[rows], self.codes[rows], self.uniques, self.iso_u,
                      self.bad[rows])

    @property
    def raw(self) -> np.ndarray:
        return self.uniques[self.codes]

    @property
    def iso(self) -> np.ndarray:
        return self.iso_u[self.codes]

    def iso_strings(self) -> pa.Array:
        """``iso`` as pyarrow strings, gathered without a Python string per row."""
        return pa.array(self.iso_u, pa.string(), from_pandas=True).take(
            pa.array(np.where(self.codes < 0, len(self.iso_u) - 1, self.codes)))


_PRECISION = {"day": 0, "month": 1, "year": 2}


def parse_dates(raw: pd.Series, *, us_formats: bool) -> Dates:
    encoded = pc.utf8_trim_whitespace(arrow_strings(raw)).dictionary_encode()
    uniques = encoded.dictionary.to_pylist()
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    parsed = [_parse_date(u, us_formats) if u != "" else None for u in uniques]
    # A trailing sentinel entry serves code -1 (empty field).
    values_u = np.array([p[0] if p else np.datetime64("NaT") for p in parsed] + [np.datetime64("NaT")],
                        dtype="datetime64[ns]")
    prec_u = np.array([_PRECISION[p[1]] if p else -1 for p in parsed] + [-1], dtype=np.int8)
    bad_u = np.array([p is None and u != "" for p, u in zip(parsed, uniques)] + [False], dtype=bool)
    iso_u = np.array([str(p[0])[:10] if p else None for p in parsed] + [None], dtype=object)
    return Dates(values_u[codes], prec_u[codes], codes, np.array(uniques + [None], dtype=object), iso_u,
                  bad_u[codes])


def _parse_date(text: str, us_formats: bool) -> tuple[np.datetime64, str] | None:
    try:
        m = _ISO.match(text)
        if m:
            year, month, day = m.group(1), m.group(2), m.group(3)
            if day:
                return np.datetime64(dt.date(int(year), int(month), int(day)), "ns"), "day"
            if month:
                return np.datetime64(dt.date(int(year), int(month), 1), "ns"), "month"
            return np.datetime64(dt.date(int(year), 1, 1), "ns"), "year"
        if us_formats:
            m = _US.match(text)
            if m:
                return np.datetime64(dt.date(int(m.group(3)), int(m.group(1)), int(m.group(2))), "ns"), "day"
            m = _DMY.match(text)
            if m and m.group(2).lower() in _MONTHS:
                month = _MONTHS[m.group(2).lower()]
                return np.datetime64(dt.date(int(m.group(3)), month, int(m.group(1))), "ns"), "day"
    except ValueError:  # 2021-02-30, month 13, year 0
        return None
    return None


def _parse_amount(raw, path: Path, lines: LineMap, column: str) -> tuple[np.ndarray, list[Problem]]:
    """Numbers from strings (thousands separators and a leading $ ignored); empty -> NaN.

    A present value must be a finite, non-negative number: "inf", "1e999" and "nan" (which
    float parsers accept) are errors like any other text, never an infinite or missing amount.
    """
    try:  # fast path: clean numbers (empty fields are already null)
        strings = arrow_strings(raw, combine=False)
        values = pc.cast(strings, pa.float64()).to_numpy(zero_copy_only=False)
        present = to_bool(pc.is_valid(strings))
    except pa.ArrowInvalid:
        s = (raw if isinstance(raw, pd.Series) else as_series(raw)).str.strip()
        if s.str.contains(r"[,$]", regex=True).fillna(False).any():
            s = s.str.replace(r"[,$]", "", regex=True)
        values = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        present = (s.notna() & (s != "")).to_numpy(dtype=bool, na_value=False)
    finite = np.isfinite(values)
    problems = cell_problems(path, lines, column, raw, present & ~finite, NOT_A_FINITE_AMOUNT)
    problems += cell_problems(path, lines, column, raw, finite & (values < 0), "negative amount")
    return np.where(finite, values, np.nan), problems


def parse_amounts(frame: pd.DataFrame | pa.Table, columns: tuple[str, ...], path: Path, lines: LineMap, *,
                   scale: float = 1.0) -> tuple[dict[str, np.ndarray], list[Problem]]:
    """:func:`_parse_amount` over several (optional) columns: values times ``scale``, all problems."""
    values, problems = {}, []
    for col in columns:
        parsed, p = _parse_amount(optional(frame, col), path, lines, col)
        values[col] = parsed * scale
        problems += p
    return values, problems


def matches(values, pattern: str) -> np.ndarray:
    return to_bool(pc.match_substring_regex(arrow_strings(values, combine=False), pattern))


def to_bool(arr) -> np.ndarray:
    return np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def cell_problems(path: Path, lines: LineMap, column: str, raw, mask, rule: str) -> list[Problem]:
    """One problem per True in ``mask`` (at most MAX_PROBLEMS + 1), with the cell's raw value."""
    mask = np.asarray(mask, dtype=bool)
    if raw is None or not mask.any():
        return []
    rows = np.flatnonzero(mask)[: MAX_PROBLEMS + 1]
    shown = config.display_path(path)
    if isinstance(raw, pd.Series):
        values = [None if pd.isna(v) else v for v in raw.iloc[rows]]
    else:
        values = raw.take(pa.array(rows)).to_pylist()
    return [Problem(shown, lines.line(int(i)), column, v, rule) for i, v in zip(rows, values)]


def empty_problems(path: Path, lines: LineMap, frame: pd.DataFrame | pa.Table,
                    columns: tuple[str, ...]) -> list[Problem]:
    """Required identifiers that are empty (a ledger row needs a stable round id)."""
    problems = []
    for col in columns:
        values = frame[col]
        trimmed = pc.utf8_trim_whitespace(arrow_strings(values, combine=False))
        empty = ~to_bool(pc.not_equal(trimmed, ""))  # null (empty field) or only blanks
        problems += cell_problems(path, lines, col, values, empty, "must not be empty (the round's id)")
    return problems


def cap_problems(problems: list[Problem]) -> list[Problem]:
    problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or ""))
    if len(problems) <= MAX_PROBLEMS:
        return problems
    rest = len(problems) - MAX_PROBLEMS
    first = problems[0]
    return problems[:MAX_PROBLEMS] + [Problem(first.file, None, None, None,
                                              f"{rest}+ further problems not listed; fix the ones above first")]


def mtime_date(path: Path) -> str:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.timezone.utc).strftime("%Y-%m-%d")
