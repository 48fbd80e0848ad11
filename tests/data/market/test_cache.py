"""The parquet cache: damaged files are reported (never raised) and replaced; writes are atomic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.data import market as M
from analysis.errors import MarketDataError
from tests.data.market.fakes import NO_TICKERS, FakeYF, provider, recent_dates, seed_cache, write_unchecked, yf_frame


def test_truncated_cache_file_is_reported_then_replaced():
    entry = seed_cache("NVDA", pd.bdate_range("2020-01-01", periods=100), np.linspace(1, 2, 100))
    data = entry.path.read_bytes()
    entry.path.write_bytes(data[: len(data) // 2])  # a half-written file
    read = M.MarketCache().read("NVDA")
    assert read.status == M.CORRUPT and "unreadable" in read.problem
    status = M.market_status(["NVDA"])
    assert status.tickers_with(M.CORRUPT) == ("NVDA",)
    # The banner (not only the status table) names the file, so a report says what to repair.
    assert status.banner == ("No market data cached: market sections are skipped; "
                             "1 unreadable: NVDA (cache/prices/NVDA.parquet)")
    assert status.problems == (f"NVDA (cache/prices/NVDA.parquet): {read.problem}",)
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


def _prices(closes, start="2024-01-02") -> pd.DataFrame:
    dates = pd.bdate_range(start, periods=len(closes))
    close = np.asarray(closes, dtype=float)
    return pd.DataFrame({"date": dates.astype("datetime64[ns]"), "open": close, "high": close, "low": close,
                         "close": close, "volume": np.full(len(close), 1e6)})


def test_an_infinite_cached_price_is_skipped_and_named_not_passed_on():
    # Regression: one inf close in the cache made every later report fail in radf, naming no ticker.
    write_unchecked("NVDA", _prices([10, 11, np.inf, 12, 13]))
    seed_cache("AMD", pd.bdate_range("2024-01-02", periods=5), [1, 2, 3, 4, 5])
    universe = M.load_universe(["NVDA", "AMD"], as_of="2024-01-31", tickers_path=NO_TICKERS)
    closes = universe.closes()
    assert np.isfinite(closes.to_numpy()[~np.isnan(closes.to_numpy())]).all()
    assert closes["NVDA"].dropna().tolist() == [10, 11, 12, 13]
    assert universe.status.problems == ("NVDA (cache/prices/NVDA.parquet): 1 price row skipped "
                                        "(close not a positive finite number; first on 2024-01-04)",)
    assert "NVDA" in universe.status.banner and "1 price row skipped" in universe.status.banner
    entry = M.MarketCache().read("NVDA")
    assert entry.ok and entry.rows == 4


def test_a_cache_file_with_only_bad_prices_is_unreadable_and_named():
    write_unchecked("NVDA", _prices([np.inf, np.nan]))
    entry = M.MarketCache().read("NVDA")
    assert entry.status == M.CORRUPT and "no positive finite close" in entry.problem
    assert "NVDA" in M.market_status(["NVDA"], as_of="2024-01-31").banner


def test_non_finite_fundamentals_are_blanked_and_named():
    frame = pd.DataFrame({"period_end": pd.to_datetime(["2025-03-31", "2025-06-30"]).astype("datetime64[ns]"),
                          "revenue_usd": [1e9, np.inf], "capex_usd": [2e8, 3e8],
                          "operating_cash_flow_usd": [np.nan, -np.inf], "free_cash_flow_usd": [1.0, 2.0],
                          "shares_outstanding": [5.0, 5.0]})
    write_unchecked("MSFT", frame, kind=M.FUNDAMENTALS)
    seed_cache("MSFT", pd.bdate_range("2025-07-01", periods=3), [1, 2, 3])
    universe = M.load_universe(["MSFT"], as_of="2025-07-31", tickers_path=NO_TICKERS)
    values = universe.fundamentals[["revenue_usd", "operating_cash_flow_usd"]].to_numpy()
    assert not np.isinf(values).any() and np.isnan(values[1]).all()
    assert any("MSFT" in p and "fundamentals" in p for p in universe.status.problems)


def test_writing_a_non_finite_price_is_refused(tmp_path):
    with pytest.raises(MarketDataError, match="not a positive finite number"):
        M.MarketCache().write("NVDA", M.PRICES, _prices([1, np.inf]), source="x", adjustment="unknown")
    assert M.MarketCache().tickers() == []


def test_a_read_only_cache_is_one_line_naming_the_folder_and_the_fix(tmp_path, monkeypatch, capsys):
    # Root ignores file modes, so the refusal the OS would give is simulated where it happens.
    from pathlib import Path

    from analysis.cli import main

    real_mkdir = Path.mkdir

    def refuse(self, *args, **kwargs):
        if M.MarketCache().root in (self, *self.parents):
            raise PermissionError(13, "Permission denied", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse)
    prices = tmp_path / "NVDA.csv"
    prices.write_text("Date,Close\n2024-01-02,10\n2024-01-03,11\n")
    assert main(["import-prices", str(prices)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    assert "cache/prices" in err[0] and "Permission denied" in err[0] and "AIBUBBLE_CACHE_DIR" in err[0]
    assert str(tmp_path) not in err[0]          # no machine paths in messages that reach reports
    fake = FakeYF({"NVDA": [yf_frame("NVDA", recent_dates(3), [1, 2, 3])]})
    report = M.refresh(["NVDA"], fundamentals=[], provider=provider(fake))   # a fetch reports it, never raises
    assert not report.ok and any("AIBUBBLE_CACHE_DIR" in note for note in report.notes)
