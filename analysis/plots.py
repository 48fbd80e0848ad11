"""Figure builders. Every function returns a plotly ``Figure`` with title, axis units, number
formats and a source note set; none calls ``show()``. Colours come from the taxonomy.
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

from analysis.data.taxonomy import Taxonomy, load_taxonomy
from analysis.spending import FundingByDomain, LLMShare

TEMPLATE_NAME = "aibubble"
pio.templates[TEMPLATE_NAME] = go.layout.Template(
    layout=dict(
        font=dict(family="system-ui, -apple-system, Segoe UI, sans-serif", size=13, color="#222"),
        paper_bgcolor="white",
        plot_bgcolor="white",
        xaxis=dict(showgrid=False, linecolor="#888", ticks="outside"),
        yaxis=dict(gridcolor="#e5e5e5", zeroline=False, linecolor="#888"),
        legend=dict(orientation="h", yanchor="top", y=-0.15, x=0),
        margin=dict(l=70, r=30, t=70, b=110),
        hovermode="x unified",
    )
)

DEFINITION_COLORS = {"narrow": "#b2182b", "broad": "#ef8a62", "attributed": "#67001f"}


def _finish(fig: go.Figure, title: str, source: str) -> go.Figure:
    fig.update_layout(template=TEMPLATE_NAME, title=dict(text=title, x=0, xanchor="left"))
    fig.add_annotation(text=f"Source: {source}", xref="paper", yref="paper", x=0, y=-0.32,
                       showarrow=False, font=dict(size=10, color="#666"), xanchor="left")
    return fig


def _period_labels(index) -> list[str]:
    return [str(p) for p in index]


def funding_by_domain_chart(funding: FundingByDomain, taxonomy: Taxonomy | None = None,
                            source: str = "curated funding ledger (data/funding_rounds.csv)") -> go.Figure:
    """Stacked bars of disclosed new-money funding per period and AI domain, in USD billions."""
    taxonomy = taxonomy or load_taxonomy()
    wide = funding.amounts() / 1e9
    x = _period_labels(wide.index)
    fig = go.Figure()
    for domain in taxonomy.domains:
        if domain.id not in wide or not wide[domain.id].any():
            continue
        fig.add_bar(x=x, y=wide[domain.id].round(3).tolist(), name=domain.label, marker_color=domain.color,
                    hovertemplate="%{y:,.2f} bn USD")
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="USD billions", tickformat=",.0f")
    fig.update_xaxes(title_text=funding.period.capitalize())
    return _finish(fig, f"AI funding per {funding.period} by domain (disclosed new money)", source)


def llm_share_chart(shares: list[LLMShare],
                    source: str = "curated funding ledger (data/funding_rounds.csv)") -> go.Figure:
    """The LLM share of ledger funding over time, one line per definition, in percent."""
    fig = go.Figure()
    for share in shares:
        fig.add_scatter(x=_period_labels(share.table.index), y=share.table["share"].round(4).tolist(),
                        mode="lines+markers", name=share.label,
                        line=dict(color=DEFINITION_COLORS[share.definition], width=2),
                        hovertemplate="%{y:.1%}")
    fig.update_yaxes(title_text="Share of AI funding (%)", tickformat=".0%", range=[0, 1])
    fig.update_xaxes(title_text="Period")
    return _finish(fig, "Share of AI funding going to LLMs", source)
