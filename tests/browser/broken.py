"""Deliberately broken figures and tables, one per layout check, exported through the same
path as the briefing (:func:`analysis.reporting.export.export_html`), each beside its fixed twin.

``PAGE`` maps a chart's position on the page (``chart-N``) or a table's cell id to the check
that must fire there; the twins must pass every check.
"""

from __future__ import annotations

import json

import nbformat
import pandas as pd
import plotly.graph_objects as go

from analysis import plots
from analysis.display import words
from analysis.reporting.export import PLOTLY_MIME, export_html
from analysis.tables import reader_table

QUARTERS = [f"{2019 + i // 4}Q{i % 4 + 1}" for i in range(30)]


def _legend_on_axis_title(fixed: bool) -> go.Figure:
    """The old style: a horizontal legend at y=-0.15 of the plot, over the x title and tick labels."""
    fig = go.Figure()
    for i in range(6):
        fig.add_bar(x=QUARTERS, y=list(range(30)), name=f"Domain number {i}")
    fig.update_xaxes(title_text="Quarter", type="category")
    fig.update_yaxes(title_text="USD billions")
    if fixed:
        return plots.finish(fig, "Legend below everything", "test")
    fig.update_layout(title="Legend on the axis title", legend=dict(orientation="h", y=-0.15, yanchor="top", x=0))
    return fig


def _thinned_categories(fixed: bool) -> go.Figure:
    """Fifteen horizontal bars at a fixed 300 px: plotly labels every other one."""
    labels = [f"Target number {i} (channel)" for i in range(15)]
    fig = go.Figure(go.Bar(y=labels, x=list(range(15)), orientation="h", name="median"))
    fig.update_xaxes(title_text="Change (%)")
    fig.update_yaxes(title_text="Target")
    if fixed:
        plots.category_rows(fig, labels)
        return plots.finish(fig, "Every row labelled", "test")
    fig.update_layout(title="Rows without labels", height=300)
    return fig


def _clipped_ticks(fixed: bool) -> go.Figure:
    """Long rotated labels with no margin for them: the first ones run off the chart's left edge."""
    labels = [f"A long category name {i}" for i in range(8)]
    fig = go.Figure(go.Bar(x=labels, y=list(range(8)), name="value"))
    fig.update_xaxes(title_text="Category", type="category", tickangle=-60)
    fig.update_yaxes(title_text="Value", showticklabels=False)
    if fixed:
        return plots.finish(fig, "Labels inside the chart", "test")
    fig.update_layout(title="Labels cut at the edge", margin=dict(l=0, b=40))
    fig.update_xaxes(automargin=False)
    fig.update_yaxes(automargin=False)
    return fig


def _no_titles(fixed: bool) -> go.Figure:
    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[3, 1, 2], name="series"))
    if fixed:
        fig.update_xaxes(title_text="Year")
        fig.update_yaxes(title_text="Value (units)")
        return plots.finish(fig, "Titled", "test")
    return fig


def _raw_legend(fixed: bool) -> go.Figure:
    fig = go.Figure()
    for key in ("llm_foundation", "pe_crossover"):
        fig.add_scatter(x=[1, 2], y=[1, 2], name=plots.safe_text(words(key)) if fixed else key)
    fig.update_xaxes(title_text="Year")
    fig.update_yaxes(title_text="Value")
    return plots.finish(fig, "Legend names", "test")


def _overlapping_ticks(fixed: bool) -> go.Figure:
    """Year categories given as numbers-looking tick values: every label at one spot."""
    years = [str(y) for y in range(2019, 2027)]
    fig = go.Figure(go.Scatter(x=years, y=list(range(8)), name="share"))
    fig.update_xaxes(title_text="Year", type="category")
    fig.update_yaxes(title_text="Share (%)")
    plots.finish(fig, "Year labels", "test")
    if not fixed:
        fig.update_xaxes(tickvals=[0.01 * i for i in range(8)], ticktext=years, tickangle=0)
    return fig


def _raw_table(fixed: bool):
    frame = pd.DataFrame({"announced_on": pd.to_datetime(["2026-01-14", "2025-09-16"]),
                          "org_name": ["Skild AI", "Figure AI"], "effective_domain": ["robotics", "llm_foundation"],
                          "raised_amount_usd": [1.4e9, 1.0e9], "multiple": [0.123456, 12.5]})
    return reader_table(frame) if fixed else frame.style.format(precision=6)


def _rounded_ticks(fixed: bool) -> go.Figure:
    """Amounts from 0 to 3.2 bn with a format that drops the decimals: 0, 1, 1, 2, 2, 3..."""
    fig = go.Figure(go.Bar(x=["2025Q1", "2025Q2", "2025Q3"], y=[0.3, 2.0, 3.2], name="funding"))
    fig.update_xaxes(title_text="Quarter", type="category")
    fig.update_yaxes(title_text="USD billions", tickformat=",~g" if fixed else ",.0f", dtick=0.5)
    return plots.finish(fig, "Tick labels", "test")


#: (builder, check its broken version must fail)
FIGURES = [(_legend_on_axis_title, "legend_overlap"), (_thinned_categories, "category_labels"),
           (_clipped_ticks, "tick_clipped"), (_no_titles, "titles"), (_raw_legend, "raw_identifier"),
           (_overlapping_ticks, "tick_overlap"), (_rounded_ticks, "tick_duplicate")]
TABLE_CHECKS = ("raw_identifier", "table_format")


def _fig_output(fig: go.Figure):
    return nbformat.v4.new_output("display_data", data={PLOTLY_MIME: json.loads(fig.to_json())})


def _table_output(styler):
    return nbformat.v4.new_output("display_data", data={"text/html": styler.to_html()})


def page() -> tuple[str, dict, dict]:
    """The HTML page, ``{chart id: expected check}`` for the broken charts and the table cell ids
    (broken, fixed). Charts are numbered in page order: broken, fixed, broken, fixed..."""
    nb = nbformat.v4.new_notebook()
    broken = {}
    n = 0
    for build, check in FIGURES:
        for fixed in (False, True):
            n += 1
            nb.cells.append(nbformat.v4.new_code_cell(outputs=[_fig_output(build(fixed))]))
            if not fixed:
                broken[f"chart-{n}"] = check
    tables = {}
    for fixed in (False, True):
        cell = nbformat.v4.new_code_cell(outputs=[_table_output(_raw_table(fixed))])
        cell.id = "table-fixed" if fixed else "table-broken"
        nb.cells.append(cell)
        tables["fixed" if fixed else "broken"] = f"cell-id={cell.id}"
    html, _ = export_html(nb, {"title": "Broken fixtures", "as_of": "2026-08-21"})
    return html, broken, tables
