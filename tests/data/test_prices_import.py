"""CSV price import: real snapshot files, the layouts yfinance and common sites write, and errors."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest

from analysis.data import market as M
from analysis.cli import market as market_cli
from analysis.data.prices_import import PriceFileError, import_prices, read_price_csv
from analysis.errors import DataValidationError, MarketDataError, ParameterError
from tests.conftest import require_shared_market


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ----------------------------------------------------------------------------------- real files

@pytest.mark.parametrize("rel, ticker, rows, first, last", [
    # Row counts and date ranges from the snapshot's MANIFEST.md.
    ("stocks/NVDA.csv", "NVDA", 6938, "1999-01-22", "2026-08-21"),  # Date,Open,High,Low,Close,Volume
    ("stocks/TSM.csv", "TSM", 7246, "1997-10-09", "2026-07-31"),    # Date,Close
    ("etfs/QQQ.csv", "QQQ", 6906, "1999-03-10", "2026-08-21"),
])


def test_real_snapshot_imports_in_place(rel, ticker, rows, first, last):
    path = require_shared_market() / rel
    report = import_prices([path])
    (entry,) = report.entries
    assert (entry.ticker, entry.rows) == (ticker, rows)
    cached = M.MarketCache().read(ticker)
    assert cached.ok and cached.rows == rows
    assert cached.first_date == pd.Timestamp(first) and cached.last_date == pd.Timestamp(last)
    assert cached.meta["source"] == f"csv:{path.name}"
    # Values survive the round trip exactly (float64 text -> float64 -> parquet).
    reference = pd.read_csv(path, parse_dates=["Date"])
    np.testing.assert_array_equal(cached.frame["close"].to_numpy(), reference["Close"].to_numpy())
    np.testing.assert_array_equal(cached.frame["date"].to_numpy(), reference["Date"].to_numpy().astype("datetime64[ns]"))


def test_index_file_takes_an_explicit_ticker():
    path = require_shared_market() / "indices" / "IXIC.csv"
    report = import_prices([path], ticker="^IXIC", adjustment="none")
    assert report.written == ("^IXIC",)
    close = M.MarketCache().read("^IXIC").frame.set_index("date")["close"]
    # Known facts from the manifest: 100.00 at the start, 5048.62 on 2000-03-10.
    assert close.iloc[0] == 100.0
    assert close["2000-03-10"] == pytest.approx(5048.62, abs=0.005)


# ----------------------------------------------------------------------------------- yfinance layouts

def yf_download_frame(tickers, auto_adjust):
    """The frame yfinance.download returns (MultiIndex (Price, Ticker)), to write with to_csv."""
    idx = pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-04"], name="Date")
    fields = ["Close", "High", "Low", "Open", "Volume"] + ([] if auto_adjust else ["Adj Close"])
    cols = pd.MultiIndex.from_product([sorted(fields), tickers], names=["Price", "Ticker"])
    values = np.arange(1, len(idx) * len(cols) + 1, dtype=float).reshape(len(idx), len(cols))
    return pd.DataFrame(values, index=idx, columns=cols)


def test_yfinance_multirow_header_single_ticker(tmp_path):
    frame = yf_download_frame(["NVDA"], auto_adjust=False)
    path = tmp_path / "whatever.csv"
    frame.to_csv(path)  # exactly how a user saves a yfinance download
    assert path.read_text().splitlines()[:3] == [
        "Price,Adj Close,Close,High,Low,Open,Volume", "Ticker,NVDA,NVDA,NVDA,NVDA,NVDA,NVDA", "Date,,,,,,"]
    pf = read_price_csv(path)
    (entry,) = pf.entries
    assert entry.ticker == "NVDA"  # from the header, not the file name
    assert entry.adjustment == "splits_dividends" and entry.close_column == "Adj Close (NVDA)"
    np.testing.assert_array_equal(entry.frame["close"], frame[("Adj Close", "NVDA")].to_numpy())
    np.testing.assert_array_equal(entry.frame["volume"], frame[("Volume", "NVDA")].to_numpy())


def test_yfinance_multi_ticker_file_and_ticker_selection(tmp_path):
    frame = yf_download_frame(["MSFT", "NVDA"], auto_adjust=True)
    frame.loc["2024-01-03", ("Close", "MSFT")] = np.nan  # a missing day for one ticker only
    path = tmp_path / "two.csv"
    frame.to_csv(path)
    pf = read_price_csv(path)
    assert [e.ticker for e in pf.entries] == ["MSFT", "NVDA"]
    msft = pf.entries[0]
    assert msft.rows == 2 and "1 rows without a close skipped" in msft.notes
    assert msft.adjustment == "unknown"  # a bare Close could be either; the file does not say
    only = read_price_csv(path, ticker="nvda")
    assert [e.ticker for e in only.entries] == ["NVDA"]
    with pytest.raises(PriceFileError, match="ticker not in the file"):
        read_price_csv(path, ticker="AMD")
    # group_by="ticker" writes the Ticker row first.
    swapped = frame.swaplevel(0, 1, axis=1).sort_index(axis=1)
    path2 = tmp_path / "grouped.csv"
    swapped.to_csv(path2)
    pf2 = read_price_csv(path2)
    assert "Ticker/Price" in pf2.layout
    np.testing.assert_array_equal(pf2.entries[1].frame["close"], frame[("Close", "NVDA")].to_numpy())


def test_history_csv_with_utc_offsets_keeps_the_local_trading_day(tmp_path):
    path = write(tmp_path, "AAPL.csv",
                 "Date,Open,High,Low,Close,Volume,Dividends,Stock Splits\n"
                 "2024-03-08 00:00:00-05:00,1,1,1,10.5,100,0.0,0.0\n"
                 "2024-03-11 00:00:00-04:00,1,1,1,11.5,100,0.0,0.0\n")  # DST changed over the weekend
    (entry,) = read_price_csv(path).entries
    assert list(entry.frame["date"].dt.strftime("%Y-%m-%d")) == ["2024-03-08", "2024-03-11"]


# ----------------------------------------------------------------------------------- other exports

@pytest.mark.parametrize("name, text, close, dates", [
    ("nasdaq.csv",  # Nasdaq.com: newest first, $ prices, MM/DD/YYYY
     "Date,Close/Last,Volume,Open,High,Low\n08/21/2026,$214.72,91591112,$218.42,$218.74,$214.50\n"
     '08/20/2026,"$1,214.00",5,"$1,200.00","$1,220.00","$1,190.00"\n',
     [1214.0, 214.72], ["2026-08-20", "2026-08-21"]),
    ("yahoo_web.csv",  # Yahoo's old web download: both Close* and Adj Close**; null rows
     "Date,Open,High,Low,Close*,Adj Close**,Volume\n2024-01-02,1,1,1,10,9,5\n2024-01-03,null,null,null,null,null,null\n",
     [9.0], ["2024-01-02"]),
    ("investing.csv",  # Investing.com: quoted, "Price" is the close, K/M volumes
     '"Date","Price","Open","High","Low","Vol.","Change %"\n"Aug 21, 2026","214.72","218.42","218.74","214.50","91.59M","-1.2%"\n',
     [214.72], ["2026-08-21"]),
    ("fred.csv",  # FRED: one value column named after the series, "." for missing
     "observation_date,SP500\n2024-01-01,.\n2024-01-02,4742.83\n", [4742.83], ["2024-01-02"]),
    ("excel_de.csv",  # European Excel: semicolons, decimal commas, headers in German
     "Datum;Schluss\n21.08.2026;214,72\n", [214.72], ["2026-08-21"]),
    ("semicolon.csv", "Date;Close\n21.08.2026;1.214,72\n", [1214.72], ["2026-08-21"]),
])


def test_common_exports(tmp_path, name, text, close, dates):
    path = write(tmp_path, name, text)
    (entry,) = read_price_csv(path).entries
    np.testing.assert_allclose(entry.frame["close"], close, rtol=0, atol=1e-12)
    assert list(entry.frame["date"].dt.strftime("%Y-%m-%d")) == dates
    assert entry.ticker == path.stem.upper()
    if name in ("fred.csv", "excel_de.csv"):  # the only value column is used, and the notes say so
        assert any("close taken from column" in n for n in entry.notes)


# ----------------------------------------------------------------------------------- errors

def test_every_problem_is_reported_with_file_line_and_column(tmp_path):
    path = write(tmp_path, "bad.csv",
                 "Date,Open,Close\n2024-01-02,1,10\n2024-13-01,1,11\n2024-01-04,1,-3\n"
                 "2024-01-05,x,abc\n2024-01-02,1,12\n2999-01-01,1,1\n")
    with pytest.raises(PriceFileError) as err:
        read_price_csv(path)
    found = {(p.line, p.column, p.rule) for p in err.value.problems}
    assert found == {
        (3, "Date", "not a date (expected e.g. 2024-01-31)"),
        (4, "Close", "price must be positive"),
        (5, "Open", "not a number"),
        (5, "Close", "not a number"),
        (6, "Date", "duplicate date (first on line 2)"),
        (7, "Date", "date is in the future"),
    }
    assert all(p.file == "bad.csv" for p in err.value.problems)
    # One error type serves both handlers the CLI has: market data and validation problems.
    assert isinstance(err.value, MarketDataError) and isinstance(err.value, DataValidationError)


@pytest.mark.parametrize("text, message", [
    ("Day,Open,Volume\n2024-01-02,1,5\n", r"nope\.csv.*no close column \(looked for Adj Close"),
    ("Ticker,Close\nNVDA,5\n", r"nope\.csv.*no date column"),
    ("", r"nope\.csv.*file is empty"),
    ("2024-01-02,5\n", r"nope\.csv.*no header row"),
])


def test_missing_columns_name_the_file(tmp_path, text, message):
    path = write(tmp_path, "nope.csv", text)
    with pytest.raises(PriceFileError, match=message):
        read_price_csv(path)


def test_nothing_is_written_unless_every_file_passes(tmp_path):
    good = write(tmp_path, "GOOD.csv", "Date,Close\n2024-01-02,10\n")
    bad = write(tmp_path, "BAD.csv", "Date,Close\n2024-01-02,-1\n")
    with pytest.raises(PriceFileError):
        import_prices([good, bad])
    assert M.MarketCache().tickers() == []
    with pytest.raises(ParameterError, match="one file"):
        import_prices([good, bad], ticker="X")
    with pytest.raises(PriceFileError, match="file not found"):
        import_prices([tmp_path / "missing.csv"])


def test_import_merges_with_cached_history_unless_replace(tmp_path):
    old = write(tmp_path, "NVDA.csv", "Date,Close\n2024-01-02,1\n2024-01-03,2\n2024-01-04,3\n")
    import_prices([old])
    newer = write(tmp_path, "new.csv", "Date,Close\n2024-01-04,30\n2024-01-05,40\n")
    report = import_prices([newer], ticker="NVDA")
    assert report.kept_rows == (2,)
    close = M.MarketCache().read("NVDA").frame["close"].tolist()
    assert close == [1, 2, 30, 40]
    import_prices([newer], ticker="NVDA", replace=True)
    assert M.MarketCache().read("NVDA").frame["close"].tolist() == [30, 40]


def test_cli_import_prices(tmp_path, capsys):
    path = write(tmp_path, "amd.csv", "Date,Adj Close\n2024-01-02,10\n2024-01-03,11\n")
    parser = argparse.ArgumentParser(prog="aibubble")
    sub = parser.add_subparsers(dest="command", required=True)
    market_cli.add_import_prices_parser(sub)
    args = parser.parse_args(["import-prices", str(path)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "AMD" in out and "splits_dividends" in out and "imported 1 ticker(s)" in out
    assert M.MarketCache().read("AMD").rows == 2


def test_tickers_that_look_like_price_fields(tmp_path):
    # Lowe's is LOW and Opendoor is OPEN: the header's Price/Ticker labels decide, not the values.
    frame = yf_download_frame(["LOW", "OPEN"], auto_adjust=True).swaplevel(0, 1, axis=1).sort_index(axis=1)
    path = tmp_path / "tricky.csv"
    frame.to_csv(path)
    pf = read_price_csv(path)
    assert [e.ticker for e in pf.entries] == ["LOW", "OPEN"]
    np.testing.assert_array_equal(pf.entries[0].frame["close"], frame[("LOW", "Close")].to_numpy())
    (one,) = M.tidy_prices(frame, "OPEN")[0:1]
    np.testing.assert_array_equal(one["close"], frame[("OPEN", "Close")].to_numpy())


@pytest.mark.parametrize("text", ["inf", "-inf", "Infinity", "1e999"])
def test_non_finite_prices_are_refused_with_file_line_and_column(tmp_path, capsys, text):
    # Regression: `import-prices` accepted inf (exit 0) and every later report failed in radf.
    from analysis.cli import main

    path = write(tmp_path, "NVDA.csv",
                 f"Date,Close,Volume\n2024-01-02,10,5\n2024-01-03,{text},5\n2024-01-04,11,{text}\n")
    with pytest.raises(PriceFileError) as err:
        read_price_csv(path)
    assert [(p.line, p.column, p.value) for p in err.value.problems] == [
        (3, "Close", text), (4, "Volume", text)]
    assert all("not a finite number" in p.rule for p in err.value.problems)
    assert main(["import-prices", str(path)]) == 1
    assert "NVDA.csv:3: column Close value " in capsys.readouterr().err
    assert M.MarketCache().tickers() == []
