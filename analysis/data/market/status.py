"""Freshness of the cache judged against an as-of date, and the banner the briefing shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import pandas as pd

from analysis.data.market.cache import CacheEntry, MarketCache
from analysis.data.market.common import CORRUPT, FRESH, MISSING, PRICES, STALE, iso_date, to_day, today


def stale_after_days() -> int:
    """Calendar days after which the last price counts as stale.

    A Friday close is 3 days old on Monday and 4 on the Tuesday after a Monday holiday;
    5 allows one more day of publication lag before the banner calls the data stale.
    """
    return 5


def fundamentals_stale_after_days() -> int:
    """Days after which cached quarterly fundamentals count as stale (one quarter plus a month)."""
    return 120


_STATUS_COLUMNS = ["ticker", "kind", "status", "rows", "first_date", "last_date", "age_days", "source",
                   "adjustment", "fetched_at", "problem", "file"]
#: Cache problems the banner spells out before it refers to the status table for the rest.
BANNER_PROBLEMS = 3


@dataclass(frozen=True)
class MarketDataStatus:
    """What the cache holds for each ticker, judged against an as-of date.

    ``table`` has one row per (ticker, kind): ``status`` (fresh, stale, missing, corrupt),
    rows, first and last date, age in days, source, adjustment, fetch time, any problem and the
    file. ``problems`` lists every damaged file and every file whose bad rows were skipped, as
    "TICKER (file): what is wrong"; ``banner`` is the sentence the briefing shows above the
    market sections, and names them too.
    """

    as_of: pd.Timestamp
    table: pd.DataFrame
    stale_after_days: int
    problems: tuple[str, ...] = ()

    def _prices(self) -> pd.DataFrame:
        return self.table[self.table["kind"] == PRICES]

    @property
    def available(self) -> bool:
        return bool(self._prices()["status"].isin([FRESH, STALE]).any())

    @property
    def last_date(self) -> pd.Timestamp | None:
        dates = self._prices()["last_date"].dropna()
        return to_day(max(dates)) if len(dates) else None

    def tickers_with(self, status: str, kind: str = PRICES) -> tuple[str, ...]:
        t = self.table
        return tuple(t.loc[(t["kind"] == kind) & (t["status"] == status), "ticker"])

    @property
    def all_fresh(self) -> bool:
        return bool(len(self.table)) and bool((self.table["status"] == FRESH).all())

    @property
    def banner(self) -> str:
        extras = []
        if not self.available:
            text = "No market data cached: market sections are skipped"
        else:
            last = self.last_date
            age = (self.as_of - last).days
            state = "stale" if age > self.stale_after_days else "fresh"
            text = f"Market data as of {last.date().isoformat()} ({state}: {age} day{'s' if age != 1 else ''} old)"
            prices = self._prices()
            usable = prices["status"].isin([FRESH, STALE])
            behind = prices[usable & (prices["last_date"] < last)]
            if len(behind):
                oldest = min(behind["last_date"]).date().isoformat()
                extras.append(f"{len(behind)} of {int(usable.sum())} tickers end earlier (oldest {oldest})")
            names = self.tickers_with(MISSING)
            if names:
                extras.append(f"{len(names)} missing: {_first(names, 6)}")
        t = self.table
        corrupt = t[t["status"] == CORRUPT]
        if len(corrupt):
            extras.append(f"{len(corrupt)} unreadable: " + _first([f"{tk} ({f})" for tk, f in
                                                                    zip(corrupt["ticker"], corrupt["file"])], 6))
        skipped = [p for p in self.problems if not any(f"({f}): " in p for f in corrupt["file"])]
        if skipped:
            more = len(skipped) - BANNER_PROBLEMS
            extras.append("; ".join(skipped[:BANNER_PROBLEMS])
                          + (f"; {more} more cache problem(s) in the status table" if more > 0 else ""))
        return text + ("; " + "; ".join(extras) if extras else "")

    def summary(self) -> pd.DataFrame:
        out = self.table.copy()
        for col in ("first_date", "last_date"):
            out[col] = out[col].map(iso_date)
        return out

    def _repr_html_(self) -> str:
        return f"<p><b>{self.banner}</b></p>" + self.summary().to_html(index=False, na_rep="")


def market_status(tickers: Sequence[str] | None = None, *, as_of=None, cache: MarketCache | None = None,
                  kinds: Sequence[str] = (PRICES,)) -> MarketDataStatus:
    """Freshness of the cache for ``tickers`` (default: every cached ticker) at ``as_of``.

    Parameters
    ----------
    tickers : sequence of str, optional
        Tickers to report; a requested ticker without a file is ``missing``.
    as_of : date-like, optional
        The date the data is judged against (default: today). Prices later than ``as_of`` are
        ignored, as :func:`load_universe` ignores them.
    kinds : sequence of {"prices", "fundamentals"}
    """
    cache = cache or MarketCache()
    entries = []
    for kind in kinds:
        names = [t.upper() for t in tickers] if tickers is not None else cache.tickers(kind)
        entries.extend(cache.read(ticker, kind) for ticker in dict.fromkeys(names))
    return status_of(entries, as_of)


def status_of(entries: Iterable[CacheEntry], as_of, *, also: Iterable[CacheEntry] = ()) -> MarketDataStatus:
    """The status of ``entries`` (one table row each) at ``as_of``; the problems of ``also``
    (files read but not reported row by row, such as fundamentals) join ``problems``."""
    as_of = to_day(as_of) or today()
    entries = list(entries)
    rows = [_status_row(entry, as_of) for entry in entries]
    table = pd.DataFrame(rows, columns=_STATUS_COLUMNS)
    table["age_days"] = table["age_days"].astype("Int64")
    table["rows"] = table["rows"].astype("int64")
    return MarketDataStatus(as_of, table, stale_after_days(), entry_problems([*entries, *also]))


def entry_problems(entries: Iterable[CacheEntry]) -> tuple[str, ...]:
    """"TICKER (file): problem" for each damaged file and each file with skipped or blanked values."""
    return tuple(f"{e.ticker} ({e.file}): {e.problem}" for e in entries
                 if e.problem and (e.status == CORRUPT or e.ok))


def _first(names: Sequence[str], n: int) -> str:
    return ", ".join(names[:n]) + (", ..." if len(names) > n else "")


def _status_row(entry: CacheEntry, as_of: pd.Timestamp) -> dict:
    row = {"ticker": entry.ticker, "kind": entry.kind, "rows": 0, "first_date": None, "last_date": None,
           "age_days": None, "source": None, "adjustment": None, "fetched_at": None, "problem": entry.problem,
           "file": entry.file}
    if not entry.ok:
        row["status"] = entry.status
        return row
    meta = entry.meta
    row.update(source=meta.get("source"), adjustment=meta.get("adjustment"), fetched_at=meta.get("fetched_at"))
    key = "date" if entry.kind == PRICES else "period_end"
    dates = entry.frame[key].to_numpy(dtype="datetime64[ns]")
    dates = dates[dates <= as_of.to_datetime64()]
    if len(dates) == 0:
        row.update(status=MISSING, problem=f"no data on or before {as_of.date()}")
        return row
    row.update(rows=int(len(dates)), first_date=to_day(dates.min()), last_date=to_day(dates.max()))
    if entry.kind == PRICES:
        age = (as_of - row["last_date"]).days
        row.update(age_days=age, status=FRESH if age <= stale_after_days() else STALE)
    else:
        fetched = to_day(str(meta.get("fetched_at", ""))[:10]) or row["last_date"]
        age = (as_of - fetched).days
        row.update(age_days=age, status=FRESH if age <= fundamentals_stale_after_days() else STALE)
    return row

