"""Crunchbase bulk export (``funding_rounds.csv`` + ``organizations.csv``) -> funding ledger."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis import config
from analysis.data.classifier import arrow_strings, classify_companies
from analysis.data.importers.assembly import (
    ImportResult, any_repeat, check_ai_filter, finish_ledger, rank_names, select_rows)
from analysis.data.importers.parsing import (
    ROUND_ID_BAD, Dates, LineMap, as_series, as_strings, cap_problems, cell_problems, empty_problems, matches,
    mtime_date, optional, parse_amounts, parse_dates, read_export, to_bool)
from analysis.data.taxonomy import Taxonomy, load_taxonomy
from analysis.data.vocabulary import INVESTMENT_TYPES, ISO_DATE_PATTERN, URL_PATTERN
from analysis.errors import DataValidationError, Problem

CRUNCHBASE_PUBLISHER = "Crunchbase (user export)"

#: Columns an export must have (values may still be empty where the rules allow).
CRUNCHBASE_ROUNDS_REQUIRED = ("uuid", "org_uuid", "investment_type", "announced_on", "raised_amount_usd")
CRUNCHBASE_ORGS_REQUIRED = ("uuid", "name", "category_list")

_CB_ROUND_COLUMNS = ("uuid", "name", "permalink", "cb_url", "updated_at", "investment_type", "announced_on",
                     "raised_amount_usd", "raised_amount", "raised_amount_currency_code",
                     "post_money_valuation_usd", "org_uuid", "lead_investor_uuids")
_CB_ORG_COLUMNS = ("uuid", "name", "permalink", "cb_url", "category_list", "category_groups_list",
                   "short_description", "description", "country_code")


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
    check_ai_filter(ai_filter)
    tax = taxonomy or load_taxonomy()
    rounds_path, orgs_path = Path(funding_rounds), Path(organizations)
    # A bulk export has millions of rows: the rounds stay a pyarrow Table until the AI rounds
    # are chosen, and only those (about a third) ever become ledger text. pyarrow releases the
    # GIL, so independent stages run side by side in two threads.
    rounds, r_lines = read_export(rounds_path, CRUNCHBASE_ROUNDS_REQUIRED, wanted=_CB_ROUND_COLUMNS)
    with ThreadPoolExecutor(max_workers=2) as pool:
        checking = pool.submit(_check_crunchbase_rounds, rounds, rounds_path, r_lines)
        orgs, _ = read_export(orgs_path, CRUNCHBASE_ORGS_REQUIRED, wanted=_CB_ORG_COLUMNS)
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
        name_rank = rank_names(companies["name"])
        dates, amounts, currency, problems = checking.result()
        if problems:
            raise DataValidationError(cap_problems(problems))
        cls = classifying.result()

        dropped: dict[str, int] = {}
        alive, order = select_rows(org_pos, {"organization not in the organizations file": org_pos < 0}, cls,
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
        naming = pool.submit(_resolve_names, optional(r, "lead_investor_uuids"), keys, names)
        citing = pool.submit(_crunchbase_round_urls, r, used_orgs, org_pos[rows])
        c = _crunchbase_round_text(r, companies["name"], org_pos[rows], rounds_path)
        # Hashing every round id (to find repeats) is slow: it runs here, beside the other two.
        repeats = pool.submit(any_repeat, c["round_id"])
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
    return finish_ledger(c, dates.subset(rows), companies, cls, CRUNCHBASE_PUBLISHER, rows_read=rows_read,
                   dropped=dropped, adjusted={"lead investor uuids not found (left out)": unresolved},
                   source="crunchbase",
                   files=(config.display_path(rounds_path), config.display_path(orgs_path)))


def _investor_names(orgs: pa.Table, investors: Path | str | None) -> tuple[pa.Array, pa.Array]:
    """uuid -> name lookup for lead investors: the organisations, then an optional investors.csv."""
    keys, names = orgs["uuid"].combine_chunks(), orgs["name"].combine_chunks()
    if investors is None:
        return keys, names
    inv, _ = read_export(Path(investors), ("uuid", "name"), wanted=("uuid", "name"))
    return tuple(pa.concat_arrays([ours.cast(pa.large_string()), theirs.combine_chunks().cast(pa.large_string())])
                 for ours, theirs in ((keys, inv["uuid"]), (names, inv["name"])))


def _check_crunchbase_rounds(rounds: pa.Table, path: Path,
                             lines: "LineMap") -> tuple["Dates", dict[str, np.ndarray], pa.Array, list[Problem]]:
    """Dates, amounts and currencies of every round, and the problems found in them."""
    problems = empty_problems(path, lines, rounds, ("uuid",))
    dates = parse_dates(rounds["announced_on"], us_formats=False)
    problems += cell_problems(path, lines, "announced_on", rounds["announced_on"], dates.bad,
                               "not a date (expected YYYY-MM-DD, YYYY-MM or YYYY)")
    amounts, p = parse_amounts(rounds, ("raised_amount_usd", "raised_amount", "post_money_valuation_usd"),
                                path, lines)
    problems += p
    raw_currency = optional(rounds, "raised_amount_currency_code")
    currency = pc.utf8_upper(pc.utf8_trim_whitespace(raw_currency))  # only where an amount is given:
    currency = pc.if_else(pa.array(np.isnan(amounts["raised_amount"])), pa.scalar(None, pa.string()), currency)
    bad_cur = to_bool(pc.invert(pc.match_substring_regex(currency, r"^[A-Z]{3}$")))
    problems += cell_problems(path, lines, "raised_amount_currency_code", raw_currency, bad_cur,
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
    text = optional(orgs, "short_description")
    if "description" in orgs.column_names:
        text = pc.utf8_trim_whitespace(pc.binary_join_element_wise(text, orgs["description"], " ",
                                                                   null_handling="skip"))
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    return pd.DataFrame({
        "key": as_series(orgs["uuid"]), "name": as_series(orgs["name"]),
        "categories": as_series(optional(orgs, "category_list")),
        "category_groups": as_series(optional(orgs, "category_groups_list")), "text": as_series(text),
        "alt_id": as_series(pc.coalesce(optional(orgs, "permalink"), orgs["uuid"])),
        "country": as_series(optional(orgs, "country_code")),
    })


def _crunchbase_round_urls(r: pa.Table, o: pa.Table, org_rows: np.ndarray) -> pa.Array:
    """Each round's Crunchbase page (``cb_url``, else built from ``permalink``), else its organisation's.

    Null where neither is a URL (:func:`finish_ledger` drops those rounds).
    """
    url = _crunchbase_url(optional(r, "cb_url"), optional(r, "permalink"), "funding_round")
    missing = ~matches(url, URL_PATTERN)
    if missing.any():
        at = pa.array(org_rows[missing])
        org_url = _crunchbase_url(optional(o, "cb_url").take(at), optional(o, "permalink").take(at), "organization")
        org_url = pc.if_else(pa.array(matches(org_url, URL_PATTERN)), org_url, pa.scalar(None, pa.string()))
        url = pc.replace_with_mask(url, pa.array(missing), org_url)
    return url


def _crunchbase_round_text(r: pa.Table, org_names: pd.Series, org_rows: np.ndarray, path: Path) -> dict:
    """round_id, investment_type (with notes for unknown types), source_title and source_date."""
    updated = pc.utf8_slice_codeunits(optional(r, "updated_at"), 0, 10)
    dated = pa.array(to_bool(pc.match_substring_regex(updated, ISO_DATE_PATTERN)))
    raw_type = pc.utf8_lower(pc.utf8_trim_whitespace(r["investment_type"]))
    in_enum = to_bool(pc.is_in(raw_type, value_set=pa.array(sorted(INVESTMENT_TYPES), pa.string())))
    unknown_type = to_bool(pc.is_valid(raw_type)) & ~in_enum
    type_note = np.full(len(r), None, dtype=object)
    type_note[unknown_type] = [f"investment_type '{t}' is not in the Crunchbase enum; recorded as undisclosed"
                               for t in r["investment_type"].filter(pa.array(unknown_type)).to_pylist()]
    itype = pc.if_else(pa.array(in_enum), raw_type, "undisclosed")
    names = as_strings(org_names, len(org_names)).take(pa.array(org_rows)).fill_null("")
    title = pc.coalesce(optional(r, "name"), pc.binary_join_element_wise(itype, names, " - "))
    round_id = pc.replace_substring_regex(pc.utf8_lower(pc.utf8_trim_whitespace(r["uuid"])), ROUND_ID_BAD.pattern, "-")
    return {
        "round_id": pc.binary_join_element_wise("cb-", round_id, ""),
        "investment_type": itype,
        "type_note": type_note,
        "source_title": pc.binary_join_element_wise("Crunchbase bulk export: ", title, ""),
        "source_date": pc.if_else(dated, updated, mtime_date(path)),
    }


def _crunchbase_url(cb_url, permalink, kind: str) -> pa.Array:
    """``cb_url`` where it is a URL, else the Crunchbase URL built from ``permalink`` (else null)."""
    cb_url = arrow_strings(cb_url)
    built = pc.binary_join_element_wise(f"https://www.crunchbase.com/{kind}/",
                                        pc.utf8_trim_whitespace(arrow_strings(permalink)), "")
    return pc.if_else(pa.array(matches(cb_url, URL_PATTERN)), cb_url, built)


def _resolve_names(raw, keys: pa.Array, values: pa.Array) -> tuple[pa.Array, int]:
    """Comma-separated uuids -> semicolon-separated names (first ``values`` entry of each key).

    Also returns the number of uuids that match no key (left out).
    """
    split = pc.split_pattern(arrow_strings(raw), ",")
    flat = pc.utf8_trim_whitespace(pc.list_flatten(split))
    idx = pc.index_in(flat, value_set=keys.cast(flat.type))
    unresolved = int((to_bool(pc.is_null(idx)) & to_bool(pc.not_equal(flat, ""))).sum())
    names = values.cast(pa.string()).take(idx)
    found = to_bool(pc.not_equal(names, ""))  # null (no such key, or a key without a name) -> False
    # Rebuild each row's list from the names found only (offsets from the running count).
    parent = pc.list_parent_indices(split).to_numpy(zero_copy_only=False)
    per_row = np.bincount(parent[found], minlength=len(split))
    offsets = pa.array(np.concatenate([[0], np.cumsum(per_row)]).astype(np.int32))
    joined = pc.binary_join(pa.ListArray.from_arrays(offsets, names.filter(pa.array(found))), ";")
    return pc.if_else(pa.array(per_row > 0), joined, pa.scalar(None, pa.string())), unresolved
