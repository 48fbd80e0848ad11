"""How much of the money goes to LLMs versus other AI domains.

Aggregation of the ledger by domain and period, and the LLM share under three labelled
definitions (narrow, broad, attributed). The coverage adjustment and the statistical share model
build on these tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from analysis.data.taxonomy import LLM_DEFINITIONS, Taxonomy, load_taxonomy

MEGA_ROUND_USD = 1e9
_PERIOD_FREQ = {"month": "M", "quarter": "Q", "year": "Y"}

DEFINITION_LABELS = {
    "narrow": "Narrow: foundation-model developers",
    "broad": "Broad: foundation models + LLM-native applications",
    "attributed": "Attributed: broad + LLM share of AI-infrastructure funding",
}


def period_index(dates: pd.Series, period: str) -> pd.PeriodIndex:
    """Calendar periods (month, quarter or year) for a series of dates."""
    if period not in _PERIOD_FREQ:
        raise ValueError(f"unknown period {period!r}; expected one of {tuple(_PERIOD_FREQ)}")
    return pd.PeriodIndex(dates.dt.to_period(_PERIOD_FREQ[period]))


@dataclass(frozen=True)
class FundingByDomain:
    """Funding per (period, domain), new-money rounds with a disclosed amount only.

    ``table`` has one row per period and domain with columns ``amount_usd``, ``rounds``,
    ``median_round_usd``, ``mean_round_usd``, ``mega_rounds``. Periods or domains with no rounds
    are present with zeros, so shares and growth rates are defined everywhere.
    """

    table: pd.DataFrame
    period: str
    excluded_rounds: int = 0  # rounds without a disclosed amount, or not new money

    def amounts(self) -> pd.DataFrame:
        """Wide frame: periods as rows, domains as columns, USD amounts."""
        return self.table["amount_usd"].unstack("domain", fill_value=0.0)

    def summary(self) -> pd.DataFrame:
        totals = self.table.groupby(level="domain").agg(
            amount_usd=("amount_usd", "sum"), rounds=("rounds", "sum"), mega_rounds=("mega_rounds", "sum"))
        totals["share"] = totals["amount_usd"] / totals["amount_usd"].sum()
        return totals.sort_values("amount_usd", ascending=False)

    def _repr_html_(self) -> str:
        return self.summary().to_html(float_format=lambda x: f"{x:,.3g}")


def funding_by_domain(rounds: pd.DataFrame, period: str = "quarter", start: str | None = None,
                      end: str | None = None, taxonomy: Taxonomy | None = None) -> FundingByDomain:
    """Aggregate new-money rounds by period and ``effective_domain``.

    Parameters
    ----------
    rounds : DataFrame
        Ledger rounds with ``announced_on``, ``raised_amount_usd``, ``effective_domain`` and
        ``new_money`` (as :func:`analysis.data.ledger.load_ledger` returns them).
    period : {"month", "quarter", "year"}
    start, end : str, optional
        Inclusive date bounds (ISO) applied to ``announced_on``; the period grid spans them.
    """
    taxonomy = taxonomy or load_taxonomy()
    usable = rounds[rounds["new_money"] & rounds["raised_amount_usd"].notna()]
    if start is not None:
        usable = usable[usable["announced_on"] >= pd.Timestamp(start)]
    if end is not None:
        usable = usable[usable["announced_on"] <= pd.Timestamp(end)]
    excluded = len(rounds) - len(usable)
    if usable.empty:
        raise ValueError("no rounds with a disclosed amount in the selected period")
    periods = period_index(usable["announced_on"], period)
    grouped = usable.assign(period=periods, domain=usable["effective_domain"]).groupby(["period", "domain"])
    table = grouped["raised_amount_usd"].agg(
        amount_usd="sum", rounds="count", median_round_usd="median", mean_round_usd="mean")
    table["mega_rounds"] = grouped["raised_amount_usd"].apply(lambda s: int((s >= MEGA_ROUND_USD).sum()))
    lo = pd.Timestamp(start) if start else usable["announced_on"].min()
    hi = pd.Timestamp(end) if end else usable["announced_on"].max()
    grid = pd.period_range(lo, hi, freq=_PERIOD_FREQ[period])
    full = pd.MultiIndex.from_product([grid, list(taxonomy.ids)], names=["period", "domain"])
    table = table.reindex(full)
    zero_fill = {"amount_usd": 0.0, "rounds": 0, "mega_rounds": 0}
    table = table.fillna(zero_fill).astype({"rounds": int, "mega_rounds": int})
    return FundingByDomain(table, period, excluded)


@dataclass(frozen=True)
class LLMShare:
    """LLM share of ledger funding per period under one definition."""

    definition: str
    table: pd.DataFrame  # index period; columns llm_usd, total_usd, share
    llm_domains: tuple[str, ...]
    infra_llm_share: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        return DEFINITION_LABELS[self.definition]

    def summary(self) -> pd.DataFrame:
        return self.table.assign(definition=self.definition)

    def _repr_html_(self) -> str:
        return f"<p>{self.label}</p>" + self.summary().to_html()


def llm_share(funding: FundingByDomain, definition: str = "broad", infra_llm_share: float = 0.0,
              taxonomy: Taxonomy | None = None) -> LLMShare:
    """Share of funding going to LLMs per period.

    Under "attributed", ``infra_llm_share`` of AI-infrastructure funding counts as LLM spending
    (the part of chips, GPU clouds and data infrastructure that serves LLM training and inference).
    """
    if definition not in LLM_DEFINITIONS:
        raise ValueError(f"unknown definition {definition!r}; expected one of {LLM_DEFINITIONS}")
    if not 0.0 <= infra_llm_share <= 1.0:
        raise ValueError(f"infra_llm_share must be in [0, 1], got {infra_llm_share}")
    taxonomy = taxonomy or load_taxonomy()
    wide = funding.amounts()
    llm_domains = taxonomy.llm_domains(definition)
    llm = wide[[d for d in llm_domains if d in wide]].sum(axis=1)
    if definition == "attributed" and "ai_infrastructure" in wide:
        llm = llm + infra_llm_share * wide["ai_infrastructure"]
    total = wide.sum(axis=1)
    share = (llm / total).where(total > 0)
    table = pd.DataFrame({"llm_usd": llm, "total_usd": total, "share": share})
    return LLMShare(definition, table, llm_domains, infra_llm_share if definition == "attributed" else 0.0)
