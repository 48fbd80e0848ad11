"""Deal-level views of the ledger (data model v2): money by type, counts and median sizes by stage
and region, down and flat rounds, and supplier financing that leaves parents out.

Every table says which money it counts. The headline is ``new_money`` (equity cash and
convertibles of companies not yet listed); commitments (announced, not reported paid) are shown
beside it, never inside it (analysis.data.datamodel).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.data.vocabulary import MONEY_TYPES
from analysis.spending import SUPPLIER_TYPES, period_index, split_names

#: A round's pre-money within this relative distance of the previous post-money is "flat".
FLAT_TOLERANCE = 0.05
HEADLINE = "new money = equity_cash + convertible of companies not yet listed (stage != post_ipo)"


@dataclass(frozen=True)
class DealTable:
    """A per-period table and the words saying what it counts."""

    table: pd.DataFrame
    counts: str

    def summary(self) -> pd.DataFrame:
        return self.table

    def _repr_html_(self) -> str:
        return f"<p>Counts: {self.counts}</p>" + self.table.to_html(float_format=lambda x: f"{x:,.3g}")


def money_by_type(rounds: pd.DataFrame, period: str = "year") -> DealTable:
    """Rows and dollars per period and money type, with the headline and commitments beside.

    Columns: ``<type>_usd`` and ``<type>_rows`` for every money type, ``new_money_usd`` (the
    headline) and ``commitments_usd`` (committed tranches not reported paid).
    """
    r = rounds.assign(period=period_index(rounds["announced_on"], period))
    amounts = r.pivot_table(index="period", columns="money_type", values="raised_amount_usd", aggfunc="sum",
                            fill_value=0.0).reindex(columns=MONEY_TYPES, fill_value=0.0)
    counts = r.pivot_table(index="period", columns="money_type", values="round_id", aggfunc="count",
                           fill_value=0).reindex(columns=MONEY_TYPES, fill_value=0)
    table = amounts.add_suffix("_usd").join(counts.add_suffix("_rows"))
    table["new_money_usd"] = r[r["new_money"]].groupby("period")["raised_amount_usd"].sum()
    table["commitments_usd"] = r[r["commitment"]].groupby("period")["raised_amount_usd"].sum()
    return DealTable(table.fillna(0.0), HEADLINE + "; commitments = committed_tranche, shown beside")


def deal_table(rounds: pd.DataFrame, by: str = "stage", period: str = "year", money: str = "new_money") -> DealTable:
    """Deal counts, median and total size per period and ``by`` (``stage`` or ``region``).

    A split round counts once (its parts are summed by ``round_base``); rounds without a
    disclosed amount count as deals but not in the sizes. Missing regions show as ``unknown``.
    """
    if by not in rounds:
        raise ValueError(f"the rounds have no {by!r} column (load them with analysis.data.ledger.load_ledger)")
    chosen = rounds[rounds[money]]
    deals = chosen.groupby("round_base", sort=False).agg(
        announced_on=("announced_on", "min"), group=(by, "first"),
        amount=("raised_amount_usd", lambda s: s.sum(min_count=1)))
    deals["group"] = deals["group"].fillna("unknown")
    deals["period"] = period_index(deals["announced_on"], period)
    table = deals.groupby(["period", "group"]).agg(
        deals=("amount", "size"), disclosed=("amount", "count"), median_usd=("amount", "median"),
        total_usd=("amount", "sum"))
    return DealTable(table.rename_axis(index=["period", by]), f"{money} rounds, one per round_base")


def down_rounds(rounds: pd.DataFrame, tolerance: float = FLAT_TOLERANCE) -> pd.DataFrame:
    """Priced rounds that follow a priced round of the same company, labelled up/flat/down.

    ``value_ratio`` is the pre-money of the later round over the previous post-money
    (:func:`analysis.valuation.priced_pairs`); flat = within ``tolerance`` of 1.
    """
    from analysis.valuation import priced_pairs

    pairs = priced_pairs(rounds)
    if pairs.empty:
        return pairs.assign(kind=pd.Series(dtype=str))
    kind = np.select([pairs["value_ratio"] < 1 - tolerance, pairs["value_ratio"] <= 1 + tolerance],
                     ["down", "flat"], default="up")
    return pairs.assign(kind=kind)


def _parents(relationships: pd.DataFrame | None) -> pd.DataFrame:
    if relationships is None or relationships.empty:
        return pd.DataFrame(columns=["investor", "company", "from_date", "to_date"])
    p = relationships[relationships["relationship"] == "parent"]
    return p.assign(investor=p["investor"].str.lower())[["investor", "company", "from_date", "to_date"]]


def supplier_flags(rounds: pd.DataFrame, investors: pd.DataFrame,
                   relationships: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per round: led by / joined by a cloud or chip supplier, parents of the company excluded.

    A parent (Alphabet and its funds for Waymo) funding its own subsidiary is not a supplier
    financing a customer, so such investors are dropped for that company while the relationship
    lasts (``from_date`` to ``to_date``; empty = open).
    """
    suppliers = {n.lower() for n in investors.loc[investors["investor_type"].isin(SUPPLIER_TYPES), "name"]}
    parents = _parents(relationships)
    # Parent links are few (a handful of companies): look them up only for those companies'
    # rounds, so a ledger of thousands of rounds costs one pass over its investor names.
    parent_links = {company: list(zip(g["investor"], g["from_date"], g["to_date"]))
                    for company, g in parents.groupby("company")}

    def excluded(company, announced) -> set[str]:
        return {investor for investor, start, stop in parent_links.get(company, ())
                if (pd.isna(start) or start <= announced) and (pd.isna(stop) or stop >= announced)}

    def named_suppliers(text) -> set[str]:
        return {n.lower() for n in split_names(text)} & suppliers

    pairs = []
    for company, announced, leads, others in zip(rounds["org_name"], rounds["announced_on"],
                                                 rounds["lead_investors"], rounds["other_investors"]):
        led, other = named_suppliers(leads), named_suppliers(others)
        if (led or other) and company in parent_links:
            dropped = excluded(company, announced)
            led, other = led - dropped, other - dropped
        pairs.append((bool(led), bool(led or other)))
    return pd.DataFrame(pairs, columns=["supplier_led", "supplier_in"], index=rounds.index)


def supplier_financed(rounds: pd.DataFrame, investors: pd.DataFrame, relationships: pd.DataFrame | None = None,
                      domains=None, period: str = "year") -> DealTable:
    """Share of new money in rounds led by (lower bound) or joined by (upper bound) a supplier.

    Parents are excluded (:func:`supplier_flags`). ``domains`` restricts the rounds (e.g. the
    LLM domains); ``None`` = all.
    """
    usable = rounds[rounds["new_money"] & rounds["raised_amount_usd"].notna()]
    if domains is not None:
        usable = usable[usable["effective_domain"].isin(set(domains))]
    usable = usable.join(supplier_flags(usable, investors, relationships))
    usable = usable.assign(period=period_index(usable["announced_on"], period))
    g = usable.groupby("period")
    total = g["raised_amount_usd"].sum()
    table = pd.DataFrame({
        "new_money_usd": total,
        "supplier_led_share": usable[usable["supplier_led"]].groupby("period")["raised_amount_usd"].sum() / total,
        "supplier_participation_share":
            usable[usable["supplier_in"]].groupby("period")["raised_amount_usd"].sum() / total,
    }).fillna({"supplier_led_share": 0.0, "supplier_participation_share": 0.0})
    return DealTable(table, HEADLINE + "; suppliers = corporate_cloud + corporate_chip investors, parents excluded")
