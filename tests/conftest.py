"""Shared fixtures: the hand-computed fixture ledger, isolated report and cache folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from analysis.config import shared_market_dir

FIXTURES = Path(__file__).parent / "fixtures"
AS_OF = "2025-06-30"
SHARED_MARKET = shared_market_dir()


@pytest.fixture
def fixture_ledger_path() -> Path:
    return FIXTURES / "funding_rounds.csv"


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    """Reports and the market cache go to a temp folder in every test, never into the repo."""
    monkeypatch.setenv("AIBUBBLE_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("AIBUBBLE_CACHE_DIR", str(tmp_path / "cache"))
    yield


def require_shared_market() -> Path:
    """The real market snapshot; skipping is allowed only outside CI."""
    if SHARED_MARKET.is_dir():
        return SHARED_MARKET
    if os.environ.get("CI"):
        pytest.fail(f"shared market snapshot missing at {SHARED_MARKET} (required in CI)")
    pytest.skip("shared market snapshot (../shared/market) not present on this machine")


@pytest.fixture(scope="session")
def briefing_run(tmp_path_factory):
    """One real briefing run on the fixture ledger, shared by the HTML and browser checks."""
    from analysis import config
    from analysis import params as P
    from analysis.reporting.execute import run_notebook

    root = tmp_path_factory.mktemp("reports")
    values = P.resolve(config.DEFAULT_BRIEFING, {
        "as_of": AS_OF, "ledger": str(FIXTURES / "funding_rounds.csv"), "start_year": 2023})
    return run_notebook(config.DEFAULT_BRIEFING, values, as_of=AS_OF, reports_root=root)
