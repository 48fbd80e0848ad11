"""yfinance answers -> tidy frames, checked against the shapes the library really returns."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from analysis.data.market.common import FUNDAMENTAL_COLUMNS, PRICE_COLUMNS


class ShapeError(ValueError):
    """A frame whose columns, index or values are not what the source documents."""


def _flatten_columns(raw: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """One ticker's columns from a yfinance frame of any of its layouts.

    ``yfinance.download`` returns MultiIndex columns (Price, Ticker) even for one ticker
    (group_by="ticker" swaps the levels); ``Ticker.history`` and ``multi_level_index=False``
    return flat columns.
    """
    cols = raw.columns
    if not isinstance(cols, pd.MultiIndex):
        return raw
    if cols.nlevels != 2:
        raise ShapeError(f"expected 2 column levels (Price, Ticker), got {cols.nlevels}")
    fields = {"open", "high", "low", "close", "adj close", "volume", "dividends", "stock splits",
              "capital gains", "repaired?"}
    names = [str(n).lower() if n is not None else "" for n in cols.names]
    if "price" in names:  # yfinance names the levels; trust the names first (LOW and OPEN are tickers)
        price_level = names.index("price")
    else:
        level_is_price = [all(str(v).lower() in fields for v in cols.get_level_values(i)) for i in (0, 1)]
        if level_is_price[0] == level_is_price[1]:
            raise ShapeError(f"cannot tell the price level from the ticker level in {list(cols)[:4]}")
        price_level = 0 if level_is_price[0] else 1
    ticker_level = 1 - price_level
    symbols = list(dict.fromkeys(str(v) for v in cols.get_level_values(ticker_level)))
    if ticker.upper() in (s.upper() for s in symbols):
        chosen = next(s for s in symbols if s.upper() == ticker.upper())
    elif len(symbols) == 1:
        # yfinance renames ISIN requests to the symbol it resolved; one symbol is unambiguous.
        chosen = symbols[0]
    else:
        raise ShapeError(f"{ticker} not among the frame's tickers {symbols}")
    return raw.xs(chosen, axis=1, level=ticker_level)


def _daily_index(index: pd.Index) -> pd.DatetimeIndex:
    if not isinstance(index, pd.DatetimeIndex):
        try:
            index = pd.DatetimeIndex(pd.to_datetime(index))
        except (ValueError, TypeError) as exc:
            raise ShapeError(f"index is not dates ({exc})") from None
    if index.tz is not None:
        # A daily bar is stamped at local midnight of its exchange; its local date is the day.
        index = index.tz_localize(None)
    return index.normalize()


def tidy_prices(raw: Any, ticker: str, *, auto_adjust: bool = True) -> tuple[pd.DataFrame, str]:
    """One ticker's daily prices from a yfinance frame, checked for its real shape.

    Parameters
    ----------
    raw : DataFrame
        As ``yfinance.download`` (MultiIndex columns (Price, Ticker)) or ``Ticker.history``
        (flat columns, tz-aware index) return it.
    ticker : str
    auto_adjust : bool
        How ``raw`` was requested. With ``auto_adjust=True`` ``Close`` is adjusted for splits and
        dividends and there is no ``Adj Close``; with ``False`` ``Adj Close`` is preferred.

    Returns
    -------
    frame : DataFrame
        Columns ``date`` (datetime64[ns], unique, ascending), ``open``, ``high``, ``low``,
        ``close`` (> 0, finite), ``volume`` (float; NaN where absent or not finite). Rows
        without a close are dropped (yfinance pads a ticker with NaN rows on other tickers'
        trading days).
    adjustment : str
        ``"splits_dividends"`` or ``"splits"`` (Yahoo's unadjusted Close is split-adjusted).

    Raises
    ------
    ShapeError
        Not a DataFrame, no usable close column, non-date index or non-positive prices.
    """
    if not isinstance(raw, pd.DataFrame):
        raise ShapeError(f"expected a DataFrame, got {type(raw).__name__}")
    flat = _flatten_columns(raw, ticker)
    by_name = {str(c).strip().lower(): c for c in flat.columns}
    if not auto_adjust and "adj close" in by_name and flat[by_name["adj close"]].notna().any():
        close_col, adjustment = by_name["adj close"], "splits_dividends"
    elif "close" in by_name:
        close_col = by_name["close"]
        adjustment = "splits_dividends" if auto_adjust else "splits"
    elif "adj close" in by_name:
        close_col, adjustment = by_name["adj close"], "splits_dividends"
    else:
        raise ShapeError(f"no Close or Adj Close column (columns: {[str(c) for c in flat.columns]})")
    index = _daily_index(flat.index)
    out = pd.DataFrame({"date": index.astype("datetime64[ns]")})
    for name in PRICE_COLUMNS:
        source = close_col if name == "close" else by_name.get(name)
        values = pd.to_numeric(pd.Series(flat[source].to_numpy(), dtype=object), errors="coerce") \
            if source is not None else pd.Series(np.nan, index=range(len(flat)))
        out[name] = values.to_numpy(dtype="float64")
    out = out[out["close"].notna()]
    if (out["close"] <= 0).any():
        bad = out.loc[out["close"] <= 0, "date"].iloc[0].date()
        raise ShapeError(f"non-positive close on {bad}")
    if np.isinf(out["close"]).any():
        bad = out.loc[np.isinf(out["close"]), "date"].iloc[0].date()
        raise ShapeError(f"infinite close on {bad}")
    for name in ("open", "high", "low", "volume"):  # optional fields: an impossible value is no value
        out[name] = out[name].where(np.isfinite(out[name]))
    out = out.drop_duplicates("date", keep="last").sort_values("date").reset_index(drop=True)
    return out, adjustment


_FUNDAMENTAL_ROWS = {
    # tidy column: Yahoo line items in order of preference (quarterly statements)
    "revenue_usd": ("Total Revenue", "Operating Revenue", "TotalRevenue"),
    "capex_usd": ("Capital Expenditure", "CapitalExpenditure"),
    "operating_cash_flow_usd": ("Operating Cash Flow", "Cash Flow From Continuing Operating Activities",
                                "OperatingCashFlow"),
    "free_cash_flow_usd": ("Free Cash Flow", "FreeCashFlow"),
    "shares_outstanding": ("Ordinary Shares Number", "Share Issued", "Diluted Average Shares",
                           "Basic Average Shares", "OrdinarySharesNumber"),
}


def tidy_fundamentals(statements: Sequence[Any]) -> pd.DataFrame:
    """Quarterly fundamentals from Yahoo statement frames (line items x period-end columns).

    Parameters
    ----------
    statements : sequence of DataFrame
        ``Ticker.quarterly_cashflow``, ``quarterly_income_stmt``, ``quarterly_balance_sheet``:
        index = line items ("Capital Expenditure", "Total Revenue", ...), columns = period ends.

    Returns
    -------
    DataFrame
        One row per quarter: ``period_end`` and :data:`FUNDAMENTAL_COLUMNS`. ``capex_usd`` is
        spending as a positive number (Yahoo reports the cash outflow as negative). Values are in
        the company's reporting currency, which Yahoo labels USD only for US filers (TSM: TWD).
    """
    found: dict[str, pd.Series] = {}
    for frame in statements:
        if frame is None:
            continue
        if not isinstance(frame, pd.DataFrame):
            raise ShapeError(f"statement is a {type(frame).__name__}, not a DataFrame")
        if frame.empty:
            continue
        try:
            periods = _daily_index(pd.Index(frame.columns))
        except ShapeError as exc:
            raise ShapeError(f"statement columns are not period-end dates ({exc})") from None
        for column, names in _FUNDAMENTAL_ROWS.items():
            if column in found:
                continue
            for name in names:
                if name in frame.index:
                    row = frame.loc[name]
                    if isinstance(row, pd.DataFrame):
                        row = row.iloc[0]
                    values = pd.to_numeric(pd.Series(row.to_numpy(), index=periods), errors="coerce")
                    if values.notna().any():
                        found[column] = values
                        break
    if not found:
        return pd.DataFrame(columns=["period_end", *FUNDAMENTAL_COLUMNS])
    table = pd.DataFrame(found)
    table = table[~table.index.duplicated(keep="first")].sort_index()
    table = table.reindex(columns=list(FUNDAMENTAL_COLUMNS)).astype("float64")
    table = table.where(np.isfinite(table))  # an infinite line item is no figure at all
    table["capex_usd"] = table["capex_usd"].abs()
    table = table.dropna(how="all")
    table.index = table.index.astype("datetime64[ns]")
    return table.rename_axis("period_end").reset_index()

