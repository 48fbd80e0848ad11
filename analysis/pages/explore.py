"""The exploration pages (notebooks 01 and 04): the funding landscape and the risk scores with
their stress test, shown once under papermill or behind ipywidgets controls in JupyterLab."""

from __future__ import annotations

from analysis.data.ledger import Ledger
from analysis.data.taxonomy import load_taxonomy
from analysis.data.vocabulary import INVESTMENT_TYPES, INVESTOR_TYPES
from analysis.landscape import Landscape, landscape


def show(view: Landscape, data_to=None) -> None:
    """Display every view of a :class:`~analysis.landscape.Landscape` (charts, then reader tables
    with escaped text); ``data_to`` marks the period the data do not cover to its end."""
    from IPython.display import Markdown, display

    from analysis.display import md_text, words
    from analysis.plots import funding_by_domain_chart, investor_chart
    from analysis.tables import reader_table

    filters = ", ".join(f"{words(k)}: {md_text(words(v) if v else 'all')}" for k, v in view.filters.items())
    display(Markdown(f"**Filters:** {filters} ({view.rounds} rounds)"))
    if view.funding is not None:
        display(funding_by_domain_chart(view.funding, data_to=data_to))
    display(Markdown("### Largest rounds"))
    display(reader_table(view.largest))
    if len(view.investors):
        display(investor_chart(view.investors))
    display(Markdown("### Highest valuations"))
    display(reader_table(view.valuations))
    display(Markdown("### Coverage and freshness by domain"))
    display(reader_table(view.freshness, index=True))


def controls(data: Ledger, period: str, domain: str, round_type: str, investor_type: str, top_n: int,
             data_to=None):
    """ipywidgets drop-downs for domain, period, round type and investor type that re-run
    ``show(landscape(...))`` on every change. Returns the widget box."""
    from analysis.display import words

    import ipywidgets as widgets
    from IPython.display import clear_output, display

    taxonomy = load_taxonomy()
    choose = {
        "period": widgets.Dropdown(options=["month", "quarter", "year"], value=period, description="Period"),
        "domain": widgets.Dropdown(options=[("all", "")] + [(d.label, d.id) for d in taxonomy.domains],
                                   value=domain, description="Domain"),
        "round_type": widgets.Dropdown(options=[("all", "")] + [(words(t), t) for t in INVESTMENT_TYPES],
                                       value=round_type, description="Round type"),
        "investor_type": widgets.Dropdown(options=[("all", "")] + [(words(t), t) for t in INVESTOR_TYPES],
                                          value=investor_type, description="Investor type"),
    }
    out = widgets.Output()

    def refresh(_=None):
        with out:
            clear_output(wait=True)
            show(landscape(data, **{k: w.value for k, w in choose.items()}, top_n=top_n), data_to)

    for w in choose.values():
        w.observe(refresh, names="value")
    refresh()
    box = widgets.VBox([widgets.HBox(list(choose.values())), out])
    display(box)
    return box


def show_risk(scores, stress_result) -> None:
    """Display risk scores (chart and table) and the stress test for one set of weights/shocks."""
    from IPython.display import display

    from analysis.plots import risk_scores_chart, stress_chart
    from analysis.sections.risk import scores_table
    from analysis.tables import reader_table

    display(risk_scores_chart(scores))
    display(reader_table(scores_table(scores), na_rep="n/a"))
    if stress_result is not None and len(stress_result.outcomes):
        display(stress_chart(stress_result))


def risk_controls(raw, channels, weights: dict, haircut: float, funding_drop: float, capex_cut: float):
    """Sliders for the pillar weights and the three stress shocks; every change re-scores and
    re-runs the stress test through :func:`show_risk` (intervals are not recomputed live)."""
    import ipywidgets as widgets
    from IPython.display import clear_output, display

    from analysis import risk, stress

    sliders = {pl: widgets.FloatSlider(value=w, min=0, max=1, step=0.05, description=f"{pl} weight")
               for pl, w in risk.PILLAR_WEIGHTS.items()}
    shocks = {"haircut": widgets.FloatSlider(value=haircut, min=0, max=0.95, step=0.05, description="LLM haircut"),
              "funding": widgets.FloatSlider(value=funding_drop, min=0, max=0.95, step=0.05, description="LLM funding"),
              "capex": widgets.FloatSlider(value=capex_cut, min=0, max=0.95, step=0.05, description="Capex cut")}
    out = widgets.Output()

    def refresh(_=None):
        pillars = {pl: s.value for pl, s in sliders.items()}
        with out:
            clear_output(wait=True)
            if sum(pillars.values()) <= 0:
                print("All pillar weights are zero.")
                return
            show_risk(risk.score_history(raw, weights or None, pillars),
                      stress.stress_test(channels, shocks["haircut"].value, shocks["funding"].value,
                                         shocks["capex"].value))

    for w in [*sliders.values(), *shocks.values()]:
        w.observe(refresh, names="value")
    refresh()
    box = widgets.VBox([widgets.HBox(list(sliders.values())), widgets.HBox(list(shocks.values())), out])
    display(box)
    return box
