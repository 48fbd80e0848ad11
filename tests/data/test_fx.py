"""Currency conversion at the announcement date (analysis.data.fx) and the bundled ledger's use of it."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from analysis import config
from analysis.data.fx import CONVERTED_MARK, ECB_CONVERTED_MARK, load_fx_rates, to_usd
from analysis.data.tables import read_table
from analysis.errors import ParameterError


def _rates() -> pd.DataFrame:
    rates = pd.DataFrame({
        "date": pd.to_datetime(["2024-06-20", "2024-06-21", "2024-06-24", "2024-12-17"]),
        "currency": ["EUR", "EUR", "EUR", "CNY"],
        "rate": [1.0743, 1.0700, 1.0720, 7.2800],
        "quote": ["usd_per_unit", "usd_per_unit", "usd_per_unit", "per_usd"],
    })
    return rates.assign(usd_per_unit=np.where(rates["quote"] == "usd_per_unit", rates["rate"], 1 / rates["rate"]))


def test_hand_computed_conversions():
    got = to_usd([450e6, 3e9, 5.0], ["EUR", "CNY", "USD"], ["2024-06-20", "2024-12-17", "2020-01-01"], _rates())
    # 450m EUR x 1.0743 USD/EUR; 3bn CNY / 7.28 CNY per USD; dollars pass through
    np.testing.assert_allclose(got.usd, [483_435_000.0, 3e9 / 7.28, 5.0], rtol=0, atol=1e-6)
    assert list(got.rate_date.strftime("%Y-%m-%d")) == ["2024-06-20", "2024-12-17", "2020-01-01"]


def test_weekend_uses_the_last_business_day_before_never_after():
    # Saturday 2024-06-22: Friday's rate (1.0700), not Monday's (1.0720), which would look ahead.
    got = to_usd([1e6], ["EUR"], ["2024-06-22"], _rates())
    assert got.usd[0] == pytest.approx(1_070_000.0)
    assert got.rate_date[0] == pd.Timestamp("2024-06-21")


def test_no_rate_within_the_gap_gives_nan_not_a_stale_rate():
    got = to_usd([1e6, 1e6], ["EUR", "GBP"], ["2024-07-10", "2024-06-20"], _rates(), max_gap_days=7)
    assert np.isnan(got.usd).all() and got.rate_date.isna().all()
    assert to_usd([1e6], ["EUR"], ["2024-06-30"], _rates(), max_gap_days=7).usd[0] == pytest.approx(1_072_000.0)


def test_negative_gap_is_a_parameter_error():
    with pytest.raises(ParameterError, match="max_gap_days"):
        to_usd([1.0], ["EUR"], ["2024-06-20"], _rates(), max_gap_days=-1)


def test_bundled_rates_validate_and_cover_every_converted_round():
    rates = load_fx_rates()
    assert set(rates["source_publisher"]) == {"Federal Reserve Board (H.10)", "European Central Bank (reference rates)"}
    rounds = read_table(config.DATASET_FILES["funding_rounds"], "funding_rounds")
    for mark, publisher in ((CONVERTED_MARK, "Federal Reserve Board (H.10)"),
                            (ECB_CONVERTED_MARK, "European Central Bank (reference rates)")):
        converted = rounds[rounds["notes"].fillna("").str.contains(mark, regex=False)]
        assert len(converted) > 0
        # Each mark's rows are converted with that publisher's rates only.
        got = to_usd(converted["raised_amount"], converted["raised_amount_currency"], converted["announced_on"],
                     rates[rates["source_publisher"] == publisher])
        # The stored dollars are the conversion, rounded to whole dollars ...
        np.testing.assert_allclose(converted["raised_amount_usd"].to_numpy(), np.round(got.usd), rtol=0, atol=0.5)
        # ... and each note names the rate date actually used.
        for note, day in zip(converted["notes"], got.rate_date.strftime("%Y-%m-%d")):
            assert re.search(re.escape(mark) + day, note), (note, day)


def test_rounds_left_without_dollars_have_no_usable_rate():
    """A non-USD round without dollars is one the rate table cannot convert (else it was missed)."""
    rates = load_fx_rates()
    rounds = read_table(config.DATASET_FILES["funding_rounds"], "funding_rounds")
    open_ = rounds[rounds["raised_amount_usd"].isna() & rounds["raised_amount"].notna()]
    got = to_usd(open_["raised_amount"], open_["raised_amount_currency"], open_["announced_on"], rates)
    assert np.isnan(got.usd).all(), list(open_.loc[~np.isnan(got.usd), "round_id"])
