"""The shared chart style: partial periods, colours, every category labelled, heights that grow
with rows and legends."""

from __future__ import annotations

import plotly.graph_objects as go

from analysis import chartstyle as CS
from analysis.data.taxonomy import load_taxonomy


def test_partial_period_labels():
    assert CS.partial_label("2026", "year", "2026-06-23") == "2026 (to 2026-06-23)"
    assert CS.partial_label("2026Q2", "quarter", "2026-06-23") == "2026Q2 (to 2026-06-23)"
    assert CS.partial_label("2026Q2", "quarter", "2026-06-30") is None      # the quarter's last day: complete
    assert CS.partial_label("2025", "year", "2026-06-23") is None
    assert CS.partial_label("2026", "year", None) is None


def test_llm_domains_share_a_red_family_and_the_rest_are_told_apart():
    t = load_taxonomy()
    styles = CS.series_styles(t.ids)
    llm = set(t.llm_domains("broad"))
    assert {styles[d]["color"] for d in llm} <= {t[d].color for d in llm}  # the taxonomy's reds
    assert styles["other_ai"]["color"] == CS.OTHER_GREY
    rest = [d for d in t.ids if d not in llm and d != "other_ai"]
    looks = [(styles[d]["color"], styles[d]["pattern"]) for d in rest]
    assert len(set(looks)) == len(rest)                                  # colour or hatch differs
    assert all(styles[d]["color"] in CS.OKABE_ITO for d in rest)
    assert not set(CS.OKABE_ITO) & {t[d].color for d in llm}


def test_categories_all_labelled_and_rows_grow():
    labels = [f"2019Q{i}" for i in range(1, 5)] + [f"2020Q{i}" for i in range(1, 5)]
    fig = go.Figure(go.Bar(x=labels[::-1], y=list(range(8)), name="a"))
    fig.update_xaxes(type="category", title_text="Quarter")
    CS.finish(fig, "t", "s", period="quarter", data_to="2020-11-15")
    ax = fig.layout.xaxis
    assert list(ax.categoryarray) == labels                             # sorted, not trace order
    assert list(ax.tickvals) == list(range(8))                          # one tick per category
    assert ax.ticktext[-1] == "2020Q4<br>(to 2020-11-15)"               # the partial quarter
    short, tall = go.Figure(), go.Figure()
    CS.category_rows(short, list("abc"))
    CS.category_rows(tall, [f"row {i}" for i in range(40)])
    assert tall.layout.height > short.layout.height >= 360
    assert tall.layout.height >= 40 * CS.ROW_PX


def test_the_legend_gets_its_own_room():
    one = CS.finish(go.Figure(go.Scatter(x=[1], y=[1], name="only")), "t", "s")
    many = go.Figure([go.Scatter(x=[1], y=[1], name=f"A rather long series name {i}") for i in range(12)])
    CS.finish(many, "t", "s")
    assert one.layout.height == CS.BASE_HEIGHT
    assert many.layout.height >= CS.BASE_HEIGHT + 3 * CS.LEGEND_ROW_PX
    legend = many.layout.template.layout.legend
    assert legend.yref == "container" and legend.yanchor == "bottom"    # below every axis title
