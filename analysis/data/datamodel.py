"""Data model v2 (issue #15): derived round columns and the checks ``aibubble validate`` adds.

* :func:`derive_round_columns` gives every round its ``money_type`` and ``stage`` (from the file,
  or from ``investment_type`` by :mod:`analysis.data.vendor_maps` for ledgers written before v2),
  and the flags the analyses count with: ``new_money`` (equity cash and convertibles of
  companies not yet listed: the headline), ``commitment`` (announced, not reported paid),
  ``announced_money`` (what publishers of market totals count: announced rounds with their
  tranches and compute) and the company's ``country`` and ``region``.
* :func:`check_datamodel` returns one :class:`~analysis.errors.Problem` (file, line, column) per
  broken v2 rule: vocabularies, split rounds summing to their total, tranche rows, relationship
  dates, publisher tiers, revenue publication dates, company countries and domain rules.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.data.vendor_maps import classify_rounds
from analysis.data.vocabulary import (ANNOUNCED_TYPES, COMMITMENT_TYPES, NEW_MONEY_TYPES, SPLIT_SEPARATOR)
from analysis.errors import Problem

#: Parts of a split round must sum to the announced total within this relative tolerance.
SPLIT_TOLERANCE = 0.01
#: Every company's notes state why it is in its domain, starting with these words.
DOMAIN_RULE_MARK = "domain rule:"
#: A company whose HQ no page states says so in its notes instead of guessing a country.
COUNTRY_UNKNOWN_MARK = "country unknown:"
#: Datasets whose rows cite a publisher that ``data/publishers.csv`` must classify.
CITING_DATASETS = ("funding_rounds", "companies", "investors", "lab_financials", "hyperscaler_financials",
                   "market_totals", "tickers", "fx_rates", "relationships")


def _line(index_value) -> int | None:
    try:
        return int(index_value) + 2  # header is line 1
    except (TypeError, ValueError):
        return None


def round_base(round_ids: pd.Series) -> pd.Series:
    """The base id of each round (``x--cash`` -> ``x``; unsplit ids unchanged)."""
    return round_ids.astype(str).str.split(SPLIT_SEPARATOR, n=1).str[0]


def derive_round_columns(rounds: pd.DataFrame, companies: pd.DataFrame | None = None,
                         regions: pd.DataFrame | None = None) -> pd.DataFrame:
    """``rounds`` with money_type, stage, round_base, new_money, commitment, announced_money,
    country and region (the last two when ``companies`` is given or the rounds carry their own
    ``country``, as an imported ledger does; region needs ``regions`` too)."""
    classified = classify_rounds(rounds)
    out = rounds.assign(money_type=classified["money_type"], stage=classified["stage"],
                        round_base=round_base(rounds["round_id"]))
    if "announced_total_usd" not in out:
        out["announced_total_usd"] = np.nan
    listed = out["stage"] == "post_ipo"
    out["new_money"] = out["money_type"].isin(NEW_MONEY_TYPES) & ~listed
    out["commitment"] = out["money_type"].isin(COMMITMENT_TYPES) & ~listed
    out["announced_money"] = out["money_type"].isin(ANNOUNCED_TYPES) & ~listed
    own = out["country"] if "country" in out else pd.Series(np.nan, index=out.index, dtype=object)
    if companies is not None and "country" in companies:
        # The curated company table wins; an imported ledger's own per-round HQ country
        # (from the vendor's organisation record) fills companies the table does not list.
        listed_country = out["org_name"].map(companies.drop_duplicates("name").set_index("name")["country"])
        own = listed_country.where(listed_country.notna(), own)
    if companies is not None or "country" in out:
        country = own.astype(object).where(own.notna(), None)
        out["country"] = country
        if regions is not None:
            # A company whose HQ no page states has no region (tables show it as "unknown").
            out["region"] = country.map(regions.set_index("country")["region"])
    return out


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------

def check_rounds(rounds: pd.DataFrame, shown: str, require_v2: bool = True) -> list[Problem]:
    """v2 rules of a ledger: columns present, split groups consistent, tranche rows typed."""
    problems: list[Problem] = []
    missing = [c for c in ("money_type", "stage", "announced_total_usd") if c not in rounds]
    if missing:
        if require_v2:
            problems.extend(Problem(shown, 1, c, None, "required column is missing (data model v2)") for c in missing)
        return problems
    base = round_base(rounds["round_id"])
    is_part = rounds["round_id"].astype(str).str.contains(SPLIT_SEPARATOR, regex=False)
    total = rounds["announced_total_usd"]
    for idx in rounds.index[~is_part & total.notna()]:
        problems.append(Problem(shown, _line(idx), "announced_total_usd", total[idx],
                                "only the parts of a split round carry announced_total_usd"))
    for idx in rounds.index[is_part & total.isna()]:
        problems.append(Problem(shown, _line(idx), "announced_total_usd", None,
                                "a split round's part needs the round's announced total"))
    parts = rounds[is_part & total.notna()].assign(_base=base[is_part])
    for key, group in parts.groupby("_base"):
        first = group.index[0]
        if group["announced_total_usd"].nunique() > 1:
            problems.append(Problem(shown, _line(first), "announced_total_usd", key,
                                    "the parts of a split round disagree on its announced total"))
            continue
        announced = float(group["announced_total_usd"].iloc[0])
        summed = float(group["raised_amount_usd"].sum())
        if len(group) < 2:
            problems.append(Problem(shown, _line(first), "round_id", key, "a split round needs at least two parts"))
        elif abs(summed - announced) > SPLIT_TOLERANCE * announced:
            problems.append(Problem(shown, _line(first), "raised_amount_usd", summed,
                                    f"the parts of {key} sum to {summed:,.0f}, not the announced {announced:,.0f} "
                                    f"(tolerance {SPLIT_TOLERANCE:.0%})"))
        if key in set(base[~is_part]):
            problems.append(Problem(shown, _line(first), "round_id", key,
                                    "a split round's base id is also used by an unsplit row"))
    paid = rounds["round_id"].astype(str).str.contains(SPLIT_SEPARATOR + "tranche-paid", regex=False)
    for idx in rounds.index[paid & (rounds["money_type"] != "equity_cash")]:
        problems.append(Problem(shown, _line(idx), "money_type", rounds.at[idx, "money_type"],
                                "a tranche reported paid is equity_cash"))
    return problems


def check_companies(companies: pd.DataFrame, regions: pd.DataFrame | None, shown: str) -> list[Problem]:
    """Every company has a country that regions.csv maps, and notes stating its domain rule."""
    problems: list[Problem] = []
    known = set(regions["country"]) if regions is not None else None
    unknown_ok = companies["notes"].fillna("").str.contains(COUNTRY_UNKNOWN_MARK, regex=False)
    for idx, value in companies["country"].items():
        if pd.isna(value) and not unknown_ok[idx]:
            problems.append(Problem(shown, _line(idx), "country", None,
                                    f"every company needs its HQ country (or '{COUNTRY_UNKNOWN_MARK} <why>' in notes)"))
        elif pd.notna(value) and known is not None and value not in known:
            problems.append(Problem(shown, _line(idx), "country", value, "country not in data/regions.csv"))
    notes = companies["notes"].fillna("").str.lower()
    for idx in companies.index[~notes.str.contains(DOMAIN_RULE_MARK, regex=False)]:
        problems.append(Problem(shown, _line(idx), "notes", companies.at[idx, "name"],
                                f"notes must state the domain rule ('{DOMAIN_RULE_MARK} ...')"))
    return problems


def check_relationships(relationships: pd.DataFrame, investors: pd.DataFrame | None,
                        companies: pd.DataFrame | None, shown: str) -> list[Problem]:
    """Investors and companies of relationships exist; dates are not after their source."""
    problems: list[Problem] = []
    if investors is not None:
        names = {n.lower() for n in investors["name"]}
        for idx, value in relationships["investor"].items():
            if value.lower() not in names:
                problems.append(Problem(shown, _line(idx), "investor", value, "investor not in investors.csv"))
    if companies is not None:
        names = set(companies["name"])
        for idx, value in relationships["company"].items():
            if value not in names:
                problems.append(Problem(shown, _line(idx), "company", value, "company not in companies.csv"))
    late = relationships["from_date"].notna() & (relationships["from_date"] > relationships["source_date"])
    for idx in relationships.index[late]:
        problems.append(Problem(shown, _line(idx), "from_date", str(relationships.at[idx, "from_date"].date()),
                                "starts after the date of the page that reports it"))
    return problems


def check_lab_financials(lab: pd.DataFrame, rates: pd.DataFrame | None, shown: str) -> list[Problem]:
    """published_on present and not after the citing page; non-USD values converted by fx_rates."""
    problems: list[Problem] = []
    if "published_on" not in lab:
        return [Problem(shown, 1, "published_on", None, "required column is missing (data model v2)")]
    for idx in lab.index[lab["published_on"].isna()]:
        problems.append(Problem(shown, _line(idx), "published_on", None, "when the figure became public is required"))
    late = lab["published_on"].notna() & (lab["published_on"] > lab["source_date"])
    for idx in lab.index[late]:
        problems.append(Problem(shown, _line(idx), "published_on", str(lab.at[idx, "published_on"].date()),
                                "after the date of the page that reports it"))
    if "currency" in lab and rates is not None:
        from analysis.data.fx import to_usd

        foreign = lab[lab["currency"].notna() & (lab["currency"] != "USD")]
        for idx in foreign.index[foreign["value"].isna()]:
            problems.append(Problem(shown, _line(idx), "value", None, "a non-USD figure needs its original value"))
        foreign = foreign[foreign["value"].notna()]
        if len(foreign):
            got = to_usd(foreign["value"], foreign["currency"], foreign["as_of_date"], rates)
            for (idx, row), usd in zip(foreign.iterrows(), got.usd):
                stored = row["value_usd"]
                if np.isnan(usd) and pd.notna(stored):
                    problems.append(Problem(shown, _line(idx), "value_usd", stored,
                                            "no rate in fx_rates.csv within 7 days before as_of_date: leave it empty"))
                elif not np.isnan(usd) and (pd.isna(stored) or abs(stored - round(usd)) > 0.5):
                    problems.append(Problem(shown, _line(idx), "value_usd", stored,
                                            f"should be {usd:,.0f} (value at the fx_rates.csv rate)"))
    missing_usd = lab["value_usd"].isna() & (lab.get("currency", pd.Series(index=lab.index, dtype=object))
                                             .fillna("USD") == "USD")
    for idx in lab.index[missing_usd]:
        problems.append(Problem(shown, _line(idx), "value_usd", None, "a USD figure needs value_usd"))
    return problems


def check_publishers(frames: dict[str, pd.DataFrame], publishers: pd.DataFrame,
                     shown: dict[str, str]) -> list[Problem]:
    """Every ``source_publisher`` cited in any dataset is a key of publishers.csv."""
    known = set(publishers["publisher"])
    problems: list[Problem] = []
    for dataset in CITING_DATASETS:
        frame = frames.get(dataset)
        if frame is None or "source_publisher" not in frame:
            continue
        cited = frame["source_publisher"]
        for idx in cited.index[cited.notna() & ~cited.isin(known)]:
            problems.append(Problem(shown[dataset], _line(idx), "source_publisher", cited[idx],
                                    "publisher not classified in data/publishers.csv"))
    return problems


def check_datamodel(frames: dict[str, pd.DataFrame], shown: dict[str, str]) -> list[Problem]:
    """All v2 checks over the datasets that were read (missing datasets are skipped)."""
    problems: list[Problem] = []
    regions = frames.get("regions")
    if "funding_rounds" in frames:
        from analysis import config

        # The bundled ledger must carry the v2 columns; a user's older ledger or import may not
        # (the loader derives them), but its splits are checked when it has them.
        bundled = shown["funding_rounds"] == config.display_path(config.DATASET_FILES["funding_rounds"])
        problems += check_rounds(frames["funding_rounds"], shown["funding_rounds"], require_v2=bundled)
    if "companies" in frames:
        problems += check_companies(frames["companies"], regions, shown["companies"])
    if "relationships" in frames:
        problems += check_relationships(frames["relationships"], frames.get("investors"), frames.get("companies"),
                                        shown["relationships"])
    if "lab_financials" in frames:
        rates = frames.get("fx_rates")
        if rates is not None:
            rates = rates.assign(usd_per_unit=np.where(rates["quote"] == "usd_per_unit", rates["rate"], 1.0 / rates["rate"]))
        problems += check_lab_financials(frames["lab_financials"], rates, shown["lab_financials"])
    if "publishers" in frames:
        problems += check_publishers(frames, frames["publishers"], shown)
    return problems
