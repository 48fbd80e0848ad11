"""The ticker universe of the market sections (``data/tickers.csv``), validated."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.errors import MarketDataError

TICKERS_PATH = config.DATA_DIR / "tickers.csv"


def load_tickers(path: os.PathLike | str | None = None) -> pd.DataFrame:
    """The validated ticker universe (``data/tickers.csv``) with boolean flag columns.

    Raises
    ------
    DataValidationError
        The file fails its schema (every problem reported).
    MarketDataError
        The file does not exist.
    """
    from analysis.data.tables import read_table  # pandera is imported only when the file is read

    path = Path(path) if path is not None else TICKERS_PATH
    if not path.exists():
        raise MarketDataError(f"ticker list not found: {config.display_path(path)}")
    table = read_table(path, "tickers")
    return table.assign(
        is_benchmark=table["is_benchmark"].eq("true"),
        llm_exposed=table["llm_exposed"].map({"true": True, "false": False}).astype("boolean"),
    )
