"""The scorecard's reader table: yardsticks read from listed prices say they need market data
when the cache is empty, and read as usual once prices are there."""

from __future__ import annotations

from analysis.sections.verdict import NEEDS_MARKET_DATA, scorecard_table


def _metrics(market_rows: dict) -> dict:
    ledger_row = {"value": 2.0, "interval": [1.5, 2.5], "band": "elevated", "firm": False}
    return {"scorecard": {"rows": {"funding_growth": {"llm_broad": ledger_row, "non_llm": ledger_row},
                                   **market_rows},
                          "cutoffs": {}}}


def test_price_yardsticks_say_they_need_market_data_without_prices():
    table = scorecard_table(_metrics({})).set_index("Yardstick")
    for row in ("Listed bubble signal (0-100)", "Listed basket below its peak"):
        assert set(table.loc[row].drop("In the verdict")) == {NEEDS_MARKET_DATA}
    assert table.loc["Funding growth (a year)", "Non-LLM AI"] != NEEDS_MARKET_DATA
    # a ledger yardstick without a value stays "n/a": the words are for prices only
    assert table.loc["Share in $1bn+ rounds", "Non-LLM AI"] == "n/a"


def test_price_yardsticks_read_as_usual_with_prices():
    signal = {"value": 6.0, "interval": None, "band": "normal", "firm": False}
    table = scorecard_table(_metrics({"market_signal": {"llm_broad": signal}})).set_index("Yardstick")
    row = table.loc["Listed bubble signal (0-100)"]
    assert row["LLM, broad (models and LLM apps)"].startswith("6")
    assert row["Non-LLM AI"] == "n/a"
    assert NEEDS_MARKET_DATA not in set(row)
