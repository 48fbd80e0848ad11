"""One pandera schema per curated dataset: strict (no unknown columns), coercing, validated lazily.

The same schemas back the loaders and ``aibubble validate``, so a file that a notebook reads has
passed exactly the checks the CLI reports.
"""

from __future__ import annotations

from typing import Optional

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from analysis.data.taxonomy import load_taxonomy
from analysis.data.vocabulary import (  # noqa: F401 (re-exported: the schemas' vocabulary)
    CONFIDENCE, INVESTMENT_TYPES, INVESTOR_TYPES, ISO_DATE_PATTERN, NOT_NEW_EQUITY, URL_PATTERN)

DOMAIN_IDS = list(load_taxonomy().ids)


class _Sourced(pa.DataFrameModel):
    """Provenance columns that every curated row carries."""

    source_url: Series[str] = pa.Field(str_matches=URL_PATTERN)
    source_title: Series[str] = pa.Field(str_length={"min_value": 1})
    source_date: Series[pd.Timestamp] = pa.Field()

    class Config:
        strict = True
        coerce = True


class FundingRounds(_Sourced):
    round_id: Series[str] = pa.Field(unique=True, str_matches=r"^[a-z0-9][a-z0-9_.-]*$")
    org_name: Series[str] = pa.Field(str_length={"min_value": 1})
    domain: Series[str] = pa.Field(nullable=True, isin=DOMAIN_IDS)
    investment_type: Series[str] = pa.Field(isin=INVESTMENT_TYPES)
    announced_on: Series[pd.Timestamp] = pa.Field(ge=pd.Timestamp("2010-01-01"))
    raised_amount_usd: Series[float] = pa.Field(nullable=True, ge=0)
    raised_amount: Series[float] = pa.Field(nullable=True, ge=0)
    raised_amount_currency: Series[str] = pa.Field(nullable=True, str_matches=r"^[A-Z]{3}$")
    post_money_valuation_usd: Series[float] = pa.Field(nullable=True, gt=0)
    lead_investors: Series[str] = pa.Field(nullable=True)
    other_investors: Series[str] = pa.Field(nullable=True)
    source_publisher: Series[str] = pa.Field(str_length={"min_value": 1})
    confidence: Series[str] = pa.Field(isin=CONFIDENCE)
    notes: Series[str] = pa.Field(nullable=True)


class Companies(_Sourced):
    name: Series[str] = pa.Field(unique=True, str_length={"min_value": 1})
    domain: Series[str] = pa.Field(isin=DOMAIN_IDS)
    llm_dependency: Series[str] = pa.Field(isin=["core", "partial", "none"])
    country: Series[str] = pa.Field(nullable=True, str_matches=r"^[A-Z]{2}$")
    founded_year: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=1900, le=2026)
    description: Series[str] = pa.Field(str_length={"min_value": 1})
    ticker: Series[str] = pa.Field(nullable=True)
    notes: Series[str] = pa.Field(nullable=True)
    source_publisher: Series[str] = pa.Field(str_length={"min_value": 1})


class Investors(_Sourced):
    name: Series[str] = pa.Field(unique=True, str_length={"min_value": 1})
    investor_type: Series[str] = pa.Field(isin=INVESTOR_TYPES)
    source_publisher: Series[str] = pa.Field(str_length={"min_value": 1})
    notes: Series[str] = pa.Field(nullable=True)


class LabFinancials(_Sourced):
    company: Series[str] = pa.Field(str_length={"min_value": 1})
    metric: Series[str] = pa.Field(isin=["annualized_run_rate", "annual_revenue", "projected_annual_revenue"])
    value_usd: Series[float] = pa.Field(gt=0)
    period_end: Series[pd.Timestamp] = pa.Field(nullable=True)
    as_of_date: Series[pd.Timestamp] = pa.Field()
    source_publisher: Series[str] = pa.Field(str_length={"min_value": 1})
    confidence: Series[str] = pa.Field(isin=CONFIDENCE)
    notes: Series[str] = pa.Field(nullable=True)


class HyperscalerFinancials(_Sourced):
    # Figures taken from public SEC-derived datasets carry no release date of their own;
    # those rows say which filing they come from in ``notes``.
    source_date: Series[pd.Timestamp] = pa.Field(nullable=True)
    company: Series[str] = pa.Field(str_length={"min_value": 1})
    ticker: Series[str] = pa.Field(isin=["MSFT", "GOOGL", "AMZN", "META", "ORCL"])
    fiscal_year: Series[int] = pa.Field(ge=2018, le=2027)
    fiscal_quarter: Series[int] = pa.Field(isin=[1, 2, 3, 4])
    calendar_year: Series[int] = pa.Field(ge=2018, le=2026)
    calendar_quarter: Series[int] = pa.Field(isin=[1, 2, 3, 4])
    period_end: Series[pd.Timestamp] = pa.Field()
    capex_usd: Series[float] = pa.Field(nullable=True, ge=0)
    revenue_usd: Series[float] = pa.Field(nullable=True, gt=0)
    operating_cash_flow_usd: Series[float] = pa.Field(nullable=True)
    source_publisher: Series[str] = pa.Field(str_length={"min_value": 1})
    notes: Series[str] = pa.Field(nullable=True)


class MarketTotals(_Sourced):
    publisher: Series[str] = pa.Field(str_length={"min_value": 1})
    metric: Series[str] = pa.Field(str_matches=r"^[a-z0-9_]+$")
    scope: Series[str] = pa.Field(str_length={"min_value": 1})
    period: Series[str] = pa.Field(str_length={"min_value": 4})  # a label; start/end are authoritative
    period_start: Series[pd.Timestamp] = pa.Field()
    period_end: Series[pd.Timestamp] = pa.Field()
    value: Series[float] = pa.Field(ge=0)
    unit: Series[str] = pa.Field(isin=["usd", "fraction"])
    definition: Series[str] = pa.Field(nullable=True)
    source_publisher: Series[str] = pa.Field(str_length={"min_value": 1})
    notes: Series[str] = pa.Field(nullable=True)

    @pa.dataframe_check(error="period_end is before period_start")
    def period_is_ordered(cls, df: pd.DataFrame) -> pd.Series:
        return df["period_end"] >= df["period_start"]

    @pa.dataframe_check(error="a fraction must lie in [0, 1]")
    def fractions_are_shares(cls, df: pd.DataFrame) -> pd.Series:
        return (df["unit"] != "fraction") | (df["value"] <= 1)


SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "funding_rounds": FundingRounds,
    "companies": Companies,
    "investors": Investors,
    "lab_financials": LabFinancials,
    "hyperscaler_financials": HyperscalerFinancials,
    "market_totals": MarketTotals,
}


#: Market segments of ``data/tickers.csv``; ``benchmark`` rows are the comparison ETFs/indices.
TICKER_SEGMENTS = [
    "hyperscaler", "ai_chips", "ai_infrastructure_supplier", "neocloud", "llm_applications",
    "ai_drug_discovery", "chemistry_materials", "audio_speech", "image_video",
    "robotics_automation", "autonomous_driving", "healthcare_ai", "benchmark",
]
#: Yahoo Finance symbols: letters, digits, class/exchange suffixes (BRK-B, 0700.HK), ^ for indices.
TICKER_PATTERN = r"^\^?[A-Z0-9][A-Z0-9.=-]*$"


class Tickers(_Sourced):
    """The listed-company universe of the market sections (one row per Yahoo Finance symbol)."""

    # 9 of the pages describing a company's AI exposure carry no date (undated: the row's notes say so).
    source_date: Series[pd.Timestamp] = pa.Field(nullable=True)
    ticker: Series[str] = pa.Field(unique=True, str_matches=TICKER_PATTERN)
    name: Series[str] = pa.Field(str_length={"min_value": 1})
    exchange: Series[str] = pa.Field(str_length={"min_value": 1})
    segment: Series[str] = pa.Field(isin=TICKER_SEGMENTS)
    # "true"/"false" as written in the CSV (pandas cannot coerce text to bool); the market loader
    # converts. Empty for benchmarks: an index fund is neither LLM-exposed nor not.
    llm_exposed: Series[str] = pa.Field(nullable=True, isin=["true", "false"])
    exposure_grade: Series[str] = pa.Field(isin=["high", "medium", "low"])
    rationale: Series[str] = pa.Field(str_length={"min_value": 1})
    is_benchmark: Series[str] = pa.Field(isin=["true", "false"])
    # First valid date where the earlier history is a predecessor's (SPAC shell, tracking stock,
    # pre-uplisting trades); empty when the whole history is the company's. Reason and source in notes.
    # Optional, so a user's own ticker list without the column still validates.
    start_date: Optional[Series[pd.Timestamp]] = pa.Field(nullable=True)
    source_publisher: Series[str] = pa.Field(str_length={"min_value": 1})
    notes: Series[str] = pa.Field(nullable=True)

    @pa.dataframe_check(error="segment 'benchmark' and is_benchmark must agree")
    def benchmark_flag_matches_segment(cls, df: pd.DataFrame) -> pd.Series:
        return (df["segment"] == "benchmark") == (df["is_benchmark"] == "true")


SCHEMAS["tickers"] = Tickers


class FxRates(_Sourced):
    """Official daily exchange rates (Federal Reserve H.10) used to put non-USD rounds in dollars."""

    date: Series[pd.Timestamp] = pa.Field()
    currency: Series[str] = pa.Field(str_matches=r"^[A-Z]{3}$")
    rate: Series[float] = pa.Field(gt=0)
    # H.10 quotes most currencies per US dollar, and the euro, pound, Australian and New Zealand
    # dollars in US dollars per unit; the rate is kept exactly as printed.
    quote: Series[str] = pa.Field(isin=["per_usd", "usd_per_unit"])
    source_publisher: Series[str] = pa.Field(str_length={"min_value": 1})
    notes: Series[str] = pa.Field(nullable=True)

    @pa.dataframe_check(error="more than one rate for a currency and date")
    def one_rate_per_day(cls, df: pd.DataFrame) -> pd.Series:
        return ~df.duplicated(["date", "currency"], keep=False)


SCHEMAS["fx_rates"] = FxRates
