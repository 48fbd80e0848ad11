"""``aibubble fetch``: the printed table and the exit code."""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest

from analysis.data import market as M
from analysis.cli import market as market_cli
from tests.data.market.fakes import FakeYF, provider, recent_dates, yf_frame


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
    monkeypatch.setattr(M.provider, "default_provider", lambda: provider(fake, max_attempts=1))
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
