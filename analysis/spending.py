"""How much of the money goes to LLMs versus other AI domains.

Aggregation of the ledger by domain and period, the LLM share under three labelled definitions
(narrow, broad, attributed), coverage against published totals, concentration and supplier
financing, and the hyperscaler capex flow. The statistical model of the share over time is
:mod:`analysis.share_model`.
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
    # The grid stops at the last round, not at ``end``: periods after the data would show
    # zero funding where the truth is "not recorded yet".
    hi = usable["announced_on"].max()
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


# --------------------------------------------------------------------------------------------
# Coverage: how much of the published market the ledger holds, and the full-market split
# --------------------------------------------------------------------------------------------

#: Rounds below this size stand for the "long tail" when allocating uncovered funding by domain.
SMALL_ROUND_USD = 100e6
COVERAGE_METRIC = "ai_venture_funding"
#: The primary publishers of AI-funding totals. Other rows in market_totals.csv are analysts and
#: aggregators relaying (or re-cutting) such data; they are used, but marked "secondary".
PRIMARY_PUBLISHERS = ("Crunchbase", "PitchBook", "CB Insights", "Dealroom", "Stanford AI Index")
ALLOCATIONS = ("ledger_mix", "small_round_mix", "non_llm_tail")
COVERAGE_BASIS = ("announced rounds as publishers count them: equity_cash + convertible + committed_tranche + "
                  "in_kind_compute of companies not yet listed (no secondaries, debt or grants)")


@dataclass(frozen=True)
class Coverage:
    """Ledger totals against published AI-funding totals, and the full-market LLM share.

    ``ratios``: one row per (year, publisher) with the ledger total, the published total and
    their ratio. ``full_market``: per year and allocation rule, the estimated LLM share of the
    whole market, with the interval over publishers (low/high) and the ledger-only share.
    """

    ratios: pd.DataFrame
    full_market: pd.DataFrame
    definition: str
    #: What the ledger side counts (like-for-like with the publishers' totals).
    basis: str = COVERAGE_BASIS

    def summary(self) -> pd.DataFrame:
        return self.full_market

    def latest(self) -> pd.Series:
        """The latest year with a published total, under the default allocation rule."""
        fm = self.full_market[self.full_market["allocation"] == "small_round_mix"]
        return fm.sort_values("year").iloc[-1]

    def _repr_html_(self) -> str:
        return self.ratios.to_html(float_format=lambda x: f"{x:,.3g}")


def published_totals(market_totals: pd.DataFrame, metric: str = COVERAGE_METRIC,
                     scope: str = "global", publishers: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Full-year published totals per publisher (latest report per publisher and year wins).

    Revisions are common (CB Insights restated 2023 from $42.5bn to $54.1bn); the latest
    ``source_date`` is the publisher's current view, so it is the one compared with the ledger.
    """
    rows = market_totals[(market_totals["metric"] == metric) & (market_totals["scope"] == scope)
                         & (market_totals["unit"] == "usd")]
    if publishers is not None:
        rows = rows[rows["publisher"].isin(publishers)]
    full_year = rows[(rows["period_start"].dt.month == 1) & (rows["period_start"].dt.day == 1)
                     & (rows["period_end"].dt.month == 12) & (rows["period_end"].dt.day == 31)
                     & (rows["period_start"].dt.year == rows["period_end"].dt.year)]
    # Undated rows sort first, so a dated report of the same publisher and year always wins.
    latest = full_year.sort_values("source_date", na_position="first").groupby(
        [full_year["period_start"].dt.year.rename("year"), "publisher"]).tail(1)
    return pd.DataFrame({
        "year": latest["period_start"].dt.year.to_numpy(),
        "publisher": latest["publisher"].to_numpy(),
        "published_usd": latest["value"].to_numpy(),
        "source_date": latest["source_date"].to_numpy(),
    }).sort_values(["year", "publisher"]).reset_index(drop=True)


def _llm_weight(domains: pd.Index, definition: str, infra_llm_share: float, taxonomy: Taxonomy) -> pd.Series:
    llm = set(taxonomy.llm_domains(definition))
    w = pd.Series([1.0 if d in llm else 0.0 for d in domains], index=domains)
    if definition == "attributed" and "ai_infrastructure" in w.index:
        w["ai_infrastructure"] = infra_llm_share
    return w


def coverage(rounds: pd.DataFrame, market_totals: pd.DataFrame, definition: str = "broad",
             infra_llm_share: float = 0.5, taxonomy: Taxonomy | None = None,
             publishers: tuple[str, ...] | None = None) -> Coverage:
    """Coverage ratio per year and publisher, and the estimated full-market LLM share.

    Notes
    -----
    The uncovered part (published total minus ledger total, floored at zero) is the long tail of
    rounds the ledger does not list. It is allocated to domains by one of three rules, so the
    reader sees how much the answer depends on the choice:

    * ``ledger_mix`` - like the ledger as a whole (an upper bound for LLMs: mega-rounds dominate);
    * ``small_round_mix`` - like the ledger's rounds under ``SMALL_ROUND_USD`` (the default: the
      tail consists of small rounds, so it should look like them);
    * ``non_llm_tail`` - entirely to non-LLM domains (a lower bound for the LLM share).

    The interval (``share_low``/``share_high``) spans the publishers' totals for that year; a
    publisher whose total is below the ledger's (definitions differ) gives coverage above 1 and
    a zero tail.
    """
    taxonomy = taxonomy or load_taxonomy()
    return coverage_of_ledger(ledger_by_year(rounds, taxonomy), market_totals, definition, infra_llm_share,
                              taxonomy, publishers)


def ledger_by_year(rounds: pd.DataFrame, taxonomy: Taxonomy) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ledger's dollars per year x domain, all rounds and rounds under ``SMALL_ROUND_USD``,
    on the publishers' basis: announced rounds with their tranches and compute, not
    secondaries, debt, grants or listed companies' raises (data model v2)."""
    basis = rounds["announced_money"] if "announced_money" in rounds else rounds["new_money"]
    usable = rounds[basis & rounds["raised_amount_usd"].notna()]
    usable = usable.assign(year=usable["announced_on"].dt.year)
    by_year_domain = usable.pivot_table(index="year", columns="effective_domain", values="raised_amount_usd",
                                        aggfunc="sum", fill_value=0.0)
    small = usable[usable["raised_amount_usd"] < SMALL_ROUND_USD].pivot_table(
        index="year", columns="effective_domain", values="raised_amount_usd", aggfunc="sum", fill_value=0.0)
    domains = pd.Index(taxonomy.ids)
    by_year_domain = by_year_domain.reindex(columns=domains, fill_value=0.0)
    small = small.reindex(index=by_year_domain.index, columns=domains, fill_value=0.0)
    return by_year_domain, small


def coverage_of_ledger(ledger: tuple[pd.DataFrame, pd.DataFrame], market_totals: pd.DataFrame,
                       definition: str, infra_llm_share: float, taxonomy: Taxonomy,
                       publishers: tuple[str, ...] | None = None) -> Coverage:
    """:func:`coverage` from the ledger's yearly dollars (:func:`ledger_by_year`), so callers that
    need it per publisher pivot the ledger once."""
    return coverage_of_published(ledger, published_totals(market_totals, publishers=publishers), definition,
                                 infra_llm_share, taxonomy)


def coverage_of_published(ledger: tuple[pd.DataFrame, pd.DataFrame], published: pd.DataFrame, definition: str,
                          infra_llm_share: float, taxonomy: Taxonomy) -> Coverage:
    """:func:`coverage_of_ledger` from rows of :func:`published_totals`, so a caller that needs it
    per publisher selects the publishers' totals once (a publisher's rows of the full table are
    its totals: the latest report is chosen per publisher and year)."""
    by_year_domain, small = ledger
    weight = _llm_weight(by_year_domain.columns, definition, infra_llm_share, taxonomy)
    ratio_rows, share_rows = [], []
    for year, group in published.groupby("year"):
        if year not in by_year_domain.index:
            continue
        ledger_by_domain = by_year_domain.loc[year]
        ledger_total = float(ledger_by_domain.sum())
        ledger_llm = float((ledger_by_domain * weight).sum())
        ledger_mix = ledger_by_domain / ledger_total if ledger_total else ledger_by_domain * 0.0
        # A year without small rounds in the ledger falls back to the ledger's overall mix.
        small_mix = small.loc[year] / small.loc[year].sum() if small.loc[year].sum() else ledger_mix
        tail_llm_fraction = {
            "ledger_mix": float((ledger_mix * weight).sum()),
            "small_round_mix": float((small_mix * weight).sum()),
            "non_llm_tail": 0.0,
        }
        for row in group.itertuples():
            ratio_rows.append({"year": year, "publisher": row.publisher,
                               "tier": "primary" if row.publisher in PRIMARY_PUBLISHERS else "secondary",
                               "ledger_usd": ledger_total,
                               "published_usd": row.published_usd,
                               "coverage": ledger_total / row.published_usd if row.published_usd else float("nan")})
        for allocation in ALLOCATIONS:
            shares = []
            for row in group.itertuples():
                market = max(row.published_usd, ledger_total)
                tail = market - ledger_total
                shares.append((ledger_llm + tail * tail_llm_fraction[allocation]) / market)
            shares = pd.Series(shares)
            share_rows.append({"year": year, "allocation": allocation, "publishers": len(group),
                               "share_mid": float(shares.median()), "share_low": float(shares.min()),
                               "share_high": float(shares.max()),
                               "ledger_share": ledger_llm / ledger_total if ledger_total else float("nan")})
    return Coverage(pd.DataFrame(ratio_rows), pd.DataFrame(share_rows), definition)


# --------------------------------------------------------------------------------------------
# Concentration and "circular" financing
# --------------------------------------------------------------------------------------------

SUPPLIER_TYPES = ("corporate_cloud", "corporate_chip")


def herfindahl(amounts) -> float:
    """Herfindahl-Hirschman index of shares (0-1 scale; 1 = one recipient takes everything)."""
    import numpy as np

    a = np.asarray(amounts, dtype=float)
    a = a[a > 0]
    if a.size == 0:
        return float("nan")
    s = a / a.sum()
    return float((s ** 2).sum())


def split_names(text) -> list[str]:
    """Investor names from a semicolon-separated field (empty or missing -> [])."""
    if text is None or (isinstance(text, float) and text != text) or text is pd.NA:
        return []
    return [name.strip() for name in str(text).split(";") if name.strip()]


@dataclass(frozen=True)
class Concentration:
    """Per-year concentration of AI funding and the suppliers' share of LLM funding.

    ``supplier_led_share``: share of LLM funding in rounds led by a corporate cloud or chip
    investor (the labs' own compute suppliers); ``supplier_participation_share``: rounds in which
    such an investor took part at all. Rounds do not report each investor's cheque, so these
    bound the "circular" part from below (led) and above (participated).
    """

    table: pd.DataFrame
    definition: str

    def summary(self) -> pd.DataFrame:
        return self.table


def concentration(rounds: pd.DataFrame, investors: pd.DataFrame, definition: str = "broad",
                  taxonomy: Taxonomy | None = None, relationships: pd.DataFrame | None = None) -> Concentration:
    """Herfindahl across companies and domains per year, top-5 share, mega-round share, suppliers.

    With ``relationships`` (data/relationships.csv) a parent funding its own subsidiary is not
    counted as a supplier (analysis.deals.supplier_flags).
    """
    from analysis.deals import supplier_flags

    taxonomy = taxonomy or load_taxonomy()
    usable = rounds[rounds["new_money"] & rounds["raised_amount_usd"].notna()]
    usable = usable.assign(year=usable["announced_on"].dt.year)
    llm_domains = set(taxonomy.llm_domains(definition))
    usable = usable.join(supplier_flags(usable, investors, relationships)).assign(
        is_llm=usable["effective_domain"].isin(llm_domains))
    rows = []
    for year, g in usable.groupby("year"):
        total = g["raised_amount_usd"].sum()
        by_company = g.groupby("org_name")["raised_amount_usd"].sum().sort_values(ascending=False)
        llm = g[g["is_llm"]]
        llm_total = llm["raised_amount_usd"].sum()
        rows.append({
            "year": year,
            "total_usd": total,
            "hhi_companies": herfindahl(by_company),
            "hhi_domains": herfindahl(g.groupby("effective_domain")["raised_amount_usd"].sum()),
            "top5_company_share": by_company.head(5).sum() / total if total else float("nan"),
            "mega_round_share": g.loc[g["raised_amount_usd"] >= MEGA_ROUND_USD, "raised_amount_usd"].sum() / total
            if total else float("nan"),
            "llm_usd": llm_total,
            "supplier_led_share": llm.loc[llm["supplier_led"], "raised_amount_usd"].sum() / llm_total
            if llm_total else float("nan"),
            "supplier_participation_share": llm.loc[llm["supplier_in"], "raised_amount_usd"].sum() / llm_total
            if llm_total else float("nan"),
        })
    return Concentration(pd.DataFrame(rows).set_index("year"), definition)


# --------------------------------------------------------------------------------------------
# Hyperscaler capex: the second money flow
# --------------------------------------------------------------------------------------------

#: Years before ChatGPT's launch that define the pre-AI-boom capex trend.
CAPEX_BASELINE_YEARS = (2019, 2022)


@dataclass(frozen=True)
class CapexFlows:
    """Quarterly hyperscaler capex with ratios, the AI-boom excess over trend and its LLM part.

    ``quarterly`` (index calendar quarter): capex, revenue, operating cash flow summed over the
    companies reporting all three in that quarter, trailing-four-quarter (t4q) sums, year-on-year
    capex growth, capex/revenue and capex/OCF on t4q sums, the pre-2023 linear trend, the excess
    over trend and ``llm_capex_usd = capex_llm_share * excess``.
    """

    quarterly: pd.DataFrame
    by_company: pd.DataFrame
    capex_llm_share: float

    def summary(self) -> pd.DataFrame:
        cols = ["capex_usd", "capex_t4q_usd", "capex_yoy", "capex_to_revenue_t4q", "capex_to_ocf_t4q", "llm_capex_usd"]
        return self.quarterly[cols]


def capex_flows(financials: pd.DataFrame, capex_llm_share: float = 0.5) -> CapexFlows:
    """Aggregate hyperscaler quarters and attribute the post-trend excess capex to LLMs.

    Notes
    -----
    Ratios use only companies with capex, revenue and operating cash flow all reported for the
    quarter, so a missing figure never inflates a ratio. The capex total per quarter uses every
    company with capex reported. The AI-boom excess is capex above a linear trend fitted on
    2019-2022 quarters (before ChatGPT); ``capex_llm_share`` of that excess is attributed to LLM
    training and inference (an assumption with a documented range, see data/README.md).
    """
    import numpy as np

    if not 0.0 <= capex_llm_share <= 1.0:
        raise ValueError(f"capex_llm_share must be in [0, 1], got {capex_llm_share}")
    f = financials.assign(quarter=pd.PeriodIndex.from_fields(
        year=financials["calendar_year"], quarter=financials["calendar_quarter"], freq="Q"))
    by_company = f.pivot_table(index="quarter", columns="ticker", values="capex_usd", aggfunc="sum")
    capex = f.groupby("quarter")["capex_usd"].sum(min_count=1)
    complete = f.dropna(subset=["capex_usd", "revenue_usd", "operating_cash_flow_usd"])
    ratios = complete.groupby("quarter")[["capex_usd", "revenue_usd", "operating_cash_flow_usd"]].sum()
    q = pd.DataFrame({"capex_usd": capex}).join(ratios.add_prefix("complete_"), how="left")
    q = q.reindex(pd.period_range(q.index.min(), q.index.max(), freq="Q"))
    q["companies_reporting"] = f.dropna(subset=["capex_usd"]).groupby("quarter")["ticker"].nunique()
    q["capex_t4q_usd"] = q["capex_usd"].rolling(4).sum()
    q["capex_yoy"] = q["capex_usd"] / q["capex_usd"].shift(4) - 1
    t4 = q[["complete_capex_usd", "complete_revenue_usd", "complete_operating_cash_flow_usd"]].rolling(4).sum()
    q["capex_to_revenue_t4q"] = t4["complete_capex_usd"] / t4["complete_revenue_usd"]
    q["capex_to_ocf_t4q"] = t4["complete_capex_usd"] / t4["complete_operating_cash_flow_usd"]
    base = q[(q.index.year >= CAPEX_BASELINE_YEARS[0]) & (q.index.year <= CAPEX_BASELINE_YEARS[1])]["capex_usd"].dropna()
    x = np.asarray(base.index.asi8, dtype=float)
    slope, intercept = np.polyfit(x, base.to_numpy(), 1)
    q["capex_trend_usd"] = intercept + slope * np.asarray(q.index.asi8, dtype=float)
    q["capex_excess_usd"] = (q["capex_usd"] - q["capex_trend_usd"]).clip(lower=0)
    q["llm_capex_usd"] = capex_llm_share * q["capex_excess_usd"]
    return CapexFlows(q, by_company, capex_llm_share)


#: The ledger's coverage targets (issue #16): a share of the Stanford AI Index's global private
#: AI investment for 2021-2023, and of the median primary publisher's AI venture total after.
COVERAGE_TARGETS = {2021: ("Stanford AI Index", 0.20), 2022: ("Stanford AI Index", 0.15),
                    2023: ("Stanford AI Index", 0.30), 2024: ("median of primary publishers", 0.45),
                    2025: ("median of primary publishers", 0.45)}


def coverage_against_targets(rounds: pd.DataFrame, market_totals: pd.DataFrame,
                             targets: dict | None = None) -> pd.DataFrame:
    """Per target year: the ledger's like-for-like total (announced rounds, as publishers count
    them), the reference total, the coverage and whether it meets the target."""
    targets = targets or COVERAGE_TARGETS
    basis = rounds["announced_money"] if "announced_money" in rounds else rounds["new_money"]
    usable = rounds[basis & rounds["raised_amount_usd"].notna()]
    ledger = usable.groupby(usable["announced_on"].dt.year)["raised_amount_usd"].sum()
    index = published_totals(market_totals, metric="ai_private_investment")
    index = index[index["publisher"] == "Stanford AI Index"].set_index("year")["published_usd"]
    venture = published_totals(market_totals, publishers=PRIMARY_PUBLISHERS)
    median = venture.groupby("year")["published_usd"].median()
    rows = []
    for year, (against, target) in targets.items():
        ref = index.get(year) if against == "Stanford AI Index" else median.get(year)
        got = float(ledger.get(year, 0.0))
        cov = got / ref if ref else float("nan")
        rows.append({"year": year, "against": against, "reference_usd": ref, "ledger_usd": got,
                     "coverage": cov, "target": target, "met": bool(cov >= target) if ref else None})
    return pd.DataFrame(rows)
