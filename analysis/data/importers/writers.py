"""Writing an imported ledger and its classification report: atomically, never over data.

Every writer checks all its targets before it writes anything: a target that exists is replaced
only with ``overwrite`` (``--force``), a curated dataset of ``data/`` never, and two outputs
that resolve to one file are refused. Text cells that a spreadsheet would run as a formula
(starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) are written with a leading
single quote, as OWASP recommends against CSV injection; number columns are written as numbers.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from analysis import config
from analysis.data.importers.assembly import LEDGER_COLUMNS, LEDGER_NUMBER_COLUMNS, ImportResult
from analysis.data.importers.parsing import as_strings
from analysis.errors import AIBubbleError
from analysis.files import atomic_file

#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_START = r"^[=+\-@\t\r]"
#: Files ``load_ledger`` reads beside a ledger as its reference tables.
REFERENCE_NAMES = ("companies.csv", "investors.csv")


def write_ledger(ledger: pd.DataFrame | pa.Table, path: Path | str, *, overwrite: bool = False) -> Path:
    """Write a ledger CSV atomically: a temp file in the same folder, then ``os.replace``.

    ``ledger`` is a DataFrame (``ImportResult.ledger``) or the same as a pyarrow Table
    (``ImportResult.table``, which skips the conversion on large imports).

    Raises
    ------
    AIBubbleError
        ``path`` exists and ``overwrite`` is False, ``path`` is a curated dataset, or the
        folder cannot be written.
    """
    path = Path(path)
    check_targets({"ledger": path}, overwrite=overwrite)
    _write_ledger(ledger, path)
    return path


def write_company_report(result: ImportResult, path: Path | str, *, overwrite: bool = False) -> Path:
    """Write the per-company classification report (one row per kept company), atomically.

    Raises
    ------
    AIBubbleError
        As :func:`write_ledger`.
    """
    path = Path(path)
    check_targets({"report": path}, overwrite=overwrite)
    _write_report(result, path)
    return path


def write_import(result: ImportResult, out: Path | str, report: Path | str | None = None, *,
                 overwrite: bool = False) -> tuple[Path, Path | None]:
    """Write an import's ledger and (optionally) its classification report, checking both first.

    Nothing is written unless both targets pass :func:`check_targets`, and a report named
    ``companies.csv`` or ``investors.csv`` beside the ledger is refused: ``load_ledger`` would
    read it as the ledger's reference table.

    Returns
    -------
    (Path, Path or None)
        The ledger and the report written.
    """
    out = Path(out)
    targets = {"ledger (--out)": out}
    if report is not None:
        report = Path(report)
        targets["report (--report)"] = report
    check_targets(targets, overwrite=overwrite)
    if report is not None and report.name in REFERENCE_NAMES and report.resolve().parent == out.resolve().parent:
        raise AIBubbleError(f"--report {report.name} next to the ledger would be read as its reference table by "
                            "load_ledger; choose another name (e.g. classification.csv)")
    _write_ledger(result.table, out)
    if report is not None:
        _write_report(result, report)
    return out, report


def check_targets(targets: dict[str, Path], *, overwrite: bool) -> None:
    """Refuse outputs before anything is written.

    Raises
    ------
    AIBubbleError
        Two targets resolve to the same file; a target is a curated dataset or the taxonomy
        (never replaced, even with ``overwrite``); a target exists and ``overwrite`` is False.
    """
    curated = {p.resolve() for p in config.DATASET_FILES.values()} | {config.TAXONOMY_PATH.resolve()}
    seen: dict[Path, str] = {}
    for label, path in targets.items():
        resolved = Path(path).resolve()
        same = next((other for where, other in seen.items() if where == resolved or _same_file(where, resolved)),
                    None)
        if same is not None:
            raise AIBubbleError(f"the {same} and the {label} are the same file ({config.display_path(path)}); "
                                "give each its own name")
        seen[resolved] = label
        if resolved in curated:
            raise AIBubbleError(f"refusing to write over the curated dataset {config.display_path(path)}; "
                                f"choose another file for the {label}")
        if resolved.exists() and not overwrite:
            raise AIBubbleError(f"{config.display_path(path)} already exists; pass --force to replace it")


def _same_file(a: Path, b: Path) -> bool:
    """Hard links and other aliases of one existing file."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def neutralise_formulas(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Prefix text that a spreadsheet would execute (``=1+1``, ``@SUM``, ``-2+3``) with ``'``."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    risky = np.concatenate([_formula_start(chunk) for chunk in chunks]) if chunks else np.zeros(0, bool)
    if not risky.any():
        return values
    quote, empty = pa.scalar("'", values.type), pa.scalar("", values.type)
    return pc.if_else(pa.array(risky), pc.binary_join_element_wise(quote, values, empty), values)


_FORMULA_BYTES = np.frombuffer(b"=+-@\t\r", dtype=np.uint8)


def _formula_start(chunk: pa.Array) -> np.ndarray:
    """Whether each string starts with a formula character, from the first byte of each value.

    Read straight from Arrow's offsets and data buffers: a regex over every text cell of a
    million-round ledger costs a tenth of the whole import; this costs milliseconds.
    """
    if not (pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)):
        chunk = chunk.cast(pa.string())
    n = len(chunk)
    _, offsets_buf, data_buf = chunk.buffers()
    if n == 0 or data_buf is None:
        return np.zeros(n, dtype=bool)
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(offsets_buf, dtype=width)[chunk.offset: chunk.offset + n + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8)
    starts = offsets[:-1]
    nonempty = offsets[1:] > starts
    risky = np.zeros(n, dtype=bool)
    risky[nonempty] = np.isin(data[starts[nonempty]], _FORMULA_BYTES)
    if chunk.null_count:
        risky &= chunk.is_valid().to_numpy(zero_copy_only=False)
    return risky


def _write_ledger(ledger: pd.DataFrame | pa.Table, path: Path) -> None:
    _write_atomically(path, "wb", lambda fh: pacsv.write_csv(_ledger_table(ledger), fh))


def _write_report(result: ImportResult, path: Path) -> None:
    companies = result.companies.copy()
    for col in companies.columns:
        if pd.api.types.is_string_dtype(companies[col]):
            risky = companies[col].str.match(FORMULA_START).fillna(False).astype(bool)
            companies.loc[risky, col] = "'" + companies.loc[risky, col]
    _write_atomically(path, "w", lambda fh: companies.to_csv(fh, index=False, lineterminator="\n"))


def _ledger_table(ledger: pd.DataFrame | pa.Table) -> pa.Table:
    """The ledger's columns as pyarrow strings for pyarrow's CSV writer, formulas neutralised.

    The writer quotes every text value (nulls stay empty, unquoted): valid CSV that any reader
    parses back to the same strings, written several times faster than field-by-field quoting.
    """
    if isinstance(ledger, pa.Table):
        table = ledger.select(LEDGER_COLUMNS).cast(pa.schema([(col, pa.string()) for col in LEDGER_COLUMNS]))
        columns = {col: table[col] for col in LEDGER_COLUMNS}
    else:
        columns = {}
        for col in LEDGER_COLUMNS:
            values = ledger[col]
            if not isinstance(values.dtype, pd.StringDtype):
                values = values.astype("str")
            columns[col] = as_strings(values, len(ledger))
    return pa.table({col: values if col in LEDGER_NUMBER_COLUMNS else neutralise_formulas(values)
                     for col, values in columns.items()})


def _write_atomically(path: Path, mode: str, write) -> None:
    """``write(handle)`` into ``path`` through :func:`atomic_file`; OS errors as one-line errors."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(path, mode) as handle:
            write(handle)
    except OSError as exc:
        raise AIBubbleError(f"cannot write {config.display_path(path)}: {exc.strerror}") from None
