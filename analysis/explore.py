"""The funding landscape behind notebook 01: one pure function for the views, and optional
ipywidgets controls around it for JupyterLab (papermill runs use the parameters instead)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from analysis import config
from analysis.data.ledger import Ledger
from analysis.data.vocabulary import INVESTMENT_TYPES, INVESTOR_TYPES
from analysis.data.taxonomy import load_taxonomy
from analysis.spending import FundingByDomain, funding_by_domain, split_names

def headless() -> bool:
    """True under ``aibubble report``/papermill runs, False in an interactive JupyterLab session."""
    return os.environ.get(config.HEADLESS_ENV) == "1"


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


def landscape(data: Ledger, period: str = "quarter", domain: str = "", round_type: str = "",
              investor_type: str = "", top_n: int = 15) -> Landscape:
    """Compute every view of notebook 01 for one set of filters."""
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


def controls(data: Ledger, show, period: str = "quarter", domain: str = "", round_type: str = "",
             investor_type: str = ""):
    """ipywidgets drop-downs for domain, period, round type and investor type that re-run
    ``show(landscape(...))`` on every change. Returns the widget box."""
    import ipywidgets as widgets
    from IPython.display import clear_output, display

    taxonomy = load_taxonomy()
    choose = {
        "period": widgets.Dropdown(options=["month", "quarter", "year"], value=period, description="Period"),
        "domain": widgets.Dropdown(options=[("all", "")] + [(d.label, d.id) for d in taxonomy.domains],
                                   value=domain, description="Domain"),
        "round_type": widgets.Dropdown(options=[("all", "")] + [(t, t) for t in INVESTMENT_TYPES],
                                       value=round_type, description="Round type"),
        "investor_type": widgets.Dropdown(options=[("all", "")] + [(t, t) for t in INVESTOR_TYPES],
                                          value=investor_type, description="Investor type"),
    }
    out = widgets.Output()

    def refresh(_=None):
        with out:
            clear_output(wait=True)
            show(landscape(data, **{k: w.value for k, w in choose.items()}))

    for w in choose.values():
        w.observe(refresh, names="value")
    refresh()
    box = widgets.VBox([widgets.HBox(list(choose.values())), out])
    display(box)
    return box


def investor_chart(view: Landscape) -> go.Figure:
    """Lead investors by amount led, coloured by investor type (USD billions)."""
    from analysis.plots import _finish

    inv = view.investors.iloc[::-1]
    palette = {"vc": "#2166ac", "corporate_cloud": "#b2182b", "corporate_chip": "#ef8a62", "sovereign": "#1b7837",
               "pe_crossover": "#762a83", "corporate_other": "#8c6d31", "other": "#4d4d4d", "unclassified": "#bababa"}
    fig = go.Figure()
    for itype, g in inv.groupby("investor_type", sort=False):
        fig.add_bar(y=g.index.tolist(), x=(g["amount_usd"] / 1e9).round(3).tolist(), orientation="h", name=itype,
                    marker_color=palette.get(itype, "#444"), hovertemplate="%{x:,.2f} bn USD")
    fig.update_xaxes(title_text="USD billions in rounds led", tickformat=",.1f")
    fig.update_yaxes(title_text="Lead investor", categoryorder="array", categoryarray=inv.index.tolist())
    return _finish(fig, "Lead investors by the size of the rounds they led (full round amount)",
                   "curated funding ledger and investors.csv")


def show(view: Landscape) -> None:
    """Display every view of a :class:`Landscape` (charts, then tables with escaped text)."""
    from IPython.display import Markdown, display

    from analysis.briefing import md_text
    from analysis.plots import funding_by_domain_chart

    money = {"raised_amount_usd": "{:,.0f}", "post_money_valuation_usd": "{:,.0f}"}
    filters = ", ".join(f"{k}={md_text(v)}" for k, v in view.filters.items())
    display(Markdown(f"**Filters:** {filters} ({view.rounds} rounds)"))
    if view.funding is not None:
        display(funding_by_domain_chart(view.funding))
    display(Markdown("### Largest rounds"))
    display(view.largest.style.format(money, escape="html", na_rep="").hide(axis="index"))
    display(investor_chart(view))
    display(Markdown("### Highest valuations"))
    display(view.valuations.style.format(money, escape="html", na_rep="").hide(axis="index"))
    display(Markdown("### Coverage and freshness by domain"))
    display(view.freshness.style.format({"confirmed_share": "{:.0%}"}, escape="html"))


def show_risk(scores, stress_result) -> None:
    """Display risk scores (chart and table) and the stress test for one set of weights/shocks."""
    from IPython.display import display

    from analysis.plots import risk_scores_chart, stress_chart

    display(risk_scores_chart(scores))
    display(scores.latest()[["segment", "score", "change", "indicators_used", "coverage"]].style.format(
        {"score": "{:.1f}", "change": "{:+.1f}", "coverage": "{:.0%}"}, na_rep="n/a", escape="html").hide(axis="index"))
    if stress_result is not None and len(stress_result.outcomes):
        display(stress_chart(stress_result))


def risk_controls(raw, channels, show, weights: dict, haircut: float, funding_drop: float, capex_cut: float):
    """Sliders for the pillar weights and the three stress shocks; every change re-scores and
    re-runs the stress test through ``show(scores, stress_result)``."""
    import ipywidgets as widgets
    from IPython.display import clear_output, display

    from analysis import risk, stress

    base = risk.validate_weights(weights)
    pillar_total = {pl: sum(w for k, w in base.items() if risk.PILLARS[k] == pl) for pl in ("private", "public", "spending")}
    sliders = {pl: widgets.FloatSlider(value=round(v, 3), min=0, max=1, step=0.05, description=f"{pl} weight")
               for pl, v in pillar_total.items()}
    shocks = {"haircut": widgets.FloatSlider(value=haircut, min=0, max=0.95, step=0.05, description="LLM haircut"),
              "funding": widgets.FloatSlider(value=funding_drop, min=0, max=0.95, step=0.05, description="LLM funding"),
              "capex": widgets.FloatSlider(value=capex_cut, min=0, max=0.95, step=0.05, description="Capex cut")}
    out = widgets.Output()

    def refresh(_=None):
        scaled = {k: (w / pillar_total[risk.PILLARS[k]] * sliders[risk.PILLARS[k]].value
                      if pillar_total[risk.PILLARS[k]] else 0.0) for k, w in base.items()}
        with out:
            clear_output(wait=True)
            if sum(scaled.values()) <= 0:
                print("All weights are zero.")
                return
            show(risk.score_history(raw, scaled),
                 stress.stress_test(channels, shocks["haircut"].value, shocks["funding"].value, shocks["capex"].value))

    for w in [*sliders.values(), *shocks.values()]:
        w.observe(refresh, names="value")
    refresh()
    box = widgets.VBox([widgets.HBox(list(sliders.values())), widgets.HBox(list(shocks.values())), out])
    display(box)
    return box
