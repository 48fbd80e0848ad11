"""The parquet cache: one file per ticker and kind, provenance in its metadata, atomic writes.

Layout (``config.cache_dir()``; ``AIBUBBLE_CACHE_DIR`` overrides)::

    <cache>/prices/<TICKER>.parquet        date, open, high, low, close, volume (close adjusted)
    <cache>/fundamentals/<TICKER>.parquet  period_end, revenue_usd, capex_usd, ... (quarterly)
"""

from __future__ import annotations

import errno
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from analysis import clock, config
from analysis.data.market.common import (
    CORRUPT, FUNDAMENTAL_COLUMNS, KINDS, MISSING, OK, PRICE_COLUMNS, PRICES, iso_date, shorten, to_day)
from analysis.errors import MarketDataError, ParameterError
from analysis.files import atomic_file

#: The environment variable that moves the cache (named in messages about an unwritable cache).
CACHE_ENV = "AIBUBBLE_CACHE_DIR"
#: Bump when the file layout changes; older files are then reported as corrupt and refetched.
FORMAT_VERSION = 1
META_KEY = b"aibubble.market"

_SAFE_CHARS = re.compile(r"[^A-Z0-9._-]")


def _file_stem(ticker: str) -> str:
    """A file name for a symbol: ``^GSPC`` -> ``%5EGSPC`` (reversible, safe on every OS)."""
    return _SAFE_CHARS.sub(lambda m: f"%{ord(m.group()):02X}", ticker.upper())


def _ticker_from_stem(stem: str) -> str:
    return re.sub(r"%([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), stem)


@dataclass(frozen=True)
class CacheEntry:
    """One cached file as read back: its frame when ``status == "ok"``, else why not."""

    ticker: str
    kind: str
    path: Path
    status: str  # ok, missing, corrupt
    frame: pd.DataFrame | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    problem: str = ""  # why not ok; for an ok entry, the bad rows that were skipped or blanked
    file: str = ""     # the file as messages show it (no machine paths)

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def _key(self) -> str:
        return "date" if self.kind == PRICES else "period_end"

    @property
    def first_date(self) -> pd.Timestamp | None:
        return to_day(self.frame[self._key].min()) if self.ok else None

    @property
    def last_date(self) -> pd.Timestamp | None:
        return to_day(self.frame[self._key].max()) if self.ok else None

    @property
    def rows(self) -> int:
        """Rows usable after any bad ones were skipped (the file may hold more)."""
        return len(self.frame) if self.ok else 0


class MarketCache:
    """Per-ticker parquet files with provenance metadata, written atomically.

    Parameters
    ----------
    root : path, optional
        Cache folder; default ``config.cache_dir()`` read when the cache is created (so the
        ``AIBUBBLE_CACHE_DIR`` override that tests set is honoured).
    """

    def __init__(self, root: os.PathLike | str | None = None):
        self.root = Path(root) if root is not None else config.cache_dir()
        self._shown_root: str | None = None

    def shown(self, path: Path) -> str:
        """A cache path for messages: repo-relative inside the repo, else from the cache folder's
        name on (``cache/prices/NVDA.parquet``), never the machine's absolute path."""
        if self._shown_root is None:  # resolved once: a read of 45 files should not stat 90 paths
            self._shown_root = config.display_path(self.root)
        try:
            inside = Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return config.display_path(path)
        return self._shown_root if inside == "." else f"{self._shown_root}/{inside}"

    def path(self, ticker: str, kind: str) -> Path:
        if kind not in KINDS:
            raise ParameterError(f"unknown market-data kind {kind!r}; expected one of {KINDS}")
        return self.root / kind / f"{_file_stem(ticker)}.parquet"

    def tickers(self, kind: str = PRICES) -> list[str]:
        """Tickers with a file of this kind (good or corrupt), sorted."""
        folder = self.root / kind
        if not folder.is_dir():
            return []
        return sorted(_ticker_from_stem(p.stem) for p in folder.glob("*.parquet"))

    def write(self, ticker: str, kind: str, frame: pd.DataFrame, *, source: str, adjustment: str,
              fetched_at: str | None = None, extra: Mapping[str, Any] | None = None) -> CacheEntry:
        """Write one frame atomically with its metadata; an empty frame is refused.

        Raises
        ------
        MarketDataError
            Empty frame, or the file could not be written (the previous file is then untouched).
        """
        key = "date" if kind == PRICES else "period_end"
        if frame is None or frame.empty:
            raise MarketDataError(f"{ticker}: refusing to cache an empty {kind} frame")
        frame = frame.reset_index(drop=True)
        bad = _bad_values(frame, kind)
        if bad:
            raise MarketDataError(f"{ticker}: refusing to cache {kind} with {bad}")
        meta = {
            "format_version": FORMAT_VERSION, "ticker": ticker.upper(), "kind": kind,
            "source": source, "adjustment": adjustment,
            "fetched_at": fetched_at or clock.stamp(),
            "rows": int(len(frame)), "first_date": iso_date(frame[key].min()), "last_date": iso_date(frame[key].max()),
            "columns": [str(c) for c in frame.columns],
        }
        if extra:
            meta.update({k: v for k, v in extra.items() if k not in meta})
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               META_KEY: json.dumps(meta).encode()})
        target = self.path(ticker, kind)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_file(target, "wb", fsync=True) as handle:
                pq.write_table(table, handle)
        except OSError as exc:
            raise MarketDataError(self._write_failure(ticker, kind, target, exc)) from None
        except Exception as exc:
            raise MarketDataError(f"{ticker}: could not write the {kind} cache ({self.shown(target)}): {exc}") from exc
        return CacheEntry(ticker.upper(), kind, target, OK, frame, MappingProxyType(meta), file=self.shown(target))

    def _write_failure(self, ticker: str, kind: str, target: Path, exc: OSError) -> str:
        """One line naming the folder and, when the folder refuses writes, how to fix it."""
        reason = exc.strerror or type(exc).__name__
        text = f"{ticker}: cannot write the {kind} cache in {self.shown(target.parent)}: {reason}"
        if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            text += f"; make that folder writable or set {CACHE_ENV} to a writable folder"
        return text

    def read(self, ticker: str, kind: str = PRICES) -> CacheEntry:
        """Read and verify one file; never raises for a missing or damaged file.

        A file that disagrees with its metadata is ``corrupt``. Rows whose close is not a
        positive finite number are skipped, and infinite values of other columns blanked; the
        entry stays usable and its ``problem`` says what was left out (the status banner
        shows it). A price file without one good close is ``corrupt``.
        """
        ticker = ticker.upper()
        path = self.path(ticker, kind)
        shown = self.shown(path)
        if not path.exists():
            return CacheEntry(ticker, kind, path, MISSING, problem="not cached", file=shown)
        try:
            # ParquetFile.read skips the dataset machinery of read_table: ~3x faster per small file.
            table = pq.ParquetFile(path).read()
            raw_meta = (table.schema.metadata or {}).get(META_KEY)
            if raw_meta is None:
                raise ValueError("no aibubble metadata (not written by this cache)")
            meta = json.loads(raw_meta)
            frame = table.to_pandas()
            _verify(frame, meta, ticker, kind)
            frame, problem = _usable_rows(frame, kind)
        except Exception as exc:
            return CacheEntry(ticker, kind, path, CORRUPT, problem=shorten(f"unreadable cache file: {exc}"),
                              file=shown)
        return CacheEntry(ticker, kind, path, OK, frame, MappingProxyType(meta), problem=problem, file=shown)


def _verify(frame: pd.DataFrame, meta: Mapping[str, Any], ticker: str, kind: str) -> None:
    """A file must agree with its own metadata; a half-written or edited one does not."""
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"format version {meta.get('format_version')} (expected {FORMAT_VERSION})")
    if meta.get("kind") != kind or str(meta.get("ticker", "")).upper() != ticker:
        raise ValueError(f"file holds {meta.get('kind')} of {meta.get('ticker')}")
    if int(meta.get("rows", -1)) != len(frame) or len(frame) == 0:
        raise ValueError(f"{len(frame)} rows, metadata says {meta.get('rows')}")
    key = "date" if kind == PRICES else "period_end"
    if key not in frame.columns:
        raise ValueError(f"no {key} column")
    dates = frame[key].to_numpy(dtype="datetime64[D]")
    if str(dates.min()) != meta.get("first_date") or str(dates.max()) != meta.get("last_date"):
        raise ValueError("dates disagree with the metadata")
    if kind == PRICES:
        if "close" not in frame.columns:
            raise ValueError("no close column")
        if not (dates[1:] > dates[:-1]).all():
            raise ValueError("dates not strictly increasing")


def _value_columns(frame: pd.DataFrame, kind: str) -> list[str]:
    names = PRICE_COLUMNS if kind == PRICES else FUNDAMENTAL_COLUMNS
    return [c for c in names if c in frame.columns]


def _bad_close(frame: pd.DataFrame) -> np.ndarray:
    close = frame["close"].to_numpy(dtype="float64")
    return ~(np.isfinite(close) & (close > 0))  # NaN, inf and non-positive alike


def _bad_values(frame: pd.DataFrame, kind: str) -> str:
    """What a frame must not carry into the cache (empty when nothing): a close that is not a
    positive finite number, or an infinite value anywhere."""
    key = "date" if kind == PRICES else "period_end"
    if kind == PRICES and "close" in frame and _bad_close(frame).any():
        bad = _bad_close(frame)
        return (f"{int(bad.sum())} close value(s) not a positive finite number "
                f"(first on {iso_date(frame.loc[bad, key].iloc[0])})")
    infinite = [c for c in _value_columns(frame, kind) if np.isinf(frame[c].to_numpy(dtype="float64")).any()]
    return f"infinite values in {', '.join(infinite)}" if infinite else ""


def _usable_rows(frame: pd.DataFrame, kind: str) -> tuple[pd.DataFrame, str]:
    """Skip rows whose close is unusable and blank infinite values; say what was done.

    A cache written by this version never holds such values (``write`` refuses them), but an
    older version, a hand edit or another tool may have left them, and a single infinite close
    would make every statistic of the report fail.
    """
    key = "date" if kind == PRICES else "period_end"
    notes = []
    if kind == PRICES:
        bad = _bad_close(frame)
        if bad.all():
            raise ValueError("no positive finite close in the file")
        if bad.any():
            first = iso_date(frame.loc[bad, key].iloc[0])
            n = int(bad.sum())
            notes.append(f"{n} price row{'s' if n != 1 else ''} skipped "
                         f"(close not a positive finite number; first on {first})")
            frame = frame[~bad].reset_index(drop=True)
    blanked = {}
    for column in _value_columns(frame, kind):
        values = frame[column].to_numpy(dtype="float64")
        infinite = np.isinf(values)
        if infinite.any():
            frame[column] = np.where(infinite, np.nan, values)
            blanked[column] = int(infinite.sum())
    if blanked:
        notes.append(f"infinite {kind} values blanked (" + ", ".join(f"{c}: {n}" for c, n in blanked.items()) + ")")
    return frame, "; ".join(notes)


def merge_prices(old: pd.DataFrame | None, new: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """New rows replace old ones on their date range; old rows outside it are kept.

    Returns the merged frame and the number of old rows kept. Keeping them means a short or
    partial answer never shortens the history. Adjusted prices from two downloads can differ by
    a constant dividend factor (< 0.5% for the large caps), so a small step can appear at the seam.
    """
    if old is None or old.empty:
        return new.reset_index(drop=True), 0
    lo, hi = new["date"].min(), new["date"].max()
    kept = old[(old["date"] < lo) | (old["date"] > hi)]
    cols = list(dict.fromkeys([*new.columns, *old.columns]))
    merged = pd.concat([kept.reindex(columns=cols), new.reindex(columns=cols)], ignore_index=True)
    merged = merged.sort_values("date").reset_index(drop=True)
    return merged, len(kept)

