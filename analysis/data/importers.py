"""Bring-your-own-data importers: a Crunchbase or PitchBook export -> a funding ledger CSV.

The ledger written here uses the :class:`~analysis.data.schemas.FundingRounds` columns, fills
``domain`` on every row (so :func:`~analysis.data.ledger.load_ledger` can derive the companies
from it) and passes ``aibubble validate``. Each row's ``notes`` say which taxonomy rule placed
the company ("classified by category 'drug discovery'").

Rules applied to every export (also in ``data/README.md``):

* Dates. ``YYYY-MM-DD`` (an optional time part is ignored), ``YYYY-MM`` and ``YYYY`` are read;
  PitchBook exports may also use ``M/D/YYYY`` and ``D-Mon-YYYY``. A year-only or year-month date
  is set to the first day of that period and the row's notes say so ("announced_on given as
  '2021' (year only); set to 2021-01-01"), so annual and monthly totals keep the right period.
  Anything else is an error. Rows without a date, or dated before the ledger's floor
  (2010-01-01), are dropped and counted.
* Amounts. Empty stays empty (undisclosed, never zero). Thousands separators are ignored.
  A value that is not a number, or is negative, is an error. A post-money valuation of zero,
  or below the amount raised (which the ledger rejects), is left empty and noted.
* Duplicates. A repeated round id, or a second round of the same company on the same date with
  the same amount and kind of money (the ledger's duplicate rule), is dropped and counted.
* Company names. Two different companies with the same name get their permalink / id appended
  ("Nova AI (nova-ai-2)"), because the ledger identifies companies by name.
* Errors name the file, line (header = line 1, counted in physical lines even when quoted fields
  span several) and column; at most :data:`MAX_PROBLEMS` are listed. The output file is written
  atomically (temp file + ``os.replace``), so a failed import never leaves a partial ledger.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from analysis import config
from analysis.data.classifier import AI_FILTERS, Classification, arrow_strings, classify_companies
from analysis.data.schemas import INVESTMENT_TYPES, NOT_NEW_EQUITY
from analysis.data.taxonomy import Taxonomy, load_taxonomy
from analysis.errors import AIBubbleError, DataValidationError, ParameterError, Problem

#: Ledger columns in the bundled ``data/funding_rounds.csv`` header order.
LEDGER_COLUMNS = [
    "round_id", "org_name", "domain", "investment_type", "announced_on", "raised_amount_usd",
    "raised_amount", "raised_amount_currency", "post_money_valuation_usd", "lead_investors",
    "other_investors", "source_url", "source_title", "source_publisher", "source_date",
    "confidence", "notes",
]
#: The ledger schema's earliest ``announced_on``.
LEDGER_FLOOR = pd.Timestamp("2010-01-01")
#: Problems listed per failed import; the rest are summarised in one line.
MAX_PROBLEMS = 50

CRUNCHBASE_PUBLISHER = "Crunchbase (user export)"
PITCHBOOK_PUBLISHER = "PitchBook (user export)"

#: Columns an export must have (values may still be empty where the rules allow).
CRUNCHBASE_ROUNDS_REQUIRED = ("uuid", "org_uuid", "investment_type", "announced_on", "raised_amount_usd")
CRUNCHBASE_ORGS_REQUIRED = ("uuid", "name", "category_list")
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
}
PITCHBOOK_INDUSTRY_COLUMNS = ("PRIMARY_INDUSTRY_CODE", "PRIMARY_INDUSTRY_GROUP", "PRIMARY_INDUSTRY_SECTOR",
                              "ALL_INDUSTRIES")
DEAL_SIZE_UNITS = {"millions": 1e6, "usd": 1.0}

_CB_ROUND_COLUMNS = ("uuid", "name", "permalink", "cb_url", "updated_at", "investment_type", "announced_on",
                     "raised_amount_usd", "raised_amount", "raised_amount_currency_code",
                     "post_money_valuation_usd", "org_uuid", "lead_investor_uuids")
_CB_ORG_COLUMNS = ("uuid", "name", "permalink", "cb_url", "category_list", "category_groups_list",
                   "short_description", "description")

_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"  # ignored time part
_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2})" + _TIME + r")?)?$")
_US = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_DMY = re.compile(r"^(\d{1,2})-([A-Za-z]{3})-(\d{4})$")
_SERIES = re.compile(r"\bseries\s*([a-l])(?![a-z])", re.IGNORECASE)
_ROUND_ID_BAD = re.compile(r"[^a-z0-9_.-]+")


# --------------------------------------------------------------------------------------------
# Result


@dataclass(frozen=True)
class ImportResult:
    """An imported ledger with the accounting of what happened to every input row.

    Attributes
    ----------
    ledger : pandas.DataFrame
        The funding ledger (``LEDGER_COLUMNS``, all strings as written to CSV).
    companies : pandas.DataFrame
        One row per kept company: ``org_name``, ``domain``, ``rule``, ``matched``, ``note``,
        ``rounds``. The per-company classification report.
    rows_read : int
        Data rows in the export (funding rounds or deals).
    dropped : pandas.Series
        Rows dropped, by reason (index: reason; values: rows).
    adjusted : pandas.Series
        Kept rows whose values were changed by a documented rule, by rule.
    source : str
        ``"crunchbase"`` or ``"pitchbook"``.
    files : tuple of str
        The export files read (display paths).
    """

    ledger: pd.DataFrame
    companies: pd.DataFrame
    rows_read: int
    dropped: pd.Series
    adjusted: pd.Series
    source: str
    files: tuple[str, ...] = field(default_factory=tuple)

    @property
    def rows_kept(self) -> int:
        return len(self.ledger)

    def per_domain(self) -> pd.DataFrame:
        """Kept rounds and companies per domain (rows in taxonomy display order)."""
        ids = list(load_taxonomy().ids)
        rounds = self.ledger["domain"].value_counts().reindex(ids, fill_value=0)
        companies = self.companies["domain"].value_counts().reindex(ids, fill_value=0)
        return pd.DataFrame({"rounds": rounds, "companies": companies}).rename_axis("domain")

    def summary(self) -> pd.DataFrame:
        """One tidy table: rows read/kept, per domain, dropped and adjusted, by reason."""
        rows = [("read", "rows", self.rows_read), ("kept", "rows", self.rows_kept)]
        per = self.per_domain()
        rows += [("kept rounds by domain", d, int(n)) for d, n in per["rounds"].items()]
        rows += [("dropped", reason, int(n)) for reason, n in self.dropped.items()]
        rows += [("adjusted (kept)", reason, int(n)) for reason, n in self.adjusted.items()]
        return pd.DataFrame(rows, columns=["section", "item", "rows"])

    def report(self) -> str:
        """The printed summary of an import (what the CLI shows)."""
        per = self.per_domain()
        other = per.loc["other_ai"] if "other_ai" in per.index else pd.Series({"rounds": 0, "companies": 0})
        w = max(len(f"{self.rows_read:,}"), 7)
        lines = [f"{self.source} import: {' + '.join(self.files)}",
                 f"  rows read     {self.rows_read:>{w},}",
                 f"  rows kept     {self.rows_kept:>{w},}  ({len(self.companies):,} AI companies)"]
        for domain, row in per.iterrows():
            if row["rounds"]:
                lines.append(f"    {domain:<22}{row['rounds']:>{w},} rounds  {row['companies']:>9,} companies")
        lines.append(f"  other_ai (no domain rule fired): {int(other['companies']):,} companies, "
                     f"{int(other['rounds']):,} rounds")
        lines.append(f"  rows dropped  {int(self.dropped.sum()):>{w},}")
        lines += [f"    {reason}: {int(n):,}" for reason, n in self.dropped.items()]
        if len(self.adjusted):
            lines.append("  kept with documented adjustments (see notes):")
            lines += [f"    {reason}: {int(n):,}" for reason, n in self.adjusted.items()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{self.report()}</pre>" + self.per_domain().to_html()


# --------------------------------------------------------------------------------------------
# Public API


def import_crunchbase(funding_rounds: Path | str, organizations: Path | str, *,
                      investors: Path | str | None = None, taxonomy: Taxonomy | None = None,
                      ai_filter: str = "rules") -> ImportResult:
    """Read a Crunchbase bulk export and build an AI funding ledger.

    Parameters
    ----------
    funding_rounds : path
        ``funding_rounds.csv`` of the bulk export (columns ``uuid``, ``name``, ``permalink``,
        ``cb_url``, ``updated_at``, ``investment_type``, ``announced_on``,
        ``raised_amount_usd``, ``raised_amount``, ``raised_amount_currency_code``,
        ``post_money_valuation_usd``, ``org_uuid``, ``lead_investor_uuids``, ...;
        required: :data:`CRUNCHBASE_ROUNDS_REQUIRED`).
    organizations : path
        ``organizations.csv`` (``uuid``, ``name``, ``category_list``, ``category_groups_list``,
        ``short_description``, ``permalink``, ``cb_url``, ...; required:
        :data:`CRUNCHBASE_ORGS_REQUIRED`).
    investors : path, optional
        ``investors.csv`` (``uuid``, ``name``) to name lead investors that are people or are
        missing from ``organizations.csv``.
    taxonomy : Taxonomy, optional
        Default: the bundled taxonomy.
    ai_filter : {"rules", "strict", "all"}
        Which companies are kept (see :func:`analysis.data.classifier.classify_companies`).

    Returns
    -------
    ImportResult

    Raises
    ------
    DataValidationError
        Unreadable or malformed CSV, missing required columns, bad dates, non-numeric or
        negative amounts, bad currency codes: every problem with file, line and column.

    Notes
    -----
    * ``round_id`` = ``"cb-"`` + the round's uuid (stable across re-imports).
    * ``org_name`` = the organisation's ``name`` in ``organizations.csv`` (found by the round's
      ``org_uuid``); rounds of organisations absent from ``organizations.csv`` cannot be
      classified and are dropped (counted).
    * ``source_url`` = the round's ``cb_url`` (else its Crunchbase URL built from
      ``permalink``), else the organisation's; ``source_title`` = "Crunchbase bulk export: " +
      the round's ``name``; ``source_publisher`` = "Crunchbase (user export)";
      ``source_date`` = the date part of the round's ``updated_at`` (when Crunchbase last
      changed the record), else the modification date of ``funding_rounds.csv``;
      ``confidence`` = "reported".
    * ``lead_investors`` = the names of ``lead_investor_uuids`` (comma-separated in the export,
      semicolon-separated in the ledger) looked up in ``organizations.csv`` and ``investors``;
      uuids that resolve to no name are left out and counted. ``other_investors`` is left
      empty (the bulk export keeps them in ``investments.csv``).
    * ``investment_type`` values outside Crunchbase's enum become ``undisclosed`` (noted).
    """
    _check_ai_filter(ai_filter)
    tax = taxonomy or load_taxonomy()
    rounds_path, orgs_path = Path(funding_rounds), Path(organizations)
    rounds, r_lines = _read_export(rounds_path, CRUNCHBASE_ROUNDS_REQUIRED, wanted=_CB_ROUND_COLUMNS)
    orgs, _ = _read_export(orgs_path, CRUNCHBASE_ORGS_REQUIRED, wanted=_CB_ORG_COLUMNS)

    problems = _empty_problems(rounds_path, r_lines, rounds, ("uuid",))
    dates = _parse_dates(rounds["announced_on"], us_formats=False)
    problems += _cell_problems(rounds_path, r_lines, "announced_on", rounds["announced_on"], dates.bad,
                               "not a date (expected YYYY-MM-DD, YYYY-MM or YYYY)")
    amounts, p = _parse_amounts(rounds, ("raised_amount_usd", "raised_amount", "post_money_valuation_usd"),
                                rounds_path, r_lines)
    problems += p
    currency = _optional(rounds, "raised_amount_currency_code").str.strip().str.upper()
    currency = currency.where(~np.isnan(amounts["raised_amount"]))
    bad_cur = (currency.notna() & ~currency.str.fullmatch(r"[A-Z]{3}").fillna(False).astype(bool)).to_numpy()
    problems += _cell_problems(rounds_path, r_lines, "raised_amount_currency_code",
                               _optional(rounds, "raised_amount_currency_code"), bad_cur,
                               "not a three-letter ISO currency code")
    if problems:
        raise DataValidationError(_cap(problems))

    # Companies: the organisations that raised a round in the export; index_in finds the first
    # row of a uuid listed twice, so repeated organisation rows are ignored without a dedupe pass.
    org_pos_all = pc.index_in(arrow_strings(rounds["org_uuid"], combine=False), value_set=arrow_strings(orgs["uuid"]))
    org_pos_all = org_pos_all.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    known = org_pos_all >= 0
    used, inverse = np.unique(org_pos_all[known], return_inverse=True)
    org_pos = np.full(len(rounds), -1, dtype=np.int64)
    org_pos[known] = inverse
    o = orgs.take(used).reset_index(drop=True)
    text = _optional(o, "short_description")
    if "description" in o:
        text = text.fillna("").str.cat(o["description"].fillna(""), sep=" ").str.strip()
        text = text.where(text != "")
    companies = pd.DataFrame({
        "key": o["uuid"], "name": o["name"], "categories": _optional(o, "category_list"),
        "category_groups": _optional(o, "category_groups_list"), "text": text,
        "alt_id": _optional(o, "permalink").fillna(o["uuid"]),
        "url": _crunchbase_url(_optional(o, "cb_url"), _optional(o, "permalink"), "organization"),
    })
    cls = classify_companies(companies, tax, ai_filter=ai_filter)
    dropped: dict[str, int] = {}
    rows = _select(org_pos, {"organization not in the organizations file": ~known}, cls, dates.values,
                   companies["name"], dropped)

    r = rounds.drop(columns=[col for col in ("announced_on", "raised_amount_usd", "raised_amount",
                                             "post_money_valuation_usd", "raised_amount_currency_code", "org_uuid")
                             if col in rounds]).take(rows).reset_index(drop=True)
    mtime = _mtime_date(rounds_path)
    updated = _optional(r, "updated_at").str.slice(0, 10)
    source_date = updated.where(updated.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False).astype(bool), mtime)
    raw_type = r["investment_type"].str.strip().str.lower()
    unknown_type = (raw_type.notna() & ~raw_type.isin(INVESTMENT_TYPES)).to_numpy()
    type_note = np.full(len(r), None, dtype=object)
    type_note[unknown_type] = [f"investment_type '{t}' is not in the Crunchbase enum; recorded as undisclosed"
                               for t in r["investment_type"][unknown_type]]
    itype = raw_type.where(~unknown_type & raw_type.notna().to_numpy(), "undisclosed")
    org_names = pd.array(arrow_strings(companies["name"]).take(pa.array(org_pos[rows])), dtype="str")
    title = _optional(r, "name").fillna(itype + " - " + pd.Series(org_names).fillna(""))
    c = pd.DataFrame({
        "round_id": "cb-" + r["uuid"].str.strip().str.lower().str.replace(_ROUND_ID_BAD.pattern, "-", regex=True),
        "org_pos": org_pos[rows],
        "investment_type": itype,
        "type_note": type_note,
        "raised_amount_usd": amounts["raised_amount_usd"][rows],
        "raised_amount": amounts["raised_amount"][rows],
        "raised_amount_currency": currency.take(rows).reset_index(drop=True),
        "post_money_valuation_usd": amounts["post_money_valuation_usd"][rows],
        "pre_money_valuation_usd": np.nan,
        "other_investors": None,
        "source_url": _crunchbase_url(_optional(r, "cb_url"), _optional(r, "permalink"), "funding_round"),
        "source_title": "Crunchbase bulk export: " + title,
        "source_date": source_date,
    })
    keys, values = arrow_strings(orgs["uuid"]), arrow_strings(orgs["name"])
    if investors is not None:
        inv, _ = _read_export(Path(investors), ("uuid", "name"), wanted=("uuid", "name"))
        keys = pa.concat_arrays([keys.cast(pa.large_string()), arrow_strings(inv["uuid"]).cast(pa.large_string())])
        values = pa.concat_arrays([values.cast(pa.large_string()),
                                   arrow_strings(inv["name"]).cast(pa.large_string())])
    lead, unresolved = _resolve_names(_optional(r, "lead_investor_uuids"), keys, values)
    c["lead_raw"] = lead
    return _finish(c, dates.subset(rows), companies, cls, CRUNCHBASE_PUBLISHER, rows_read=len(rounds),
                   dropped=dropped, adjusted={"lead investor uuids not found (left out)": unresolved},
                   source="crunchbase",
                   files=(config.display_path(rounds_path), config.display_path(orgs_path)))


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
    _check_ai_filter(ai_filter)
    if deal_size_unit not in DEAL_SIZE_UNITS:
        raise ParameterError(f"unknown deal_size_unit {deal_size_unit!r}; expected one of {tuple(DEAL_SIZE_UNITS)}")
    scale = DEAL_SIZE_UNITS[deal_size_unit]
    tax = taxonomy or load_taxonomy()
    path = Path(deals)
    d, lines = _read_export(path, PITCHBOOK_REQUIRED, normalise=_pitchbook_column)
    problems = _empty_problems(path, lines, d, ("DEAL_ID",))
    dates = _parse_dates(d["DEAL_DATE"], us_formats=True)
    problems += _cell_problems(path, lines, "DEAL_DATE", d["DEAL_DATE"], dates.bad,
                               "not a date (expected YYYY-MM-DD, YYYY-MM, YYYY, M/D/YYYY or D-Mon-YYYY)")
    money, p = _parse_amounts(d, ("DEAL_SIZE", "PRE_MONEY_VALUATION", "POST_VALUATION"), path, lines, scale=scale)
    problems += p
    if problems:
        raise DataValidationError(_cap(problems))

    company_name = d["COMPANIES"].str.strip()
    key = _optional(d, "COMPANY_ID").str.strip().fillna(company_name)
    missing_name = company_name.isna().to_numpy() | (company_name == "").fillna(True).to_numpy()
    first_at = pd.Series(key).drop_duplicates().index.to_numpy()
    first = d.take(first_at).reset_index(drop=True)
    org_pos = pd.Index(key.take(first_at)).get_indexer(key)
    groups = None
    for col in PITCHBOOK_INDUSTRY_COLUMNS:
        if col in first:
            groups = first[col] if groups is None else groups.str.cat(first[col], sep=",", na_rep="")
    text = _optional(first, "DESCRIPTION").fillna("").str.cat(_optional(first, "KEYWORDS").fillna(""), sep=" ")
    text = text.str.strip()
    companies = pd.DataFrame({
        "key": key.take(first_at).reset_index(drop=True),
        "name": first["COMPANIES"].str.strip(),
        "categories": _optional(first, "VERTICALS"),
        "category_groups": groups if groups is not None else _optional(first, "ALL_INDUSTRIES"),
        "text": text.where(text != ""),
        "alt_id": _optional(first, "COMPANY_ID").fillna(key.take(first_at).reset_index(drop=True)),
        "url": None,
    })
    cls = classify_companies(companies, tax, ai_filter=ai_filter)

    itype, type_note, not_round = _pitchbook_types(d)
    failed = _optional(d, "DEAL_STATUS").str.strip().str.lower().isin(PITCHBOOK_FAILED_STATUS).to_numpy()
    dropped: dict[str, int] = {}
    rows = _select(org_pos, {"no company name (COMPANIES)": missing_name,
                             "deal failed or cancelled (DEAL_STATUS)": failed,
                             "not a funding round (acquisition, buyout, IPO, ...)": not_round},
                   cls, dates.values, companies["name"], dropped)
    r = d.take(rows).reset_index(drop=True)
    url = None
    for col in ("DEAL_URL", "PITCHBOOK_LINK", "URL", "PROFILE_URL"):
        if col in r:
            url = r[col].where(r[col].str.match(r"https?://\S+$").fillna(False).astype(bool))
            break
    deal_id = r["DEAL_ID"].str.strip()
    platform = "https://my.pitchbook.com/profile/" + deal_id + "/deal/profile"
    url = platform if url is None else url.fillna(platform)
    updated = _optional(r, "LAST_UPDATED_DATE").str.slice(0, 10)
    source_date = updated.where(updated.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False).astype(bool),
                                _mtime_date(path))
    leads = _split_names(_optional(r, "LEAD_INVESTORS"))
    others = _split_names(_optional(r, "INVESTORS"))
    c = pd.DataFrame({
        "round_id": "pb-" + deal_id.str.lower().str.replace(_ROUND_ID_BAD.pattern, "-", regex=True).str.strip("-"),
        "org_pos": org_pos[rows],
        "investment_type": itype.take(rows).reset_index(drop=True),
        "type_note": type_note.take(rows).reset_index(drop=True),
        "raised_amount_usd": money["DEAL_SIZE"][rows],
        "raised_amount": np.nan,
        "raised_amount_currency": None,
        "post_money_valuation_usd": money["POST_VALUATION"][rows],
        "pre_money_valuation_usd": money["PRE_MONEY_VALUATION"][rows],
        "other_investors": [";".join(n for n in o if n not in set(ld)) or None for o, ld in zip(others, leads)],
        "source_url": url,
        "source_title": ("PitchBook deals export: " + r["COMPANIES"].str.strip() + " "
                         + r["DEAL_TYPE"].fillna("deal").str.strip()),
        "source_date": source_date,
        "lead_raw": [";".join(ld) or None for ld in leads],
    })
    return _finish(c, dates.subset(rows), companies, cls, PITCHBOOK_PUBLISHER, rows_read=len(d),
                   dropped=dropped, adjusted={}, source="pitchbook", files=(config.display_path(path),))


def write_ledger(ledger: pd.DataFrame, path: Path | str, *, overwrite: bool = False) -> Path:
    """Write a ledger CSV atomically: a temp file in the same folder, then ``os.replace``.

    Raises
    ------
    AIBubbleError
        ``path`` exists and ``overwrite`` is False, or the folder cannot be written.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise AIBubbleError(f"{config.display_path(path)} already exists; pass --force to replace it")
    if path.resolve() == config.DATASET_FILES["funding_rounds"].resolve():
        raise AIBubbleError("refusing to overwrite the bundled ledger data/funding_rounds.csv; choose another --out")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise AIBubbleError(f"cannot write {config.display_path(path)}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_csv(ledger, LEDGER_COLUMNS, fh)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise AIBubbleError(f"cannot write {config.display_path(path)}: {exc.strerror}") from None
        raise
    return path


def write_company_report(result: ImportResult, path: Path | str) -> Path:
    """Write the per-company classification report (one row per kept company), atomically."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise AIBubbleError(f"cannot write {config.display_path(path)}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            result.companies.to_csv(fh, index=False, lineterminator="\n")
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise AIBubbleError(f"cannot write {config.display_path(path)}: {exc.strerror}") from None
    return path


# --------------------------------------------------------------------------------------------
# Shared assembly


def _select(org_pos: np.ndarray, pre_drop: dict[str, np.ndarray], cls: Classification, announced: np.ndarray,
            names: pd.Series, dropped: dict[str, int]) -> np.ndarray:
    """Rows to keep (positions in ledger order), counting every dropped row under its first reason.

    The ledger is ordered by announcement date, company name and export row; sorting the row
    positions here, before any column is gathered, spares a sort of the finished ledger.
    """
    alive = np.ones(len(org_pos), dtype=bool)
    for reason, mask in pre_drop.items():
        dropped[reason] = int((mask & alive).sum())
        alive &= ~mask
    is_ai = cls.table["is_ai"].to_numpy(dtype=bool)
    ai = np.zeros(len(org_pos), dtype=bool)
    ai[org_pos >= 0] = is_ai[org_pos[org_pos >= 0]]
    dropped["not an AI company"] = int((alive & ~ai).sum())
    alive &= ai
    no_date = np.isnat(announced)
    dropped["no announced_on date"] = int((alive & no_date).sum())
    alive &= ~no_date
    early = np.zeros(len(org_pos), dtype=bool)
    early[~no_date] = announced[~no_date] < LEDGER_FLOOR.to_datetime64()
    dropped[f"announced before {LEDGER_FLOOR.date()} (the ledger's floor)"] = int((alive & early).sum())
    alive &= ~early
    rows = np.flatnonzero(alive)
    name_rank = pc.rank(arrow_strings(names).fill_null(""), sort_keys="ascending", tiebreaker="dense")
    name_rank = name_rank.to_numpy(zero_copy_only=False)
    order = np.lexsort((rows, name_rank[org_pos[rows]], announced[rows].view(np.int64)))
    return rows[order]


def _finish(c: pd.DataFrame, dates: "_Dates", companies: pd.DataFrame, cls: Classification, publisher: str, *,
            rows_read: int, dropped: dict[str, int], adjusted: dict[str, int], source: str,
            files: tuple[str, ...]) -> ImportResult:
    """Clean and format the selected rounds (one row each, ``org_pos`` into ``companies``)."""
    org_pos = c["org_pos"].to_numpy()
    # Source URL: the round's, else (Crunchbase) the organisation's.
    url_ok = _matches(c["source_url"], r"^https?://\S+$")
    if companies["url"].notna().any() and not url_ok.all():
        org_url = companies["url"].to_numpy(dtype=object)[org_pos]
        c["source_url"] = np.where(url_ok, c["source_url"].to_numpy(dtype=object), org_url)
        url_ok = _matches(c["source_url"], r"^https?://\S+$")
    alive = url_ok.copy()
    dropped["no source URL (no cb_url/permalink for round or organization)"] = int((~url_ok).sum())
    dup_id = np.zeros(len(c), dtype=bool)
    dup_id[alive] = c["round_id"][alive].duplicated().to_numpy()
    dropped["repeated round id"] = int(dup_id.sum())
    alive &= ~dup_id
    # The ledger's duplicate rule: same company, date, amount and kind of money (new equity or not).
    amount = c["raised_amount_usd"].to_numpy(dtype=float)
    key = pd.DataFrame({"o": org_pos, "d": dates.values, "a": amount,
                        "e": ~c["investment_type"].isin(NOT_NEW_EQUITY).to_numpy()})
    dup = np.zeros(len(c), dtype=bool)
    dup[alive] = key[alive].duplicated().to_numpy() & ~np.isnan(amount[alive])
    dropped["duplicate round (same company, date, amount and kind)"] = int(dup.sum())
    alive &= ~dup
    if not alive.all():
        keep = np.flatnonzero(alive)
        c = c.take(keep).reset_index(drop=True)
        dates = dates.subset(keep)
        org_pos = org_pos[keep]

    # Company names: the ledger keys companies by name, so homonyms get their permalink / id.
    kept = np.unique(org_pos)
    names = companies["name"].take(kept).fillna("").astype(object).to_numpy()
    alt = companies["alt_id"].take(kept).astype(object).to_numpy()
    clash = pd.Series(names).duplicated(keep=False).to_numpy() | (names == "")
    display = np.full(len(companies), None, dtype=object)
    display[kept] = names
    display[kept[clash]] = [f"{n} ({a})".strip() for n, a in zip(names[clash], alt[clash])]
    adjusted["company name shared by several companies; id appended"] = int(np.isin(org_pos, kept[clash]).sum())

    table = cls.table
    take = pa.array(org_pos)
    # Per-company text is gathered per round in pyarrow (no Python string per row); only rows
    # with extra notes (imprecise dates, unknown types, dropped valuations) touch Python.
    extra = np.full(len(c), None, dtype=object)
    for code, label in ((1, "year-month"), (2, "year only")):
        m = dates.precision == code
        adjusted[f"announced_on given as {label}; set to the period's first day"] = int(m.sum())
        extra = _append(extra, m, [f"announced_on given as '{raw}' ({label}); set to {iso}"
                                   for raw, iso in zip(dates.raw[m], dates.iso[m])])
    type_note = c["type_note"].to_numpy(dtype=object)
    m = pd.notna(type_note)
    adjusted["investment type not in the vocabulary; recorded as undisclosed"] = int(m.sum())
    extra = _append(extra, m, type_note[m])
    # Valuations the ledger would reject: zero, or below the amount raised.
    post = c["post_money_valuation_usd"].to_numpy(dtype=float).copy()
    amount = c["raised_amount_usd"].to_numpy(dtype=float)
    zero = post == 0
    below = (post < amount) & ~zero
    extra = _append(extra, zero, ["post-money valuation 0 in the export; left empty"] * int(zero.sum()))
    extra = _append(extra, below, [f"post-money valuation {v:,.0f} below the amount raised in the export; "
                                   "left empty" for v in post[below]])
    adjusted["post-money valuation zero or below the amount raised; left empty"] = int((zero | below).sum())
    post[zero | below] = np.nan
    pre = c["pre_money_valuation_usd"].to_numpy(dtype=float)
    has_pre = ~np.isnan(pre)
    extra = _append(extra, has_pre, [f"pre-money ${v:,.0f}" for v in pre[has_pre]])
    notes = pa.array(table["note"].to_numpy(dtype=object), pa.string(), from_pandas=True).take(take)
    with_extra = pd.notna(extra)
    if with_extra.any():
        base = notes.filter(pa.array(with_extra)).to_pylist()
        merged = [f"{b}; {e}" if b else e for b, e in zip(base, extra[with_extra])]
        notes = pc.replace_with_mask(notes, pa.array(with_extra), pa.array(merged, pa.string()))

    ledger = pd.DataFrame({
        "round_id": c["round_id"],
        "org_name": _per_round(display, take),
        "domain": _per_round(table["domain"].to_numpy(dtype=object), take),
        "investment_type": c["investment_type"],
        "announced_on": dates.iso,
        "raised_amount_usd": _format_amount(amount),
        "raised_amount": _format_amount(c["raised_amount"].to_numpy(dtype=float)),
        "raised_amount_currency": c["raised_amount_currency"],
        "post_money_valuation_usd": _format_amount(post),
        "lead_investors": c["lead_raw"],
        "other_investors": c["other_investors"],
        "source_url": c["source_url"],
        "source_title": c["source_title"].str.strip(),
        "source_publisher": publisher,
        "source_date": c["source_date"],
        "confidence": "reported",
        "notes": pd.array(notes, dtype="str"),
    })

    rounds = np.bincount(org_pos, minlength=len(companies))[kept]
    report = pd.DataFrame({
        "org_name": display[kept], "org_key": companies["key"].take(kept).to_numpy(),
        "domain": table["domain"].to_numpy(dtype=object)[kept], "rule": table["rule"].to_numpy(dtype=object)[kept],
        "matched": table["matched"].to_numpy(dtype=object)[kept], "note": table["note"].to_numpy(dtype=object)[kept],
        "rounds": rounds,
    }).sort_values("org_name", kind="stable").reset_index(drop=True)
    return ImportResult(ledger=ledger, companies=report, rows_read=rows_read, dropped=_counts(dropped),
                        adjusted=_counts(adjusted), source=source, files=files)


# --------------------------------------------------------------------------------------------
# Reading and parsing helpers


class _LineMap:
    """Physical line of each CSV record, computed only when a problem must be located.

    ``line(i)`` is the 1-based line on which data row ``i`` (0-based, header excluded) starts;
    quoted fields spanning several lines are accounted for, blank lines skipped as pandas does.
    """

    def __init__(self, path: Path):
        self.path = path
        self._starts: list[int] | None = None

    def _scan(self) -> list[int]:
        starts, prev = [], 0
        with open(self.path, encoding="utf-8-sig", newline="", errors="replace") as fh:
            reader = csv.reader(fh)
            for record in reader:
                start = prev + 1
                prev = reader.line_num
                if record:
                    starts.append(start)
        return starts

    def line(self, row: int) -> int | None:
        if self._starts is None:
            self._starts = self._scan()
        return self._starts[row + 1] if row + 1 < len(self._starts) else None


def _read_export(path: Path, required: tuple[str, ...], *, wanted: tuple[str, ...] | None = None,
                 normalise=None) -> tuple[pd.DataFrame, _LineMap]:
    """Read an export CSV as strings (empty fields missing), checking its shape and columns.

    Only the ``wanted`` columns are kept (all when None); every row's field count is still
    checked. ``normalise`` maps header names (PitchBook's "Deal Size" -> ``DEAL_SIZE``).
    """
    shown = config.display_path(path)
    if not path.is_file():
        raise DataValidationError([Problem(shown, None, None, None, "file not found")])
    normalise = normalise or (lambda c: str(c).strip())
    try:
        header = pd.read_csv(path, nrows=0, dtype=str, encoding="utf-8-sig").columns
        names = {raw: normalise(raw) for raw in header}
        usecols = None if wanted is None else [raw for raw, name in names.items() if name in wanted]
        # pyarrow's CSV reader: all columns as strings (only empty fields missing), several times
        # faster than pandas' C engine asked for strings, and unlike it, it rejects rows with too
        # few fields as well as too many (also when only some columns are kept).
        table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
            column_types={raw: pa.string() for raw in header}, include_columns=usecols,
            strings_can_be_null=True, null_values=[""]))
        frame = table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow", na_value=np.nan)}.get)
    except pd.errors.EmptyDataError:
        raise DataValidationError([Problem(shown, None, None, None, "file is empty (no header row)")]) from None
    except (pa.ArrowInvalid, pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
        raise DataValidationError([_locate_parse_error(path, shown, exc)]) from None
    frame.columns = [names.get(c, normalise(c)) for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataValidationError([Problem(shown, 1, c, None, "required column is missing") for c in missing])
    return frame, _LineMap(path)


def _locate_parse_error(path: Path, shown: str, exc: Exception) -> Problem:
    """Find the line of a malformed record with the csv module (the fast reader gives none)."""
    message = str(exc)
    if "UTF8" in message or "UTF-8" in message or isinstance(exc, UnicodeDecodeError):
        try:
            data = path.read_bytes()
            data.decode("utf-8")
        except UnicodeDecodeError as err:
            line = data[:err.start].count(b"\n") + 1
            return Problem(shown, line, None, None, f"not UTF-8 text ({err.reason}); save the export as UTF-8")
    expected, prev = None, 0
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, strict=True)
            for record in reader:
                start, prev = prev + 1, reader.line_num
                if not record:
                    continue
                if expected is None:
                    expected = len(record)
                elif len(record) != expected:
                    return Problem(shown, start, None, None,
                                   f"malformed CSV: expected {expected} fields, found {len(record)}")
    except csv.Error as err:
        return Problem(shown, prev + 1, None, None, f"malformed CSV: {err}")
    except UnicodeDecodeError as err:
        return Problem(shown, None, None, None, f"not UTF-8 text ({err.reason})")
    return Problem(shown, None, None, None, f"malformed CSV: {message.strip()}")


def _pitchbook_column(name: str) -> str:
    norm = re.sub(r"[^A-Z0-9]+", "_", str(name).lstrip("\ufeff").strip().upper()).strip("_")
    return PITCHBOOK_ALIASES.get(norm, norm)


def _optional(frame: pd.DataFrame, column: str) -> pd.Series:
    if column in frame:
        return frame[column]
    return pd.Series(pd.NA, index=frame.index, dtype="str")


@dataclass(frozen=True)
class _Dates:
    """Parsed dates of an export column (parsed once per distinct string)."""

    values: np.ndarray     # datetime64[ns]; NaT when empty or unparseable
    precision: np.ndarray  # int8: 0 day, 1 year-month, 2 year only, -1 missing
    codes: np.ndarray      # index into ``uniques`` (-1: empty)
    uniques: np.ndarray    # the distinct stripped strings, then None
    iso_u: np.ndarray      # YYYY-MM-DD of each unique, then None
    bad: np.ndarray        # bool: present but not a date

    def subset(self, rows: np.ndarray) -> "_Dates":
        return _Dates(self.values[rows], self.precision[rows], self.codes[rows], self.uniques, self.iso_u,
                      self.bad[rows])

    @property
    def raw(self) -> np.ndarray:
        return self.uniques[self.codes]

    @property
    def iso(self) -> np.ndarray:
        return self.iso_u[self.codes]


_PRECISION = {"day": 0, "month": 1, "year": 2}


def _parse_dates(raw: pd.Series, *, us_formats: bool) -> _Dates:
    encoded = pc.utf8_trim_whitespace(arrow_strings(raw)).dictionary_encode()
    uniques = encoded.dictionary.to_pylist()
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    parsed = [_parse_date(u, us_formats) if u != "" else None for u in uniques]
    # A trailing sentinel entry serves code -1 (empty field).
    values_u = np.array([p[0] if p else np.datetime64("NaT") for p in parsed] + [np.datetime64("NaT")],
                        dtype="datetime64[ns]")
    prec_u = np.array([_PRECISION[p[1]] if p else -1 for p in parsed] + [-1], dtype=np.int8)
    bad_u = np.array([p is None and u != "" for p, u in zip(parsed, uniques)] + [False], dtype=bool)
    iso_u = np.array([str(p[0])[:10] if p else None for p in parsed] + [None], dtype=object)
    return _Dates(values_u[codes], prec_u[codes], codes, np.array(uniques + [None], dtype=object), iso_u,
                  bad_u[codes])


def _parse_date(text: str, us_formats: bool) -> tuple[np.datetime64, str] | None:
    try:
        m = _ISO.match(text)
        if m:
            year, month, day = m.group(1), m.group(2), m.group(3)
            if day:
                return np.datetime64(dt.date(int(year), int(month), int(day)), "ns"), "day"
            if month:
                return np.datetime64(dt.date(int(year), int(month), 1), "ns"), "month"
            return np.datetime64(dt.date(int(year), 1, 1), "ns"), "year"
        if us_formats:
            m = _US.match(text)
            if m:
                return np.datetime64(dt.date(int(m.group(3)), int(m.group(1)), int(m.group(2))), "ns"), "day"
            m = _DMY.match(text)
            if m and m.group(2).lower() in _MONTHS:
                month = _MONTHS[m.group(2).lower()]
                return np.datetime64(dt.date(int(m.group(3)), month, int(m.group(1))), "ns"), "day"
    except ValueError:  # 2021-02-30, month 13, year 0
        return None
    return None


def _parse_amount(raw: pd.Series, path: Path, lines: _LineMap, column: str) -> tuple[np.ndarray, list[Problem]]:
    """Numbers from strings (thousands separators and a leading $ ignored); empty -> NaN."""
    try:  # fast path: clean numbers (empty fields are already null)
        values = pc.cast(arrow_strings(raw, combine=False), pa.float64()).to_numpy(zero_copy_only=False)
        return values, _cell_problems(path, lines, column, raw, values < 0, "negative amount")
    except pa.ArrowInvalid:
        pass
    s = raw.str.strip()
    if s.str.contains(r"[,$]", regex=True).fillna(False).any():
        s = s.str.replace(r"[,$]", "", regex=True)
    values = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    present = (s.notna() & (s != "")).to_numpy(dtype=bool, na_value=False)
    problems = _cell_problems(path, lines, column, raw, present & np.isnan(values), "not a number")
    problems += _cell_problems(path, lines, column, raw, values < 0, "negative amount")
    return values, problems


def _parse_amounts(frame: pd.DataFrame, columns: tuple[str, ...], path: Path, lines: _LineMap, *,
                   scale: float = 1.0) -> tuple[dict[str, np.ndarray], list[Problem]]:
    """:func:`_parse_amount` over several (optional) columns: values times ``scale``, all problems."""
    values, problems = {}, []
    for col in columns:
        parsed, p = _parse_amount(_optional(frame, col), path, lines, col)
        values[col] = parsed * scale
        problems += p
    return values, problems


def _matches(values: pd.Series, pattern: str) -> np.ndarray:
    return _to_bool(pc.match_substring_regex(arrow_strings(values, combine=False), pattern))


def _to_bool(arr) -> np.ndarray:
    return np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _per_round(per_company: np.ndarray, take: pa.Array) -> pd.Series:
    """A per-company text column gathered per round, in pyarrow (no Python string per row)."""
    return pd.array(pa.array(per_company, pa.string(), from_pandas=True).take(take), dtype="str")


def _append(notes: np.ndarray, mask: np.ndarray, extra) -> np.ndarray:
    """Append ``extra`` (one note per True in ``mask``) to the notes, "; "-separated."""
    if not mask.any():
        return notes
    notes = notes.copy()
    notes[mask] = [f"{a}; {b}" if a else b for a, b in zip(notes[mask], extra)]
    return notes


def _cell_problems(path: Path, lines: _LineMap, column: str, raw: pd.Series | None, mask: pd.Series,
                   rule: str) -> list[Problem]:
    mask = np.asarray(mask, dtype=bool)
    if raw is None or not mask.any():
        return []
    rows = np.flatnonzero(mask)[: MAX_PROBLEMS + 1]
    shown = config.display_path(path)
    return [Problem(shown, lines.line(int(i)), column, None if pd.isna(raw.iloc[i]) else raw.iloc[i], rule)
            for i in rows]


def _empty_problems(path: Path, lines: _LineMap, frame: pd.DataFrame, columns: tuple[str, ...]) -> list[Problem]:
    """Required identifiers that are empty (a ledger row needs a stable round id)."""
    problems = []
    for col in columns:
        empty = frame[col].str.strip().fillna("").eq("").to_numpy(dtype=bool)
        problems += _cell_problems(path, lines, col, frame[col], empty, "must not be empty (the round's id)")
    return problems


def _cap(problems: list[Problem]) -> list[Problem]:
    problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or ""))
    if len(problems) <= MAX_PROBLEMS:
        return problems
    rest = len(problems) - MAX_PROBLEMS
    first = problems[0]
    return problems[:MAX_PROBLEMS] + [Problem(first.file, None, None, None,
                                              f"{rest}+ further problems not listed; fix the ones above first")]


def _crunchbase_url(cb_url: pd.Series, permalink: pd.Series, kind: str) -> pd.Series:
    ok = _matches(cb_url, r"^https?://\S+$")
    built = ("https://www.crunchbase.com/" + kind + "/" + permalink.str.strip())
    return cb_url.where(ok, built)


def _mtime_date(path: Path) -> str:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.timezone.utc).strftime("%Y-%m-%d")


def _resolve_names(raw: pd.Series, keys: pa.Array, values: pa.Array) -> tuple[pd.Series, int]:
    """Comma-separated uuids -> semicolon-separated names (first ``values`` entry of each key).

    Also returns the number of uuids that match no key (left out).
    """
    split = pc.split_pattern(arrow_strings(raw), ",")
    flat = pc.utf8_trim_whitespace(pc.list_flatten(split))
    idx = pc.index_in(flat, value_set=keys.cast(flat.type))
    unresolved = int(_to_bool(pc.and_(pc.is_null(idx), pc.not_equal(flat, ""))).sum())
    resolved = values.cast(pa.string()).take(idx).fill_null("")
    lists = pa.ListArray.from_arrays(split.offsets, resolved, mask=split.is_null())
    joined = pc.binary_join(lists, ";")
    joined = pc.utf8_trim(pc.replace_substring_regex(joined, ";{2,}", ";"), ";")
    joined = pc.if_else(pc.equal(joined, ""), pa.scalar(None, pa.string()), joined)
    return pd.Series(pd.array(joined, dtype="str"), index=raw.index), unresolved


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


def _format_amount(values: np.ndarray) -> pd.Series:
    """Plain numbers for the CSV: integers without ".0", other values in full precision."""
    v = np.asarray(values, dtype=float)
    finite = np.isfinite(v)
    whole = finite & (np.abs(v) < 2**53) & (v == np.round(np.nan_to_num(v)))
    as_int = pc.cast(pc.cast(pa.array(np.where(whole, v, 0.0)), pa.int64()), pa.string())
    as_float = pc.cast(pa.array(np.where(finite, v, 0.0)), pa.string())
    out = pc.if_else(pa.array(whole), as_int, as_float)
    out = pc.if_else(pa.array(finite), out, pa.scalar(None, pa.string()))
    return pd.Series(pd.array(out, dtype="str"))


def _write_csv(frame: pd.DataFrame, columns: list[str], fh, batch: int = 200_000) -> None:
    """Write ``frame`` as UTF-8 CSV with minimal quoting (as the csv module does), vectorised.

    Fields containing a comma, a quote or a line break are quoted (quotes doubled); missing
    values are empty fields. Rows are joined in pyarrow and written as one buffer per batch.
    """
    fh.write((",".join(columns) + "\n").encode("utf-8"))
    for start in range(0, len(frame), batch):
        part = frame.iloc[start:start + batch]
        fields = []
        for col in columns:
            arr = arrow_strings(part[col], combine=False).cast(pa.string()).fill_null("")
            needs = pc.match_substring_regex(arr, '[",\r\n]')
            if pc.any(needs).as_py():
                quoted = pc.binary_join_element_wise('"', pc.replace_substring(arr, '"', '""'), '"', "")
                arr = pc.if_else(needs, quoted, arr)
            fields.append(arr)
        lines = pc.binary_join_element_wise(*fields, ",")
        lines = pc.binary_join_element_wise(lines, "", "\n")  # each row + "\n"
        if isinstance(lines, pa.ChunkedArray):
            lines = lines.combine_chunks()
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset:lines.offset + len(lines) + 1]
        fh.write(memoryview(lines.buffers()[2])[offsets[0]:offsets[-1]])


def _counts(d: dict[str, int]) -> pd.Series:
    s = pd.Series(d, dtype=int, name="rows")
    return s[s > 0].rename_axis("reason")


def _check_ai_filter(ai_filter: str) -> None:
    if ai_filter not in AI_FILTERS:
        raise ParameterError(f"unknown ai_filter {ai_filter!r}; expected one of {AI_FILTERS}")
