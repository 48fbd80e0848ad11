"""The chart style every figure of :mod:`analysis.plots` shares, in one place.

* Legends sit at the bottom of the figure in *container* coordinates: plotly then reserves their
  height below everything else, so an axis title or a tick label is drawn above the legend and
  never under it (a legend in paper coordinates at ``y=-0.15`` lands on the axis title as soon
  as tick labels are long or rotated). The figure's height grows with the legend's rows.
* Every axis has ``automargin``: long or rotated tick labels push the margins instead of being
  clipped by the chart's box.
* Category axes label every category (explicit ``tickvals``); charts whose rows are categories
  grow with their rows (:func:`row_height`), so plotly never thins the labels.
* Colours: the LLM domains keep the taxonomy's red family; every other domain takes a colour of
  the Okabe-Ito palette (safe for the common forms of colour blindness), and past the palette's
  seven colours the same colours come back hatched (bars) or dashed (lines); "Other AI" is grey.
* A period that the data does not cover to its end (the current year or quarter) is labelled
  "to <date>" on its tick and shaded (:func:`mark_partial`).

Data-derived text goes through :func:`safe_text` before it reaches a trace name, a category label
or hover text: plotly renders a subset of HTML in those (``<a href>`` becomes a live link).

References
----------
Okabe, M. and Ito, K. (2008), "Color Universal Design (CUD): how to make figures and
presentations that are friendly to colorblind people", jfly.uni-koeln.de/color/.
"""

from __future__ import annotations

import html
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

TEMPLATE_NAME = "aibubble"
FONT = "system-ui, -apple-system, Segoe UI, sans-serif"
pio.templates[TEMPLATE_NAME] = go.layout.Template(
    layout=dict(
        font=dict(family=FONT, size=13, color="#222"),
        paper_bgcolor="white",
        plot_bgcolor="white",
        xaxis=dict(showgrid=False, linecolor="#888", ticks="outside", automargin=True),
        yaxis=dict(gridcolor="#e5e5e5", zeroline=False, linecolor="#888", automargin=True),
        legend=dict(orientation="h", xref="paper", x=0, xanchor="left", yref="container", y=0, yanchor="bottom",
                    font=dict(size=12), tracegroupgap=4),
        margin=dict(l=70, r=30, t=90, b=10),
        hovermode="x unified",
    )
)

#: Okabe-Ito without black and vermillion (too close to the LLM reds), in an order that keeps
#: neighbours apart.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#F0E442", "#5a5a5a")
#: The red family of the LLM side (segments and baskets; the LLM domains take the taxonomy's reds).
LLM_REDS = ("#67001f", "#b2182b", "#ef8a62", "#f4a582")
OTHER_GREY = "#bababa"
#: Okabe-Ito's yellow reads well as a bar but not as a thin line on white: lines take a darker one.
LINE_YELLOW = "#b8a200"
#: Hatch patterns (bars) and dashes (lines) for the second and third pass through the palette.
PATTERNS = ("", "/", ".")
DASHES = ("solid", "dash", "dot")
BASE_HEIGHT = 460
LEGEND_ROW_PX = 22
#: Pixels per row of a chart whose categories are its rows (labels never thinned).
ROW_PX = 28


def safe_text(value: object) -> str:
    """A data-derived string made inert for plotly labels: ``<``, ``>`` and ``&`` escaped (plotly
    shows the entities as the characters, so the reader sees the name as written)."""
    return html.escape(str(value), quote=False)


def display_name(key: object) -> str:
    """The taxonomy's display name of a domain, segment or basket id; other text as given. Safe
    for plotly labels."""
    from analysis.display import label

    return safe_text(label(str(key)))


def series_styles(keys, lines: bool = False) -> dict:
    """Colour, bar pattern and line dash for each series key (domain, LLM segment, basket or any
    other name), stable for a given list of keys.

    LLM keys (the taxonomy's LLM domains, LLM segments and the basket standing for them) take the
    red family; ``other_ai`` grey; everything else the Okabe-Ito colours in turn, then the same
    colours hatched or dashed. ``lines``: colours for thin lines (a darker yellow).
    """
    from analysis.data.taxonomy import load_taxonomy

    t = load_taxonomy()
    llm_domains = set(t.llm_domains("broad"))
    llm_keys = llm_domains | {s.id for s in t.llm_segments} | {t.segment_basket("llm_broad")}
    out, i, j = {}, 0, 0
    for key in keys:
        if key in llm_domains:
            color = t[key].color
            out[key] = dict(color=color, pattern="", dash="solid")
        elif key in llm_keys:
            out[key] = dict(color=LLM_REDS[j % len(LLM_REDS)], pattern="", dash="solid" if j < len(LLM_REDS) else "dash")
            j += 1
        elif key == "other_ai":
            out[key] = dict(color=OTHER_GREY, pattern="", dash="solid")
        else:
            k = i // len(OKABE_ITO)
            out[key] = dict(color=OKABE_ITO[i % len(OKABE_ITO)], pattern=PATTERNS[k % len(PATTERNS)],
                            dash=DASHES[k % len(DASHES)])
            i += 1
    if lines:
        for st in out.values():
            st["color"] = LINE_YELLOW if st["color"] == "#F0E442" else st["color"]
    return out


def domain_order(keys) -> list:
    """Domain ids in the taxonomy's display order (LLM domains first, Other AI last)."""
    from analysis.data.taxonomy import load_taxonomy

    order = {d: i for i, d in enumerate(load_taxonomy().ids)}
    return sorted(keys, key=lambda k: order.get(k, len(order)))


def weekly(frame, how: str = "last"):
    """Daily prices shown weekly (Friday closes): a briefing needs no more, and the HTML stays small."""
    r = frame.resample("W-FRI")
    return (r.min() if how == "min" else r.last()).dropna(how="all")


def row_height(rows: int, extra: int = 200, minimum: int = 360) -> int:
    """Height of a chart whose categories are its rows: every label fits without thinning."""
    return max(minimum, ROW_PX * rows + extra)


def _legend_rows(fig: go.Figure, width: float = 1250.0) -> int:
    names = [str(t.name) for t in fig.data if t.name and t.showlegend is not False]
    if fig.layout.showlegend is False or len(names) < 2:
        return 0
    rows, used = 1, 0.0
    for n in names:
        w = 7.2 * len(n) + 50
        if used and used + w > width:
            rows, used = rows + 1, 0.0
        used += w
    return rows


def partial_label(label: str, period: str, data_to) -> str | None:
    """``label`` with "(to <date>)" when the period it names ends after ``data_to`` (the data
    stop there), else None."""
    if data_to is None:
        return None
    freq = {"year": "Y", "quarter": "Q", "month": "M"}.get(period)
    try:
        p = pd.Period(str(label), freq=freq) if freq else pd.Period(str(label))
    except (ValueError, TypeError):
        return None
    end = pd.Timestamp(data_to)
    if p.start_time <= end < p.end_time.normalize():
        return f"{label} (to {end.date().isoformat()})"
    return None


def mark_partial(fig: go.Figure, period: str, data_to, axis: str = "x") -> None:
    """Label and shade the period the data do not cover to its end (category axis ``axis``)."""
    if data_to is None:
        return
    ax = fig.layout[f"{axis}axis"]
    labels = list(ax.categoryarray or [])
    for i, lab in enumerate(labels):
        text = partial_label(lab, period, data_to)
        if text is None:
            continue
        ticktext = list(ax.ticktext or labels)
        ticktext[i] = text.replace(" (", "<br>(")
        fig.update_layout({f"{axis}axis": dict(tickmode="array", tickvals=list(range(len(labels))),
                                               ticktext=ticktext)})
        fig.add_vrect(x0=i - 0.5, x1=i + 0.5, fillcolor="rgba(0,0,0,0.06)", line_width=0, layer="below")
        fig.add_annotation(x=i, xref=axis, y=1, yref="paper", yanchor="bottom", text="partial", showarrow=False,
                           font=dict(size=10, color="#666"))


def finish(fig: go.Figure, title: str, source: str, *, period: str | None = None, data_to=None) -> go.Figure:
    """Apply the style: template, title, source note, every category labelled, the height for the
    legend's rows; with ``period`` and ``data_to``, the period the data do not cover to its end
    marked (:func:`mark_partial`)."""
    fig.update_layout(template=TEMPLATE_NAME, title=dict(text=title, x=0, xref="paper", xanchor="left"))
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    # log axes label 1, 2 and 5 of each decade (plotly's default over a short range labels every
    # digit, in a crowd), in full: the default "small digits" shows 50 and 500 both as "5"
    fig.update_yaxes(dtick="D2", minorloglabels="complete", selector=dict(type="log"))
    fig.update_xaxes(dtick="D2", minorloglabels="complete", selector=dict(type="log"))
    if fig.layout.xaxis.type == "category":
        # Plotly orders categories by first appearance across traces (a forecast band drawn first
        # would come first); periods and years sort correctly as strings.
        labels = sorted({str(x) for trace in fig.data if getattr(trace, "x", None) is not None
                         and trace.xaxis in (None, "x") for x in trace.x if x is not None})
        # tick positions by index: a category named like a number ("2019") would be read as a position
        angle = fig.layout.xaxis.tickangle
        if angle is None and len(labels) > 12:
            angle = -45  # else plotly rotates long labels itself
        fig.update_layout(xaxis=dict(categoryorder="array", categoryarray=labels, tickmode="array",
                                     tickvals=list(range(len(labels))), ticktext=labels, tickangle=angle))
        if period:
            mark_partial(fig, period, data_to)
    fig.add_annotation(text=f"Source: {source}", xref="paper", yref="paper", x=0, y=1.0, yanchor="bottom",
                       showarrow=False, font=dict(size=10, color="#666"), xanchor="left")
    height = fig.layout.height or BASE_HEIGHT
    fig.update_layout(height=height + LEGEND_ROW_PX * _legend_rows(fig))
    return fig


def category_rows(fig: go.Figure, labels: list, axis: str = "y", extra: int = 200) -> None:
    """A chart whose ``labels`` are its rows: one tick per row and a height that fits them all."""
    labels = list(dict.fromkeys(labels))  # plotly keeps one category per distinct label
    fig.update_layout({f"{axis}axis": dict(tickmode="array", tickvals=list(range(len(labels))), ticktext=labels)},
                      height=row_height(len(labels), extra))

