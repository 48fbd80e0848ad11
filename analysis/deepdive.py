"""One AI domain in depth: its funding, its valuations and (when market data is cached) its
listed exposure. Behind ``notebooks/briefings/domain-deep-dive.ipynb``, run once per domain by
the batch config ``reports.yaml``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis import valuation
from analysis.data.ledger import Ledger
from analysis.data.taxonomy import load_taxonomy
from analysis.explore import Landscape, landscape

#: Market segments of ``data/tickers.csv`` whose listed companies carry each domain's theme.
#: Empty where no listed pure play exists (foundation-model labs are private; their listed
#: exposure runs through the hyperscalers, shown in the bubble-risk briefing).
DOMAIN_SEGMENTS: dict[str, tuple[str, ...]] = {
    "llm_foundation": ("hyperscaler",),
    "llm_applications": ("llm_applications",),
    "ai_infrastructure": ("ai_chips", "ai_infrastructure_supplier", "neocloud"),
    "biology": ("ai_drug_discovery",),
    "chemistry_materials": ("chemistry_materials",),
    "image": ("image_video",),
    "video": ("image_video",),
    "audio": ("audio_speech",),
    "robotics": ("robotics_automation",),
    "autonomous_vehicles": ("autonomous_driving",),
    "healthcare_clinical": ("healthcare_ai",),
    "defense_security": (),
    "other_ai": (),
}


@dataclass(frozen=True)
class ListedExposure:
    """Listed companies of one domain and an equal-weight basket of them (``basket`` None and a
    ``notice`` in words when there is no market data or no listed member)."""

    domain: str
    members: pd.DataFrame          # ticker, name, segment, priced
    basket: object | None          # analysis.markets.BasketIndex
    drawdown: pd.DataFrame         # analysis.markets.drawdown(...).table, or empty
    notice: str

    @property
    def available(self) -> bool:
        return self.basket is not None

    def summary(self) -> pd.DataFrame:
        return self.basket.summary() if self.basket is not None else pd.DataFrame([{"notice": self.notice}])

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)


def market_universe(as_of: str, offline: bool = True):
    """Cached market data for the listed-exposure section, or None when it cannot be read (no
    ticker list, a damaged one): the section then shows a notice instead of failing the report."""
    from analysis.data.market import load_universe
    from analysis.errors import AIBubbleError

    try:
        return load_universe(as_of=as_of, fetch=not offline)
    except AIBubbleError:
        return None


def listed_exposure(universe, domain: str, companies: pd.DataFrame) -> ListedExposure:
    """Equal-weight basket of the domain's listed companies, from cached prices only.

    Members are the ledger companies of the domain that have a ticker, plus the tickers of
    ``data/tickers.csv`` in the domain's :data:`DOMAIN_SEGMENTS`.
    """
    from analysis import markets

    segments = DOMAIN_SEGMENTS.get(domain, ())
    rows = [{"ticker": str(t).upper(), "name": n, "segment": "ledger company"}
            for t, n in companies.loc[(companies["domain"] == domain) & companies["ticker"].notna(),
                                      ["ticker", "name"]].itertuples(index=False)]
    if universe is not None and len(universe.tickers):
        t = universe.tickers
        picked = t[t["segment"].isin(segments)]
        rows += [{"ticker": r.ticker, "name": getattr(r, "name", r.ticker), "segment": r.segment}
                 for r in picked.itertuples(index=False)]
    members = pd.DataFrame(rows, columns=["ticker", "name", "segment"]).drop_duplicates("ticker")
    priced = set(universe.prices["ticker"].unique()) if universe is not None and universe.available else set()
    members = members.assign(priced=members["ticker"].isin(priced))
    empty = pd.DataFrame()
    if universe is None or not universe.available:
        return ListedExposure(domain, members, None, empty,
                              "No market data in the cache, so listed exposure is not shown. Run `aibubble fetch` "
                              "(or the report with offline = False) to fill it.")
    have = members.loc[members["priced"], "ticker"].tolist()
    if not have:
        return ListedExposure(domain, members, None, empty,
                              "No listed company of this domain has cached prices"
                              + ("" if segments else " (the domain has no listed pure play)") + ".")
    basket = markets.basket_index(universe.prices, have, name=f"{domain} listed basket")
    dd = markets.drawdown(basket.level.rename(basket.name)).table
    return ListedExposure(domain, members, basket, dd, "")


@dataclass(frozen=True)
class DomainDeepDive:
    """Every view of one domain. ``metrics`` is what the report publishes to metrics.json."""

    domain: str
    label: str
    view: Landscape
    domain_share: pd.DataFrame     # year x (amount_usd, all_ai_usd, share)
    pairs: pd.DataFrame            # valuation.priced_pairs rows of the domain
    index: valuation.RepeatRoundIndex | None
    multiples: pd.DataFrame
    listed: ListedExposure
    metrics: dict

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"domain": self.domain, "rounds": self.view.rounds, "priced_pairs": len(self.pairs),
                              "valuation_index": self.index is not None, "listed": self.listed.available}])

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)


def _round(value, digits: int = 4):
    return None if value is None or pd.isna(value) else round(float(value), digits)


def deep_dive(data: Ledger, domain: str, lab_financials: pd.DataFrame, universe=None, period: str = "quarter",
              start_year: int = 2019, as_of: str | None = None, top_n: int = 10) -> DomainDeepDive:
    """Compute the deep-dive of ``domain`` (a taxonomy id) from the ledger and optional market data.

    Notes
    -----
    Funding views are :func:`analysis.explore.landscape` filtered to the domain; the domain's
    share of all disclosed AI funding is per calendar year. The repeat-round valuation index is
    Bailey-Muth-Nourse (:func:`analysis.valuation.repeat_round_index`) on the domain's
    consecutive priced rounds and is left out (None) below 3 usable pairs rather than estimated
    from noise.
    """
    from analysis import spending
    from analysis.errors import ParameterError

    taxonomy = load_taxonomy()
    if domain not in taxonomy.ids:
        raise ParameterError(f"domain: the deep-dive needs one taxonomy domain ({', '.join(taxonomy.ids)}), "
                             f"got {domain!r}")
    label = taxonomy[domain].label
    rounds = data.rounds[data.rounds["announced_on"] >= pd.Timestamp(f"{start_year}-01-01")]
    scoped = Ledger(rounds, data.companies, data.investors, data.source)
    view = landscape(scoped, period, domain, top_n=top_n)
    try:
        yearly = spending.funding_by_domain(rounds, "year", start=f"{start_year}-01-01", end=as_of).amounts()
        share = pd.DataFrame({"amount_usd": yearly.get(domain, 0.0), "all_ai_usd": yearly.sum(axis=1)})
        share["share"] = share["amount_usd"] / share["all_ai_usd"].replace(0.0, np.nan)
        share.index = share.index.astype(str)
    except ValueError:
        share = pd.DataFrame(columns=["amount_usd", "all_ai_usd", "share"])
    pairs_all = valuation.priced_pairs(rounds)
    pairs = pairs_all[pairs_all["domain"] == domain] if len(pairs_all) else pairs_all
    try:
        index = valuation.repeat_round_index(pairs, "Y", label)
    except ValueError:
        index = None
    multiples = valuation.revenue_multiples(rounds[rounds["effective_domain"] == domain], lab_financials)
    listed = listed_exposure(universe, domain, data.companies)
    metrics = {
        "domain": domain,
        "rounds": int(view.rounds),
        "funding_usd_by_year": {y: float(v) for y, v in share["amount_usd"].items()},
        "share_of_ai_funding_by_year": {y: _round(v) for y, v in share["share"].items()},
        "valuation": {
            "priced_pairs": int(len(pairs)),
            "median_step_up": _round(pairs["value_ratio"].median()) if len(pairs) else None,
            "index_annual_growth": _round(index.annual_growth()) if index is not None else None,
            "median_revenue_multiple": _round(multiples["multiple"].median(), 2) if len(multiples) else None,
        },
        "listed": {"members": int(listed.members["priced"].sum()), "available": listed.available},
    }
    if listed.available:
        row = listed.basket.summary().iloc[0]
        metrics["listed"].update({"total_return": _round(row["total_return"]),
                                  "max_drawdown": _round(listed.drawdown["max_drawdown"].iloc[0])
                                  if "max_drawdown" in listed.drawdown else None})
    metrics["freshness"] = {"Funding ledger": f"{data.source}, last round "
                                              f"{data.rounds['announced_on'].max().date().isoformat()}"}
    return DomainDeepDive(domain, label, view, share, pairs, index, multiples, listed, metrics)


def share_chart(dd: DomainDeepDive) -> go.Figure:
    """The domain's share of all disclosed AI funding per year (percent)."""
    from analysis.plots import _finish

    fig = go.Figure()
    s = dd.domain_share.dropna(subset=["share"])
    fig.add_bar(x=s.index.tolist(), y=(s["share"] * 100).round(2).tolist(), name=dd.label,
                marker_color=load_taxonomy()[dd.domain].color, hovertemplate="%{y:.1f}%")
    fig.update_yaxes(title_text="Share of disclosed AI funding (%)", ticksuffix="%")
    fig.update_xaxes(title_text="Year", type="category")
    return _finish(fig, f"{dd.label}: share of all disclosed AI funding", "curated funding ledger")


def listed_chart(listed: ListedExposure) -> go.Figure:
    """Equal-weight basket level of the domain's listed companies (first day = 100)."""
    from analysis.plots import _finish

    fig = go.Figure()
    lvl = listed.basket.level
    fig.add_scatter(x=lvl.index.strftime("%Y-%m-%d").tolist(), y=lvl.round(3).tolist(), mode="lines",
                    name=listed.basket.name, hovertemplate="%{y:.1f}")
    fig.update_yaxes(title_text="Index level (first day = 100)")
    fig.update_xaxes(title_text="Date")
    return _finish(fig, f"Listed exposure: equal-weight basket of {len(listed.basket.members)} companies",
                   "cached market prices (aibubble fetch)")


def show(dd: DomainDeepDive) -> None:
    """Display the deep-dive: funding, valuations, listed exposure (tables with escaped text)."""
    from IPython.display import Markdown, display

    from analysis import explore, plots
    from analysis.briefing import md_text

    money = {"raised_amount_usd": "{:,.0f}", "post_money_valuation_usd": "{:,.0f}"}
    display(Markdown(f"## Funding\n\n{md_text(dd.label)}: {dd.view.rounds} rounds in the ledger."))
    if len(dd.domain_share.dropna(subset=["share"])):
        display(share_chart(dd))
    if dd.view.funding is not None:
        display(plots.funding_by_domain_chart(dd.view.funding))
    display(Markdown("### Largest rounds"))
    display(dd.view.largest.style.format(money, escape="html", na_rep="").hide(axis="index"))
    if len(dd.view.investors):
        display(explore.investor_chart(dd.view))
    display(Markdown("## Valuations"))
    v = dd.metrics["valuation"]
    if len(dd.pairs):
        display(Markdown(f"{v['priced_pairs']} consecutive priced rounds; median step-up "
                         f"{v['median_step_up']:.2f}x (pre-money of the later round over post-money of the earlier)."))
    else:
        display(Markdown("No company of this domain has two priced rounds in the ledger: no step-ups."))
    if dd.index is not None:
        display(plots.valuation_index_chart({dd.label: dd.index}, segments=(dd.label,)))
    else:
        display(Markdown("Too few repeat-round pairs for a valuation index (need 3 in different years)."))
    if len(dd.multiples):
        display(plots.multiples_chart(dd.multiples))
    display(Markdown("### Highest valuations"))
    display(dd.view.valuations.style.format(money, escape="html", na_rep="").hide(axis="index"))
    display(Markdown("## Listed exposure"))
    if dd.listed.available:
        display(listed_chart(dd.listed))
        display(dd.listed.basket.summary().style.format(
            {"total_return": "{:.1%}", "cagr": "{:.1%}", "level": "{:,.1f}"}, escape="html").hide(axis="index"))
    else:
        display(Markdown(f"**Notice:** {dd.listed.notice}"))  # our own text, with Markdown in it
    if len(dd.listed.members):
        display(dd.listed.members.style.format(escape="html").hide(axis="index"))
