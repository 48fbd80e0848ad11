"""Import user CSV price files into the market-data cache (``aibubble import-prices``).

Accepted layouts
----------------
* One header row with a date column and a close column: ``Date,Open,High,Low,Close,Volume``,
  ``Date,Close``, ``Date,Adj Close`` (yfinance < 0.2.51, Yahoo's web download), Nasdaq.com
  (``Date,Close/Last,...``, ``$`` prices, MM/DD/YYYY, newest first), Investing.com (``Price``),
  FRED (``observation_date,SP500``, ``.`` for missing), European Excel (``;`` and decimal comma).
* yfinance's multi-row headers as ``DataFrame.to_csv`` writes them: ``Price,Close,...`` /
  ``Ticker,NVDA,...`` / ``Date,,,`` (or ``Ticker`` first with ``group_by="ticker"``, or the
  older blank-first-cell form). A file may hold several tickers; each becomes its own entry.
* ``Ticker.history().to_csv()`` dates with a UTC offset (``2024-03-08 00:00:00-05:00``): the
  local calendar date is the trading day.

The close is ``Adj Close`` when present (adjusted for splits and dividends), else ``Close``
(adjustment unknown unless the caller says). Every problem in a file (bad dates, non-numeric,
infinite or non-positive prices, duplicate dates) is reported at once with file, line and column; line numbers
count the first line of the file as 1, as an editor shows them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from analysis import clock, config
from analysis.data.market import ADJUSTMENTS, PRICES, MarketCache, merge_prices
from analysis.errors import DataValidationError, MarketDataError, ParameterError, Problem


class PriceFileError(DataValidationError, MarketDataError):
    """A price file cannot be imported; carries every problem found (file, line, column)."""


def _key(name: str) -> str:
    """Column-name key: lower case, letters and digits only ("Adj Close**" -> "adjclose")."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


DATE_KEYS = ("date", "datetime", "timestamp", "time", "observationdate", "day", "tradedate", "period")
ADJ_CLOSE_KEYS = ("adjclose", "adjustedclose", "adjclosing", "adjustedcloseprice", "adjcloseprice")
CLOSE_KEYS = ("close", "closelast", "closeprice", "closingprice", "last", "lastprice", "price")
FIELD_KEYS = {"open": ("open", "openprice"), "high": ("high", "highprice"), "low": ("low", "lowprice"),
              "volume": ("volume", "vol", "totalvolume")}
#: Columns that are never a close, even when they are the only numeric one.
NOT_A_PRICE = {"volume", "vol", "dividends", "stocksplits", "capitalgains", "change", "changepct",
               "openinterest", "count"}
_MISSING = {"", "null", "nan", "na", "n/a", "-", ".", "none", "#n/a"}
_DATE_FORMATS = ("%m/%d/%Y", "%d/%m/%Y", "%Y/%m/%d", "%d.%m.%Y", "%b %d, %Y", "%B %d, %Y", "%d-%b-%Y",
                 "%d %b %Y", "%Y%m%d", "%m/%d/%y", "%d-%m-%Y")
_ISO_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")
_TIME_SUFFIX = re.compile(r"\s+\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AP]M)?$", re.I)


@dataclass(frozen=True)
class ImportedPrices:
    """One ticker's prices read from a file, in the cache's tidy layout."""

    ticker: str
    frame: pd.DataFrame  # date, open, high, low, close, volume
    file: str
    close_column: str
    adjustment: str
    notes: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        return len(self.frame)


@dataclass(frozen=True)
class PriceFile:
    """Everything read from one file: one entry per ticker it holds."""

    file: str
    layout: str
    entries: tuple[ImportedPrices, ...]

    def summary(self) -> pd.DataFrame:
        return _entries_table(self.entries)

    def _repr_html_(self) -> str:
        return f"<p>{self.file} ({self.layout})</p>" + self.summary().to_html(index=False)


def _entries_table(entries) -> pd.DataFrame:
    return pd.DataFrame([{"file": e.file, "ticker": e.ticker, "rows": e.rows,
                          "first_date": e.frame["date"].min().date().isoformat(),
                          "last_date": e.frame["date"].max().date().isoformat(),
                          "close_column": e.close_column, "adjustment": e.adjustment,
                          "notes": "; ".join(e.notes)} for e in entries],
                        columns=["file", "ticker", "rows", "first_date", "last_date", "close_column",
                                 "adjustment", "notes"])


@dataclass(frozen=True)
class ImportReport:
    """Result of :func:`import_prices`: what was read and written for each file and ticker."""

    entries: tuple[ImportedPrices, ...]
    written: tuple[str, ...]
    kept_rows: tuple[int, ...] = field(default_factory=tuple)

    def summary(self) -> pd.DataFrame:
        table = _entries_table(self.entries)
        table["kept_cached_rows"] = list(self.kept_rows) or [0] * len(table)
        return table

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------

def _read_rows(path: Path, shown: str) -> tuple[list[tuple[int, list[str]]], str]:
    """All rows with their 1-based line numbers, and the delimiter."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PriceFileError([Problem(shown, None, None, None, "file not found")]) from None
    except OSError as exc:
        raise PriceFileError([Problem(shown, None, None, None, f"cannot read: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # Excel on Windows
    first = next((line for line in text.splitlines() if line.strip() and not line.startswith("#")), "")
    if not first:
        raise PriceFileError([Problem(shown, None, None, None, "file is empty (no header row)")])
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    delimiter = max(counts, key=counts.get) if max(counts.values()) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    for row in reader:
        if not row or all(not c.strip() for c in row) or row[0].startswith("#"):
            continue
        rows.append((reader.line_num, [c.strip() for c in row]))
    return rows, delimiter


def _looks_like_date(value: str) -> bool:
    value = value.strip()
    if not value or value.lower() in _MISSING:
        return False
    if _ISO_PREFIX.match(value):
        return True
    value = _TIME_SUFFIX.sub("", value)
    for fmt in _DATE_FORMATS:
        try:
            dt.datetime.strptime(value, fmt)
            return True
        except ValueError:
            continue
    return False


def _parse_dates(values: list[str]) -> tuple[list[pd.Timestamp | None], str]:
    """Parse with the one format that reads every value (ISO first); None where unreadable."""
    def iso(v):
        m = _ISO_PREFIX.match(v)
        try:
            return pd.Timestamp(m.group(1)) if m else None
        except ValueError:  # 2024-13-01
            return None

    def with_format(fmt):
        def parse(v):
            try:
                return pd.Timestamp(dt.datetime.strptime(_TIME_SUFFIX.sub("", v), fmt))
            except ValueError:
                return None
        return parse

    candidates = [("ISO", iso)] + [(fmt, with_format(fmt)) for fmt in _DATE_FORMATS]
    best_name, best, best_count = "ISO", [None] * len(values), -1
    for name, parse in candidates:
        parsed = [parse(v) for v in values]
        count = sum(p is not None for p in parsed)
        if count == len(values):
            return parsed, name
        if count > best_count:
            best_name, best, best_count = name, parsed, count
    return best, best_name


def _number(text: str, decimal_comma: bool, volume: bool = False) -> float | None:
    """A price or volume as written by spreadsheets and sites; None if missing, NaN if unreadable."""
    v = text.strip()
    if v.lower() in _MISSING:
        return None
    v = v.replace("$", "").replace("\u00a0", "").replace(" ", "")
    if decimal_comma:
        v = v.replace(".", "").replace(",", ".")
    else:
        v = v.replace(",", "")
    scale = 1.0
    if volume and v[-1:].upper() in "KMB" and v[:-1]:
        scale = {"K": 1e3, "M": 1e6, "B": 1e9}[v[-1].upper()]
        v = v[:-1]
    try:
        return float(v) * scale
    except ValueError:
        return float("nan")


@dataclass
class _Layout:
    name: str
    header_lines: int
    date_col: int
    columns: dict[str, dict[str, int]]  # ticker -> field -> column position
    labels: dict[str, dict[str, str]]   # ticker -> field -> header label


def _detect_layout(rows, shown: str, default_ticker: str) -> _Layout:
    first_data = next((i for i, (_, row) in enumerate(rows) if _looks_like_date(row[0])), None)
    if first_data is None:
        return _single_header(rows, shown, default_ticker)
    if first_data == 0:
        raise PriceFileError([Problem(shown, rows[0][0], None, None,
                                      "no header row (the first line already holds data)")])
    if first_data == 1 or not any(_is_field_row(row) for _, row in rows[:2]):
        # A bad date in the first data rows must not make the file look like a multi-row header.
        return _single_header(rows, shown, default_ticker)
    return _multi_header(rows[:first_data], shown)


def _single_header(rows, shown: str, default_ticker: str) -> _Layout:
    line, header = rows[0]
    keys = [_key(h) for h in header]
    date_col = next((i for i, k in enumerate(keys) if k in DATE_KEYS), None)
    if date_col is None:
        if len(rows) > 1 and _looks_like_date(rows[1][1][0]):
            date_col = 0  # an unnamed index column, as pandas writes it
        else:
            raise PriceFileError([Problem(shown, line, None, None,
                                          f"no date column (looked for Date, Datetime, Timestamp, observation_date; "
                                          f"found: {', '.join(header) or 'nothing'})")])
    fields: dict[str, int] = {}
    for wanted, names in (("adj close", ADJ_CLOSE_KEYS), ("close", CLOSE_KEYS), *FIELD_KEYS.items()):
        for name in names:  # the first name in preference order wins
            pos = next((i for i, k in enumerate(keys) if k == name and i != date_col), None)
            if pos is not None:
                fields[wanted] = pos
                break
    if "adj close" not in fields and "close" not in fields:
        others = [i for i, k in enumerate(keys) if i != date_col and k not in NOT_A_PRICE
                  and k not in {n for ns in FIELD_KEYS.values() for n in ns}]
        if len(others) == 1:
            fields["close"] = others[0]  # FRED-style: one value column named after the series
        else:
            raise PriceFileError([Problem(shown, line, None, None,
                                          f"no close column (looked for Adj Close, Close, Close/Last, Price, Last; "
                                          f"found: {', '.join(header)})")])
    return _Layout("single header", 1, date_col, {default_ticker: fields},
                   {default_ticker: {f: header[i] for f, i in fields.items()}})


_YF_FIELDS = {"adjclose": "adj close", "close": "close", "open": "open", "high": "high", "low": "low",
              "volume": "volume", "dividends": None, "stocksplits": None, "capitalgains": None, "repaired": None}


def _is_field_row(row: list[str]) -> bool:
    cells = [c for c in row[1:] if c]
    return bool(cells) and all(_key(c) in _YF_FIELDS for c in cells)


def _multi_header(header_rows, shown: str) -> _Layout:
    """yfinance's (Price, Ticker) header, in either order, with or without the ``Date`` row."""
    candidates = header_rows[:2]
    labels = [_key(row[0]) for _, row in candidates]
    if "price" in labels:  # yfinance labels its rows; trust the labels first (LOW, OPEN are tickers)
        field_idx = labels.index("price")
    elif "ticker" in labels:
        field_idx = 1 - labels.index("ticker")
    else:
        field_idx = next((i for i, (_, row) in enumerate(candidates) if _is_field_row(row)), None)
    if field_idx is None:
        line = header_rows[0][0]
        raise PriceFileError([Problem(shown, line, None, None,
                                      "unrecognised multi-row header: expected yfinance's Price/Ticker rows "
                                      "(no close column found)")])
    fields_row = candidates[field_idx][1]
    tickers_row = candidates[1 - field_idx][1]
    columns: dict[str, dict[str, int]] = {}
    labels: dict[str, dict[str, str]] = {}
    for pos in range(1, len(fields_row)):
        name = _YF_FIELDS.get(_key(fields_row[pos]))
        ticker = tickers_row[pos].strip().upper() if pos < len(tickers_row) else ""
        if name is None or not ticker:
            continue
        columns.setdefault(ticker, {})[name] = pos
        labels.setdefault(ticker, {})[name] = f"{fields_row[pos]} ({ticker})"
    for ticker, fields in columns.items():
        if "close" not in fields and "adj close" not in fields:
            raise PriceFileError([Problem(shown, header_rows[0][0], None, None,
                                          f"no Close or Adj Close column for {ticker}")])
    if not columns:
        raise PriceFileError([Problem(shown, header_rows[0][0], None, None, "no ticker in the header rows")])
    order = "Price/Ticker" if field_idx == 0 else "Ticker/Price"
    return _Layout(f"yfinance multi-row header ({order})", len(header_rows), 0, columns, labels)


def read_price_csv(path: os.PathLike | str, ticker: str | None = None,
                   adjustment: str | None = None) -> PriceFile:
    """Read a price CSV in any of the layouts in the module docstring.

    Parameters
    ----------
    path : path
    ticker : str, optional
        For a one-ticker file, the ticker to store it under (default: the ticker in a yfinance
        header, else the file stem in upper case: ``nvda.csv`` -> ``NVDA``). For a file with
        several tickers, the one to keep.
    adjustment : {"splits_dividends", "splits", "none", "unknown"}, optional
        What the close is adjusted for, when the file does not say (a ``Close`` column). An
        ``Adj Close`` column is always ``splits_dividends``.

    Returns
    -------
    PriceFile

    Raises
    ------
    PriceFileError
        With every problem found: missing date or close column, unreadable dates, non-numeric, infinite,
        zero or negative prices, duplicate dates, dates in the future.
    """
    path = Path(path)
    shown = config.display_path(path)
    if adjustment is not None and adjustment not in ADJUSTMENTS:
        raise ParameterError(f"adjustment: {adjustment!r} is not one of {', '.join(ADJUSTMENTS)}")
    rows, delimiter = _read_rows(path, shown)
    stem_ticker = (ticker or path.stem).strip().upper()
    layout = _detect_layout(rows, shown, stem_ticker)
    if ticker is not None and len(layout.columns) > 1:
        wanted = ticker.strip().upper()
        if wanted not in layout.columns:
            raise PriceFileError([Problem(shown, 1, None, wanted,
                                          f"ticker not in the file (it holds {', '.join(layout.columns)})")])
        layout.columns = {wanted: layout.columns[wanted]}
    elif ticker is not None and len(layout.columns) == 1:
        only = next(iter(layout.columns))
        layout.columns = {ticker.strip().upper(): layout.columns[only]}
        layout.labels = {ticker.strip().upper(): layout.labels[only]}
    data = rows[layout.header_lines:]
    decimal_comma = delimiter == ";" and _uses_decimal_comma(data)
    problems: list[Problem] = []
    date_label = "Date" if layout.header_lines > 1 else rows[0][1][layout.date_col] or "Date"
    raw_dates = [row[layout.date_col] if layout.date_col < len(row) else "" for _, row in data]
    parsed, date_format = _parse_dates(raw_dates)
    today = pd.Timestamp(clock.today())
    for (line, _), raw, value in zip(data, raw_dates, parsed):
        if value is None:
            problems.append(Problem(shown, line, date_label, raw, "not a date (expected e.g. 2024-01-31)"))
        elif value > today:
            problems.append(Problem(shown, line, date_label, raw, "date is in the future"))
    parsed = [None if v is None or v > today else v for v in parsed]
    entries = []
    for tk, fields in layout.columns.items():
        labels = layout.labels.get(tk, {})
        close_field = "adj close" if "adj close" in fields else "close"
        values: dict[str, np.ndarray] = {}
        for name in ("open", "high", "low", "close", "volume"):
            source = close_field if name == "close" else name
            pos = fields.get(source)
            out = np.full(len(data), np.nan)
            if pos is None:
                values[name] = out
                continue
            label = labels.get(source, source)
            for i, (line, row) in enumerate(data):
                cell = row[pos] if pos < len(row) else ""
                number = _number(cell, decimal_comma, volume=name == "volume")
                if number is None:
                    continue
                if np.isnan(number):
                    problems.append(Problem(shown, line, label, cell, "not a number"))
                elif np.isinf(number):  # "inf", "Infinity", "1e999": one such close breaks every test
                    problems.append(Problem(shown, line, label, cell, "not a finite number"))
                elif name == "volume" and number < 0:
                    problems.append(Problem(shown, line, label, cell, "volume is negative"))
                elif name != "volume" and number <= 0:
                    problems.append(Problem(shown, line, label, cell, "price must be positive"))
                else:
                    out[i] = number
            values[name] = out
        frame = pd.DataFrame({"date": pd.to_datetime(pd.Series(parsed, dtype="object")), **values})
        frame["line"] = [line for line, _ in data]
        has_close = ~np.isnan(values["close"])
        frame = frame[has_close & frame["date"].notna()]
        dropped = int((~has_close).sum())
        dupes = frame[frame["date"].duplicated(keep=False)]
        for date, group in dupes.groupby("date"):
            lines = list(group["line"])
            for line in lines[1:]:
                problems.append(Problem(shown, int(line), date_label, date.date().isoformat(),
                                        f"duplicate date (first on line {lines[0]})"))
        notes = []
        if dropped:
            notes.append(f"{dropped} rows without a close skipped")
        if date_format != "ISO":
            notes.append(f"dates read as {date_format}")
        if layout.header_lines == 1 and labels.get(close_field, "").strip().lower() not in (
                "close", "adj close", "close/last", "price", "last", "adj close**", "close*"):
            notes.append(f"close taken from column {labels.get(close_field)!r}")
        if close_field == "adj close":
            adj = "splits_dividends"
        else:
            adj = adjustment or "unknown"
        frame = frame.drop(columns="line").sort_values("date").reset_index(drop=True)
        frame["date"] = frame["date"].astype("datetime64[ns]")
        entries.append(ImportedPrices(tk, frame, shown, labels.get(close_field, close_field), adj, tuple(notes)))
    if problems:
        problems.sort(key=lambda p: (p.line or 0, p.column or ""))
        raise PriceFileError(problems)
    empty = [e.ticker for e in entries if e.frame.empty]
    if empty:
        raise PriceFileError([Problem(shown, None, None, None, f"no prices for {', '.join(empty)}")])
    return PriceFile(shown, layout.name, tuple(entries))


def _uses_decimal_comma(data) -> bool:
    sample = [c for _, row in data[:50] for c in row[1:] if c]
    return any(re.fullmatch(r"-?[\d.]*\d,\d+", c) for c in sample)


def import_prices(paths: Sequence[os.PathLike | str], ticker: str | None = None, *,
                  adjustment: str | None = None, replace: bool = False,
                  cache: MarketCache | None = None) -> ImportReport:
    """Read price files and write them into the cache (all files are checked before any write).

    Parameters
    ----------
    paths : sequence of path
    ticker : str, optional
        Only with one file; see :func:`read_price_csv`.
    adjustment : str, optional
        See :func:`read_price_csv`.
    replace : bool
        Replace the cached prices instead of merging (default: the file's rows replace the cached
        rows of its date range, older cached rows are kept; see :func:`merge_prices`).
    cache : MarketCache, optional

    Raises
    ------
    ParameterError
        ``ticker`` given with several files.
    PriceFileError
        Any file fails; nothing is written then (problems of every file are reported together).
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise ParameterError("no files to import")
    if ticker is not None and len(paths) > 1:
        raise ParameterError("--ticker applies to one file; give one file per ticker or omit it")
    cache = cache or MarketCache()
    files, problems = [], []
    for path in paths:
        try:
            files.append(read_price_csv(path, ticker, adjustment))
        except PriceFileError as exc:
            problems.extend(exc.problems)
    if problems:
        raise PriceFileError(problems)
    entries = [e for f in files for e in f.entries]
    seen: dict[str, str] = {}
    for e in entries:
        if e.ticker in seen:
            raise ParameterError(f"{e.ticker} appears in both {seen[e.ticker]} and {e.file}")
        seen[e.ticker] = e.file
    written, kept_rows = [], []
    for e in entries:
        previous = None if replace else cache.read(e.ticker, PRICES)
        merged, kept = merge_prices(previous.frame if previous is not None and previous.ok else None, e.frame)
        cache.write(e.ticker, PRICES, merged, source=f"csv:{Path(e.file).name}", adjustment=e.adjustment,
                    extra={"merged_old_rows": kept, "close_column": e.close_column})
        written.append(e.ticker)
        kept_rows.append(kept)
    return ImportReport(tuple(entries), tuple(written), tuple(kept_rows))
