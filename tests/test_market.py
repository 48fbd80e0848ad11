"""Market-data layer: provider, deadline engine, parquet cache, status, CLI fetch.

No test touches the network: ``FakeYF`` stands in for the yfinance module and returns frames in
the shapes yfinance 1.7 really returns (checked against the installed library: ``download``
gives MultiIndex (Price, Ticker) columns even for one ticker, ``Adj Close`` only with
``auto_adjust=False``, an empty frame with all six price columns for a failed ticker, and it
logs instead of raising), plus the faults a real network produces.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
import time

import numpy as np
import pandas as pd
import pytest
from yfinance.exceptions import YFRateLimitError

from analysis.data import market as M
from analysis.cli import market as market_cli
from analysis.errors import MarketDataError

TODAY = pd.Timestamp.today().normalize()
# Tests name their tickers; the curated data/tickers.csv (whatever it holds today) stays out of them.
NO_TICKERS = "/nonexistent/tickers.csv"
# yfinance's own messages for the faults it swallows (copied from yfinance 1.7 runs without DNS).
RATE_LIMIT_LOG = "['{t}']: YFRateLimitError('Too Many Requests. Rate limited. Try after a while.')"
DNS_LOG = ("['{t}']: DNSError('Failed to perform, curl: (6) Could not resolve host: "
           "query2.finance.yahoo.com.')")


def yf_frame(ticker: str, dates, close, auto_adjust: bool = True, adj_factor: float = 0.9) -> pd.DataFrame:
    """A ``yfinance.download`` answer: MultiIndex (Price, Ticker), sorted fields, index "Date"."""
    idx = pd.DatetimeIndex(pd.to_datetime(dates), name="Date")
    close = np.asarray(close, dtype=float)
    fields = {"Close": close, "High": close * 1.01, "Low": close * 0.99, "Open": close, "Volume": np.full(len(close), 1e6)}
    if not auto_adjust:
        fields["Adj Close"] = close * adj_factor
    fields = dict(sorted(fields.items()))
    cols = pd.MultiIndex.from_tuples([(f, ticker) for f in fields], names=["Price", "Ticker"])
    return pd.DataFrame(np.column_stack(list(fields.values())), index=idx, columns=cols)


def yf_empty(ticker: str) -> pd.DataFrame:
    """What ``yfinance.download`` returns for a failed ticker (0 rows, six price columns)."""
    cols = pd.MultiIndex.from_tuples([(f, ticker) for f in ["Adj Close", "Close", "High", "Low", "Open", "Volume"]],
                                     names=["Price", "Ticker"])
    return pd.DataFrame(index=pd.DatetimeIndex([], name="Date"), columns=cols)


def recent_dates(n: int = 30) -> pd.DatetimeIndex:
    return pd.bdate_range(end=TODAY - pd.Timedelta(days=1), periods=n)


class FakeYF:
    """Scripted stand-in for the yfinance module.

    ``script[ticker]`` is a list of actions consumed one per call (the last one repeats):
    a DataFrame (returned), an exception instance (raised), ``("log", text, frame)`` (logged on
    the yfinance logger like ``download`` does for swallowed errors, then ``frame`` returned) or
    ``("wait", event, frame)`` (block until the event is set: a hung socket).
    """

    __version__ = "1.7.0-fake"

    def __init__(self, script: dict, fundamentals: dict | None = None):
        self.script = {k.upper(): list(v) for k, v in script.items()}
        self.fund = fundamentals or {}
        self.calls: list[tuple[str, dict]] = []
        self._lock = threading.Lock()

    def _next(self, ticker):
        with self._lock:
            actions = self.script[ticker]
            return actions.pop(0) if len(actions) > 1 else actions[0]

    def download(self, tickers, start=None, end=None, actions=False, threads=True, ignore_tz=None,
                 group_by="column", auto_adjust=True, back_adjust=False, repair=False, keepna=False,
                 progress=True, period="max", interval="1d", prepost=False, rounding=False, timeout=10,
                 session=None, multi_level_index=True):
        ticker = tickers.upper()
        self.calls.append((ticker, {"start": start, "end": end, "auto_adjust": auto_adjust}))
        return self._act(ticker, self._next(ticker))

    def _act(self, ticker, action):
        if isinstance(action, BaseException):
            raise action
        if isinstance(action, tuple) and action[0] == "log":
            logging.getLogger("yfinance").error(action[1].format(t=ticker))
            return action[2]
        if isinstance(action, tuple) and action[0] == "wait":
            action[1].wait(30)
            return action[2]
        return action

    def Ticker(self, ticker):  # noqa: N802 - the library's name
        fake = self

        class _T:
            def __init__(self):
                self.ticker = ticker.upper()
                spec = fake.fund[self.ticker]
                if isinstance(spec, BaseException):
                    raise spec
                self.quarterly_cashflow, self.quarterly_income_stmt, self.quarterly_balance_sheet = spec
        return _T()


def provider(fake, **kw) -> M.YFinanceProvider:
    kw.setdefault("backoff_s", 0.01)
    return M.YFinanceProvider(yf=fake, **kw)


def seed_cache(ticker: str, dates, close, cache=None) -> M.CacheEntry:
    cache = cache or M.MarketCache()
    frame, adj = M.tidy_prices(yf_frame(ticker, dates, close), ticker)
    return cache.write(ticker, M.PRICES, frame, source="seed", adjustment=adj)


# ----------------------------------------------------------------------------------- shapes

def test_tidy_prices_reads_the_real_download_shapes():
    dates = ["2024-01-02", "2024-01-03", "2024-01-04"]
    adjusted, adj = M.tidy_prices(yf_frame("NVDA", dates, [10, 11, 12]), "NVDA", auto_adjust=True)
    assert adj == "splits_dividends"
    assert list(adjusted.columns) == ["date", "open", "high", "low", "close", "volume"]
    np.testing.assert_array_equal(adjusted["close"], [10, 11, 12])
    # auto_adjust=False: Close is split-adjusted only, Adj Close (here 0.9 x Close) is the one to use.
    raw, adj = M.tidy_prices(yf_frame("NVDA", dates, [10, 11, 12], auto_adjust=False), "NVDA", auto_adjust=False)
    assert adj == "splits_dividends"
    np.testing.assert_allclose(raw["close"], [9.0, 9.9, 10.8], rtol=1e-15)
    # group_by="ticker" swaps the levels; Ticker.history gives flat columns and a tz-aware index.
    swapped = yf_frame("NVDA", dates, [10, 11, 12]).swaplevel(0, 1, axis=1)
    np.testing.assert_array_equal(M.tidy_prices(swapped, "NVDA")[0]["close"], [10, 11, 12])
    flat = yf_frame("NVDA", dates, [10, 11, 12]).droplevel(1, axis=1)
    flat.index = pd.DatetimeIndex(dates).tz_localize("America/New_York")
    assert list(M.tidy_prices(flat, "NVDA")[0]["date"].dt.strftime("%Y-%m-%d")) == dates


def test_tidy_prices_drops_padding_rows_and_rejects_bad_frames():
    two = pd.concat([yf_frame("NVDA", ["2024-01-02", "2024-01-03"], [10, 11]),
                     yf_frame("TSM", ["2024-01-03", "2024-01-04"], [5, 6])], axis=1)
    nvda, _ = M.tidy_prices(two, "NVDA")
    assert len(nvda) == 2 and nvda["close"].notna().all()  # NaN row of 2024-01-04 dropped
    with pytest.raises(M._ShapeError, match="not among"):
        M.tidy_prices(two, "AMD")
    with pytest.raises(M._ShapeError, match="no Close"):
        M.tidy_prices(pd.DataFrame({"Open": [1.0]}, index=pd.DatetimeIndex(["2024-01-02"])), "X")
    with pytest.raises(M._ShapeError, match="non-positive"):
        M.tidy_prices(yf_frame("X", ["2024-01-02"], [-1.0]), "X")
    with pytest.raises(M._ShapeError, match="DataFrame"):
        M.tidy_prices(None, "X")


# ----------------------------------------------------------------------------------- refresh

def test_refresh_writes_cache_with_metadata_and_reads_back():
    dates = recent_dates()
    fake = FakeYF({"NVDA": [yf_frame("NVDA", dates, np.arange(1, 31))]})
    report = M.refresh(["NVDA"], fundamentals=[], provider=provider(fake), deadline_s=10)
    assert report.ok and report.written == ("NVDA/prices",)
    entry = M.MarketCache().read("NVDA")
    assert entry.ok and entry.rows == 30
    assert entry.meta["source"] == "yfinance 1.7.0-fake"
    assert entry.meta["adjustment"] == "splits_dividends"
    assert entry.first_date == dates[0] and entry.last_date == dates[-1]
    np.testing.assert_array_equal(entry.frame["close"], np.arange(1, 31))
    # yfinance's end is exclusive; the provider adds a day so that ours is inclusive.
    M.refresh(["NVDA"], start="2024-01-01", end="2024-01-31", fundamentals=[], provider=provider(fake))
    assert fake.calls[-1][1] == {"start": "2024-01-01", "end": "2024-02-01", "auto_adjust": True}
    assert not list((M.MarketCache().root / "prices").glob("*.tmp"))


@pytest.mark.parametrize("fault, status", [
    ("empty", M.EMPTY),
    ("exception", M.ERROR),
    ("rate_limit_raised", M.RATE_LIMITED),
    ("rate_limit_logged", M.RATE_LIMITED),
    ("dns_logged", M.ERROR),
    ("bad_shape", M.BAD_SHAPE),
])
def test_failures_never_overwrite_good_cache_and_are_reported(fault, status):
    good = seed_cache("NVDA", pd.bdate_range("2020-01-01", periods=50), np.linspace(10, 20, 50))
    before = good.path.read_bytes()
    action = {
        "empty": yf_empty("NVDA"),
        "exception": ConnectionError("connection reset by peer"),
        "rate_limit_raised": YFRateLimitError(),
        "rate_limit_logged": ("log", RATE_LIMIT_LOG, yf_empty("NVDA")),
        "dns_logged": ("log", DNS_LOG, yf_empty("NVDA")),
        "bad_shape": pd.DataFrame({"Foo": [1.0]}, index=pd.DatetimeIndex(["2024-01-02"])),
    }[fault]
    fake = FakeYF({"NVDA": [action]})
    report = M.refresh(["NVDA"], fundamentals=[], provider=provider(fake, max_attempts=3), deadline_s=10)
    (outcome,) = report.outcomes
    assert outcome.status == status
    assert outcome.message  # the reason is shown, not just a status word
    assert good.path.read_bytes() == before
    assert report.written == () and not report.ok
    # Retriable faults are retried up to max_attempts; an empty answer or a bad shape is not.
    assert outcome.attempts == (3 if status in M.RETRIABLE else 1)
    assert len(fake.calls) == outcome.attempts


def test_rate_limit_is_retried_with_backoff_then_succeeds():
    dates = recent_dates(5)
    fake = FakeYF({"NVDA": [YFRateLimitError(), yf_frame("NVDA", dates, [1, 2, 3, 4, 5])]})
    t0 = time.monotonic()
    report = M.refresh(["NVDA"], fundamentals=[], provider=provider(fake, backoff_s=0.05), deadline_s=10)
    elapsed = time.monotonic() - t0
    (outcome,) = report.outcomes
    assert outcome.status == M.OK and outcome.attempts == 2
    # After a rate limit the first retry waits backoff x 4 = 0.2 s (not less).
    assert elapsed >= 0.2
    assert report.ok


def test_hang_past_deadline_returns_in_time_and_late_answer_is_never_written():
    good = seed_cache("HANG", pd.bdate_range("2020-01-01", periods=10), np.arange(1, 11))
    before = good.path.read_bytes()
    release = threading.Event()
    dates = recent_dates(5)
    late = yf_frame("HANG", dates, [9, 9, 9, 9, 9])
    fake = FakeYF({"HANG": [("wait", release, late)], "NVDA": [yf_frame("NVDA", dates, [1, 2, 3, 4, 5])]})
    deadline = 1.0
    t0 = time.monotonic()
    report = M.refresh(["HANG", "NVDA"], fundamentals=[], provider=provider(fake), deadline_s=deadline)
    elapsed = time.monotonic() - t0
    # Slack: thread start-up, the cache write of NVDA and the status read, ~50 ms on a slow box.
    assert elapsed < deadline + 0.5
    statuses = {o.ticker: o.status for o in report.outcomes}
    assert statuses == {"HANG": M.TIMEOUT, "NVDA": M.OK}
    release.set()  # the abandoned thread now returns its frame into a queue nobody reads
    time.sleep(0.2)
    assert good.path.read_bytes() == before
    assert M.MarketCache().read("NVDA").rows == 5


def test_partial_multi_ticker_failure_keeps_the_good_ones():
    dates = recent_dates(10)
    seed_cache("AMD", pd.bdate_range("2020-01-01", periods=10), np.arange(1, 11))
    fake = FakeYF({
        "NVDA": [yf_frame("NVDA", dates, np.arange(1, 11))],
        "AMD": [RuntimeError("boom")],
        "ZZZZ": [("log", "$ZZZZ: possibly delisted; no price data found", yf_empty("ZZZZ"))],
    })
    report = M.refresh(["NVDA", "AMD", "ZZZZ"], fundamentals=[], provider=provider(fake, max_attempts=2),
                       deadline_s=10)
    table = report.summary().set_index("ticker")
    assert table.loc["NVDA", "fetch"] == "ok" and table.loc["NVDA", "cache"] == "fresh"
    assert table.loc["AMD", "fetch"] == "error" and table.loc["AMD", "cache"] == "stale"
    assert table.loc["AMD", "rows"] == 10  # the old data is still there
    assert table.loc["ZZZZ", "fetch"] == "empty" and table.loc["ZZZZ", "cache"] == "missing"
    assert "possibly delisted" in table.loc["ZZZZ", "message"]
    assert not report.ok


def test_refresh_merges_new_rows_over_old_history():
    old_dates = pd.bdate_range("2024-01-01", "2024-03-29")
    seed_cache("NVDA", old_dates, np.full(len(old_dates), 10.0))
    new_dates = pd.bdate_range("2024-03-01", "2024-04-30")
    fake = FakeYF({"NVDA": [yf_frame("NVDA", new_dates, np.full(len(new_dates), 20.0))]})
    M.refresh(["NVDA"], start="2024-03-01", fundamentals=[], provider=provider(fake))
    frame = M.MarketCache().read("NVDA").frame.set_index("date")["close"]
    assert frame.index.is_unique and frame.index.is_monotonic_increasing
    assert (frame[:"2024-02-29"] == 10.0).all() and (frame["2024-03-01":] == 20.0).all()
    assert len(frame) == len(old_dates[old_dates < "2024-03-01"]) + len(new_dates)


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
    import pyarrow as pa
    import pyarrow.parquet as pq

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

    monkeypatch.setattr(M.pq, "write_table", crash)
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


def test_fundamentals_are_tidied_cached_and_loaded():
    periods = pd.to_datetime(["2025-12-31", "2025-09-30", "2025-06-30"])  # Yahoo: newest first
    cash = pd.DataFrame([[-30e9, -25e9, -20e9], [50e9, 45e9, 40e9]], index=["Capital Expenditure", "Operating Cash Flow"],
                        columns=periods)
    income = pd.DataFrame([[80e9, 75e9, 70e9]], index=["Total Revenue"], columns=periods)
    balance = pd.DataFrame([[7.4e9, 7.4e9, np.nan]], index=["Ordinary Shares Number"], columns=periods)
    fake = FakeYF({"MSFT": [yf_frame("MSFT", recent_dates(3), [1, 2, 3])], "SPY": [yf_frame("SPY", recent_dates(3), [1, 2, 3])]},
                  fundamentals={"MSFT": (cash, income, balance),
                                "SPY": (pd.DataFrame(), pd.DataFrame(), pd.DataFrame())})
    report = M.refresh(["MSFT", "SPY"], fundamentals=["MSFT", "SPY"], provider=provider(fake))
    statuses = {(o.ticker, o.kind): o.status for o in report.outcomes}
    assert statuses[("MSFT", M.FUNDAMENTALS)] == M.OK
    assert statuses[("SPY", M.FUNDAMENTALS)] == M.EMPTY  # a fund has no statements: not a failure
    assert report.ok
    u = M.load_universe(["MSFT", "SPY"], tickers_path=NO_TICKERS)
    f = u.fundamentals.set_index("period_end")
    assert list(f.index) == list(periods[::-1])
    np.testing.assert_array_equal(f["capex_usd"], [20e9, 25e9, 30e9])  # spending is positive
    np.testing.assert_array_equal(f["revenue_usd"], [70e9, 75e9, 80e9])
    assert np.isnan(f["shares_outstanding"].iloc[0])


# ----------------------------------------------------------------------------------- status

def test_banner_texts():
    assert M.market_status().banner == "No market data cached: market sections are skipped"
    for ticker, first, last in (("NVDA", "2026-08-03", "2026-08-21"), ("TSM", "2026-07-01", "2026-07-31")):
        dates = pd.bdate_range(first, last)
        seed_cache(ticker, dates, np.arange(1, len(dates) + 1))
    status = M.market_status(["NVDA", "TSM", "PATH"], as_of="2026-11-28")
    assert status.banner == ("Market data as of 2026-08-21 (stale: 99 days old); 1 of 2 tickers end earlier "
                             "(oldest 2026-07-31); 1 missing: PATH")
    fresh = M.market_status(["NVDA"], as_of="2026-08-24")  # a Monday: Friday's close is 3 days old
    assert fresh.banner == "Market data as of 2026-08-21 (fresh: 3 days old)"
    assert fresh.all_fresh
    # as_of in the past ignores later rows, so an old report is reproducible from a newer cache.
    past = M.market_status(["NVDA"], as_of="2026-08-10")
    assert past.table.loc[0, "last_date"] == pd.Timestamp("2026-08-10")


def test_load_universe_is_offline_and_cuts_at_as_of(tmp_path):
    class Exploding:
        name = "boom"

        def prices(self, *a, **k):
            raise AssertionError("network used")

        fundamentals = prices

    seed_cache("NVDA", pd.bdate_range("2024-01-01", "2024-02-29"), np.linspace(1, 2, 44))
    tickers_csv = tmp_path / "tickers.csv"
    tickers_csv.write_text(
        "ticker,name,exchange,segment,llm_exposed,exposure_grade,rationale,is_benchmark,source_url,"
        "source_title,source_publisher,source_date,notes\n"
        "NVDA,NVIDIA,NASDAQ,ai_chips,true,high,GPUs,false,https://example.com,t,p,2025-01-01,\n"
        "QQQ,Invesco QQQ,NASDAQ,benchmark,,medium,benchmark,true,https://example.com,t,p,2025-01-01,\n")
    u = M.load_universe(as_of="2024-01-31", provider=Exploding(), tickers_path=tickers_csv)
    assert u.prices["date"].max() == pd.Timestamp("2024-01-31")
    assert set(u.tickers["ticker"]) == {"NVDA", "QQQ"}
    assert u.segment("ai_chips") == ("NVDA",)
    assert u.status.tickers_with(M.MISSING) == ("QQQ",)
    assert bool(u.tickers.set_index("ticker").loc["QQQ", "is_benchmark"])


def test_load_universe_with_fetch_survives_a_failing_refresh():
    seed_cache("NVDA", pd.bdate_range("2024-01-01", periods=10), np.arange(1, 11))
    fake = FakeYF({"NVDA": [ConnectionError("offline")]})
    u = M.load_universe(["NVDA"], fetch=True, provider=provider(fake, max_attempts=1), deadline_s=5,
                        tickers_path=NO_TICKERS)
    assert len(u.prices) == 10 and "refresh failed for 1 ticker(s): NVDA" in u.notes[0]

    class Broken:
        name = "broken"

        def prices(self, *a, **k):
            raise RuntimeError("provider bug")

    u = M.load_universe(["NVDA"], fetch=True, provider=Broken(), tickers_path=NO_TICKERS)
    assert len(u.prices) == 10 and "provider bug" in u.notes[0]


# ----------------------------------------------------------------------------------- CLI

def _run_cli(argv):
    parser = argparse.ArgumentParser(prog="aibubble")
    sub = parser.add_subparsers(dest="command", required=True)
    market_cli.add_fetch_parser(sub)
    market_cli.add_import_prices_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


def test_cli_fetch_prints_table_and_exit_code(monkeypatch, capsys):
    dates = recent_dates(10)
    fake = FakeYF({"NVDA": [yf_frame("NVDA", dates, np.arange(1, 11))], "AMD": [ValueError("bad gateway")]},
                  fundamentals={"NVDA": (pd.DataFrame(),) * 3, "AMD": (pd.DataFrame(),) * 3})
    monkeypatch.setattr(M, "default_provider", lambda: provider(fake, max_attempts=1))
    assert _run_cli(["fetch", "--tickers", "NVDA", "--deadline", "5", "--no-fundamentals"]) == 0
    out = capsys.readouterr().out
    assert "NVDA" in out and "fresh" in out and "Market data as of" in out
    assert _run_cli(["fetch", "--tickers", "NVDA", "AMD", "--deadline", "5", "--no-fundamentals"]) == 1
    captured = capsys.readouterr()
    assert "bad gateway" in captured.out and "AMD" in captured.err
    with pytest.raises(SystemExit):
        _run_cli(["fetch", "--start", "2024-13-01"])
    with pytest.raises(SystemExit):
        _run_cli(["fetch", "--deadline", "0"])


@pytest.mark.live
@pytest.mark.skipif(os.environ.get("AIBUBBLE_LIVE") != "1", reason="set AIBUBBLE_LIVE=1 to fetch from Yahoo")
def test_live_fetch_of_one_ticker():
    start = (TODAY - pd.Timedelta(days=40)).date().isoformat()
    report = M.refresh(["SPY"], start=start, fundamentals=[], deadline_s=60)
    (outcome,) = report.outcomes
    assert outcome.status == M.OK, outcome.message
    entry = M.MarketCache().read("SPY")
    assert entry.ok and 15 <= entry.rows <= 30
    assert (entry.frame["close"] > 0).all()
