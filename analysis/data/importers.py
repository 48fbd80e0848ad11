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

from analysis import config
from analysis.data.classifier import AI_FILTERS, Classification, classify_companies
from analysis.data.schemas import INVESTMENT_TYPES, NOT_NEW_EQUITY, FundingRounds
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

_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)}
_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)?)?$")
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
        ``post_money_valuation_usd``, ``org_uuid``, ``org_name``, ``lead_investor_uuids``, ...;
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
    * ``org_name`` from ``organizations.csv`` (the round's own ``org_name`` if the organisation
      is missing there); rounds of organisations absent from ``organizations.csv`` cannot be
      classified and are dropped.
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
    rounds, r_lines = _read_export(rounds_path, CRUNCHBASE_ROUNDS_REQUIRED)
    orgs, o_lines = _read_export(orgs_path, CRUNCHBASE_ORGS_REQUIRED)
    problems: list[Problem] = []

    announced, precision, bad = _parse_dates(rounds["announced_on"], us_formats=False)
    problems += _cell_problems(rounds_path, r_lines, "announced_on", rounds["announced_on"], bad,
                               "not a date (expected YYYY-MM-DD, YYYY-MM or YYYY)")
    amounts = {}
    for col in ("raised_amount_usd", "raised_amount", "post_money_valuation_usd"):
        if col in rounds:
            amounts[col], p = _parse_amount(rounds[col], rounds_path, r_lines, col)
            problems += p
        else:
            amounts[col] = pd.Series(np.nan, index=rounds.index)
    currency = _optional(rounds, "raised_amount_currency_code").str.strip().str.upper()
    currency = currency.where(amounts["raised_amount"].notna())
    bad_cur = currency.notna() & ~currency.str.fullmatch(r"[A-Z]{3}").fillna(False).astype(bool)
    problems += _cell_problems(rounds_path, r_lines, "raised_amount_currency_code",
                               rounds.get("raised_amount_currency_code"), bad_cur,
                               "not a three-letter ISO currency code")
    if problems:
        raise DataValidationError(_cap(problems))

    # Organisations: first row per uuid; only those that raised rounds are classified.
    orgs = orgs.drop_duplicates("uuid")
    org_index = pd.Index(orgs["uuid"])
    pos = org_index.get_indexer(rounds["org_uuid"])
    known = pos >= 0
    used = np.unique(pos[known])
    o = orgs.iloc[used]
    text = _optional(o, "short_description")
    if "description" in o:
        text = text.fillna("").str.cat(o["description"].fillna(""), sep=" ").str.strip().replace("", None)
    companies = pd.DataFrame({
        "name": o["name"].to_numpy(),
        "categories": _optional(o, "category_list").to_numpy(),
        "category_groups": _optional(o, "category_groups_list").to_numpy(),
        "text": text.to_numpy(),
        "alt_id": _optional(o, "permalink").fillna(o["uuid"]).to_numpy(),
        "url": _crunchbase_url(_optional(o, "cb_url"), _optional(o, "permalink"), "organization").to_numpy(),
    }, index=pd.Index(o["uuid"].to_numpy(), name="org_key"))

    mtime = _mtime_date(rounds_path)
    updated = _optional(rounds, "updated_at").str.slice(0, 10)
    source_date = updated.where(updated.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False).astype(bool), mtime)
    itype = rounds["investment_type"].str.strip().str.lower()
    unknown_type = itype.notna() & ~itype.isin(INVESTMENT_TYPES)
    type_note = pd.Series(None, index=rounds.index, dtype=object)
    type_note[unknown_type] = ("investment_type '" + rounds.loc[unknown_type, "investment_type"].astype(str)
                               + "' is not in the Crunchbase enum; recorded as undisclosed")
    itype = itype.where(~unknown_type & itype.notna(), "undisclosed")
    name = _optional(rounds, "name")
    fallback_title = rounds["investment_type"].fillna("round").astype(str) + " - " + \
        _optional(rounds, "org_name").fillna("").astype(str)
    org_name = pd.Series(np.where(known, companies["name"].reindex(rounds["org_uuid"]).to_numpy(), None),
                         index=rounds.index)
    org_name = org_name.fillna(_optional(rounds, "org_name"))
    canonical = pd.DataFrame({
        "round_id": "cb-" + rounds["uuid"].str.strip().str.lower(),
        "org_key": rounds["org_uuid"],
        "org_name": org_name,
        "investment_type": itype,
        "type_note": type_note,
        "announced_on": announced,
        "precision": precision,
        "announced_raw": rounds["announced_on"],
        "raised_amount_usd": amounts["raised_amount_usd"],
        "raised_amount": amounts["raised_amount"],
        "raised_amount_currency": currency,
        "post_money_valuation_usd": amounts["post_money_valuation_usd"],
        "pre_money_valuation_usd": np.nan,
        "lead_raw": _optional(rounds, "lead_investor_uuids"),
        "other_investors": None,
        "source_url": _crunchbase_url(_optional(rounds, "cb_url"), _optional(rounds, "permalink"), "funding_round"),
        "source_title": "Crunchbase bulk export: " + name.fillna(fallback_title).astype(str),
        "source_date": source_date,
    })
    dropped = {"organization not in the organizations file": int((~known).sum())}
    canonical = canonical[known]

    names_by_uuid = pd.concat([
        pd.Series(orgs["name"].to_numpy(), index=orgs["uuid"].to_numpy()),
        _investor_names(investors),
    ])
    names_by_uuid = names_by_uuid[~names_by_uuid.index.duplicated()]
    return _assemble(canonical, companies, tax, ai_filter, "crunchbase", CRUNCHBASE_PUBLISHER,
                     rows_read=len(rounds), dropped=dropped, lead_names=names_by_uuid,
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
    problems: list[Problem] = []
    announced, precision, bad = _parse_dates(d["DEAL_DATE"], us_formats=True)
    problems += _cell_problems(path, lines, "DEAL_DATE", d["DEAL_DATE"], bad,
                               "not a date (expected YYYY-MM-DD, YYYY-MM, YYYY, M/D/YYYY or D-Mon-YYYY)")
    money = {}
    for col in ("DEAL_SIZE", "PRE_MONEY_VALUATION", "POST_VALUATION"):
        if col in d:
            money[col], p = _parse_amount(d[col], path, lines, col)
            money[col] = money[col] * scale
            problems += p
        else:
            money[col] = pd.Series(np.nan, index=d.index)
    if problems:
        raise DataValidationError(_cap(problems))

    company_name = d["COMPANIES"].str.strip()
    key = _optional(d, "COMPANY_ID").str.strip().fillna(company_name)
    first = d.assign(_key=key).drop_duplicates("_key")
    groups = None
    for col in PITCHBOOK_INDUSTRY_COLUMNS:
        if col in first:
            groups = first[col] if groups is None else groups.str.cat(first[col], sep=",", na_rep="")
    text = _optional(first, "DESCRIPTION").fillna("").str.cat(_optional(first, "KEYWORDS").fillna(""), sep=" ")
    text = text.str.strip().replace("", None)
    companies = pd.DataFrame({
        "name": first["COMPANIES"].str.strip().to_numpy(),
        "categories": _optional(first, "VERTICALS").to_numpy(),
        "category_groups": (groups if groups is not None else _optional(first, "ALL_INDUSTRIES")).to_numpy(),
        "text": text.to_numpy(),
        "alt_id": _optional(first, "COMPANY_ID").fillna(first["_key"]).to_numpy(),
        "url": None,
    }, index=pd.Index(first["_key"].to_numpy(), name="org_key"))

    itype, type_note, not_round = _pitchbook_types(d)
    status = _optional(d, "DEAL_STATUS").str.strip().str.lower()
    failed = status.isin(PITCHBOOK_FAILED_STATUS).to_numpy()
    url = None
    for col in ("DEAL_URL", "PITCHBOOK_LINK", "URL", "PROFILE_URL"):
        if col in d:
            url = d[col].where(d[col].str.match(r"https?://\S+$").fillna(False).astype(bool))
            break
    deal_id = d["DEAL_ID"].str.strip()
    platform = "https://my.pitchbook.com/profile/" + deal_id + "/deal/profile"
    url = platform if url is None else url.fillna(platform)
    updated = _optional(d, "LAST_UPDATED_DATE").str.slice(0, 10)
    source_date = updated.where(updated.str.fullmatch(r"\d{4}-\d{2}-\d{2}").fillna(False).astype(bool),
                                _mtime_date(path))
    leads = _split_names(_optional(d, "LEAD_INVESTORS"))
    others = _split_names(_optional(d, "INVESTORS"))
    other_investors = [
        ";".join(n for n in o if n not in set(ld)) if o else None
        for o, ld in zip(others, leads)
    ]
    canonical = pd.DataFrame({
        "round_id": "pb-" + deal_id.str.lower().str.replace(_ROUND_ID_BAD, "-", regex=True).str.strip("-"),
        "org_key": key,
        "org_name": company_name,
        "investment_type": itype,
        "type_note": type_note,
        "announced_on": announced,
        "precision": precision,
        "announced_raw": d["DEAL_DATE"],
        "raised_amount_usd": money["DEAL_SIZE"],
        "raised_amount": np.nan,
        "raised_amount_currency": None,
        "post_money_valuation_usd": money["POST_VALUATION"],
        "pre_money_valuation_usd": money["PRE_MONEY_VALUATION"],
        "lead_raw": [";".join(ld) if ld else None for ld in leads],
        "other_investors": [o or None for o in other_investors],
        "source_url": url,
        "source_title": "PitchBook deals export: " + company_name.fillna("") + " " + d["DEAL_TYPE"].fillna("deal"),
        "source_date": source_date,
    })
    dropped = {"deal failed or cancelled (DEAL_STATUS)": int(failed.sum()),
               "not a funding round (acquisition, buyout, IPO, ...)": int((not_round & ~failed).sum())}
    canonical = canonical[~failed & ~not_round]
    return _assemble(canonical, companies, tax, ai_filter, "pitchbook", PITCHBOOK_PUBLISHER,
                     rows_read=len(d), dropped=dropped, lead_names=None, files=(config.display_path(path),))


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
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            ledger.to_csv(fh, index=False, columns=LEDGER_COLUMNS, lineterminator="\n")
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
    frame = result.companies.reset_index()
    fd, tmp = tempfile.mkstemp(dir=path.parent if path.parent.exists() else None, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            frame.to_csv(fh, index=False, lineterminator="\n")
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise AIBubbleError(f"cannot write {config.display_path(path)}: {exc.strerror}") from None
    return path


# --------------------------------------------------------------------------------------------
# Shared assembly


def _assemble(c: pd.DataFrame, companies: pd.DataFrame, tax: Taxonomy, ai_filter: str, source: str,
              publisher: str, *, rows_read: int, dropped: dict[str, int], lead_names: pd.Series | None,
              files: tuple[str, ...]) -> ImportResult:
    """Classify, filter, clean and format canonical rows (one per round) into a ledger."""
    adjusted: dict[str, int] = {}
    used = companies.index.isin(pd.unique(c["org_key"]))
    cls: Classification = classify_companies(companies[used], tax, ai_filter=ai_filter)
    table = cls.table
    is_ai = table["is_ai"].reindex(c["org_key"]).fillna(False).to_numpy(dtype=bool)
    dropped["not an AI company"] = int((~is_ai).sum())
    c = c[is_ai]
    no_date = c["announced_on"].isna().to_numpy()
    dropped["no announced_on date"] = int(no_date.sum())
    early = (~no_date) & (c["announced_on"] < LEDGER_FLOOR).to_numpy()
    dropped[f"announced before {LEDGER_FLOOR.date()} (the ledger's floor)"] = int(early.sum())
    c = c[~no_date & ~early]
    url_ok = c["source_url"].str.match(r"https?://\S+$").fillna(False).astype(bool).to_numpy()
    if publisher == CRUNCHBASE_PUBLISHER:
        org_url = companies["url"].reindex(c["org_key"]).to_numpy()
        c = c.assign(source_url=np.where(url_ok, c["source_url"], org_url))
        url_ok = c["source_url"].str.match(r"https?://\S+$").fillna(False).astype(bool).to_numpy()
    dropped["no source URL (no cb_url/permalink for round or organization)"] = int((~url_ok).sum())
    c = c[url_ok]
    dup_id = c["round_id"].duplicated().to_numpy()
    dropped["repeated round id"] = int(dup_id.sum())
    c = c[~dup_id]

    # Company names: the ledger keys companies by name, so homonyms get their permalink / id.
    kept_keys = pd.unique(c["org_key"])
    names = companies.loc[kept_keys, "name"].fillna("")
    clash = names.duplicated(keep=False) | (names == "")
    display = names.where(~clash, (names + " (" + companies.loc[kept_keys, "alt_id"].astype(str) + ")").str.strip())
    c = c.assign(org_name=display.reindex(c["org_key"]).to_numpy())
    adjusted["company name shared by several companies; id appended"] = int(clash.reindex(c["org_key"]).sum())

    notes: list[pd.Series] = [table["note"].reindex(c["org_key"]).set_axis(c.index)]
    # Dates of year or month precision.
    for prec, label in (("year", "year only"), ("month", "year-month")):
        m = (c["precision"] == prec).to_numpy()
        adjusted[f"announced_on given as {label}; set to the period's first day"] = int(m.sum())
        part = pd.Series(None, index=c.index, dtype=object)
        part[m] = ("announced_on given as '" + c.loc[m, "announced_raw"].astype(str).str.strip()
                   + f"' ({label}); set to " + c.loc[m, "announced_on"].dt.strftime("%Y-%m-%d"))
        notes.append(part)
    adjusted["investment type not in the vocabulary; recorded as undisclosed"] = int(
        c["type_note"].notna().sum())
    notes.append(c["type_note"])
    # Valuations the ledger would reject.
    post, amount = c["post_money_valuation_usd"], c["raised_amount_usd"]
    zero = (post == 0).to_numpy()
    below = (post.notna() & amount.notna() & (post < amount)).to_numpy() & ~zero
    part = pd.Series(None, index=c.index, dtype=object)
    part[zero] = "post-money valuation 0 in the export; left empty"
    part[below] = ("post-money valuation " + _money_text(post[below])
                   + " below the amount raised in the export; left empty")
    notes.append(part)
    adjusted["post-money valuation zero or below the amount raised; left empty"] = int((zero | below).sum())
    c = c.assign(post_money_valuation_usd=post.mask(zero | below))
    pre = c["pre_money_valuation_usd"]
    part = pd.Series(None, index=c.index, dtype=object)
    has_pre = pre.notna().to_numpy()
    part[has_pre] = "pre-money $" + _money_text(pre[has_pre])
    notes.append(part)

    # The ledger's duplicate rule: same company, date, amount and kind of money.
    equity = ~c["investment_type"].isin(NOT_NEW_EQUITY)
    key = pd.DataFrame({"o": c["org_name"], "d": c["announced_on"], "a": c["raised_amount_usd"], "e": equity})
    dup = (key.duplicated(keep="first") & key["a"].notna()).to_numpy()
    dropped["duplicate round (same company, date, amount and kind)"] = int(dup.sum())
    c = c[~dup]
    notes = [n[~dup] for n in notes]

    lead = c["lead_raw"]
    if lead_names is not None:
        lead, unresolved = _resolve_names(lead, lead_names)
        adjusted["lead investor uuids not found (left out)"] = unresolved

    ledger = pd.DataFrame({
        "round_id": c["round_id"],
        "org_name": c["org_name"],
        "domain": table["domain"].reindex(c["org_key"]).to_numpy(),
        "investment_type": c["investment_type"],
        "announced_on": c["announced_on"].dt.strftime("%Y-%m-%d"),
        "raised_amount_usd": _format_amount(c["raised_amount_usd"]),
        "raised_amount": _format_amount(c["raised_amount"]),
        "raised_amount_currency": c["raised_amount_currency"],
        "post_money_valuation_usd": _format_amount(c["post_money_valuation_usd"]),
        "lead_investors": lead,
        "other_investors": c["other_investors"],
        "source_url": c["source_url"],
        "source_title": c["source_title"].str.strip(),
        "source_publisher": publisher,
        "source_date": c["source_date"],
        "confidence": "reported",
        "notes": _join_notes(notes),
    })
    ledger = ledger.sort_values(["announced_on", "org_name", "round_id"], kind="stable").reset_index(drop=True)

    counts = ledger.groupby("org_name", sort=False).size()
    kept_companies = pd.DataFrame({
        "org_key": kept_keys,
        "org_name": display.to_numpy(),
        "domain": table.loc[kept_keys, "domain"].to_numpy(),
        "rule": table.loc[kept_keys, "rule"].to_numpy(),
        "matched": table.loc[kept_keys, "matched"].to_numpy(),
        "note": table.loc[kept_keys, "note"].to_numpy(),
    })
    kept_companies["rounds"] = kept_companies["org_name"].map(counts).fillna(0).astype(int)
    kept_companies = kept_companies[kept_companies["rounds"] > 0].sort_values("org_name").reset_index(drop=True)
    return ImportResult(
        ledger=ledger, companies=kept_companies, rows_read=rows_read,
        dropped=_counts(dropped, "dropped"), adjusted=_counts(adjusted, "adjusted"),
        source=source, files=files)


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


def _read_export(path: Path, required: tuple[str, ...], normalise=None) -> tuple[pd.DataFrame, _LineMap]:
    """Read an export CSV as strings (empty fields missing), checking its shape and columns."""
    shown = config.display_path(path)
    if not path.is_file():
        raise DataValidationError([Problem(shown, None, None, None, "file not found")])
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], engine="pyarrow",
                            encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise DataValidationError([Problem(shown, None, None, None, "file is empty (no header row)")]) from None
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
        raise DataValidationError([_locate_parse_error(path, shown, exc)]) from None
    if normalise is not None:
        frame.columns = [normalise(c) for c in frame.columns]
    else:
        frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
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


def _parse_dates(raw: pd.Series, *, us_formats: bool) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Parse dates once per unique string: (timestamps, precision, bad-value mask)."""
    stripped = raw.str.strip()
    uniques = pd.unique(stripped.dropna())
    parsed: dict[str, tuple[pd.Timestamp, str] | None] = {u: _parse_date(u, us_formats) for u in uniques if u != ""}
    ok = {u: v for u, v in parsed.items() if v is not None}
    dates = stripped.map({u: v[0] for u, v in ok.items()})
    precision = stripped.map({u: v[1] for u, v in ok.items()})
    bad = stripped.isin([u for u, v in parsed.items() if v is None])
    return pd.to_datetime(dates), precision, bad


def _parse_date(text: str, us_formats: bool) -> tuple[pd.Timestamp, str] | None:
    m = _ISO.match(text)
    try:
        if m:
            year, month, day = m.group(1), m.group(2), m.group(3)
            if day:
                return pd.Timestamp(dt.date(int(year), int(month), int(day))), "day"
            if month:
                return pd.Timestamp(dt.date(int(year), int(month), 1)), "month"
            return pd.Timestamp(dt.date(int(year), 1, 1)), "year"
        if us_formats:
            m = _US.match(text)
            if m:
                return pd.Timestamp(dt.date(int(m.group(3)), int(m.group(1)), int(m.group(2)))), "day"
            m = _DMY.match(text)
            if m and m.group(2).lower() in _MONTHS:
                return pd.Timestamp(dt.date(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))), "day"
    except ValueError:  # 2021-02-30, month 13, ...
        return None
    return None


def _parse_amount(raw: pd.Series, path: Path, lines: _LineMap, column: str) -> tuple[pd.Series, list[Problem]]:
    """Numbers from strings (thousands separators and a leading $ ignored); empty -> NaN."""
    s = raw.str.strip()
    if s.str.contains(r"[,$]", regex=True).any():
        s = s.str.replace(r"[,$]", "", regex=True)
    values = pd.to_numeric(s, errors="coerce").astype(float)
    present = s.notna() & (s != "")
    problems = _cell_problems(path, lines, column, raw, present & values.isna(), "not a number")
    problems += _cell_problems(path, lines, column, raw, values < 0, "negative amount")
    return values, problems


def _cell_problems(path: Path, lines: _LineMap, column: str, raw: pd.Series | None, mask: pd.Series,
                   rule: str) -> list[Problem]:
    mask = np.asarray(mask, dtype=bool)
    if raw is None or not mask.any():
        return []
    rows = np.flatnonzero(mask)[: MAX_PROBLEMS + 1]
    shown = config.display_path(path)
    return [Problem(shown, lines.line(int(i)), column, raw.iloc[i], rule) for i in rows]


def _cap(problems: list[Problem]) -> list[Problem]:
    problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or ""))
    if len(problems) <= MAX_PROBLEMS:
        return problems
    rest = len(problems) - MAX_PROBLEMS
    first = problems[0]
    return problems[:MAX_PROBLEMS] + [Problem(first.file, None, None, None,
                                              f"{rest}+ further problems not listed; fix the ones above first")]


def _crunchbase_url(cb_url: pd.Series, permalink: pd.Series, kind: str) -> pd.Series:
    ok = cb_url.str.match(r"https?://\S+$").fillna(False).astype(bool)
    built = ("https://www.crunchbase.com/" + kind + "/" + permalink.str.strip())
    return cb_url.where(ok, built)


def _mtime_date(path: Path) -> str:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.timezone.utc).strftime("%Y-%m-%d")


def _investor_names(path: Path | str | None) -> pd.Series:
    if path is None:
        return pd.Series(dtype=object)
    frame, _ = _read_export(Path(path), ("uuid", "name"))
    return pd.Series(frame["name"].to_numpy(), index=frame["uuid"].to_numpy())


def _resolve_names(raw: pd.Series, names: pd.Series) -> tuple[pd.Series, int]:
    """Comma-separated uuids -> semicolon-separated names; also the count of unresolved uuids."""
    present = raw.notna().to_numpy()
    if not present.any():
        return pd.Series(None, index=raw.index, dtype=object), 0
    sub = raw[present]
    parts = sub.str.split(",")
    pos = np.repeat(np.arange(len(sub)), parts.str.len().to_numpy().astype(np.int64))
    flat = pd.Series(parts.explode().to_numpy(), dtype="str").str.strip()
    resolved = pd.Series(flat.map(names).to_numpy(), dtype=object)
    found = resolved.notna().to_numpy()
    unresolved = int(((flat != "") & ~pd.Series(found)).sum())
    joined = pd.Series(resolved[found].to_numpy()).groupby(pos[found], sort=True).agg(";".join)
    out = np.full(len(sub), None, dtype=object)
    out[joined.index.to_numpy()] = joined.to_numpy()
    full = pd.Series(None, index=raw.index, dtype=object)
    full[present] = out
    return full, unresolved


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


def _format_amount(values: pd.Series) -> pd.Series:
    """Plain numbers for the CSV: integers without ".0", other values in full precision."""
    v = values.to_numpy(dtype=float)
    out = np.full(len(v), None, dtype=object)
    finite = np.isfinite(v)
    whole = finite & (v == np.round(v)) & (np.abs(v) < 2**53)
    out[whole] = v[whole].astype(np.int64).astype(str)
    frac = finite & ~whole
    out[frac] = [repr(x) for x in v[frac]]
    return pd.Series(out, index=values.index, dtype=object)


def _money_text(values: pd.Series) -> pd.Series:
    return pd.Series([f"{x:,.0f}" for x in values.tolist()], index=values.index, dtype=object)


def _join_notes(parts: list[pd.Series]) -> pd.Series:
    out = pd.Series("", index=parts[0].index, dtype=object)
    for p in parts:
        p = p.astype(object)
        has = p.notna().to_numpy()
        sep = np.where((out != "").to_numpy() & has, "; ", "")
        out = out + sep + p.fillna("").astype(str)
    return out.where(out != "", None)


def _counts(d: dict[str, int], name: str) -> pd.Series:
    s = pd.Series(d, dtype=int, name=name)
    return s[s > 0].rename_axis("reason")


def _check_ai_filter(ai_filter: str) -> None:
    if ai_filter not in AI_FILTERS:
        raise ParameterError(f"unknown ai_filter {ai_filter!r}; expected one of {AI_FILTERS}")
