"""The parquet cache: damaged files are reported (never raised) and replaced; writes are atomic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.data import market as M
from analysis.errors import MarketDataError
from tests.data.market.fakes import NO_TICKERS, FakeYF, provider, recent_dates, seed_cache, yf_frame


def test_truncated_cache_file_is_reported_then_replaced():
    entry = seed_cache("NVDA", pd.bdate_range("2020-01-01", periods=100), np.linspace(1, 2, 100))
    data = entry.path.read_bytes()
    entry.path.write_bytes(data[: len(data) // 2])  # a half-written file
    read = M.MarketCache().read("NVDA")
    assert read.status == M.CORRUPT and "unreadable" in read.problem
    status = M.market_status(["NVDA"])
    assert status.tickers_with(M.CORRUPT) == ("NVDA",)
    assert status.banner == "No market data cached: market sections are skipped"
    universe = M.load_universe(["NVDA"], tickers_path=NO_TICKERS)  # treated as missing, no exception
    assert not universe.available
    fake = FakeYF({"NVDA": [yf_frame("NVDA", recent_dates(5), [1, 2, 3, 4, 5])]})
    report = M.refresh(["NVDA"], fundamentals=[], provider=provider(fake))
    assert any("replaced a corrupt cache file" in n for n in report.notes)
    assert M.MarketCache().read("NVDA").rows == 5  # nothing merged from the broken file


def test_file_that_disagrees_with_its_metadata_is_corrupt(tmp_path):
    entry = seed_cache("NVDA", pd.bdate_range("2020-01-01", periods=10), np.arange(1, 11))
    table = pq.read_table(entry.path)
    pq.write_table(table.slice(0, 5), entry.path)  # keeps the metadata, loses rows
    assert "5 rows, metadata says 10" in M.MarketCache().read("NVDA").problem
    pq.write_table(pa.table({"date": [1], "close": [1.0]}), entry.path)  # someone else's parquet
    assert "no aibubble metadata" in M.MarketCache().read("NVDA").problem


def test_failed_write_leaves_the_old_file_and_no_temp_files(monkeypatch):
    entry = seed_cache("NVDA", pd.bdate_range("2020-01-01", periods=10), np.arange(1, 11))
    before = entry.path.read_bytes()

    def crash(table, where, **kw):
        where.write(b"PAR1 half")  # some bytes reach the temporary file, then the disk fills up
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq, "write_table", crash)
    frame, _ = M.tidy_prices(yf_frame("NVDA", ["2024-01-02"], [5.0]), "NVDA")
    with pytest.raises(MarketDataError, match="No space left"):
        M.MarketCache().write("NVDA", M.PRICES, frame, source="x", adjustment="unknown")
    assert entry.path.read_bytes() == before
    assert sorted(p.name for p in entry.path.parent.iterdir()) == ["NVDA.parquet"]
    with pytest.raises(MarketDataError, match="empty"):
        M.MarketCache().write("NVDA", M.PRICES, frame.iloc[:0], source="x", adjustment="unknown")


def test_ticker_file_names_are_safe_and_reversible():
    cache = M.MarketCache()
    assert cache.path("^GSPC", M.PRICES).name == "%5EGSPC.parquet"
    seed_cache("^GSPC", pd.bdate_range("2020-01-01", periods=3), [1, 2, 3])
    seed_cache("BRK-B", pd.bdate_range("2020-01-01", periods=3), [1, 2, 3])
    assert cache.tickers() == ["BRK-B", "^GSPC"]
