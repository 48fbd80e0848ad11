"""One pandera schema per curated dataset: strict (no unknown columns), coercing, validated lazily.

The same schemas back the loaders and ``aibubble validate``, so a file that a notebook reads has
passed exactly the checks the CLI reports.
"""

from __future__ import annotations

import pandas as pd
import pandera.extensions
import pandera.pandas as pa

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


# Schemas are pandera DataFrameSchema objects rather than DataFrameModel classes: building a
# model's schema goes through pandera's typing layer, which imports dask.dataframe (0.5 s in every
# notebook kernel) just to learn that the model is not a dask one.


def _text(min_length: int = 1, **options) -> pa.Column:
    """Text of at least ``min_length`` characters (non-empty by default)."""
    return pa.Column(str, pa.Check.str_length(min_value=min_length), **options)


def _optional_text() -> pa.Column:
    """Free text that may be empty (notes, investor lists)."""
    return pa.Column(str, nullable=True)


def _one_of(values, **options) -> pa.Column:
    return pa.Column(str, pa.Check.isin(list(values)), **options)


def _matching(pattern: str, **options) -> pa.Column:
    return pa.Column(str, pa.Check.str_matches(pattern), **options)


def _date(*checks, **options) -> pa.Column:
    return pa.Column(pd.Timestamp, list(checks), **options)


def _number(*checks, **options) -> pa.Column:
    return pa.Column(float, list(checks), **options)


def _row_check(name: str, error: str, check) -> pa.Check:
    """A check over whole rows; ``name`` is what ``aibubble validate`` reports as the failed check."""
    return pa.Check(check, name=name, error=error)


def _schema(name: str, columns: dict[str, pa.Column], checks=()) -> pa.DataFrameSchema:
    """Strict (no unknown columns) and coercing, as every curated file is read."""
    return pa.DataFrameSchema(columns, checks=list(checks), name=name, strict=True, coerce=True)


def _sourced(name: str, columns: dict[str, pa.Column], checks=(), *, undated_pages: bool = False) -> pa.DataFrameSchema:
    """A schema whose rows carry provenance: the page's URL, title, date and publisher. ``undated_pages``:
    the file may cite a page with no date (such rows say so in notes)."""
    provenance = {
        "source_url": _matching(URL_PATTERN),
        "source_title": _text(),
        "source_date": _date(nullable=undated_pages),
        "source_publisher": _text(),
    }
    return _schema(name, {**provenance, **columns}, checks)


ISO_COUNTRY = r"^[A-Z]{2}$"
ISO_CURRENCY = r"^[A-Z]{3}$"

FundingRounds = _sourced("FundingRounds", {
    "round_id": _matching(r"^[a-z0-9][a-z0-9_.-]*$", unique=True),
    "org_name": _text(),
    "domain": _one_of(DOMAIN_IDS, nullable=True),
    "investment_type": _one_of(INVESTMENT_TYPES),
    "announced_on": _date(pa.Check.ge(pd.Timestamp("2010-01-01"))),
    "raised_amount_usd": _number(pa.Check.ge(0), nullable=True),
    "raised_amount": _number(pa.Check.ge(0), nullable=True),
    "raised_amount_currency": _matching(ISO_CURRENCY, nullable=True),
    "post_money_valuation_usd": _number(pa.Check.gt(0), nullable=True),
    "lead_investors": _optional_text(),
    "other_investors": _optional_text(),
    "confidence": _one_of(CONFIDENCE),
    "notes": _optional_text(),
    # Data model v2 (issue #15). Optional columns, so ledgers written before v2 (and exports
    # imported by older versions) still load: the loader derives them from investment_type.
    # The bundled ledger must carry them (analysis.data.datamodel checks that).
    "money_type": _one_of(MONEY_TYPES, required=False),
    "stage": _one_of(STAGES, required=False),
    "announced_total_usd": _number(pa.Check.ge(0), nullable=True, required=False),
    # HQ country of the raising company as the vendor export states it (importers write it;
    # the curated ledger keeps countries in companies.csv, which wins where both exist).
    "country": _matching(ISO_COUNTRY, nullable=True, required=False),
})

Companies = _sourced("Companies", {
    "name": _text(unique=True),
    "domain": _one_of(DOMAIN_IDS),
    "llm_dependency": _one_of(["core", "partial", "none"]),
    "country": _matching(ISO_COUNTRY, nullable=True),
    "founded_year": pa.Column(pd.Int64Dtype(), [pa.Check.ge(1900), pa.Check.not_after_year(years_ahead=0)],
                              nullable=True),
    "description": _text(),
    "ticker": _optional_text(),
    "notes": _optional_text(),
})

Investors = _sourced("Investors", {
    "name": _text(unique=True),
    "investor_type": _one_of(INVESTOR_TYPES),
    "notes": _optional_text(),
})

LabFinancials = _sourced("LabFinancials", {
    "company": _text(),
    "metric": _one_of(["annualized_run_rate", "annual_revenue", "projected_annual_revenue"]),
    # Empty only for a figure in another currency with no official rate near its date (v2).
    "value_usd": _number(pa.Check.gt(0), nullable=True),
    # v2: the original amount and currency when not USD, and when the figure became public.
    "value": _number(pa.Check.gt(0), nullable=True, required=False),
    "currency": _matching(ISO_CURRENCY, nullable=True, required=False),
    "published_on": _date(nullable=True, required=False),
    "period_end": _date(nullable=True),
    "as_of_date": _date(),
    "confidence": _one_of(CONFIDENCE),
    "notes": _optional_text(),
})

# Figures taken from public SEC-derived datasets carry no release date of their own; those rows
# say which filing they come from in ``notes``.
HyperscalerFinancials = _sourced("HyperscalerFinancials", {
    "company": _text(),
    "ticker": _one_of(["MSFT", "GOOGL", "AMZN", "META", "ORCL"]),
    # A fiscal year can run one ahead of the calendar (Microsoft's FY2026 starts in July 2025).
    "fiscal_year": pa.Column(int, [pa.Check.ge(2018), pa.Check.not_after_year(years_ahead=1)]),
    "fiscal_quarter": pa.Column(int, pa.Check.isin([1, 2, 3, 4])),
    "calendar_year": pa.Column(int, [pa.Check.ge(2018), pa.Check.not_after_year(years_ahead=0)]),
    "calendar_quarter": pa.Column(int, pa.Check.isin([1, 2, 3, 4])),
    "period_end": _date(),
    "capex_usd": _number(pa.Check.ge(0), nullable=True),
    # Property and equipment acquired under finance leases (Amazon, Meta, Microsoft report it).
    "finance_lease_additions_usd": _number(pa.Check.ge(0), nullable=True),
    "revenue_usd": _number(pa.Check.gt(0), nullable=True),
    "operating_cash_flow_usd": _number(nullable=True),
    "notes": _optional_text(),
}, undated_pages=True)

# Undated relay pages leave the date empty (their notes say so); such a row never supersedes a
# dated report of the same publisher and year (spending.published_totals).
MarketTotals = _sourced("MarketTotals", {
    "publisher": _text(),
    "metric": _matching(r"^[a-z0-9_]+$"),
    "scope": _text(),
    "period": _text(min_length=4),  # a label; start/end are authoritative
    "period_start": _date(),
    "period_end": _date(),
    "value": _number(pa.Check.ge(0)),
    "unit": _one_of(["usd", "fraction"]),
    "definition": _optional_text(),
    "notes": _optional_text(),
}, [
    _row_check("period_is_ordered", "period_end is before period_start",
               lambda df: df["period_end"] >= df["period_start"]),
    _row_check("fractions_are_shares", "a fraction must lie in [0, 1]",
               lambda df: (df["unit"] != "fraction") | (df["value"] <= 1)),
], undated_pages=True)


SCHEMAS: dict[str, pa.DataFrameSchema] = {
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

#: The listed-company universe of the market sections (one row per Yahoo Finance symbol).
#: 9 of the pages describing a company's AI exposure carry no date (undated: the row's notes say so).
Tickers = _sourced("Tickers", {
    "ticker": _matching(TICKER_PATTERN, unique=True),
    "name": _text(),
    "exchange": _text(),
    "segment": _one_of(TICKER_SEGMENTS),
    # "true"/"false" as written in the CSV (pandas cannot coerce text to bool); the market loader
    # converts. Empty for benchmarks: an index fund is neither LLM-exposed nor not.
    "llm_exposed": _one_of(["true", "false"], nullable=True),
    "exposure_grade": _one_of(["high", "medium", "low"]),
    "rationale": _text(),
    "is_benchmark": _one_of(["true", "false"]),
    # First valid date where the earlier history is a predecessor's (SPAC shell, tracking stock,
    # pre-uplisting trades); empty when the whole history is the company's. Reason and source in notes.
    # Optional, so a user's own ticker list without the column still validates.
    "start_date": _date(nullable=True, required=False),
    "notes": _optional_text(),
}, [
    _row_check("benchmark_flag_matches_segment", "segment 'benchmark' and is_benchmark must agree",
               lambda df: (df["segment"] == "benchmark") == (df["is_benchmark"] == "true")),
], undated_pages=True)
SCHEMAS["tickers"] = Tickers

#: Official daily exchange rates (Federal Reserve H.10) used to put non-USD rounds in dollars.
FxRates = _sourced("FxRates", {
    "date": _date(),
    "currency": _matching(ISO_CURRENCY),
    "rate": _number(pa.Check.gt(0)),
    # H.10 quotes most currencies per US dollar, and the euro, pound, Australian and New Zealand
    # dollars in US dollars per unit; the rate is kept exactly as printed.
    "quote": _one_of(["per_usd", "usd_per_unit"]),
    "notes": _optional_text(),
}, [
    _row_check("one_rate_per_day", "more than one rate for a currency and date",
               lambda df: ~df.duplicated(["date", "currency"], keep=False)),
])
SCHEMAS["fx_rates"] = FxRates


#: Kinds of historical reference point in ``data/reference_points.csv``.
REFERENCE_CATEGORIES = ["valuation_multiple", "capex", "drawdown", "supplier_exposure", "runup_rule", "other"]
REFERENCE_UNITS = ["ratio", "fraction", "usd", "percent", "percent_points", "count"]


def _range_is_ordered(df: pd.DataFrame) -> pd.Series:
    ordered = df["low"].isna() | df["high"].isna() | (df["low"] <= df["high"])
    above = df["value"].isna() | df["low"].isna() | (df["value"] >= df["low"])
    below = df["value"].isna() | df["high"].isna() | (df["value"] <= df["high"])
    return ordered & above & below


def _fractions_are_bounded(df: pd.DataFrame) -> pd.Series:
    v = df[["value", "low", "high"]]
    return (df["unit"] != "fraction") | ((v.abs() <= 1) | v.isna()).all(axis=1)


#: Sourced historical yardsticks (dot-com and 2021 valuations, telecom capex, drawdowns, supplier
#: exposure, the Greenwood-Shleifer-You run-up rule) that the verdict and stress sections compare with.
ReferencePoints = _sourced("ReferencePoints", {
    "id": _matching(r"^[a-z0-9]+(_[a-z0-9]+)*$", unique=True),
    "category": _one_of(REFERENCE_CATEGORIES),
    "subject": _text(),
    "metric": _text(),
    "value": _number(nullable=True),
    "unit": _one_of(REFERENCE_UNITS),
    "period": _text(min_length=4),
    "low": _number(nullable=True),
    "high": _number(nullable=True),
    "definition": _text(),
    "notes": _optional_text(),
}, [
    _row_check("has_value_or_range", "a reference point needs a value or a low-high range",
               lambda df: df["value"].notna() | (df["low"].notna() & df["high"].notna())),
    _row_check("range_is_ordered", "low is above high, or the value lies outside low-high", _range_is_ordered),
    _row_check("fractions_are_bounded", "a fraction must lie in [-1, 1]", _fractions_are_bounded),
], undated_pages=True)
SCHEMAS["reference_points"] = ReferencePoints
# --------------------------------------------------------------------------------------------
# Data model v2 (issue #15): publishers, relationships, regions, Epoch AI models
# --------------------------------------------------------------------------------------------

#: Every publisher the data cites, with its tier (primary / tier1 / secondary).
Publishers = _schema("Publishers", {
    "publisher": _text(unique=True),
    "tier": _one_of(PUBLISHER_TIERS),
    "outlet": _text(),
    "notes": _optional_text(),
})

#: Investor-company relationships that change what a round means (parent, supplier...).
Relationships = _sourced("Relationships", {
    "investor": _text(),
    "company": _text(),
    "relationship": _one_of(RELATIONSHIPS),
    "from_date": _date(nullable=True),
    "to_date": _date(nullable=True),
    "notes": _optional_text(),
}, [
    _row_check("dates_are_ordered", "to_date is before from_date",
               lambda df: df["to_date"].isna() | df["from_date"].isna() | (df["to_date"] >= df["from_date"])),
    _row_check("one_row_per_relationship", "the same investor, company and relationship twice",
               lambda df: ~df.duplicated(["investor", "company", "relationship", "from_date"], keep=False)),
])

#: ISO 3166-1 alpha-2 country code -> region of the analyses.
Regions = _schema("Regions", {
    "country": _matching(ISO_COUNTRY, unique=True),
    "region": _one_of(REGIONS),
    "name": _text(),
})

#: Notable AI models from Epoch AI's databases (CC BY 4.0), one row per model.
Models = _schema("Models", {
    "model": _text(),
    "organization": _optional_text(),
    "publication_date": _date(pa.Check.ge(pd.Timestamp("1940-01-01"))),
    "domain": _optional_text(),
    "task": _optional_text(),
    "parameters": _number(pa.Check.gt(0), nullable=True),
    "training_compute_flop": _number(pa.Check.gt(0), nullable=True),
    "training_cost_usd": _number(pa.Check.ge(0), nullable=True),
    "country": _optional_text(),
    "accessibility": _optional_text(),
    "open_weights": _one_of(["true", "false"], nullable=True),
    "source": _text(),
}, [
    _row_check("one_row_per_model", "the same model, organization and date twice",
               lambda df: ~df.duplicated(["model", "organization", "publication_date"], keep=False)),
])

SCHEMAS["publishers"] = Publishers
SCHEMAS["relationships"] = Relationships
SCHEMAS["regions"] = Regions
SCHEMAS["models"] = Models
