"""Epoch AI's model databases (Notable, Large-Scale, All AI Models) -> the tidy ``models`` table.

Epoch AI publishes its databases as CSV under CC BY 4.0 ("Data: Epoch AI, epoch.ai/data"). The
column set changes between vintages (``System`` became ``Model``; the training-cost column names
its price year; ``Task`` and the country column come and go), so columns are found by name
patterns, not positions. Rows without a model name or a readable publication date are dropped
and counted; the same model, organisation and date twice is kept once. The bundled
``data/models.csv`` is the 2025-02-24 Notable snapshot (data/README.md); a newer download goes
through :func:`import_epoch` unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config
from analysis.errors import DataValidationError, Problem

#: Output columns, in order (the ``models`` schema in analysis/data/schemas.py).
COLUMNS = ["model", "organization", "publication_date", "domain", "task", "parameters", "training_compute_flop",
           "training_cost_usd", "country", "accessibility", "open_weights", "source"]

#: Output column -> header patterns (case-insensitive, whole header), first match wins.
_HEADERS = {
    "model": (r"model", r"system"),
    "organization": (r"organi[sz]ation", r"organi[sz]ation\(s\)"),
    "publication_date": (r"publication date",),
    "domain": (r"domain",),
    "task": (r"task",),
    "parameters": (r"parameters",),
    "training_compute_flop": (r"training compute \(flop\)",),
    "training_cost_usd": (r"training compute cost \(\d{4} usd\)", r"training cost \(\d{4} usd\)"),
    "country": (r"country \(from organi[sz]ation\)", r"country \(of organi[sz]ation\)", r"country"),
    "accessibility": (r"model accessibility",),
}
REQUIRED = ("model", "publication_date")
#: Epoch's accessibility words -> open weights (empty when Epoch gives no accessibility).
OPEN_WEIGHTS = {"open weights (unrestricted)": "true", "open weights (restricted use)": "true",
                "open weights (non-commercial)": "true", "api access": "false", "hosted access (no api)": "false",
                "unreleased": "false"}


@dataclass(frozen=True)
class EpochImport:
    """Result of reading one Epoch AI CSV.

    Attributes
    ----------
    table : DataFrame
        The tidy models table (:data:`COLUMNS`).
    rows_read, kept : int
        Data rows in the file and rows in ``table``.
    dropped : dict
        Reason -> number of rows dropped for it.
    columns_used : dict
        Output column -> the file's header it came from (absent when the vintage lacks it).
    """

    table: pd.DataFrame
    rows_read: int
    kept: int
    dropped: dict = field(default_factory=dict)
    columns_used: dict = field(default_factory=dict)
    source: str = ""

    def summary(self) -> pd.DataFrame:
        rows = [{"item": "rows read", "count": self.rows_read}, {"item": "rows kept", "count": self.kept}]
        rows += [{"item": f"dropped: {reason}", "count": n} for reason, n in self.dropped.items()]
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)


def _find_columns(header: list[str]) -> dict[str, str]:
    found = {}
    for out, patterns in _HEADERS.items():
        for pattern in patterns:
            match = next((h for h in header if re.fullmatch(pattern, h.strip(), flags=re.I)), None)
            if match is not None:
                found[out] = match
                break
    return found


def _numbers(series: pd.Series) -> pd.Series:
    values = pd.to_numeric(series.astype(str).str.replace(",", "", regex=False).str.strip(), errors="coerce")
    return values.where(values > 0)


def import_epoch(path: Path | str, snapshot: str | None = None) -> EpochImport:
    """Read an Epoch AI model CSV (any vintage) into the tidy, validated ``models`` table.

    Parameters
    ----------
    path : path to the downloaded CSV.
    snapshot : the download date (ISO); taken from the file name when it holds one.

    Raises
    ------
    DataValidationError
        When the file cannot be read or lacks the model-name or publication-date column.
    """
    path = Path(path)
    shown = config.display_path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataValidationError([Problem(shown, None, None, None, "file not found")]) from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataValidationError([Problem(shown, None, None, None, f"not a readable CSV ({exc})")]) from None
    used = _find_columns(list(raw.columns))
    missing = [c for c in REQUIRED if c not in used]
    if missing:
        raise DataValidationError([Problem(shown, 1, c, None, "required column is missing (Epoch AI export?)")
                                   for c in missing])
    if snapshot is None:
        stamp = re.search(r"\d{4}-\d{2}(-\d{2})?", path.name)
        snapshot = stamp.group(0) if stamp else "undated"
    source = f"Epoch AI, {path.name} (snapshot {snapshot}; CC BY 4.0, epoch.ai/data)"
    frame = pd.DataFrame({out: raw[col] for out, col in used.items()})
    for column in COLUMNS:
        if column not in frame:
            frame[column] = np.nan
    frame["model"] = frame["model"].str.strip()
    dates = pd.to_datetime(frame["publication_date"], errors="coerce", format="mixed")
    dropped = {"no model name": int(frame["model"].isna().sum()),
               "no readable publication date": int((frame["model"].notna() & dates.isna()).sum())}
    keep = frame["model"].notna() & dates.notna()
    frame = frame.assign(publication_date=dates)[keep]
    for column in ("parameters", "training_compute_flop", "training_cost_usd"):
        frame[column] = _numbers(frame[column])
    access = frame["accessibility"].astype(str).str.strip().str.lower()
    frame["open_weights"] = access.map(OPEN_WEIGHTS)
    frame["source"] = source
    before = len(frame)
    frame = frame.drop_duplicates(["model", "organization", "publication_date"], keep="first")
    dropped["duplicate model, organization and date"] = before - len(frame)
    table = frame[COLUMNS].sort_values(["publication_date", "model"]).reset_index(drop=True)
    from analysis.data.schemas import Models  # pandera only when importing

    import pandera.errors

    try:
        table = Models.validate(table, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        from analysis.data.ledger import _problems_from

        raise DataValidationError(_problems_from(exc, shown)) from None
    return EpochImport(table, len(raw), len(table), {k: v for k, v in dropped.items() if v}, used, source)


def write_models(result: EpochImport, out: Path | str, force: bool = False) -> Path:
    """Write the table as ``models.csv`` atomically; refuse to overwrite unless ``force``."""
    from analysis.errors import ParameterError
    from analysis.files import atomic_file

    out = Path(out)
    if out.exists() and not force:
        raise ParameterError(f"{config.display_path(out)} exists; pass force=True to replace it")
    table = result.table.assign(publication_date=result.table["publication_date"].dt.strftime("%Y-%m-%d"))
    with atomic_file(out) as handle:
        table.to_csv(handle, index=False, float_format="%.6g", lineterminator="\n")
    return out
