"""Non-USD round amounts in US dollars at the announcement date, from official daily rates.

The ledger keeps the amount a source states in its own currency (``raised_amount`` and
``raised_amount_currency``). When no source gives a dollar figure, the dollar amount is that
amount at the Federal Reserve's H.10 noon buying rate of the announcement day (or the last
business day before it), from ``data/fx_rates.csv``; the row's notes name the rate used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config
from analysis.data.tables import read_table
from analysis.errors import ParameterError

#: The longest gap between an announcement and the rate used (a long holiday weekend is 4 days).
MAX_RATE_GAP_DAYS = 7


@dataclass(frozen=True)
class Conversion:
    """Dollar amounts and the rate behind each (NaN / NaT where no rate was close enough).

    Attributes
    ----------
    usd : numpy.ndarray
        ``amount`` in US dollars.
    usd_per_unit : numpy.ndarray
        Dollars per unit of the currency.
    rate_date : pandas.DatetimeIndex
        The business day whose rate was used.
    """

    usd: np.ndarray
    usd_per_unit: np.ndarray
    rate_date: pd.DatetimeIndex

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame({"usd": self.usd, "usd_per_unit": self.usd_per_unit, "rate_date": self.rate_date})


def load_fx_rates(path: Path | str | None = None) -> pd.DataFrame:
    """The bundled (or given) rate table, validated, with ``usd_per_unit`` added."""
    rates = read_table(path or config.DATASET_FILES["fx_rates"], "fx_rates")
    per_unit = np.where(rates["quote"] == "usd_per_unit", rates["rate"], 1.0 / rates["rate"])
    return rates.assign(usd_per_unit=per_unit)


def to_usd(amount, currency, on, rates: pd.DataFrame, *, max_gap_days: int = MAX_RATE_GAP_DAYS) -> Conversion:
    """Convert ``amount`` (in ``currency``) to US dollars at the rate of day ``on``.

    Each amount uses its currency's latest rate on or before its date, at most ``max_gap_days``
    earlier (a rate from after the announcement would look ahead). USD amounts pass through.
    """
    if max_gap_days < 0:
        raise ParameterError(f"max_gap_days must be >= 0, got {max_gap_days}")
    # One dtype per key on both sides (merge_asof refuses object vs string, ns vs us).
    frame = pd.DataFrame({"amount": pd.to_numeric(pd.Series(amount), errors="coerce").to_numpy(dtype=float),
                          "currency": pd.Series(np.asarray(currency, dtype=object)).astype(str),
                          "on": pd.to_datetime(pd.Series(np.asarray(on))).astype("datetime64[ns]")})
    frame["order"] = np.arange(len(frame))
    table = pd.DataFrame({"currency": rates["currency"].astype(str).to_numpy(),
                          "rate_date": pd.to_datetime(rates["date"]).astype("datetime64[ns]").to_numpy(),
                          "usd_per_unit": rates["usd_per_unit"].to_numpy(dtype=float)}).sort_values("rate_date")
    matched = pd.merge_asof(frame.sort_values("on"), table, left_on="on", right_on="rate_date", by="currency",
                            direction="backward", tolerance=pd.Timedelta(days=max_gap_days)).sort_values("order")
    is_usd = (matched["currency"] == "USD").to_numpy()
    per_unit = np.where(is_usd, 1.0, matched["usd_per_unit"].to_numpy(dtype=float))
    rate_date = pd.DatetimeIndex(np.where(is_usd, matched["on"], matched["rate_date"]))
    return Conversion(usd=matched["amount"].to_numpy(dtype=float) * per_unit, usd_per_unit=per_unit,
                      rate_date=rate_date)


#: How a converted ledger row says so in its notes (the test of the bundled ledger parses it).
CONVERTED_NOTE = ("USD at the Federal Reserve H.10 rate of {rate_date} ({usd_per_unit:.6f} USD per {currency}, "
                  "data/fx_rates.csv); no source gives a dollar figure")
CONVERTED_MARK = "USD at the Federal Reserve H.10 rate of "
#: Rounds converted at the European Central Bank's euro reference rate (USD per EUR as printed,
#: so ``quote`` is ``usd_per_unit``) where no H.10 release was in reach (data model v2).
ECB_CONVERTED_NOTE = ("USD at the European Central Bank reference rate of {rate_date} ({usd_per_unit:.6f} USD per EUR, "
                      "data/fx_rates.csv); no source gives a dollar figure")
ECB_CONVERTED_MARK = "USD at the European Central Bank reference rate of "
