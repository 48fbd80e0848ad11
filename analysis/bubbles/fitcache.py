"""An on-disk cache of raw LPPLS fits (and of PSY results at a date, and of whole BSADF paths), so a
monthly signal history pays for each window once.

A fit depends only on the window's log prices and the search settings (box, optimizer, seed),
never on dates or on later prices, so the key is a hash of exactly those; a cached fit is the
fit the search would return again (bit for bit: the search is deterministic). Filters are applied
after the fit and are not part of the key. The PSY table holds, per hash of the tested log prices,
the numbers :func:`analysis.bubbles.signal.history` reads from
:func:`analysis.bubbles.psy.explosive_now` (same reasoning: a pure function of those values); the
``radf`` table the BADF and BSADF sequences of :func:`analysis.bubbles.psy.radf`, per hash of the
tested levels, window and lag (a series that never changes, such as the back-test's index over
1995-2002, then costs no numba dispatch at all); the ``trust`` table the refits of the LPPLS trust
indicator per window (:func:`analysis.bubbles.trust.trust`).
Storage is one SQLite file in the market-data cache folder: writes are transactions (a crash
never leaves a half-written entry) and concurrent report runs share it safely. Any problem with the file degrades to "no cache" (logged), never an error.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from pathlib import Path

import numpy as np

from analysis import config

log = logging.getLogger(__name__)
#: Values per stored row; None: any length (the caller checks it).
_NCOL = {"fits": 12, "psy": 5, "radf": None, "trust": None}


def default_path() -> Path:
    """``<market cache>/lppls_fits.sqlite`` (``AIBUBBLE_CACHE_DIR`` moves it with the cache)."""
    return config.cache_dir() / "lppls_fits.sqlite"


class FitCache:
    """Raw fitted rows (``_lppls_core.COLUMNS``) by window key; see the module docstring."""

    def __init__(self, path: Path | str | None = None):
        self.path = Path(path) if path else default_path()
        self.hits = 0
        self.misses = 0
        self._ok = True

    def _connect(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        for table in _NCOL:
            con.execute(f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, row BLOB NOT NULL)")
        return con

    @staticmethod
    def key(y: np.ndarray, settings: bytes) -> str:
        h = hashlib.sha256(settings)
        h.update(np.ascontiguousarray(y, dtype=np.float64).tobytes())
        return h.hexdigest()

    def get_many(self, keys: list[str], table: str = "fits") -> dict[str, np.ndarray]:
        """Stored rows by key (``table``: ``fits``, ``psy``, ``radf`` or ``trust``); missing keys are absent."""
        if not self._ok or not keys:
            return {}
        out: dict[str, np.ndarray] = {}
        try:
            with self._connect() as con:
                uniq = list(dict.fromkeys(keys))
                for i in range(0, len(uniq), 500):
                    chunk = uniq[i:i + 500]
                    q = f"SELECT key, row FROM {table} WHERE key IN ({','.join('?' * len(chunk))})"
                    for k, blob in con.execute(q, chunk):
                        row = np.frombuffer(blob, dtype=np.float64)
                        if row.ndim == 1 and (_NCOL[table] is None or row.shape == (_NCOL[table],)):
                            out[k] = row
        except (sqlite3.Error, OSError) as exc:
            self._disable(exc)
            return {}
        self.hits += sum(k in out for k in keys)
        self.misses += sum(k not in out for k in keys)
        return out

    def put_many(self, items: dict[str, np.ndarray], table: str = "fits") -> None:
        if not self._ok or not items:
            return
        try:
            with self._connect() as con:
                con.executemany(f"INSERT OR REPLACE INTO {table} (key, row) VALUES (?, ?)",
                                [(k, np.asarray(v, dtype=np.float64).tobytes()) for k, v in items.items()])
        except (sqlite3.Error, OSError) as exc:
            self._disable(exc)

    def _disable(self, exc: Exception) -> None:
        log.warning("LPPLS fit cache %s unusable (%s); fitting without it", config.display_path(self.path), exc)
        self._ok = False

    def __repr__(self) -> str:
        return f"FitCache({config.display_path(self.path)}, hits={self.hits}, misses={self.misses})"


__all__ = ["FitCache", "default_path"]
