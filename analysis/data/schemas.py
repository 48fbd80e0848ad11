"""One pandera schema per curated dataset: strict (no unknown columns), coercing, validated lazily.

The same schemas back the loaders and ``aibubble validate``, so a file that a notebook reads has
passed exactly the checks the CLI reports.
"""

from __future__ import annotations

from typing import Optional

import pandas as pd
import pandera.extensions
import pandera.pandas as pa
from pandera.typing import Series

from analysis import clock
from analysis.data.taxonomy import load_taxonomy
from analysis.data.vocabulary import (  # noqa: F401 (re-exported: the schemas' vocabulary)
    CONFIDENCE, INVESTMENT_TYPES, INVESTOR_TYPES, ISO_DATE_PATTERN, MONEY_TYPES, NOT_NEW_EQUITY, PUBLISHER_TIERS,
    REGIONS, RELATIONSHIPS, STAGES, URL_PATTERN)

DOMAIN_IDS = list(load_taxonomy().ids)


@pandera.extensions.register_check_method(statistics=["years_ahead"], check_type="element_wise")
def not_after_year(value, *, years_ahead: int) -> bool:
    """A year no later than today's (:func:`analysis.clock.today`) plus ``years_ahead``.

    Checked when a file is validated, not when this module is imported, so the bound moves
    with the calendar (a fixed "<= 2026" would reject next year's correct rows).
    """
    return value <= clock.today().year + years_ahead


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
    # Data model v2 (issue #15). Optional columns, so ledgers written before v2 (and exports
    # imported by older versions) still load: the loader derives them from investment_type.
    # The bundled ledger must carry them (analysis.data.datamodel checks that).
    money_type: Optional[Series[str]] = pa.Field(isin=MONEY_TYPES)
    stage: Optional[Series[str]] = pa.Field(isin=STAGES)
    announced_total_usd: Optional[Series[float]] = pa.Field(nullable=True, ge=0)
    # HQ country of the raising company as the vendor export states it (importers write it;
    # the curated ledger keeps countries in companies.csv, which wins where both exist).
    country: Optional[Series[str]] = pa.Field(nullable=True, str_matches=r"^[A-Z]{2}$")


class Companies(_Sourced):
    name: Series[str] = pa.Field(unique=True, str_length={"min_value": 1})
    domain: Series[str] = pa.Field(isin=DOMAIN_IDS)
    llm_dependency: Series[str] = pa.Field(isin=["core", "partial", "none"])
    country: Series[str] = pa.Field(nullable=True, str_matches=r"^[A-Z]{2}$")
    founded_year: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=1900, not_after_year={"years_ahead": 0})
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
    # Empty only for a figure in another currency with no official rate near its date (v2).
    value_usd: Series[float] = pa.Field(gt=0, nullable=True)
    # v2: the original amount and currency when not USD, and when the figure became public.
    value: Optional[Series[float]] = pa.Field(gt=0, nullable=True)
    currency: Optional[Series[str]] = pa.Field(nullable=True, str_matches=r"^[A-Z]{3}$")
    published_on: Optional[Series[pd.Timestamp]] = pa.Field(nullable=True)
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
    # A fiscal year can run one ahead of the calendar (Microsoft's FY2026 starts in July 2025).
    fiscal_year: Series[int] = pa.Field(ge=2018, not_after_year={"years_ahead": 1})
    fiscal_quarter: Series[int] = pa.Field(isin=[1, 2, 3, 4])
    calendar_year: Series[int] = pa.Field(ge=2018, not_after_year={"years_ahead": 0})
    calendar_quarter: Series[int] = pa.Field(isin=[1, 2, 3, 4])
    period_end: Series[pd.Timestamp] = pa.Field()
    capex_usd: Series[float] = pa.Field(nullable=True, ge=0)
    # Property and equipment acquired under finance leases (Amazon, Meta, Microsoft report it).
    finance_lease_additions_usd: Series[float] = pa.Field(nullable=True, ge=0)
    revenue_usd: Series[float] = pa.Field(nullable=True, gt=0)
    operating_cash_flow_usd: Series[float] = pa.Field(nullable=True)
    source_publisher: Series[str] = pa.Field(str_length={"min_value": 1})
    notes: Series[str] = pa.Field(nullable=True)


class MarketTotals(_Sourced):
    # Undated relay pages leave the date empty (their notes say so); such a row never supersedes
    # a dated report of the same publisher and year (spending.published_totals).
    source_date: Series[pd.Timestamp] = pa.Field(nullable=True)
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


#: Kinds of historical reference point in ``data/reference_points.csv``.
REFERENCE_CATEGORIES = ["valuation_multiple", "capex", "drawdown", "supplier_exposure", "runup_rule", "other"]
REFERENCE_UNITS = ["ratio", "fraction", "usd", "percent", "percent_points", "count"]


class ReferencePoints(_Sourced):
    """Sourced historical yardsticks (dot-com and 2021 valuations, telecom capex, drawdowns, supplier
    exposure, the Greenwood-Shleifer-You run-up rule) that the verdict and stress sections compare with."""

    # Undated pages leave the date empty and say so in notes.
    source_date: Series[pd.Timestamp] = pa.Field(nullable=True)
    id: Series[str] = pa.Field(unique=True, str_matches=r"^[a-z0-9]+(_[a-z0-9]+)*$")
    category: Series[str] = pa.Field(isin=REFERENCE_CATEGORIES)
    subject: Series[str] = pa.Field(str_length={"min_value": 1})
    metric: Series[str] = pa.Field(str_length={"min_value": 1})
    value: Series[float] = pa.Field(nullable=True)
    unit: Series[str] = pa.Field(isin=REFERENCE_UNITS)
    period: Series[str] = pa.Field(str_length={"min_value": 4})
    low: Series[float] = pa.Field(nullable=True)
    high: Series[float] = pa.Field(nullable=True)
    definition: Series[str] = pa.Field(str_length={"min_value": 1})
    source_publisher: Series[str] = pa.Field(str_length={"min_value": 1})
    notes: Series[str] = pa.Field(nullable=True)

    @pa.dataframe_check(error="a reference point needs a value or a low-high range")
    def has_value_or_range(cls, df: pd.DataFrame) -> pd.Series:
        return df["value"].notna() | (df["low"].notna() & df["high"].notna())

    @pa.dataframe_check(error="low is above high, or the value lies outside low-high")
    def range_is_ordered(cls, df: pd.DataFrame) -> pd.Series:
        ordered = df["low"].isna() | df["high"].isna() | (df["low"] <= df["high"])
        above = df["value"].isna() | df["low"].isna() | (df["value"] >= df["low"])
        below = df["value"].isna() | df["high"].isna() | (df["value"] <= df["high"])
        return ordered & above & below

    @pa.dataframe_check(error="a fraction must lie in [-1, 1]")
    def fractions_are_bounded(cls, df: pd.DataFrame) -> pd.Series:
        v = df[["value", "low", "high"]]
        return (df["unit"] != "fraction") | ((v.abs() <= 1) | v.isna()).all(axis=1)


SCHEMAS["reference_points"] = ReferencePoints
# --------------------------------------------------------------------------------------------
# Data model v2 (issue #15): publishers, relationships, regions, Epoch AI models
# --------------------------------------------------------------------------------------------

class Publishers(pa.DataFrameModel):
    """Every publisher the data cites, with its tier (primary / tier1 / secondary)."""

    publisher: Series[str] = pa.Field(unique=True, str_length={"min_value": 1})
    tier: Series[str] = pa.Field(isin=PUBLISHER_TIERS)
    outlet: Series[str] = pa.Field(str_length={"min_value": 1})
    notes: Series[str] = pa.Field(nullable=True)

    class Config:
        strict = True
        coerce = True


class Relationships(_Sourced):
    """Investor-company relationships that change what a round means (parent, supplier...)."""

    investor: Series[str] = pa.Field(str_length={"min_value": 1})
    company: Series[str] = pa.Field(str_length={"min_value": 1})
    relationship: Series[str] = pa.Field(isin=RELATIONSHIPS)
    from_date: Series[pd.Timestamp] = pa.Field(nullable=True)
    to_date: Series[pd.Timestamp] = pa.Field(nullable=True)
    source_publisher: Series[str] = pa.Field(str_length={"min_value": 1})
    notes: Series[str] = pa.Field(nullable=True)

    @pa.dataframe_check(error="to_date is before from_date")
    def dates_are_ordered(cls, df: pd.DataFrame) -> pd.Series:
        return df["to_date"].isna() | df["from_date"].isna() | (df["to_date"] >= df["from_date"])

    @pa.dataframe_check(error="the same investor, company and relationship twice")
    def one_row_per_relationship(cls, df: pd.DataFrame) -> pd.Series:
        return ~df.duplicated(["investor", "company", "relationship", "from_date"], keep=False)


class Regions(pa.DataFrameModel):
    """ISO 3166-1 alpha-2 country code -> region of the analyses."""

    country: Series[str] = pa.Field(unique=True, str_matches=r"^[A-Z]{2}$")
    region: Series[str] = pa.Field(isin=REGIONS)
    name: Series[str] = pa.Field(str_length={"min_value": 1})

    class Config:
        strict = True
        coerce = True


class Models(pa.DataFrameModel):
    """Notable AI models from Epoch AI's databases (CC BY 4.0), one row per model."""

    model: Series[str] = pa.Field(str_length={"min_value": 1})
    organization: Series[str] = pa.Field(nullable=True)
    publication_date: Series[pd.Timestamp] = pa.Field(ge=pd.Timestamp("1940-01-01"))
    domain: Series[str] = pa.Field(nullable=True)
    task: Series[str] = pa.Field(nullable=True)
    parameters: Series[float] = pa.Field(nullable=True, gt=0)
    training_compute_flop: Series[float] = pa.Field(nullable=True, gt=0)
    training_cost_usd: Series[float] = pa.Field(nullable=True, ge=0)
    country: Series[str] = pa.Field(nullable=True)
    accessibility: Series[str] = pa.Field(nullable=True)
    open_weights: Series[str] = pa.Field(nullable=True, isin=["true", "false"])
    source: Series[str] = pa.Field(str_length={"min_value": 1})

    class Config:
        strict = True
        coerce = True

    @pa.dataframe_check(error="the same model, organization and date twice")
    def one_row_per_model(cls, df: pd.DataFrame) -> pd.Series:
        return ~df.duplicated(["model", "organization", "publication_date"], keep=False)


SCHEMAS["publishers"] = Publishers
SCHEMAS["relationships"] = Relationships
SCHEMAS["regions"] = Regions
SCHEMAS["models"] = Models
