"""Vendor vocabularies -> the ledger's money types, stages, countries and regions (data model v2).

Crunchbase and PitchBook describe a round by its investment (deal) type and, for PitchBook, a
stage label; neither says what kind of money it was in the ledger's sense. The rules here turn
their words into ``money_type`` and ``stage`` and say, per row, when a value could not be placed
(it then becomes ``other`` and the vendor's word goes into the row's notes). The importers call
:func:`classify_rounds`; the bundled ledger was migrated with the same rules and then corrected
by hand from its sources (data/README.md, "Money types").

Country values arrive as ISO alpha-2 (ledger), alpha-3 (Crunchbase ``country_code``) or English
names (PitchBook ``HQ_COUNTRY``, Epoch AI); :func:`country_code` normalises all three.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from analysis.data.vocabulary import MONEY_TYPES, STAGES

#: Crunchbase ``investment_type`` (the ledger's vocabulary) -> money type.
MONEY_TYPE_BY_INVESTMENT_TYPE = {
    **{t: "equity_cash" for t in (
        "angel", "pre_seed", "seed", "series_a", "series_b", "series_c", "series_d", "series_e", "series_f",
        "series_g", "series_h", "series_i", "series_j", "series_k", "series_l", "series_unknown",
        "corporate_round", "private_equity", "undisclosed", "equity_crowdfunding", "post_ipo_equity")},
    "secondary_market": "secondary", "post_ipo_secondary": "secondary",
    "debt_financing": "debt", "post_ipo_debt": "debt",
    "convertible_note": "convertible",
    "grant": "grant",
    # No rule places these: money of another kind (token sales, rewards, in-kind help).
    "initial_coin_offering": "other", "product_crowdfunding": "other", "non_equity_assistance": "other",
}

#: ``investment_type`` -> stage; ``None`` = the words of the source decide (see :func:`place_stage`).
STAGE_BY_INVESTMENT_TYPE = {
    "angel": "seed", "pre_seed": "seed", "seed": "seed",
    "series_a": "early", "series_b": "early", "series_c": "late", "series_d": "late",
    **{f"series_{letter}": "growth" for letter in "efghijkl"},
    "private_equity": "growth",
    "corporate_round": "strategic",
    "post_ipo_equity": "post_ipo", "post_ipo_debt": "post_ipo", "post_ipo_secondary": "post_ipo",
    "grant": "other", "debt_financing": "other", "non_equity_assistance": "other",
    "initial_coin_offering": "other", "product_crowdfunding": "other", "equity_crowdfunding": "seed",
    "secondary_market": "other", "convertible_note": None, "series_unknown": None, "undisclosed": None,
}

#: An unlabelled round at least this large (or valued at least ``GROWTH_VALUATION_USD``) is a
#: "large unlabelled late round": stage ``growth`` (DATAMODEL.md).
GROWTH_AMOUNT_USD = 500e6
GROWTH_VALUATION_USD = 5e9

#: PitchBook ``DEAL_TYPE`` words -> stage, used when the deal names no series letter.
PITCHBOOK_STAGE = {
    "angel": "seed", "seed round": "seed", "accelerator/incubator": "seed", "pre-seed": "seed",
    "early stage vc": "early", "later stage vc": "late", "pe growth/expansion": "growth",
    "corporate": "strategic", "pipe": "post_ipo", "secondary (open market)": "post_ipo",
    "debt": "other", "grant": "other", "convertible debt": "other", "secondary (private)": "other",
}

_WORD_STAGES = (  # first match wins: the most specific words first
    (re.compile(r"\bpre-?seed\b|\bseed\b|\bangel\b", re.I), "seed"),
    (re.compile(r"\bseries [ab]\b|\bseries [ab]\d", re.I), "early"),
    (re.compile(r"\bseries [cd]\b|\bseries [cd]\d", re.I), "late"),
    (re.compile(r"\bseries [e-l]\b|\bgrowth (round|equity)\b|\bpre-ipo\b", re.I), "growth"),
)


def money_type_for(investment_type: str) -> tuple[str, str]:
    """The money type of one investment type and a note ('' when the rule placed it)."""
    kind = str(investment_type).strip().lower()
    if kind in MONEY_TYPE_BY_INVESTMENT_TYPE:
        return MONEY_TYPE_BY_INVESTMENT_TYPE[kind], ""
    return "other", f"money_type other: vendor investment type {investment_type!r} has no rule"


def place_stage(investment_type: str, amount_usd=None, post_money_usd=None, text: str = "") -> tuple[str, str]:
    """Stage of a round and the reason when the investment type alone does not decide it.

    Rules, in order: the investment type's stage (:data:`STAGE_BY_INVESTMENT_TYPE`); for
    unlabelled rounds (``series_unknown``, ``undisclosed``, convertibles) the words of the source
    (``text``: "seed", "Series B", "growth round"...); then size (at least
    :data:`GROWTH_AMOUNT_USD` raised or :data:`GROWTH_VALUATION_USD` valuation = ``growth``);
    else ``other``. The reason is returned for every rule after the first.
    """
    kind = str(investment_type).strip().lower()
    if kind in STAGE_BY_INVESTMENT_TYPE and STAGE_BY_INVESTMENT_TYPE[kind] is not None:
        return STAGE_BY_INVESTMENT_TYPE[kind], ""
    for pattern, stage in _WORD_STAGES:
        match = pattern.search(text or "")
        if match:
            return stage, f"stage {stage}: the source calls it '{match.group(0)}'"
    amount = _number(amount_usd)
    post = _number(post_money_usd)
    if amount >= GROWTH_AMOUNT_USD or post >= GROWTH_VALUATION_USD:
        what = f"${amount / 1e6:,.0f}M raised" if amount >= GROWTH_AMOUNT_USD else f"${post / 1e9:,.1f}bn valuation"
        return "growth", f"stage growth: unlabelled round with {what} (large-round rule)"
    if kind not in STAGE_BY_INVESTMENT_TYPE:
        return "other", f"stage other: vendor investment type {investment_type!r} has no rule"
    return "other", "stage other: the source names no stage and the round is below the growth thresholds"


def _number(value) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if np.isnan(out) else out


def pitchbook_stage(deal_type: str, series: str | None = None) -> str | None:
    """Stage from a PitchBook deal type (and series letter, when the deal names one)."""
    if series and str(series).strip():
        letter = str(series).strip().lower().removeprefix("series ").strip()[:1]
        if letter in "ab":
            return "early"
        if letter in "cd":
            return "late"
        if letter.isalpha():
            return "growth"
    return PITCHBOOK_STAGE.get(str(deal_type).strip().lower())


def classify_rounds(rounds: pd.DataFrame, text_column: str = "notes") -> pd.DataFrame:
    """``money_type``, ``stage`` and ``classification_note`` for every round of a ledger frame.

    ``rounds`` needs ``investment_type``; ``raised_amount_usd``, ``post_money_valuation_usd``
    and ``text_column`` are used when present. Existing ``money_type``/``stage`` values are kept.
    """
    kinds = rounds["investment_type"].astype(str)
    amount = rounds.get("raised_amount_usd", pd.Series(np.nan, index=rounds.index))
    post = rounds.get("post_money_valuation_usd", pd.Series(np.nan, index=rounds.index))
    text = rounds.get(text_column, pd.Series("", index=rounds.index)).fillna("").astype(str)
    money, stage, notes = [], [], []
    for kind, a, p, t in zip(kinds, amount, post, text):
        m, m_note = money_type_for(kind)
        s, s_note = place_stage(kind, a, p, t)
        money.append(m)
        stage.append(s)
        notes.append("; ".join(n for n in (m_note, s_note) if n))
    out = pd.DataFrame({"money_type": money, "stage": stage, "classification_note": notes}, index=rounds.index)
    for column in ("money_type", "stage"):
        if column in rounds:
            given = rounds[column]
            keep = given.notna() & (given.astype(str) != "")
            out.loc[keep, column] = given[keep].astype(str)
            out.loc[keep, "classification_note"] = ""
    assert set(out["money_type"]) <= set(MONEY_TYPES) and set(out["stage"]) <= set(STAGES)
    return out


# --------------------------------------------------------------------------------------------
# Countries and regions
# --------------------------------------------------------------------------------------------

#: alpha-3 and English names (as vendors and Epoch AI write them) -> ISO 3166-1 alpha-2.
_COUNTRIES = {
    "US": ("USA", "United States", "United States of America", "U.S.", "US"),
    "CN": ("CHN", "China", "People's Republic of China", "PRC"),
    "GB": ("GBR", "United Kingdom", "UK", "United Kingdom of Great Britain and Northern Ireland", "England"),
    "FR": ("FRA", "France"), "DE": ("DEU", "Germany"), "IL": ("ISR", "Israel"), "CA": ("CAN", "Canada"),
    "SG": ("SGP", "Singapore"), "SE": ("SWE", "Sweden"), "NL": ("NLD", "Netherlands", "The Netherlands"),
    "NO": ("NOR", "Norway"), "BR": ("BRA", "Brazil"), "PT": ("PRT", "Portugal"),
    "AE": ("ARE", "United Arab Emirates", "UAE"), "FI": ("FIN", "Finland"), "HK": ("HKG", "Hong Kong"),
    "IN": ("IND", "India"), "AU": ("AUS", "Australia"), "JP": ("JPN", "Japan"),
    "KR": ("KOR", "South Korea", "Korea (Republic of)", "Republic of Korea", "Korea, Republic of"),
    "CH": ("CHE", "Switzerland"), "IE": ("IRL", "Ireland"), "ES": ("ESP", "Spain"), "IT": ("ITA", "Italy"),
    "DK": ("DNK", "Denmark"), "BE": ("BEL", "Belgium"), "AT": ("AUT", "Austria"), "PL": ("POL", "Poland"),
    "EE": ("EST", "Estonia"), "CZ": ("CZE", "Czech Republic", "Czechia"), "LU": ("LUX", "Luxembourg"),
    "IS": ("ISL", "Iceland"), "GR": ("GRC", "Greece"), "RO": ("ROU", "Romania"), "UA": ("UKR", "Ukraine"),
    "TW": ("TWN", "Taiwan"), "SA": ("SAU", "Saudi Arabia"), "QA": ("QAT", "Qatar"),
    "NZ": ("NZL", "New Zealand"), "MX": ("MEX", "Mexico"), "AR": ("ARG", "Argentina"),
    "RU": ("RUS", "Russia", "Russian Federation"), "TR": ("TUR", "Turkey", "Türkiye"),
    "ZA": ("ZAF", "South Africa"), "ID": ("IDN", "Indonesia"), "VN": ("VNM", "Vietnam", "Viet Nam"),
    "MY": ("MYS", "Malaysia"), "TH": ("THA", "Thailand"), "PH": ("PHL", "Philippines"),
    "NG": ("NGA", "Nigeria"), "EG": ("EGY", "Egypt"), "CY": ("CYP", "Cyprus"), "MT": ("MLT", "Malta"),
    "LT": ("LTU", "Lithuania"), "LV": ("LVA", "Latvia"), "HU": ("HUN", "Hungary"), "BG": ("BGR", "Bulgaria"),
    "HR": ("HRV", "Croatia"), "SI": ("SVN", "Slovenia"), "SK": ("SVK", "Slovakia"), "CL": ("CHL", "Chile"),
    "CO": ("COL", "Colombia"),
}
_COUNTRY_LOOKUP = {alias.lower(): code for code, aliases in _COUNTRIES.items() for alias in (code, *aliases)}


def country_code(value) -> str | None:
    """ISO alpha-2 for an alpha-2, alpha-3 or English country name; ``None`` when unknown/empty."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    if not text:
        return None
    return _COUNTRY_LOOKUP.get(text.lower())


def regions_of(countries: pd.Series, regions: pd.DataFrame) -> pd.Series:
    """Region per country code from ``data/regions.csv`` (missing or unmapped -> ``Other``)."""
    table = regions.set_index("country")["region"]
    return countries.map(table).fillna("Other")
