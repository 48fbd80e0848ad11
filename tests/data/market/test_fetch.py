"""``refresh``: faults never overwrite good data, retries and backoff, the deadline, merging."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pandas as pd
import pytest
from yfinance.exceptions import YFRateLimitError

from analysis.data import market as M
from tests.data.market.fakes import (
    DNS_LOG, NO_TICKERS, RATE_LIMIT_LOG, TODAY, FakeYF, provider, recent_dates, seed_cache, yf_empty, yf_frame)


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


def test_a_dns_failure_is_a_network_error_not_a_delisting():
    # Regression: yfinance swallows the DNS error and says "possibly delisted"; fetch repeated it.
    delisted = ("log", "$NVDA: possibly delisted; no price data found  (1d 2024-01-01 -> 2024-02-01)", yf_empty("NVDA"))
    tz_failed = ("log", "Failed to get ticker 'AMD' reason: Failed to perform, curl: (6) Could not resolve host: "
                        "query2.finance.yahoo.com", yf_empty("AMD"))

    def no_dns(host):
        raise OSError(-3, "Temporary failure in name resolution")

    fake = FakeYF({"NVDA": [delisted], "AMD": [tz_failed]})
    report = M.refresh(["NVDA", "AMD"], fundamentals=[], deadline_s=10,
                       provider=provider(fake, max_attempts=1, resolve=no_dns))
    outcomes = {o.ticker: o for o in report.outcomes}
    for ticker in ("NVDA", "AMD"):
        assert outcomes[ticker].status == M.ERROR
        assert outcomes[ticker].message.startswith("network error")
        assert "delisted" not in outcomes[ticker].message
    assert "Could not resolve host" in outcomes["AMD"].message
    # With a working resolver the same answer is what it says: an empty answer for that symbol.
    fake = FakeYF({"NVDA": [delisted]})
    (outcome,) = M.refresh(["NVDA"], fundamentals=[], provider=provider(fake, resolve=lambda host: None)).outcomes
    assert outcome.status == M.EMPTY and "possibly delisted" in outcome.message
