"""PitchBook deals export -> funding ledger."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import config
from analysis.data.classifier import classify_companies
from analysis.data.importers.assembly import ImportResult, check_ai_filter, finish_ledger, rank_names, select_rows
from analysis.data.importers.parsing import (
    ROUND_ID_BAD, cap_problems, cell_problems, empty_problems, mtime_date, optional, parse_amounts, parse_dates,
    read_export_frame)
from analysis.data.taxonomy import Taxonomy, load_taxonomy
from analysis.data.vocabulary import ISO_DATE_PATTERN, URL_PATTERN
from analysis.errors import DataValidationError, ParameterError

PITCHBOOK_PUBLISHER = "PitchBook (user export)"

PITCHBOOK_REQUIRED = ("DEAL_ID", "COMPANIES", "DEAL_DATE", "DEAL_TYPE")

#: PitchBook ``DEAL_TYPE`` (lower-cased) -> Crunchbase ``investment_type``. ``None`` means the
#: deal is not a funding round (an acquisition, IPO, ...) and is dropped. A "Series X" in
#: ``DEAL_TYPE``, ``DEAL_TYPE_2``, ``SERIES`` or ``VC_ROUND`` overrides the generic VC stages.
#: Unknown types become ``undisclosed`` and are noted.
PITCHBOOK_DEAL_TYPES: dict[str, str | None] = {
    "angel (individual)": "angel", "angel": "angel", "angel round": "angel",
    "pre-seed": "pre_seed", "pre seed": "pre_seed", "accelerator/incubator": "pre_seed",
    "seed round": "seed", "seed": "seed",
    "early stage vc": "series_unknown", "later stage vc": "series_unknown",
    "restart - early vc": "series_unknown", "restart - later vc": "series_unknown",
    "restart - angel": "angel", "venture capital": "series_unknown",
    "corporate": "corporate_round", "corporate venture": "corporate_round",
    "corporate venture capital": "corporate_round", "joint venture": None,
    "pe growth/expansion": "private_equity", "pe growth": "private_equity",
    "private equity": "private_equity", "recapitalization": "private_equity",
    "secondary transaction - private": "secondary_market",
    "secondary transaction - open market": "post_ipo_secondary",
    "secondary transaction": "secondary_market",
    "debt - general": "debt_financing", "debt - ppp": "debt_financing", "debt - loan": "debt_financing",
    "debt refinancing": "debt_financing", "mezzanine": "debt_financing", "debt": "debt_financing",
    "debt - convertible": "convertible_note", "convertible debt": "convertible_note",
    "convertible note": "convertible_note",
    "grant": "grant", "equity crowdfunding": "equity_crowdfunding",
    "product crowdfunding": "product_crowdfunding",
    "pipe": "post_ipo_equity", "private placement (pipe)": "post_ipo_equity",
    "public investment 2nd offering": "post_ipo_equity", "follow-on offering": "post_ipo_equity",
    "initial coin offering": "initial_coin_offering", "ico": "initial_coin_offering",
    "merger/acquisition": None, "buyout/lbo": None, "ipo": None, "reverse merger": None,
    "spin-off": None, "share repurchase": None, "bankruptcy": None, "dividend recapitalization": None,
    "platform creation": None, "add-on": None,
}
#: PitchBook ``DEAL_STATUS`` values (lower-cased) whose deals never happened; dropped.
PITCHBOOK_FAILED_STATUS = {"failed/cancelled", "failed", "cancelled", "canceled"}
#: PitchBook column aliases (after upper-snake normalisation) -> the names used here.
PITCHBOOK_ALIASES = {
    "DEAL_NO": "DEAL_ID", "COMPANY": "COMPANIES", "COMPANY_NAME": "COMPANIES",
    "LEAD_SOLE_INVESTORS": "LEAD_INVESTORS", "DEAL_SIZE_USD_MILLIONS": "DEAL_SIZE",
    "POST_MONEY_VALUATION": "POST_VALUATION", "PRE_MONEY_VALUATION_USD_MILLIONS": "PRE_MONEY_VALUATION",
    "POST_VALUATION_USD_MILLIONS": "POST_VALUATION", "COMPANY_DESCRIPTION": "DESCRIPTION",
    "HQ_COUNTRY_TERRITORY_REGION": "HQ_COUNTRY", "HQ_COUNTRY_TERRITORY": "HQ_COUNTRY",
    "COMPANY_COUNTRY": "HQ_COUNTRY", "COUNTRY": "HQ_COUNTRY",
}
PITCHBOOK_INDUSTRY_COLUMNS = ("PRIMARY_INDUSTRY_CODE", "PRIMARY_INDUSTRY_GROUP", "PRIMARY_INDUSTRY_SECTOR",
                              "ALL_INDUSTRIES")
DEAL_SIZE_UNITS = {"millions": 1e6, "usd": 1.0}

_SERIES = re.compile(r"\bseries\s*([a-l])(?![a-z])", re.IGNORECASE)


def import_pitchbook(deals: Path | str, *, deal_size_unit: str = "millions", taxonomy: Taxonomy | None = None,
                     ai_filter: str = "rules") -> ImportResult:
    """Read a PitchBook deals export and build an AI funding ledger.

    Parameters
    ----------
    deals : path
        Deals export CSV. Headers are normalised to upper snake case ("Deal Size" ->
        ``DEAL_SIZE``, "Lead/Sole Investors" -> ``LEAD_INVESTORS``). Required:
        :data:`PITCHBOOK_REQUIRED`; used when present: ``DEAL_SIZE``, ``PRE_MONEY_VALUATION``,
        ``POST_VALUATION``, ``DEAL_TYPE_2`` / ``SERIES`` / ``VC_ROUND``, ``DEAL_STATUS``,
        ``VERTICALS``, ``KEYWORDS``, ``DESCRIPTION``, industry columns, ``LEAD_INVESTORS``,
        ``INVESTORS``, ``COMPANY_ID``, ``LAST_UPDATED_DATE``.
    deal_size_unit : {"millions", "usd"}
        Unit of ``DEAL_SIZE`` and the valuations. PitchBook's standard exports state money in
        USD millions ("Deal Size (USD, Millions)"), hence the default.
    taxonomy, ai_filter
        As in :func:`import_crunchbase`.

    Returns
    -------
    ImportResult

    Notes
    -----
    * ``DEAL_TYPE`` -> ``investment_type`` by :data:`PITCHBOOK_DEAL_TYPES`; a "Series B" in the
      type or series columns gives ``series_b``; acquisitions, buyouts and IPOs are not funding
      rounds and are dropped; failed/cancelled deals (``DEAL_STATUS``) are dropped.
    * Companies are keyed by ``COMPANY_ID`` when present, else by name. ``VERTICALS`` are the
      category list, the industry columns the category groups, ``DESCRIPTION`` + ``KEYWORDS``
      the keyword text.
    * ``round_id`` = ``"pb-"`` + ``DEAL_ID`` (lower-cased, other characters -> "-").
    * ``source_url`` = a URL column of the export when present, else the PitchBook platform link
      ``https://my.pitchbook.com/profile/<DEAL_ID>/deal/profile`` (needs a PitchBook login);
      ``source_date`` = ``LAST_UPDATED_DATE`` when present, else the file's modification date.
    * Pre-money valuations are not converted to post-money (the deal size may include
      secondaries); they go to ``notes`` as "pre-money $X".
    * ``LEAD_INVESTORS`` / ``INVESTORS`` are comma-separated; in the ledger they are
      semicolon-separated and ``other_investors`` excludes the leads.
    """
    check_ai_filter(ai_filter)
    if deal_size_unit not in DEAL_SIZE_UNITS:
        raise ParameterError(f"unknown deal_size_unit {deal_size_unit!r}; expected one of {tuple(DEAL_SIZE_UNITS)}")
    scale = DEAL_SIZE_UNITS[deal_size_unit]
    tax = taxonomy or load_taxonomy()
    path = Path(deals)
    d, lines = read_export_frame(path, PITCHBOOK_REQUIRED, normalise=_pitchbook_column)
    problems = empty_problems(path, lines, d, ("DEAL_ID",))
    dates = parse_dates(d["DEAL_DATE"], us_formats=True)
    problems += cell_problems(path, lines, "DEAL_DATE", d["DEAL_DATE"], dates.bad,
                               "not a date (expected YYYY-MM-DD, YYYY-MM, YYYY, M/D/YYYY or D-Mon-YYYY)")
    money, p = parse_amounts(d, ("DEAL_SIZE", "PRE_MONEY_VALUATION", "POST_VALUATION"), path, lines, scale=scale)
    problems += p
    if problems:
        raise DataValidationError(cap_problems(problems))

    company_name = d["COMPANIES"].str.strip()
    key = optional(d, "COMPANY_ID").str.strip().fillna(company_name)
    missing_name = company_name.isna().to_numpy() | (company_name == "").fillna(True).to_numpy()
    first_at = pd.Series(key).drop_duplicates().index.to_numpy()
    first = d.take(first_at).reset_index(drop=True)
    org_pos = pd.Index(key.take(first_at)).get_indexer(key)
    groups = None
    for col in PITCHBOOK_INDUSTRY_COLUMNS:
        if col in first:
            groups = first[col] if groups is None else groups.str.cat(first[col], sep=",", na_rep="")
    text = optional(first, "DESCRIPTION").fillna("").str.cat(optional(first, "KEYWORDS").fillna(""), sep=" ")
    text = text.str.strip()
    companies = pd.DataFrame({
        "key": key.take(first_at).reset_index(drop=True),
        "name": first["COMPANIES"].str.strip(),
        "categories": optional(first, "VERTICALS"),
        "category_groups": groups if groups is not None else optional(first, "ALL_INDUSTRIES"),
        "text": text.where(text != ""),
        "alt_id": optional(first, "COMPANY_ID").fillna(key.take(first_at).reset_index(drop=True)),
        "country": optional(first, "HQ_COUNTRY"),
    })
    cls = classify_companies(companies, tax, ai_filter=ai_filter)

    itype, type_note, not_round = _pitchbook_types(d)
    failed = optional(d, "DEAL_STATUS").str.strip().str.lower().isin(PITCHBOOK_FAILED_STATUS).to_numpy()
    dropped: dict[str, int] = {}
    alive, order = select_rows(org_pos, {"no company name (COMPANIES)": missing_name,
                                     "deal failed or cancelled (DEAL_STATUS)": failed,
                                     "not a funding round (acquisition, buyout, IPO, ...)": not_round},
                           cls, dates.values, rank_names(companies["name"]), dropped)
    rows = alive[order]
    r = d.take(rows).reset_index(drop=True)
    url = None
    for col in ("DEAL_URL", "PITCHBOOK_LINK", "URL", "PROFILE_URL"):
        if col in r:
            url = r[col].where(r[col].str.match(URL_PATTERN).fillna(False).astype(bool))
            break
    deal_id = r["DEAL_ID"].str.strip()
    platform = "https://my.pitchbook.com/profile/" + deal_id + "/deal/profile"
    url = platform if url is None else url.fillna(platform)
    url = url.where(url.str.match(URL_PATTERN).fillna(False).astype(bool))  # a deal id with spaces makes none
    updated = optional(r, "LAST_UPDATED_DATE").str.slice(0, 10)
    source_date = updated.where(updated.str.match(ISO_DATE_PATTERN).fillna(False).astype(bool),
                                mtime_date(path))
    leads = _split_names(optional(r, "LEAD_INVESTORS"))
    others = _split_names(optional(r, "INVESTORS"))
    c = {
        "round_id": "pb-" + deal_id.str.lower().str.replace(ROUND_ID_BAD.pattern, "-", regex=True).str.strip("-"),
        "org_pos": org_pos[rows],
        "investment_type": itype.take(rows).reset_index(drop=True),
        "type_note": type_note.take(rows).reset_index(drop=True),
        "raised_amount_usd": money["DEAL_SIZE"][rows],
        "raised_amount": np.full(len(rows), np.nan),
        "raised_amount_currency": None,
        "post_money_valuation_usd": money["POST_VALUATION"][rows],
        "pre_money_valuation_usd": money["PRE_MONEY_VALUATION"][rows],
        "other_investors": [";".join(n for n in o if n not in set(ld)) or None for o, ld in zip(others, leads)],
        "source_url": url,
        "source_title": ("PitchBook deals export: " + r["COMPANIES"].str.strip() + " "
                         + r["DEAL_TYPE"].fillna("deal").str.strip()),
        "source_date": source_date,
        "lead_investors": [";".join(ld) or None for ld in leads],
    }
    return finish_ledger(c, dates.subset(rows), companies, cls, PITCHBOOK_PUBLISHER, rows_read=len(d),
                   dropped=dropped, adjusted={}, source="pitchbook", files=(config.display_path(path),))


def _pitchbook_column(name: str) -> str:
    norm = re.sub(r"[^A-Z0-9]+", "_", str(name).lstrip("\ufeff").strip().upper()).strip("_")
    return PITCHBOOK_ALIASES.get(norm, norm)


def _split_names(raw: pd.Series) -> list[list[str]]:
    """Comma-separated investor names -> lists (PitchBook exports are small; a loop is fine)."""
    return [[n.strip() for n in v.split(",") if n.strip()] if isinstance(v, str) else [] for v in raw.tolist()]


def _pitchbook_types(d: pd.DataFrame) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """``investment_type``, a note for unknown types, and the rows that are not funding rounds."""
    raw = d["DEAL_TYPE"].fillna("").str.strip()
    low = raw.str.lower()
    mapped = low.map(lambda t: PITCHBOOK_DEAL_TYPES.get(t, "?"))
    series = raw.str.extract(_SERIES, expand=False)
    for col in ("DEAL_TYPE_2", "SERIES", "VC_ROUND"):
        if col in d:
            series = series.fillna(d[col].str.extract(_SERIES, expand=False))
    not_round = mapped.isna().to_numpy() & series.isna().to_numpy()
    itype = mapped.where(series.isna(), "series_" + series.str.lower())
    unknown = (itype == "?").to_numpy()
    note = pd.Series(None, index=d.index, dtype=object)
    note[unknown] = "DEAL_TYPE '" + raw[unknown] + "' has no investment_type mapping; recorded as undisclosed"
    itype = itype.where(~unknown, "undisclosed").fillna("undisclosed")
    return itype, note, not_round
