"""The funding landscape: the ledger's rounds after filters, as the views notebook 01 and the
domain deep dives show (funding by domain, largest rounds, lead investors, valuations, freshness).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.data.ledger import Ledger
from analysis.spending import FundingByDomain, funding_by_domain, split_names


@dataclass(frozen=True)
class Landscape:
    """Views of the ledger after the filters: funding by domain, the largest rounds, investors,
    valuations and data freshness."""

    filters: dict
    funding: FundingByDomain | None
    largest: pd.DataFrame
    investors: pd.DataFrame
    valuations: pd.DataFrame
    freshness: pd.DataFrame
    rounds: int

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{**self.filters, "rounds": self.rounds}])

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)


def filter_rounds(rounds: pd.DataFrame, investors: pd.DataFrame, domain: str = "", round_type: str = "",
                  investor_type: str = "") -> pd.DataFrame:
    """Rounds matching the filters ("" means all). ``investor_type`` keeps rounds with at least
    one named investor (lead or other) of that type."""
    out = rounds
    if domain:
        out = out[out["effective_domain"] == domain]
    if round_type:
        out = out[out["investment_type"] == round_type]
    if investor_type:
        names = {n.lower() for n in investors.loc[investors["investor_type"] == investor_type, "name"]}
        has = (out["lead_investors"].map(split_names) + out["other_investors"].map(split_names)).map(
            lambda xs: any(x.lower() in names for x in xs))
        out = out[has]
    return out


def landscape(data: Ledger, period: str, domain: str, round_type: str, investor_type: str,
              top_n: int) -> Landscape:
    """Compute every view of the funding landscape for one set of filters ("" means all)."""
    rounds = filter_rounds(data.rounds, data.investors, domain, round_type, investor_type)
    try:
        funding = funding_by_domain(rounds, period)
    except ValueError:
        funding = None
    disclosed = rounds.dropna(subset=["raised_amount_usd"])
    largest = disclosed.nlargest(top_n, "raised_amount_usd")[
        ["announced_on", "org_name", "effective_domain", "investment_type", "raised_amount_usd",
         "post_money_valuation_usd", "lead_investors", "confidence", "source_publisher"]]
    leads = rounds.assign(lead=rounds["lead_investors"].map(split_names)).explode("lead").dropna(subset=["lead"])
    types = data.investors.set_index(data.investors["name"].str.lower())["investor_type"]
    investors = leads.groupby("lead").agg(rounds_led=("round_id", "count"), amount_usd=("raised_amount_usd", "sum"))
    investors["investor_type"] = investors.index.str.lower().map(types).fillna("unclassified")
    investors = investors.sort_values("amount_usd", ascending=False).head(top_n)
    valuations = rounds.dropna(subset=["post_money_valuation_usd"]).nlargest(top_n, "post_money_valuation_usd")[
        ["announced_on", "org_name", "effective_domain", "post_money_valuation_usd", "raised_amount_usd"]]
    freshness = rounds.groupby("effective_domain").agg(
        rounds=("round_id", "count"), last_round=("announced_on", "max"),
        confirmed_share=("confidence", lambda c: (c == "confirmed").mean()),
        undisclosed_amounts=("raised_amount_usd", lambda a: int(a.isna().sum())))
    filters = {"period": period, "domain": domain or "all", "round_type": round_type or "all",
               "investor_type": investor_type or "all"}
    return Landscape(filters, funding, largest, investors, valuations, freshness, len(rounds))
