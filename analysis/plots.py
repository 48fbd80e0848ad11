"""Figure builders. Every function returns a plotly ``Figure`` with title, axis units, number
formats and a source note set; none calls ``show()``. The style (legend placement, margins,
colours, partial periods) is :mod:`analysis.chartstyle`; display names come from the taxonomy.

Data-derived text (company and investor names, series labels) goes through :func:`safe_text`
before it reaches a trace name, a category label or hover text: plotly renders a subset of
HTML in those (``<a href>`` becomes a live link), so ``<``, ``>`` and ``&`` are escaped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.chartstyle import (TEMPLATE_NAME, category_rows, display_name, domain_order, finish,  # noqa: F401
                                 safe_text, series_styles, weekly)
from analysis.data.taxonomy import Taxonomy, load_taxonomy
from analysis.spending import FundingByDomain, LLMShare

DEFINITION_COLORS = {"narrow": "#b2182b", "broad": "#ef8a62", "attributed": "#67001f"}
DEFINITION_DASH = {"narrow": "solid", "broad": "dash", "attributed": "dot"}


def _finish(fig: go.Figure, title: str, source: str, **partial) -> go.Figure:
    return finish(fig, title, source, **partial)


def _period_labels(index) -> list[str]:
    return [str(p) for p in index]


def _period_name(index) -> str:
    """"year", "quarter" or "month" for a PeriodIndex (year for anything else)."""
    freq = getattr(index, "freqstr", None) or "Y"
    return {"Y": "year", "A": "year", "Q": "quarter", "M": "month"}.get(freq[:1], "year")


def _domains_shown(wide: pd.DataFrame) -> list[str]:
    """Domains with any funding, in the taxonomy's order."""
    return domain_order([d for d in wide.columns if wide[d].fillna(0).any()])


def _funding_title(kind: str, period: str, shown: list[str]) -> str:
    if len(shown) == 1:
        return f"{display_name(shown[0])}: {kind} per {period} (disclosed new money)"
    return f"AI {kind} per {period} by domain (disclosed new money)"


def funding_by_domain_chart(funding: FundingByDomain, taxonomy: Taxonomy | None = None,
                            source: str = "curated funding ledger (data/funding_rounds.csv)", *,
                            data_to=None) -> go.Figure:
    """Stacked bars of disclosed new-money funding per period and AI domain, in USD billions.

    ``data_to``: the date the data stop (the last round counted); a period running past it is
    labelled "to <date>" and shaded. With one domain the title names it.
    """
    wide = funding.amounts() / 1e9
    x = _period_labels(wide.index)
    shown = _domains_shown(wide)
    styles = series_styles(shown)
    fig = go.Figure()
    for domain in shown:
        st = styles[domain]
        fig.add_bar(x=x, y=wide[domain].round(3).tolist(), name=display_name(domain), marker_color=st["color"],
                    marker_pattern_shape=st["pattern"], hovertemplate="%{y:,.2f} bn USD")
    fig.update_layout(barmode="stack", hovermode="closest")
    fig.update_yaxes(title_text="USD billions", tickformat=",~g")
    fig.update_xaxes(title_text=funding.period.capitalize(), type="category")
    return _finish(fig, _funding_title("funding", funding.period, shown), source, period=funding.period,
                   data_to=data_to)


def funding_share_chart(funding: FundingByDomain, source: str = "curated funding ledger (data/funding_rounds.csv)",
                        *, data_to=None) -> go.Figure:
    """Each domain's share of the period's disclosed new money (stacked to 100%): a $200bn quarter
    does not flatten the small domains, as it does in the totals."""
    wide = funding.amounts()
    total = wide.sum(axis=1).replace(0.0, np.nan)
    share = wide.div(total, axis=0)
    x = _period_labels(share.index)
    shown = _domains_shown(wide)
    styles = series_styles(shown)
    fig = go.Figure()
    for domain in shown:
        st = styles[domain]
        fig.add_bar(x=x, y=share[domain].round(4).tolist(), name=display_name(domain), marker_color=st["color"],
                    marker_pattern_shape=st["pattern"], hovertemplate="%{y:.1%}")
    fig.update_layout(barmode="stack", hovermode="closest")
    fig.update_yaxes(title_text="Share of the period's funding (%)", tickformat=".0%", range=[0, 1])
    fig.update_xaxes(title_text=funding.period.capitalize(), type="category")
    return _finish(fig, f"Each domain's share of AI funding per {funding.period} (disclosed new money)", source,
                   period=funding.period, data_to=data_to)


def funding_small_multiples_chart(funding: FundingByDomain,
                                  source: str = "curated funding ledger (data/funding_rounds.csv)", *,
                                  data_to=None, columns: int = 4) -> go.Figure:
    """One small panel per domain, each on its own scale (USD millions): the growth of the
    domains beside the LLM labs, which a shared scale hides. The period past ``data_to`` is drawn
    lighter."""
    from plotly.subplots import make_subplots

    wide = funding.amounts() / 1e6
    shown = _domains_shown(wide)
    rows = max(1, -(-len(shown) // columns))
    specs = [[{} if r * columns + c < len(shown) else None for c in range(columns)] for r in range(rows)]
    fig = make_subplots(rows=rows, cols=columns, specs=specs, subplot_titles=[display_name(d) for d in shown],
                        horizontal_spacing=0.06, vertical_spacing=0.5 / rows)
    starts = [p.start_time.date().isoformat() for p in wide.index]
    last_partial = data_to is not None and wide.index[-1].end_time.normalize() > pd.Timestamp(data_to)
    opacity = [0.45 if last_partial and i == len(starts) - 1 else 1.0 for i in range(len(starts))]
    styles = series_styles(shown)
    for k, domain in enumerate(shown):
        r, c = k // columns + 1, k % columns + 1
        fig.add_bar(x=starts, y=wide[domain].round(1).tolist(), name=display_name(domain), showlegend=False,
                    marker=dict(color=styles[domain]["color"], opacity=opacity), row=r, col=c,
                    hovertemplate="%{x}: %{y:,.0f} m USD<extra></extra>")
        fig.update_yaxes(title_text="USD m", tickformat=",~g", row=r, col=c, title_standoff=2)
        fig.update_xaxes(title_text=funding.period.capitalize(), type="date", row=r, col=c, title_standoff=2,
                         tickformat="%Y", dtick="M24")
    fig.update_annotations(font=dict(size=12))
    fig.update_layout(height=230 * rows + 120, hovermode="closest", bargap=0.1)
    note = f"; the last {funding.period} runs to {pd.Timestamp(data_to).date().isoformat()} (lighter)" \
        if last_partial else ""
    _finish(fig, f"Funding per {funding.period}, each domain on its own scale", source + note)
    # the source line above the first row of panel titles, not on them
    fig.update_annotations(yshift=22, selector=dict(text=f"Source: {source + note}"))
    fig.update_layout(margin=dict(t=120))
    return fig


def llm_share_chart(shares: list[LLMShare],
                    source: str = "curated funding ledger (data/funding_rounds.csv)", *, data_to=None) -> go.Figure:
    """The LLM share of ledger funding over time, one line per definition, in percent."""
    fig = go.Figure()
    period = "year"
    for share in shares:
        idx = share.table.index
        period = _period_name(idx)
        fig.add_scatter(x=_period_labels(idx), y=share.table["share"].round(4).tolist(),
                        mode="lines+markers", name=share.label,
                        line=dict(color=DEFINITION_COLORS[share.definition], width=2,
                                  dash=DEFINITION_DASH[share.definition]),
                        connectgaps=False, hovertemplate="%{y:.1%}")
    fig.update_yaxes(title_text="Share of AI funding (%)", tickformat=".0%", range=[-0.03, 1.03])
    fig.update_xaxes(title_text=period.capitalize(), type="category")
    return _finish(fig, "Share of AI funding going to LLMs", source, period=period, data_to=data_to)


def _band(fig: go.Figure, x, lower, upper, color: str, name: str) -> None:
    """An interval as a shaded band (two lines without markers, the space between filled)."""
    fig.add_scatter(x=list(x), y=list(upper), mode="lines", line=dict(width=0), hoverinfo="skip", showlegend=False,
                    legendgroup=name)
    fig.add_scatter(x=list(x), y=list(lower), mode="lines", line=dict(width=0), fill="tonexty", fillcolor=color,
                    hoverinfo="skip", name=name, legendgroup=name)


def share_model_chart(model, source: str = "curated funding ledger; statsmodels fit") -> go.Figure:
    """Observed quarterly LLM share, and the 8-quarter forecast with its 90% interval as a band."""
    obs = model.data["share"]
    fc = model.forecast
    fig = go.Figure()
    _band(fig, [str(p) for p in fc.index], fc["lower"].round(4), fc["upper"].round(4),
          "rgba(178,24,43,0.15)", "90% forecast interval")
    fig.add_scatter(x=[str(p) for p in obs.index], y=obs.round(4).tolist(), mode="markers+lines",
                    name="Observed (ledger)", line=dict(color="#444", width=1), hovertemplate="%{y:.1%}")
    fig.add_scatter(x=[str(p) for p in fc.index], y=fc["mean"].round(4).tolist(), mode="lines",
                    name="Forecast (local linear trend on logit share)", line=dict(color="#b2182b", dash="dash"),
                    hovertemplate="%{y:.1%}")
    fig.update_yaxes(title_text="LLM share of quarterly funding (%)", tickformat=".0%", range=[-0.03, 1.03])
    fig.update_xaxes(title_text="Quarter", type="category")
    return _finish(fig, f"LLM share per quarter and forecast ({model.definition} definition)", source)


def coverage_chart(coverage, source: str = "ledger vs data/market_totals.csv (published totals)") -> go.Figure:
    """Ledger coverage of each publisher's published AI-funding total per year, in percent."""
    fig = go.Figure()
    from analysis.chartstyle import OKABE_ITO as palette

    primary = coverage.ratios[coverage.ratios["tier"] == "primary"]
    for i, (publisher, g) in enumerate(primary.groupby("publisher")):
        fig.add_bar(x=g["year"].astype(str).tolist(), y=g["coverage"].round(4).tolist(), name=safe_text(publisher),
                    marker_color=palette[i % len(palette)], hovertemplate="%{y:.0%}")
    secondary = coverage.ratios[coverage.ratios["tier"] == "secondary"]
    if len(secondary):
        fig.add_bar(x=secondary["year"].astype(str).tolist(), y=secondary["coverage"].round(4).tolist(),
                    name="Secondary sources (relays, aggregators)", marker_color="#cccccc",
                    text=[safe_text(x) for x in secondary["publisher"]], textposition="none",
                    hovertemplate="%{text}: %{y:.0%}")
    fig.add_hline(y=1.0, line=dict(color="#888", dash="dot"))
    fig.update_yaxes(title_text="Ledger total / published total (%)", tickformat=".0%")
    fig.update_xaxes(title_text="Year", type="category")
    fig.update_layout(barmode="group")
    return _finish(fig, "How much of each publisher's AI-funding total the ledger covers", source)


def full_market_share_chart(full_market, source: str = "ledger scaled to published totals (analysis.share_model)") -> go.Figure:
    """Estimated full-market LLM share per year with its interval over publishers and tail rules,
    against the ledger's own share (``full_market``: :class:`analysis.share_model.FullMarketShare`)."""
    t = full_market.table
    color = DEFINITION_COLORS.get(full_market.definition, "#b2182b")
    fig = go.Figure()
    x = t["year"].astype(str).tolist()
    fig.add_scatter(x=x, y=t["share_mid"].round(4).tolist(), mode="markers",
                    name=f"{full_market.definition}: full market (interval: publishers x tail rules)",
                    marker=dict(color=color, size=9),
                    error_y=dict(type="data", symmetric=False, array=(t["share_high"] - t["share_mid"]).round(4).tolist(),
                                 arrayminus=(t["share_mid"] - t["share_low"]).round(4).tolist()),
                    hovertemplate="%{y:.1%}")
    fig.add_scatter(x=x, y=t["ledger_share"].round(4).tolist(), mode="lines",
                    name=f"{full_market.definition}: ledger only", line=dict(color=color, dash="dot"),
                    hovertemplate="%{y:.1%}")
    fig.update_yaxes(title_text="LLM share of AI funding (%)", tickformat=".0%", range=[-0.03, 1.03])
    fig.update_xaxes(title_text="Year", type="category")
    return _finish(fig, "LLM share: ledger vs estimated full market", source)


def concentration_chart(conc, source: str = "curated funding ledger and investors.csv", *, data_to=None) -> go.Figure:
    """Concentration indicators per year (all on a 0-100% scale); the year running past
    ``data_to`` is marked partial."""
    t = conc.table
    fig = go.Figure()
    series = {"hhi_companies": ("Herfindahl across companies", "#b2182b"),
              "top5_company_share": ("Top-5 companies' share", "#ef8a62"),
              "mega_round_share": ("Share in $1bn+ rounds", "#2166ac"),
              "supplier_participation_share": ("LLM funding with cloud/chip supplier investors", "#1b7837")}
    for col, (label, color) in series.items():
        fig.add_scatter(x=t.index.astype(str).tolist(), y=t[col].round(4).tolist(), mode="lines+markers",
                        name=label, line=dict(color=color), hovertemplate="%{y:.1%}")
    fig.update_yaxes(title_text="Share / index (%)", tickformat=".0%", range=[-0.03, 1.05])
    fig.update_xaxes(title_text="Year", type="category")
    return _finish(fig, "Concentration of AI funding", source, period="year", data_to=data_to)


def capex_vs_funding_chart(capex, funding_quarterly, definition_share,
                           source: str = "company filings (data/hyperscaler_financials.csv); funding ledger") -> go.Figure:
    """Hyperscaler capex (total and LLM-attributed) next to venture LLM funding, USD bn per quarter."""
    q = capex.quarterly
    fig = go.Figure()
    fig.add_bar(x=[str(p) for p in q.index], y=(q["capex_usd"] / 1e9).round(2).tolist(),
                name="Hyperscaler capex (MSFT, GOOGL, AMZN, META, ORCL)", marker_color="#bababa",
                hovertemplate="%{y:,.1f} bn USD")
    fig.add_scatter(x=[str(p) for p in q.index], y=(q["llm_capex_usd"] / 1e9).round(2).tolist(),
                    mode="lines", name=f"LLM-attributed capex ({capex.capex_llm_share:.0%} of excess over 2019-22 trend)",
                    line=dict(color="#67001f", width=2), hovertemplate="%{y:,.1f} bn USD")
    llm = definition_share.table["llm_usd"] / 1e9
    fig.add_scatter(x=[str(p) for p in llm.index], y=llm.round(2).tolist(), mode="lines+markers",
                    name=f"Venture funding to LLMs ({definition_share.definition})", line=dict(color="#ef8a62"),
                    hovertemplate="%{y:,.1f} bn USD")
    fig.update_yaxes(title_text="USD billions per quarter", tickformat=",~g")
    fig.update_xaxes(title_text="Quarter", type="category")
    return _finish(fig, "Two money flows on one scale: hyperscaler capex and LLM venture funding", source)


def capex_ratio_chart(capex, source: str = "company filings (data/hyperscaler_financials.csv)") -> go.Figure:
    """Capex/revenue and capex/operating cash flow on trailing-four-quarter sums, in percent."""
    q = capex.quarterly
    fig = go.Figure()
    fig.add_scatter(x=[str(p) for p in q.index], y=q["capex_to_revenue_t4q"].round(4).tolist(), name="Capex / revenue",
                    mode="lines", line=dict(color="#2166ac"), hovertemplate="%{y:.1%}")
    fig.add_scatter(x=[str(p) for p in q.index], y=q["capex_to_ocf_t4q"].round(4).tolist(),
                    name="Capex / operating cash flow", mode="lines", line=dict(color="#b2182b"),
                    hovertemplate="%{y:.1%}")
    fig.update_yaxes(title_text="Trailing four quarters (%)", tickformat=".0%")
    fig.update_xaxes(title_text="Quarter", type="category")
    return _finish(fig, "Hyperscaler capex intensity", source)


def valuation_index_chart(indices: dict, segments=("LLM", "non-LLM"),
                          source: str = "curated funding ledger; repeat-round regression", *, data_to=None) -> go.Figure:
    """Repeat-round valuation indices (base period = 1) with 95% whiskers, log scale; the year
    running past ``data_to`` is marked partial."""
    colors = {"LLM": "#b2182b", "non-LLM": "#2166ac"}
    fig = go.Figure()
    for seg in segments:
        if seg not in indices:
            continue
        idx = indices[seg].index
        x = [str(p) for p in idx.index]
        color = colors.get(seg, "#444")
        fig.add_scatter(x=x, y=idx["index"].round(4).tolist(), mode="lines+markers",
                        name=f"{safe_text(seg)} ({indices[seg].pairs} pairs)", line=dict(color=color),
                        error_y=dict(type="data", symmetric=False,
                                     array=(idx["upper"] - idx["index"]).round(4).tolist(),
                                     arrayminus=(idx["index"] - idx["lower"]).round(4).tolist()),
                        hovertemplate="%{y:.2f}x")
    fig.update_yaxes(title_text="Valuation index (first year = 1, log scale)", type="log")
    fig.update_xaxes(title_text="Year", type="category")
    shown = [safe_text(s) for s in segments if s in indices]
    title = "Repeat-round valuation index: LLM vs other AI" if tuple(segments) == ("LLM", "non-LLM") else \
        f"Repeat-round valuation index: {', '.join(shown)}"
    return _finish(fig, title, source, period="year", data_to=data_to)


def multiples_chart(multiples, source: str = "ledger valuations / data/lab_financials.csv revenue") -> go.Figure:
    """Post-money valuation over latest revenue (run-rate or annual) at each priced round."""
    fig = go.Figure()
    if not multiples.empty:
        for org, g in multiples.groupby("org_name"):
            fig.add_scatter(x=g["announced_on"].dt.strftime("%Y-%m-%d").tolist(), y=g["multiple"].round(1).tolist(),
                            mode="lines+markers", name=safe_text(org), hovertemplate="%{y:,.0f}x")
    fig.update_yaxes(title_text="Valuation / revenue (x, log scale)", type="log")
    fig.update_xaxes(title_text="Round date")
    return _finish(fig, "Valuation-to-revenue multiples at priced rounds", source)


PILLAR_COLORS = {"private": "#b2182b", "public": "#2166ac", "spending": "#8c6d31"}


def risk_scores_chart(scores, source: str = "analysis.risk (anchors and weights in the methodology)") -> go.Figure:
    """Latest 0-100 score per segment, stacked by pillar contribution, with the 90% bootstrap
    interval as whiskers."""
    latest = scores.latest().dropna(subset=["score"])
    contrib = scores.contributions.merge(latest[["date", "segment"]], on=["date", "segment"])
    by_pillar = contrib.groupby(["segment", "pillar"])["contribution"].sum().unstack(fill_value=0.0)
    order = latest.sort_values("score")["segment"].tolist()
    by_pillar = by_pillar.reindex(order)
    names = [display_name(seg) for seg in order]
    fig = go.Figure()
    for pillar in ("private", "public", "spending"):
        if pillar in by_pillar:
            fig.add_bar(y=names, x=by_pillar[pillar].round(1).tolist(), orientation="h", name=f"{pillar} markets"
                        if pillar != "spending" else "spending", marker_color=PILLAR_COLORS[pillar],
                        hovertemplate="%{x:.1f} points")
    ordered = latest.set_index("segment").reindex(order)
    if ordered[["low", "high"]].notna().any().any():
        fig.add_scatter(y=names, x=ordered["score"].round(1).tolist(), mode="markers", name="90% interval",
                        marker=dict(color="#222", size=6),
                        error_x=dict(type="data", symmetric=False,
                                     array=(ordered["high"] - ordered["score"]).clip(lower=0).round(1).tolist(),
                                     arrayminus=(ordered["score"] - ordered["low"]).clip(lower=0).round(1).tolist(),
                                     color="#222", thickness=1.2),
                        hovertemplate="%{x:.1f}")
    fig.update_layout(barmode="stack", hovermode="closest")
    fig.update_xaxes(title_text="Bubble-risk score (0-100 points)", range=[0, 100])
    fig.update_yaxes(title_text="Segment")
    category_rows(fig, names)
    return _finish(fig, "Bubble-risk score by segment, where it comes from, and its 90% interval", source)


def score_history_chart(scores, segments: list[str] | None = None,
                        source: str = "analysis.risk, computed as of each quarter end (no look-ahead)") -> go.Figure:
    """Score paths over time for the chosen segments."""
    s = scores.scores.dropna(subset=["score"])
    segments = segments or s["segment"].unique().tolist()
    dates = sorted(scores.scores["date"].unique())
    styles = series_styles(segments, lines=True)
    fig = go.Figure()
    for seg in segments:
        # every quarter end on the axis, a missing score as a gap (not a straight line across it)
        g = s[s["segment"] == seg].set_index("date")["score"].reindex(dates)
        y = [None if pd.isna(v) else round(float(v), 1) for v in g]
        fig.add_scatter(x=[pd.Timestamp(d).strftime("%Y-%m-%d") for d in dates], y=y, mode="lines+markers",
                        connectgaps=False, name=display_name(seg), marker=dict(size=5),
                        line=dict(color=styles[seg]["color"], dash=styles[seg]["dash"]), hovertemplate="%{y:.0f}")
    fig.update_yaxes(title_text="Score (0-100 points)", range=[-3, 103], tickvals=[0, 20, 40, 60, 80, 100])
    fig.update_xaxes(title_text="Quarter end (score as of that date)")
    return _finish(fig, "Bubble-risk score history", source)


def stress_chart(result, source: str = "analysis.stress Monte Carlo; relationships estimated with statsmodels") -> go.Figure:
    """Interval chart of stress outcomes: 5-95% whiskers, 25-75% box, median marker, in percent."""
    out = result.outcomes.sort_values("q50")
    labels = [f"{display_name(r.target)} ({safe_text(r.channel)})" for r in out.itertuples()]
    fig = go.Figure()
    fig.add_scatter(x=out["q50"].round(4).tolist(), y=labels, mode="markers", name="median",
                    marker=dict(color="#222", size=9, symbol="diamond"),
                    error_x=dict(type="data", symmetric=False, array=(out["q95"] - out["q50"]).round(4).tolist(),
                                 arrayminus=(out["q50"] - out["q05"]).round(4).tolist(), color="#999"),
                    hovertemplate="%{x:.1%}")
    fig.add_bar(x=(out["q75"] - out["q25"]).round(4).tolist(), base=out["q25"].round(4).tolist(), y=labels,
                orientation="h", name="25-75% of simulations", marker_color="rgba(178,24,43,0.35)",
                hovertemplate="%{base:.1%} to %{x:.1%}")
    fig.add_vline(x=0, line=dict(color="#888", dash="dot"))
    fig.update_layout(hovermode="closest")
    fig.update_xaxes(title_text="Change under the LLM-bust scenario (%)", tickformat=".0%")
    fig.update_yaxes(title_text="Target (channel)")
    category_rows(fig, labels)
    return _finish(fig, "LLM-bust stress test: distribution of outcomes (whiskers 5-95%)", source)


def basket_levels_chart(levels, source: str = "market data cache (yfinance or imported CSV)") -> go.Figure:
    """Segment basket indices (base 100 at each basket's start), log scale."""
    fig = go.Figure()
    for col in levels.columns:
        s = levels[col].dropna()
        w = weekly(s)
        fig.add_scatter(x=w.index.strftime("%Y-%m-%d").tolist(), y=w.round(2).tolist(), mode="lines",
                        name=display_name(col), hovertemplate="%{y:,.0f}")
    fig.update_yaxes(title_text="Basket index (start = 100, log scale)", type="log")
    fig.update_xaxes(title_text="Date")
    return _finish(fig, "Equal-weighted segment baskets", source)


def bsadf_chart(result, cv_series, episodes=None, title: str = "PSY BSADF against its 95% critical value",
                source: str = "analysis.bubbles.psy (Phillips, Shi and Yu 2015)") -> go.Figure:
    """BSADF sequence, its critical-value sequence, and shaded explosive episodes."""
    b = pd.DataFrame({"bsadf": result.bsadf.to_numpy(), "cv": np.asarray(cv_series, dtype=float)},
                     index=result.bsadf.index)
    if isinstance(b.index, pd.DatetimeIndex):
        b = weekly(b)
    x = [pd_date(d) for d in b.index]
    fig = go.Figure()
    fig.add_scatter(x=x, y=b["bsadf"].round(3).tolist(), mode="lines", name="BSADF", line=dict(color="#0072B2"))
    fig.add_scatter(x=x, y=b["cv"].round(3).tolist(), mode="lines", name="95% critical value",
                    line=dict(color="#b2182b", dash="dash"))
    if episodes is not None:
        for e in episodes.itertuples():
            fig.add_vrect(x0=str(pd_date(e.start)), x1=str(pd_date(e.end)), fillcolor="rgba(178,24,43,0.15)",
                          line_width=0)
    fig.update_yaxes(title_text="ADF t-statistic")
    fig.update_xaxes(title_text="Date")
    return _finish(fig, title, source)


def pd_date(value) -> str:
    return value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else str(value)


def backtest_chart(levels, scores, source: str = "imported index prices; analysis.risk public pillar") -> go.Figure:
    """An index level (log, left axis) and the market part of the risk score (right axis)."""
    fig = go.Figure()
    w = weekly(levels)
    fig.add_scatter(x=w.index.strftime("%Y-%m-%d").tolist(), y=w.round(2).tolist(), mode="lines",
                    name="Index level (log scale)", line=dict(color="#444"))
    fig.add_scatter(x=scores["date"].dt.strftime("%Y-%m-%d").tolist(), y=scores["score"].round(1).tolist(),
                    mode="lines+markers", name="Market risk score (right axis)", yaxis="y2",
                    line=dict(color="#b2182b"))
    # The right axis keeps its own linear 0-100 ticks (not gridlines synced to the log axis), and
    # a little room either side so a score of 0 or 100 is not cut by the frame.
    fig.update_layout(yaxis=dict(title="Index level (log scale)", type="log"),
                      yaxis2=dict(title="Score (0-100 points)", overlaying="y", side="right", range=[-3, 103],
                                  tickmode="array", tickvals=[0, 20, 40, 60, 80, 100], showgrid=False,
                                  automargin=True))
    fig.update_xaxes(title_text="Date")
    return _finish(fig, "Back-test: the market part of the score through a historical bubble", source)


def line_chart(frame, title: str, y_title: str, tickformat: str = ",.2f", log: bool = False,
               source: str = "market data cache", weekly: bool = True) -> go.Figure:
    """One line per column of a date-indexed frame (weekly points by default, to keep HTML small)."""
    from analysis.chartstyle import weekly as to_weekly

    data = to_weekly(frame) if weekly else frame
    fig = go.Figure()
    for col in data.columns:
        s = data[col].dropna()
        fig.add_scatter(x=s.index.strftime("%Y-%m-%d").tolist(), y=s.round(4).tolist(), mode="lines", name=display_name(col),
                        hovertemplate=f"%{{y:{tickformat}}}")
    fig.update_yaxes(title_text=y_title, tickformat=tickformat, type="log" if log else "linear")
    fig.update_xaxes(title_text="Date")
    return _finish(fig, title, source)


def lppls_confidence_chart(conf, price, source: str = "analysis.bubbles.lppls (multi-window confidence)") -> go.Figure:
    """Positive and negative LPPLS confidence at each end date, with the price (log, right axis)."""
    t = conf.table
    x = [pd_date(d) for d in t.index]
    fig = go.Figure()
    fig.add_bar(x=x, y=t["pos_conf"].round(3).tolist(), name="Positive-bubble confidence", marker_color="#b2182b")
    fig.add_bar(x=x, y=(-t["neg_conf"]).round(3).tolist(), name="Negative-bubble confidence (shown below 0)",
                marker_color="#2166ac")
    p = weekly(price[price.index >= t.index.min()])
    fig.add_scatter(x=p.index.strftime("%Y-%m-%d").tolist(), y=p.round(2).tolist(), name="Price (right axis, log)",
                    yaxis="y2", line=dict(color="#444"))
    fig.update_layout(barmode="relative", yaxis=dict(title="Share of windows qualified", range=[-1, 1],
                                                     tickformat=".0%"),
                      yaxis2=dict(title="Price (log scale)", overlaying="y", side="right", type="log",
                                  tickmode="auto", showgrid=False, automargin=True))
    fig.update_xaxes(title_text="End date")
    return _finish(fig, "LPPLS confidence indicator", source)


def tc_distribution_chart(conf, source: str = "analysis.bubbles.lppls qualified fits") -> go.Figure:
    """Histogram of the critical times tc of qualified fits (all end dates), in calendar dates."""
    fits = conf.fits
    q = fits[fits["qualified"]] if "qualified" in fits else fits.iloc[0:0]
    fig = go.Figure()
    if len(q) and "tc_date" in q:
        fig.add_histogram(x=[pd_date(d) for d in q["tc_date"]], name="qualified fits", marker_color="#b2182b")
    fig.update_yaxes(title_text="Number of qualified fits")
    fig.update_xaxes(title_text="Critical time tc (date)")
    return _finish(fig, f"Where qualified LPPLS fits put the critical time ({len(q)} fits)", source)


INVESTOR_TYPE_COLORS = {"vc": "#0072B2", "corporate_cloud": "#E69F00", "corporate_chip": "#CC79A7",
                        "sovereign": "#009E73", "pe_crossover": "#56B4E9", "corporate_other": "#F0E442",
                        "other": "#5a5a5a", "unclassified": "#bababa"}


def investor_chart(investors, source: str = "curated funding ledger and investors.csv") -> go.Figure:
    """Lead investors by amount led, coloured by investor type (USD billions).

    ``investors``: the ``investors`` table of :class:`analysis.landscape.Landscape` (index the
    lead investor's name; columns ``amount_usd``, ``investor_type``).
    """
    from analysis.display import words

    inv = investors.iloc[::-1]
    names = [safe_text(n) for n in inv.index]
    fig = go.Figure()
    for itype, g in inv.groupby("investor_type", sort=False):
        fig.add_bar(y=[safe_text(n) for n in g.index], x=(g["amount_usd"] / 1e9).round(3).tolist(), orientation="h",
                    name=safe_text(words(itype)), marker_color=INVESTOR_TYPE_COLORS.get(itype, "#444"),
                    hovertemplate="%{x:,.2f} bn USD")
    fig.update_layout(hovermode="closest")
    fig.update_xaxes(title_text="USD billions in rounds led", tickformat=",.1f")
    fig.update_yaxes(title_text="Lead investor", categoryorder="array", categoryarray=names)
    category_rows(fig, names)
    return _finish(fig, "Lead investors by the size of the rounds they led (full round amount)", source)


def domain_share_chart(domain: str, domain_share, source: str = "curated funding ledger", *,
                       data_to=None) -> go.Figure:
    """One domain's share of all disclosed AI funding per year (percent); the year running past
    ``data_to`` is labelled "to <date>".

    ``domain_share``: year-indexed frame with a ``share`` column (fraction).
    """
    name = display_name(domain)
    fig = go.Figure()
    s = domain_share.dropna(subset=["share"])
    fig.add_bar(x=[str(x) for x in s.index], y=(s["share"] * 100).round(2).tolist(), name=name,
                marker_color=series_styles([domain])[domain]["color"], hovertemplate="%{y:.1f}%")
    fig.update_yaxes(title_text="Share of disclosed AI funding (%)", ticksuffix="%")
    fig.update_xaxes(title_text="Year", type="category")
    return _finish(fig, f"{name}: share of all disclosed AI funding", source, period="year", data_to=data_to)


def basket_chart(basket, source: str = "cached market prices (aibubble fetch)") -> go.Figure:
    """One equal-weight basket's level (first day = 100), from a :class:`analysis.baskets.BasketIndex`."""
    fig = go.Figure()
    lvl = weekly(basket.level)
    fig.add_scatter(x=lvl.index.strftime("%Y-%m-%d").tolist(), y=lvl.round(3).tolist(), mode="lines",
                    name=safe_text(basket.name), hovertemplate="%{y:.1f}")
    fig.update_yaxes(title_text="Index level (first day = 100)")
    fig.update_xaxes(title_text="Date")
    return _finish(fig, f"Listed exposure: equal-weight basket of {len(basket.members)} companies", source)


# --------------------------------------------------------------------------------------------
# Market bubble signals over time, AI-era baskets, calibration (issue #14)
# --------------------------------------------------------------------------------------------

SIGNAL_COLORS = {"score": "#b2182b", "psy": "#2166ac", "cv": "#b2182b", "lppls": "#b2182b", "lppls_neg": "#2166ac",
                 "trust": "#1b7837", "runup": "#762a83", "net": "#c2a5cf", "episode": "rgba(178,24,43,0.12)",
                 "runup_flag": "rgba(118,42,131,0.12)"}
BENCHMARK_DASH = {"QQQ": "dash", "SPY": "dot"}


def _dates(index) -> list[str]:
    return [pd_date(d) for d in index]


def _runs(flags) -> list[tuple[object, object]]:
    """(first, last) dates of each run of True in a boolean date-indexed series."""
    f = flags.fillna(False).astype(bool)
    runs, start, prev = [], None, None
    for d, v in f.items():
        if v and start is None:
            start = d
        if not v and start is not None:
            runs.append((start, prev))
            start = None
        prev = d
    if start is not None:
        runs.append((start, prev))
    return runs


def _shade(fig: go.Figure, spans, color: str, row: int | None = None) -> None:
    for a, b in spans:
        kw = dict(row=row, col=1) if row else {}
        fig.add_vrect(x0=pd_date(a), x1=pd_date(b), fillcolor=color, line_width=0, layer="below", **kw)


def signal_panel_chart(history, trust=None, title: str | None = None,
                       source: str = "analysis.bubbles.signal (PSY 2015, LPPLS, GSY 2019)") -> go.Figure:
    """One series' bubble signals on one time axis, four rows: the price (log) with PSY episodes
    shaded; the BSADF path against its 95% critical-value sequence, episodes shaded; the LPPLS
    confidence at period ends (positive up, negative down; the trust at the last date as a
    marker); the two-year run-up, raw and net of the market, with the GSY flag shaded.

    ``history`` is an :class:`analysis.bubbles.signal.SignalHistory`; ``trust`` an optional
    :class:`analysis.bubbles.trust.LPPLSTrust` for its last date.
    """
    from plotly.subplots import make_subplots

    t = history.table
    name = display_name(history.name)
    fig = make_subplots(rows=4, cols=1, shared_xaxes=True, vertical_spacing=0.04, row_heights=[0.3, 0.25, 0.22, 0.23])
    now = history.psy_now
    if history.close is not None:
        w = weekly(np.log(history.close))
        fig.add_scatter(x=_dates(w.index), y=w.round(4).tolist(), mode="lines", name="Log price", line=dict(color="#444"),
                        row=1, col=1, hovertemplate="%{y:.3f}")
    if now is not None:
        b = now.result.bsadf
        # weekly points: the daily path adds megabytes and nothing a reader can see
        bw = pd.DataFrame({"b": b.to_numpy(), "cv": now.cv.bsadf_cv[0.95].to_numpy()}, index=b.index)
        bw = weekly(bw) if isinstance(bw.index, pd.DatetimeIndex) else bw
        x = _dates(bw.index)
        fig.add_scatter(x=x, y=bw["b"].round(3).tolist(), mode="lines", name="BSADF", line=dict(color=SIGNAL_COLORS["psy"]),
                        row=2, col=1)
        fig.add_scatter(x=x, y=bw["cv"].round(3).tolist(), mode="lines",
                        name="95% critical value", line=dict(color=SIGNAL_COLORS["cv"], dash="dash"), row=2, col=1)
        episodes = [(e.start, e.end if not getattr(e, "ongoing", False) and pd.notna(e.end) else b.index[-1])
                    for e in now.episodes.table.itertuples()]
        for row in (1, 2):
            _shade(fig, episodes, SIGNAL_COLORS["episode"], row)
    lp = t.dropna(subset=["lppls_conf"])
    fig.add_bar(x=_dates(lp.index), y=lp["lppls_conf"].round(3).tolist(), name="LPPLS confidence (positive bubble)",
                marker_color=SIGNAL_COLORS["lppls"], row=3, col=1)
    fig.add_bar(x=_dates(lp.index), y=(-lp["lppls_neg_conf"]).round(3).tolist(),
                name="LPPLS confidence (negative bubble, below 0)", marker_color=SIGNAL_COLORS["lppls_neg"], row=3, col=1)
    if trust is not None:
        fig.add_scatter(x=[pd_date(trust.end)], y=[round(trust.pos_trust, 3)], mode="markers",
                        marker=dict(symbol="diamond", size=11, color=SIGNAL_COLORS["trust"]),
                        name=f"LPPLS trust at the last date ({trust.n_resamples} resamples a window)", row=3, col=1)
    if history.runup_flags is not None:
        f = weekly(history.runup_flags)
        fig.add_scatter(x=_dates(f.index), y=f["raw_return"].round(3).tolist(), mode="lines", name="Two-year return",
                        line=dict(color=SIGNAL_COLORS["runup"]), row=4, col=1)
        fig.add_scatter(x=_dates(f.index), y=f["net_return"].round(3).tolist(), mode="lines",
                        name="Two-year return net of the market", line=dict(color=SIGNAL_COLORS["net"]), row=4, col=1)
        _shade(fig, _runs(f["flag"]), SIGNAL_COLORS["runup_flag"], 4)
    else:
        fig.add_scatter(x=_dates(t.index), y=t["runup_raw"].round(3).tolist(), mode="lines+markers",
                        name="Two-year return", line=dict(color=SIGNAL_COLORS["runup"]), row=4, col=1)
    fig.add_hline(y=1.0, line=dict(color="#888", dash="dot"), row=4, col=1)
    fig.update_layout(barmode="relative", hovermode="x unified")
    fig.update_yaxes(title_text="Log price", row=1, col=1)
    fig.update_yaxes(title_text="ADF t-statistic", row=2, col=1)
    fig.update_yaxes(title_text="LPPLS windows", range=[-1.05, 1.05], tickvals=[-1, -0.5, 0, 0.5, 1],
                     tickformat=".0%", row=3, col=1)
    fig.update_yaxes(title_text="Two-year return", tickformat=".0%", row=4, col=1)
    fig.update_xaxes(title_text="Date", row=4, col=1)
    fig.update_layout(height=900)
    return _finish(fig, title or f"{name}: bubble signals over time (shaded: PSY episodes, run-up flags)", source)


def signal_score_chart(histories, title: str = "Market bubble signal (0-100) at each month end",
                       source: str = "analysis.bubbles.signal; 60 or more = high") -> go.Figure:
    """The 0-100 signal of one or more series (``{name: SignalHistory}`` or one history), with
    the "high" threshold."""
    if not isinstance(histories, dict):
        histories = {histories.name: histories}
    fig = go.Figure()
    high = 60.0
    styles = series_styles(list(histories), lines=True)
    for key, h in histories.items():
        t = h.table.dropna(subset=["score"])
        high = h.config.high
        fig.add_scatter(x=_dates(t.index), y=t["score"].round(1).tolist(), mode="lines+markers", name=display_name(key),
                        marker=dict(size=4), line=dict(color=styles[key]["color"], dash=styles[key]["dash"]),
                        hovertemplate="%{y:.0f}")
    fig.add_hline(y=high, line=dict(color="#b2182b", dash="dash"), annotation_text="high", annotation_position="top left")
    fig.update_yaxes(title_text="Signal score (0-100 points)", range=[-3, 103], tickvals=[0, 20, 40, 60, 80, 100])
    fig.update_xaxes(title_text="Month end")
    return _finish(fig, title, source)


def signal_components_chart(history, source: str = "analysis.bubbles.signal") -> go.Figure:
    """The score's points by component (stacked) at each period end: what drives the signal."""
    t = history.table.dropna(subset=["score"])
    labels = {"psy": "PSY margin (BSADF - critical value)", "lppls": "LPPLS confidence", "runup": "Two-year run-up",
              "drawdown": "Closeness to the running peak"}
    colors = {"psy": SIGNAL_COLORS["psy"], "lppls": SIGNAL_COLORS["lppls"], "runup": SIGNAL_COLORS["runup"],
              "drawdown": "#8c6d31"}
    fig = go.Figure()
    for k, lab in labels.items():
        fig.add_bar(x=_dates(t.index), y=t[f"points_{k}"].fillna(0).round(1).tolist(), name=lab, marker_color=colors[k],
                    hovertemplate="%{y:.1f} points")
    fig.add_hline(y=history.config.high, line=dict(color="#b2182b", dash="dash"))
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="Points of the 0-100 score", range=[0, 100.5])
    fig.update_xaxes(title_text="Month end")
    return _finish(fig, f"{display_name(history.name)}: what the signal is made of", source)


def _market_styles(columns) -> dict:
    """Baskets in the series colours; QQQ and SPY black and grey, dashed and dotted."""
    styles = series_styles([c for c in columns if c not in BENCHMARK_DASH], lines=True)
    styles.update({c: dict(color="#000000" if c == "QQQ" else "#777777", dash=d, pattern="")
                   for c, d in BENCHMARK_DASH.items()})
    return styles


def _survivorship_note(fig: go.Figure, note: str | None) -> None:
    """The survivorship caveat above the plot, under the source line (the legend sits below)."""
    if note:
        fig.add_annotation(text=safe_text(note), xref="paper", yref="paper", x=0, y=1.0, yanchor="bottom",
                           yshift=16, xanchor="left", showarrow=False, align="left", font=dict(size=10, color="#8a5a00"))
        fig.update_layout(margin=dict(t=120))


def ai_basket_chart(panel, launch: bool = False, source: str = "cached market prices; equal-weighted baskets") -> go.Figure:
    """The taxonomy's baskets against QQQ and SPY (dashed): from the AI-era start (base 100 each,
    log scale), or, with ``launch``, rebased to 100 at the ChatGPT launch (2022-11-30). The
    survivorship note sits under the chart."""
    from analysis.baskets import LAUNCH_DATE

    frame = panel.launch_normalised() if launch else panel.with_benchmarks()
    styles = _market_styles(frame.columns)
    fig = go.Figure()
    for col in frame.columns:
        s = frame[col].dropna()
        if not launch and col in BENCHMARK_DASH:
            s = 100 * s / s.iloc[0]
        w = weekly(s)
        fig.add_scatter(x=_dates(w.index), y=w.round(2).tolist(), mode="lines", name=display_name(col),
                        line=dict(color=styles[col]["color"], dash=styles[col]["dash"],
                                  width=2 if col in BENCHMARK_DASH else 1.6),
                        hovertemplate="%{y:,.0f}")
    if launch:
        fig.update_yaxes(title_text=f"Level (100 at {LAUNCH_DATE}, log scale)", type="log")
        title = "AI baskets since the ChatGPT launch, against QQQ and SPY"
    else:
        fig.update_yaxes(title_text=f"Level (100 at {panel.start.date()}, log scale)", type="log")
        title = f"AI baskets since {panel.start.year}, against QQQ and SPY"
    fig.update_xaxes(title_text="Date")
    _survivorship_note(fig, panel.notes[0] if panel.notes else None)
    return _finish(fig, title, source)


def underwater_chart(dd, note: str | None = None, source: str = "cached market prices") -> go.Figure:
    """Drawdown from the running peak of each series (an :class:`analysis.basket_stats.Drawdown`
    or a date x series frame of drawdowns), as filled areas below zero."""
    frame = dd.drawdown if hasattr(dd, "drawdown") else dd
    w = weekly(frame, how="min")
    styles = _market_styles(w.columns)
    fill = "tozeroy" if len(w.columns) <= 3 else None  # ten overlapping areas hide each other: lines then
    fig = go.Figure()
    for col in w.columns:
        s = w[col].dropna()
        fig.add_scatter(x=_dates(s.index), y=s.round(4).tolist(), mode="lines", fill=fill, name=display_name(col),
                        line=dict(width=1.4, color=styles[col]["color"], dash=styles[col]["dash"]),
                        hovertemplate="%{y:.0%}")
    fig.update_yaxes(title_text="Drawdown from the running peak (%)", tickformat=".0%")
    fig.update_xaxes(title_text="Date")
    _survivorship_note(fig, note)
    return _finish(fig, "Underwater chart: how far below their peak the baskets are", source)


def rolling_risk_chart(vol, beta, note: str | None = None, source: str = "cached market prices; daily log returns") -> go.Figure:
    """Rolling annualised volatility (top) and rolling beta to SPY (bottom) of each series
    (:class:`analysis.basket_stats.Volatility` and :class:`~analysis.basket_stats.RollingBeta`)."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    cols = list(vol.volatility.columns)
    styles = _market_styles(cols)
    for c in cols:
        v = weekly(vol.volatility[c])
        line = dict(color=styles[c]["color"], dash=styles[c]["dash"])
        fig.add_scatter(x=_dates(v.index), y=v.round(4).tolist(), mode="lines", name=display_name(c), legendgroup=c,
                        line=line, row=1, col=1, hovertemplate="%{y:.0%}")
        if c in beta.beta:
            b = weekly(beta.beta[c])
            fig.add_scatter(x=_dates(b.index), y=b.round(3).tolist(), mode="lines", name=display_name(c), legendgroup=c,
                            showlegend=False, line=line, row=2, col=1, hovertemplate="%{y:.2f}")
    fig.add_hline(y=1.0, line=dict(color="#888", dash="dot"), row=2, col=1)
    fig.update_yaxes(title_text=f"Volatility, {vol.window} days (annualised)", tickformat=".0%", row=1, col=1)
    fig.update_yaxes(title_text=f"Beta to {safe_text(beta.benchmark)}, {beta.window} days", row=2, col=1)
    fig.update_xaxes(title_text="Date", row=2, col=1)
    fig.update_layout(height=700)
    _survivorship_note(fig, note)
    return _finish(fig, f"Rolling {vol.window}-day volatility and beta to {safe_text(beta.benchmark)}", source)


def calibration_chart(cal, source: str = "data/signal_calibration.csv (tools/calibrate_signals.py)") -> go.Figure:
    """Maximum signal score of each calibration stretch (past bubbles red, calm stretches blue),
    with the "high" threshold: does the score separate bubbles from calm markets?"""
    t = cal.table.sort_values(["kind", "max_score"])
    fig = go.Figure()
    for kind, color, label in (("bubble", "#b2182b", "Past bubble (highest score within the stretch)"),
                               ("calm", "#2166ac", "Calm stretch (highest score)")):
        g = t[t["kind"] == kind]
        fig.add_bar(y=[safe_text(x) for x in g["label"]], x=g["max_score"].tolist(), orientation="h", name=label,
                    marker_color=color, hovertemplate="%{x:.0f}")
    thr = float(t["threshold"].iloc[0]) if "threshold" in t and len(t) else 60.0
    fig.add_vline(x=thr, line=dict(color="#444", dash="dash"))
    fig.update_xaxes(title_text="Highest signal score (0-100 points)", range=[0, 100])
    fig.update_yaxes(title_text="Stretch")
    fig.update_layout(hovermode="closest")
    category_rows(fig, [safe_text(x) for x in t["label"]], extra=180)
    return _finish(fig, "Calibration: the signal on past bubbles and calm stretches", source)
