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
  pyarrow's CSV writer writes it, quoting every text value (missing values stay empty).

Speed: a bulk export is processed as pyarrow arrays, with independent steps in two threads, and
only the AI rounds are ever turned into ledger text (``benchmarks/import_ledger.py``).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import html
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from analysis import config
from analysis.data.classifier import AI_FILTERS, Classification, arrow_strings, classify_companies
from analysis.data.vocabulary import INVESTMENT_TYPES, ISO_DATE_PATTERN, NOT_NEW_EQUITY, URL_PATTERN
from analysis.data.taxonomy import Taxonomy, load_taxonomy
from analysis.errors import AIBubbleError, DataValidationError, ParameterError, Problem
from analysis.files import atomic_file

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
    table : pyarrow.Table
        The funding ledger (``LEDGER_COLUMNS``, all strings as written to CSV); ``ledger`` is
        the same as a DataFrame, built on first use (a bulk import need never build it).
    company_table : pyarrow.Table
        One row per kept company: ``org_name``, ``org_key``, ``domain``, ``rule``, ``matched``,
        ``note``, ``rounds``: the per-company classification report; ``companies`` is the same
        as a DataFrame sorted by name, built on first use.
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

    table: pa.Table
    company_table: pa.Table
    rows_read: int
    dropped: pd.Series
    adjusted: pd.Series
    source: str
    files: tuple[str, ...] = field(default_factory=tuple)

    @functools.cached_property
    def ledger(self) -> pd.DataFrame:
        """The funding ledger as a DataFrame of pandas strings (zero-copy view of ``table``)."""
        return self.table.to_pandas(types_mapper=_STRING_TYPES.get)

    @functools.cached_property
    def companies(self) -> pd.DataFrame:
        """The per-company classification report, sorted by company name."""
        order = pc.sort_indices(self.company_table, sort_keys=[("org_name", "ascending")])
        return self.company_table.take(order).to_pandas(types_mapper=_STRING_TYPES.get)

    @property
    def rows_kept(self) -> int:
        return self.table.num_rows

    def per_domain(self) -> pd.DataFrame:
        """Kept rounds and companies per domain (rows in taxonomy display order)."""
        ids = list(load_taxonomy().ids)
        rounds, companies = (_value_counts(t["domain"]).reindex(ids, fill_value=0)
                             for t in (self.table, self.company_table))
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
                 f"  rows kept     {self.rows_kept:>{w},}  ({self.company_table.num_rows:,} AI companies)"]
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
        return f"<pre>{html.escape(self.report())}</pre>" + self.per_domain().to_html()


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
    # A bulk export has millions of rows: the rounds stay a pyarrow Table until the AI rounds
    # are chosen, and only those (about a third) ever become ledger text. pyarrow releases the
    # GIL, so independent stages run side by side in two threads.
    rounds, r_lines = _read_table(rounds_path, CRUNCHBASE_ROUNDS_REQUIRED, wanted=_CB_ROUND_COLUMNS)
    with ThreadPoolExecutor(max_workers=2) as pool:
        checking = pool.submit(_check_crunchbase_rounds, rounds, rounds_path, r_lines)
        orgs, _ = _read_table(orgs_path, CRUNCHBASE_ORGS_REQUIRED, wanted=_CB_ORG_COLUMNS)
        if len(orgs) <= len(rounds):
            # Fewer organisations than rounds: most of them raised one, so all are classified at
            # once while the rounds are matched to them.
            used_orgs, companies = orgs, _classifier_input(orgs)
            classifying = pool.submit(classify_companies, companies, tax, ai_filter=ai_filter)
            org_pos = _org_positions(rounds["org_uuid"], orgs)
        else:  # a full bulk export lists millions of organisations: classify only those that raised
            org_pos, used_orgs = _raisers_only(_org_positions(rounds["org_uuid"], orgs), orgs)
            companies = _classifier_input(used_orgs)
            classifying = pool.submit(classify_companies, companies, tax, ai_filter=ai_filter)
        name_rank = _name_rank(companies["name"])
        dates, amounts, currency, problems = checking.result()
        if problems:
            raise DataValidationError(_cap(problems))
        cls = classifying.result()

        dropped: dict[str, int] = {}
        alive, order = _select(org_pos, {"organization not in the organizations file": org_pos < 0}, cls,
                               dates.values, name_rank, dropped)
        rows = alive[order]
        # Filtering keeps the reader's chunks, so it is cheap; the reordering take then runs on
        # one contiguous column instead of gathering across hundreds of chunks.
        in_ledger = np.zeros(len(rounds), dtype=bool)
        in_ledger[alive] = True
        in_ledger, ledger_order = pa.array(in_ledger), pa.array(order)
        wanted = [c for c in ("uuid", "name", "permalink", "cb_url", "updated_at", "investment_type",
                              "lead_investor_uuids") if c in rounds.column_names]
        r = pa.table(dict(zip(wanted, pool.map(lambda col: col.filter(in_ledger).combine_chunks().take(ledger_order),
                                               [rounds[c] for c in wanted]))))
        rows_read = len(rounds)
        del rounds

        keys, names = _investor_names(orgs, investors)
        naming = pool.submit(_resolve_names, _optional(r, "lead_investor_uuids"), keys, names)
        citing = pool.submit(_crunchbase_round_urls, r, used_orgs, org_pos[rows])
        c = _crunchbase_round_text(r, companies["name"], org_pos[rows], rounds_path)
        # Hashing every round id (to find repeats) is slow: it runs here, beside the other two.
        repeats = pool.submit(_any_repeat, c["round_id"])
        c["lead_investors"], unresolved = naming.result()
        c["source_url"] = citing.result()
        c["ids_repeat"] = repeats.result()
    c.update({
        "org_pos": org_pos[rows],
        "raised_amount_usd": amounts["raised_amount_usd"][rows],
        "raised_amount": amounts["raised_amount"][rows],
        "raised_amount_currency": currency.take(pa.array(rows)),
        "post_money_valuation_usd": amounts["post_money_valuation_usd"][rows],
        "pre_money_valuation_usd": np.full(len(rows), np.nan),
        "other_investors": None,
    })
    return _finish(c, dates.subset(rows), companies, cls, CRUNCHBASE_PUBLISHER, rows_read=rows_read,
                   dropped=dropped, adjusted={"lead investor uuids not found (left out)": unresolved},
                   source="crunchbase",
                   files=(config.display_path(rounds_path), config.display_path(orgs_path)))


def _investor_names(orgs: pa.Table, investors: Path | str | None) -> tuple[pa.Array, pa.Array]:
    """uuid -> name lookup for lead investors: the organisations, then an optional investors.csv."""
    keys, names = orgs["uuid"].combine_chunks(), orgs["name"].combine_chunks()
    if investors is None:
        return keys, names
    inv, _ = _read_table(Path(investors), ("uuid", "name"), wanted=("uuid", "name"))
    return tuple(pa.concat_arrays([ours.cast(pa.large_string()), theirs.combine_chunks().cast(pa.large_string())])
                 for ours, theirs in ((keys, inv["uuid"]), (names, inv["name"])))


def _check_crunchbase_rounds(rounds: pa.Table, path: Path,
                             lines: "_LineMap") -> tuple["_Dates", dict[str, np.ndarray], pa.Array, list[Problem]]:
    """Dates, amounts and currencies of every round, and the problems found in them."""
    problems = _empty_problems(path, lines, rounds, ("uuid",))
    dates = _parse_dates(rounds["announced_on"], us_formats=False)
    problems += _cell_problems(path, lines, "announced_on", rounds["announced_on"], dates.bad,
                               "not a date (expected YYYY-MM-DD, YYYY-MM or YYYY)")
    amounts, p = _parse_amounts(rounds, ("raised_amount_usd", "raised_amount", "post_money_valuation_usd"),
                                path, lines)
    problems += p
    raw_currency = _optional(rounds, "raised_amount_currency_code")
    currency = pc.utf8_upper(pc.utf8_trim_whitespace(raw_currency))  # only where an amount is given:
    currency = pc.if_else(pa.array(np.isnan(amounts["raised_amount"])), pa.scalar(None, pa.string()), currency)
    bad_cur = _to_bool(pc.invert(pc.match_substring_regex(currency, r"^[A-Z]{3}$")))
    problems += _cell_problems(path, lines, "raised_amount_currency_code", raw_currency, bad_cur,
                               "not a three-letter ISO currency code")
    return dates, amounts, currency, problems


def _org_positions(org_uuid: pa.ChunkedArray, orgs: pa.Table) -> np.ndarray:
    """Each round's row in ``orgs`` (-1 when absent); a uuid listed twice resolves to its first row."""
    found = pc.index_in(org_uuid, value_set=orgs["uuid"].combine_chunks()).fill_null(-1)
    return found.to_numpy(zero_copy_only=False).astype(np.int64)


def _raisers_only(found: np.ndarray, orgs: pa.Table) -> tuple[np.ndarray, pa.Table]:
    """The organisations that raised a round (in file order), and each round's position among them."""
    known = found >= 0
    is_used = np.zeros(len(orgs), dtype=bool)
    is_used[found[known]] = True
    position = np.full(len(orgs), -1, dtype=np.int64)
    position[is_used] = np.arange(int(is_used.sum()))
    return np.where(known, position[found], -1), orgs.filter(pa.array(is_used))


def _classifier_input(orgs: pa.Table) -> pd.DataFrame:
    """The companies frame :func:`classify_companies` reads (plus key, name and id for the ledger)."""
    text = _optional(orgs, "short_description")
    if "description" in orgs.column_names:
        text = pc.utf8_trim_whitespace(pc.binary_join_element_wise(text, orgs["description"], " ",
                                                                   null_handling="skip"))
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    return pd.DataFrame({
        "key": _series(orgs["uuid"]), "name": _series(orgs["name"]),
        "categories": _series(_optional(orgs, "category_list")),
        "category_groups": _series(_optional(orgs, "category_groups_list")), "text": _series(text),
        "alt_id": _series(pc.coalesce(_optional(orgs, "permalink"), orgs["uuid"])),
    })


def _crunchbase_round_urls(r: pa.Table, o: pa.Table, org_rows: np.ndarray) -> pa.Array:
    """Each round's Crunchbase page (``cb_url``, else built from ``permalink``), else its organisation's.

    Null where neither is a URL (:func:`_finish` drops those rounds).
    """
    url = _crunchbase_url(_optional(r, "cb_url"), _optional(r, "permalink"), "funding_round")
    missing = ~_matches(url, URL_PATTERN)
    if missing.any():
        at = pa.array(org_rows[missing])
        org_url = _crunchbase_url(_optional(o, "cb_url").take(at), _optional(o, "permalink").take(at), "organization")
        org_url = pc.if_else(pa.array(_matches(org_url, URL_PATTERN)), org_url, pa.scalar(None, pa.string()))
        url = pc.replace_with_mask(url, pa.array(missing), org_url)
    return url


def _crunchbase_round_text(r: pa.Table, org_names: pd.Series, org_rows: np.ndarray, path: Path) -> dict:
    """round_id, investment_type (with notes for unknown types), source_title and source_date."""
    updated = pc.utf8_slice_codeunits(_optional(r, "updated_at"), 0, 10)
    dated = pa.array(_to_bool(pc.match_substring_regex(updated, ISO_DATE_PATTERN)))
    raw_type = pc.utf8_lower(pc.utf8_trim_whitespace(r["investment_type"]))
    in_enum = _to_bool(pc.is_in(raw_type, value_set=pa.array(sorted(INVESTMENT_TYPES), pa.string())))
    unknown_type = _to_bool(pc.is_valid(raw_type)) & ~in_enum
    type_note = np.full(len(r), None, dtype=object)
    type_note[unknown_type] = [f"investment_type '{t}' is not in the Crunchbase enum; recorded as undisclosed"
                               for t in r["investment_type"].filter(pa.array(unknown_type)).to_pylist()]
    itype = pc.if_else(pa.array(in_enum), raw_type, "undisclosed")
    names = _strings(org_names, len(org_names)).take(pa.array(org_rows)).fill_null("")
    title = pc.coalesce(_optional(r, "name"), pc.binary_join_element_wise(itype, names, " - "))
    round_id = pc.replace_substring_regex(pc.utf8_lower(pc.utf8_trim_whitespace(r["uuid"])), _ROUND_ID_BAD.pattern, "-")
    return {
        "round_id": pc.binary_join_element_wise("cb-", round_id, ""),
        "investment_type": itype,
        "type_note": type_note,
        "source_title": pc.binary_join_element_wise("Crunchbase bulk export: ", title, ""),
        "source_date": pc.if_else(dated, updated, _mtime_date(path)),
    }




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
    })
    cls = classify_companies(companies, tax, ai_filter=ai_filter)

    itype, type_note, not_round = _pitchbook_types(d)
    failed = _optional(d, "DEAL_STATUS").str.strip().str.lower().isin(PITCHBOOK_FAILED_STATUS).to_numpy()
    dropped: dict[str, int] = {}
    alive, order = _select(org_pos, {"no company name (COMPANIES)": missing_name,
                                     "deal failed or cancelled (DEAL_STATUS)": failed,
                                     "not a funding round (acquisition, buyout, IPO, ...)": not_round},
                           cls, dates.values, _name_rank(companies["name"]), dropped)
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
    updated = _optional(r, "LAST_UPDATED_DATE").str.slice(0, 10)
    source_date = updated.where(updated.str.match(ISO_DATE_PATTERN).fillna(False).astype(bool),
                                _mtime_date(path))
    leads = _split_names(_optional(r, "LEAD_INVESTORS"))
    others = _split_names(_optional(r, "INVESTORS"))
    c = {
        "round_id": "pb-" + deal_id.str.lower().str.replace(_ROUND_ID_BAD.pattern, "-", regex=True).str.strip("-"),
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
    return _finish(c, dates.subset(rows), companies, cls, PITCHBOOK_PUBLISHER, rows_read=len(d),
                   dropped=dropped, adjusted={}, source="pitchbook", files=(config.display_path(path),))


def write_ledger(ledger: pd.DataFrame | pa.Table, path: Path | str, *, overwrite: bool = False) -> Path:
    """Write a ledger CSV atomically: a temp file in the same folder, then ``os.replace``.

    ``ledger`` is a DataFrame (``ImportResult.ledger``) or the same as a pyarrow Table
    (``ImportResult.table``, which skips the conversion on large imports).

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
    _write_atomically(path, "wb", lambda fh: pacsv.write_csv(_ledger_table(ledger), fh))
    return path


def _ledger_table(ledger: pd.DataFrame | pa.Table) -> pa.Table:
    """The ledger's columns as pyarrow strings, for pyarrow's CSV writer.

    The writer quotes every text value (nulls stay empty, unquoted): valid CSV that any reader
    parses back to the same strings, written several times faster than field-by-field quoting.
    """
    if isinstance(ledger, pa.Table):
        return ledger.select(LEDGER_COLUMNS).cast(pa.schema([(col, pa.string()) for col in LEDGER_COLUMNS]))
    columns = {}
    for col in LEDGER_COLUMNS:
        values = ledger[col]
        if not isinstance(values.dtype, pd.StringDtype):
            values = values.astype("str")
        columns[col] = _strings(values, len(ledger))
    return pa.table(columns)


def write_company_report(result: ImportResult, path: Path | str) -> Path:
    """Write the per-company classification report (one row per kept company), atomically."""
    path = Path(path)
    _write_atomically(path, "w", lambda fh: result.companies.to_csv(fh, index=False, lineterminator="\n"))
    return path


def _write_atomically(path: Path, mode: str, write) -> None:
    """``write(handle)`` into ``path`` through :func:`atomic_file`; OS errors as one-line errors."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(path, mode) as handle:
            write(handle)
    except OSError as exc:
        raise AIBubbleError(f"cannot write {config.display_path(path)}: {exc.strerror}") from None


# --------------------------------------------------------------------------------------------
# Shared assembly


def _any_repeat(ids: pa.Array) -> bool:
    """Whether any value occurs twice (one hash pass; finding which rows is left to pandas)."""
    return pc.count_distinct(ids, mode="all").as_py() < len(ids)


def _name_rank(names: pd.Series) -> np.ndarray:
    """Each company's place in alphabetical order of names (ties share a place)."""
    rank = pc.rank(arrow_strings(names).fill_null(""), sort_keys="ascending", tiebreaker="dense")
    return rank.to_numpy(zero_copy_only=False)


def _select(org_pos: np.ndarray, pre_drop: dict[str, np.ndarray], cls: Classification, announced: np.ndarray,
            name_rank: np.ndarray, dropped: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """The rows to keep and their ledger order, counting every dropped row under its first reason.

    Returns ``alive`` (kept row positions, ascending) and ``order`` (a permutation of ``alive``'s
    positions), so ``alive[order]`` are the rows in ledger order: by announcement date, company
    name and export row. Ordering the positions here spares a sort of the finished ledger.
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
    # One integer key, day then name; a stable sort keeps export order within a tie.
    day = (announced[rows] - LEDGER_FLOOR.to_datetime64()).astype("timedelta64[D]").astype(np.int64)
    order = np.argsort(day * (int(name_rank.max(initial=0)) + 1) + name_rank[org_pos[rows]], kind="stable")
    return rows, order


def _finish(c: dict, dates: "_Dates", companies: pd.DataFrame, cls: Classification, publisher: str, *,
            rows_read: int, dropped: dict[str, int], adjusted: dict[str, int], source: str,
            files: tuple[str, ...]) -> ImportResult:
    """Clean and format the selected rounds (one entry each, ``org_pos`` into ``companies``).

    ``c`` maps column names to per-round values: text as pyarrow arrays, pandas Series, lists
    or None (all missing); amounts as float arrays; ``type_note`` as an object array. The
    importers leave ``source_url`` missing where they found no URL; those rounds are dropped.
    An optional ``ids_repeat`` (bool) says whether any ``round_id`` occurs twice, when the
    importer has already checked.
    """
    org_pos = np.asarray(c["org_pos"], dtype=np.int64)
    n = len(org_pos)
    text = {col: _strings(c[col], n) for col in ("round_id", "investment_type", "raised_amount_currency",
                                                 "lead_investors", "other_investors", "source_url",
                                                 "source_title", "source_date")}
    money = {col: np.asarray(c[col], dtype=float) for col in ("raised_amount_usd", "raised_amount",
                                                             "post_money_valuation_usd", "pre_money_valuation_usd")}
    type_note = np.asarray(c["type_note"], dtype=object)
    # Valuations the ledger would reject: zero, or below the amount raised (left empty, noted).
    post = money["post_money_valuation_usd"]
    zero, below = post == 0, (post < money["raised_amount_usd"]) & (post != 0)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Text that needs no decision is formatted for every round in a second thread while
        # this one finds the rounds to drop (usually none).
        formatting = pool.submit(_formatted_columns, money, np.where(zero | below, np.nan, post),
                                 text["source_title"], dates)
        alive = _rounds_to_keep(text, money["raised_amount_usd"], org_pos, dates.values, c.get("ids_repeat"),
                                dropped)
        formatted = formatting.result()
    if not alive.all():
        keep = np.flatnonzero(alive)
        take = pa.array(keep)
        text = {col: arr.take(take) for col, arr in text.items()}
        formatted = {col: arr.take(take) for col, arr in formatted.items()}
        money = {col: v[keep] for col, v in money.items()}
        type_note, zero, below, org_pos = type_note[keep], zero[keep], below[keep], org_pos[keep]
        dates = dates.subset(keep)

    # Per-company values are gathered for the kept companies only (a bulk export's companies
    # mostly raise no AI round), then per round by each round's index among them.
    rounds_of = np.bincount(org_pos, minlength=len(companies))
    kept = np.flatnonzero(rounds_of)
    per_kept = pa.array((np.cumsum(rounds_of > 0) - 1)[org_pos])  # each round's company among ``kept``
    table = cls.table
    # Company names: the ledger keys companies by name, so homonyms get their permalink / id.
    names = companies["name"].take(kept).fillna("").astype(object).to_numpy()
    alt = companies["alt_id"].take(kept).astype(object).to_numpy()
    clash = pd.Series(names).duplicated(keep=False).to_numpy() | (names == "")
    display = names.copy()
    display[clash] = [f"{nm} ({a})".strip() for nm, a in zip(names[clash], alt[clash])]
    adjusted["company name shared by several companies; id appended"] = int(clash[per_kept.to_numpy()].sum())
    domain = table["domain"].to_numpy(dtype=object)[kept]
    company_note = arrow_strings(table["note"]).take(pa.array(kept)).cast(pa.string())

    # Extra notes (imprecise dates, unknown types, valuations left out) touch few rows; only
    # those rows meet Python strings.
    extra = np.full(len(org_pos), None, dtype=object)
    for code, label in ((1, "year-month"), (2, "year only")):
        m = dates.precision == code
        adjusted[f"announced_on given as {label}; set to the period's first day"] = int(m.sum())
        extra = _append(extra, m, [f"announced_on given as '{raw}' ({label}); set to {iso}"
                                   for raw, iso in zip(dates.raw[m], dates.iso[m])])
    m = pd.notna(type_note)
    adjusted["investment type not in the vocabulary; recorded as undisclosed"] = int(m.sum())
    extra = _append(extra, m, type_note[m])
    extra = _append(extra, zero, ["post-money valuation 0 in the export; left empty"] * int(zero.sum()))
    extra = _append(extra, below, [f"post-money valuation {v:,.0f} below the amount raised in the export; "
                                   "left empty" for v in money["post_money_valuation_usd"][below]])
    adjusted["post-money valuation zero or below the amount raised; left empty"] = int((zero | below).sum())
    pre = money["pre_money_valuation_usd"]
    has_pre = ~np.isnan(pre)
    extra = _append(extra, has_pre, [f"pre-money ${v:,.0f}" for v in pre[has_pre]])
    notes = company_note.take(per_kept)
    with_extra = pd.notna(extra)
    if with_extra.any():
        base = notes.filter(pa.array(with_extra)).to_pylist()
        merged = [f"{b}; {e}" if b else e for b, e in zip(base, extra[with_extra])]
        notes = pc.replace_with_mask(notes, pa.array(with_extra), pa.array(merged, pa.string()))

    n = len(org_pos)
    ledger = pa.table({
        "round_id": text["round_id"],
        "org_name": _strings(display, len(kept)).take(per_kept),
        "domain": _strings(domain, len(kept)).take(per_kept),
        "investment_type": text["investment_type"],
        "announced_on": formatted["announced_on"],
        "raised_amount_usd": formatted["raised_amount_usd"],
        "raised_amount": formatted["raised_amount"],
        "raised_amount_currency": text["raised_amount_currency"],
        "post_money_valuation_usd": formatted["post_money_valuation_usd"],
        "lead_investors": text["lead_investors"],
        "other_investors": text["other_investors"],
        "source_url": text["source_url"],
        "source_title": formatted["source_title"],
        "source_publisher": pa.repeat(pa.scalar(publisher, pa.string()), n),
        "source_date": text["source_date"],
        "confidence": pa.repeat(pa.scalar("reported", pa.string()), n),
        "notes": notes,
    })
    report = pa.table({
        "org_name": _strings(display, len(kept)), "org_key": _strings(companies["key"], len(companies)).take(kept),
        "domain": _strings(domain, len(kept)), "rule": _strings(table["rule"].to_numpy(dtype=object)[kept], len(kept)),
        "matched": _strings(table["matched"].to_numpy(dtype=object)[kept], len(kept)),
        "note": company_note,
        "rounds": rounds_of[kept],
    })
    return ImportResult(table=ledger, company_table=report, rows_read=rows_read, dropped=_counts(dropped),
                        adjusted=_counts(adjusted), source=source, files=files)


def _rounds_to_keep(text: dict[str, pa.Array], amount: np.ndarray, org_pos: np.ndarray, announced: np.ndarray,
                    ids_repeat: bool | None, dropped: dict[str, int]) -> np.ndarray:
    """Rounds without a source URL, with a repeated id, or duplicating another round: dropped, counted."""
    alive = _to_bool(pc.is_valid(text["source_url"]))
    dropped["no source URL (no cb_url/permalink for round or organization)"] = int((~alive).sum())
    dup_id = np.zeros(len(alive), dtype=bool)
    # Most exports repeat no id (an importer may have checked already); then the exact check,
    # which keeps the first of each id among the rounds with a URL, is skipped.
    if ids_repeat if ids_repeat is not None else _any_repeat(text["round_id"]):
        ids = text["round_id"].filter(pa.array(alive))
        dup_id[alive] = pd.Series(pd.array(ids, dtype="str")).duplicated().to_numpy()
    dropped["repeated round id"] = int(dup_id.sum())
    alive &= ~dup_id
    # The ledger's duplicate rule: same company, date, amount and kind of money (new equity or not).
    new_equity = ~_to_bool(pc.is_in(text["investment_type"], value_set=pa.array(sorted(NOT_NEW_EQUITY), pa.string())))
    key = pd.DataFrame({"o": org_pos, "d": announced, "a": amount, "e": new_equity})
    dup = np.zeros(len(alive), dtype=bool)
    dup[alive] = key[alive].duplicated().to_numpy() & ~np.isnan(amount[alive])
    dropped["duplicate round (same company, date, amount and kind)"] = int(dup.sum())
    return alive & ~dup


def _formatted_columns(money: dict[str, np.ndarray], post: np.ndarray, title: pa.Array,
                       dates: "_Dates") -> dict[str, pa.Array]:
    """The ledger's number, title and date columns as text, for every round."""
    return {"raised_amount_usd": _format_amount(money["raised_amount_usd"]),
            "raised_amount": _format_amount(money["raised_amount"]),
            "post_money_valuation_usd": _format_amount(post),
            "source_title": pc.utf8_trim_whitespace(title),
            "announced_on": dates.iso_strings()}


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


def _read_table(path: Path, required: tuple[str, ...], *, wanted: tuple[str, ...] | None = None,
                normalise=None) -> tuple[pa.Table, _LineMap]:
    """Read an export CSV as a pyarrow Table of strings (empty fields null), checking its shape.

    Only the ``wanted`` columns are kept (all when None); every row's field count is still
    checked. Column names are normalised (``normalise`` maps PitchBook's "Deal Size" ->
    ``DEAL_SIZE``; by default names are stripped).
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
    except pd.errors.EmptyDataError:
        raise DataValidationError([Problem(shown, None, None, None, "file is empty (no header row)")]) from None
    except (pa.ArrowInvalid, pd.errors.ParserError, ValueError, UnicodeDecodeError) as exc:
        raise DataValidationError([_locate_parse_error(path, shown, exc)]) from None
    table = table.rename_columns([names.get(c, normalise(c)) for c in table.column_names])
    missing = [c for c in required if c not in table.column_names]
    if missing:
        raise DataValidationError([Problem(shown, 1, c, None, "required column is missing") for c in missing])
    return table, _LineMap(path)


def _read_export(path: Path, required: tuple[str, ...], *, normalise=None) -> tuple[pd.DataFrame, _LineMap]:
    """:func:`_read_table` as a DataFrame of pandas strings (for the small PitchBook exports)."""
    table, lines = _read_table(path, required, normalise=normalise)
    return table.to_pandas(types_mapper=_STRING_TYPES.get), lines


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


#: pyarrow strings -> pandas' Arrow-backed strings (missing = NaN), zero-copy.
_STRING_TYPES = {pa.string(): pd.StringDtype("pyarrow", na_value=np.nan),
                 pa.large_string(): pd.StringDtype("pyarrow", na_value=np.nan)}


def _optional(frame: pd.DataFrame | pa.Table, column: str):
    """A column of a DataFrame or Table; all missing when the export lacks it."""
    if isinstance(frame, pa.Table):
        return frame[column] if column in frame.column_names else pa.nulls(len(frame), pa.string())
    if column in frame:
        return frame[column]
    return pd.Series(pd.NA, index=frame.index, dtype="str")


def _series(values: pa.Array | pa.ChunkedArray) -> pd.Series:
    """pyarrow strings as a pandas string Series (zero-copy)."""
    return pd.Series(pd.array(values, dtype=_STRING_TYPES[pa.string()]))


def _strings(values, n: int) -> pa.Array:
    """Per-row text of any form (pyarrow array, Series, list, numpy array, None) -> pa.string array."""
    if values is None:
        return pa.nulls(n, pa.string())
    if isinstance(values, pd.Series):
        values = arrow_strings(values)
    elif not isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = pa.array(np.asarray(values, dtype=object), pa.string(), from_pandas=True)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    return values.cast(pa.string())


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

    def iso_strings(self) -> pa.Array:
        """``iso`` as pyarrow strings, gathered without a Python string per row."""
        return pa.array(self.iso_u, pa.string(), from_pandas=True).take(
            pa.array(np.where(self.codes < 0, len(self.iso_u) - 1, self.codes)))


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


def _parse_amount(raw, path: Path, lines: _LineMap, column: str) -> tuple[np.ndarray, list[Problem]]:
    """Numbers from strings (thousands separators and a leading $ ignored); empty -> NaN."""
    try:  # fast path: clean numbers (empty fields are already null)
        values = pc.cast(arrow_strings(raw, combine=False), pa.float64()).to_numpy(zero_copy_only=False)
        return values, _cell_problems(path, lines, column, raw, values < 0, "negative amount")
    except pa.ArrowInvalid:
        pass
    s = (raw if isinstance(raw, pd.Series) else _series(raw)).str.strip()
    if s.str.contains(r"[,$]", regex=True).fillna(False).any():
        s = s.str.replace(r"[,$]", "", regex=True)
    values = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    present = (s.notna() & (s != "")).to_numpy(dtype=bool, na_value=False)
    problems = _cell_problems(path, lines, column, raw, present & np.isnan(values), "not a number")
    problems += _cell_problems(path, lines, column, raw, values < 0, "negative amount")
    return values, problems


def _parse_amounts(frame: pd.DataFrame | pa.Table, columns: tuple[str, ...], path: Path, lines: _LineMap, *,
                   scale: float = 1.0) -> tuple[dict[str, np.ndarray], list[Problem]]:
    """:func:`_parse_amount` over several (optional) columns: values times ``scale``, all problems."""
    values, problems = {}, []
    for col in columns:
        parsed, p = _parse_amount(_optional(frame, col), path, lines, col)
        values[col] = parsed * scale
        problems += p
    return values, problems


def _matches(values, pattern: str) -> np.ndarray:
    return _to_bool(pc.match_substring_regex(arrow_strings(values, combine=False), pattern))


def _to_bool(arr) -> np.ndarray:
    return np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _append(notes: np.ndarray, mask: np.ndarray, extra) -> np.ndarray:
    """Append ``extra`` (one note per True in ``mask``) to the notes, "; "-separated."""
    if not mask.any():
        return notes
    notes = notes.copy()
    notes[mask] = [f"{a}; {b}" if a else b for a, b in zip(notes[mask], extra)]
    return notes


def _cell_problems(path: Path, lines: _LineMap, column: str, raw, mask, rule: str) -> list[Problem]:
    """One problem per True in ``mask`` (at most MAX_PROBLEMS + 1), with the cell's raw value."""
    mask = np.asarray(mask, dtype=bool)
    if raw is None or not mask.any():
        return []
    rows = np.flatnonzero(mask)[: MAX_PROBLEMS + 1]
    shown = config.display_path(path)
    if isinstance(raw, pd.Series):
        values = [None if pd.isna(v) else v for v in raw.iloc[rows]]
    else:
        values = raw.take(pa.array(rows)).to_pylist()
    return [Problem(shown, lines.line(int(i)), column, v, rule) for i, v in zip(rows, values)]


def _empty_problems(path: Path, lines: _LineMap, frame: pd.DataFrame | pa.Table,
                    columns: tuple[str, ...]) -> list[Problem]:
    """Required identifiers that are empty (a ledger row needs a stable round id)."""
    problems = []
    for col in columns:
        values = frame[col]
        trimmed = pc.utf8_trim_whitespace(arrow_strings(values, combine=False))
        empty = ~_to_bool(pc.not_equal(trimmed, ""))  # null (empty field) or only blanks
        problems += _cell_problems(path, lines, col, values, empty, "must not be empty (the round's id)")
    return problems


def _cap(problems: list[Problem]) -> list[Problem]:
    problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.column or ""))
    if len(problems) <= MAX_PROBLEMS:
        return problems
    rest = len(problems) - MAX_PROBLEMS
    first = problems[0]
    return problems[:MAX_PROBLEMS] + [Problem(first.file, None, None, None,
                                              f"{rest}+ further problems not listed; fix the ones above first")]


def _crunchbase_url(cb_url, permalink, kind: str) -> pa.Array:
    """``cb_url`` where it is a URL, else the Crunchbase URL built from ``permalink`` (else null)."""
    cb_url = arrow_strings(cb_url)
    built = pc.binary_join_element_wise(f"https://www.crunchbase.com/{kind}/",
                                        pc.utf8_trim_whitespace(arrow_strings(permalink)), "")
    return pc.if_else(pa.array(_matches(cb_url, URL_PATTERN)), cb_url, built)


def _mtime_date(path: Path) -> str:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.timezone.utc).strftime("%Y-%m-%d")


def _resolve_names(raw, keys: pa.Array, values: pa.Array) -> tuple[pa.Array, int]:
    """Comma-separated uuids -> semicolon-separated names (first ``values`` entry of each key).

    Also returns the number of uuids that match no key (left out).
    """
    split = pc.split_pattern(arrow_strings(raw), ",")
    flat = pc.utf8_trim_whitespace(pc.list_flatten(split))
    idx = pc.index_in(flat, value_set=keys.cast(flat.type))
    unresolved = int((_to_bool(pc.is_null(idx)) & _to_bool(pc.not_equal(flat, ""))).sum())
    names = values.cast(pa.string()).take(idx)
    found = _to_bool(pc.not_equal(names, ""))  # null (no such key, or a key without a name) -> False
    # Rebuild each row's list from the names found only (offsets from the running count).
    parent = pc.list_parent_indices(split).to_numpy(zero_copy_only=False)
    per_row = np.bincount(parent[found], minlength=len(split))
    offsets = pa.array(np.concatenate([[0], np.cumsum(per_row)]).astype(np.int32))
    joined = pc.binary_join(pa.ListArray.from_arrays(offsets, names.filter(pa.array(found))), ";")
    return pc.if_else(pa.array(per_row > 0), joined, pa.scalar(None, pa.string())), unresolved


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


def _format_amount(values: np.ndarray) -> pa.Array:
    """Plain numbers for the CSV: integers without ".0", other values in full precision."""
    v = np.asarray(values, dtype=float)
    finite = np.isfinite(v)
    whole = finite & (np.abs(v) < 2**53) & (v == np.round(np.nan_to_num(v)))
    out = pc.cast(pa.array(np.where(whole, v, 0.0).astype(np.int64), mask=~whole), pa.string())
    fraction = finite & ~whole  # rare: amounts with cents
    if fraction.any():
        out = pc.replace_with_mask(out, pa.array(fraction), pc.cast(pa.array(v[fraction]), pa.string()))
    return out


def _value_counts(values: pa.ChunkedArray) -> pd.Series:
    counts = pc.value_counts(values).flatten()
    return pd.Series(counts[1].to_numpy(), index=counts[0].to_pylist(), dtype=np.int64)


def _counts(d: dict[str, int]) -> pd.Series:
    s = pd.Series(d, dtype=int, name="rows")
    return s[s > 0].rename_axis("reason")


def _check_ai_filter(ai_filter: str) -> None:
    if ai_filter not in AI_FILTERS:
        raise ParameterError(f"unknown ai_filter {ai_filter!r}; expected one of {AI_FILTERS}")
