"""Charts of the money: funding by domain (totals, shares, small multiples), the LLM share and its
model, coverage against published totals, concentration, hyperscaler capex, valuations and
investors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.chartstyle import category_rows, display_name, domain_order, finish, safe_text, series_styles
from analysis.data.taxonomy import Taxonomy
from analysis.spending import FundingByDomain, LLMShare


DEFINITION_COLORS = {"narrow": "#b2182b", "broad": "#ef8a62", "attributed": "#67001f"}


DEFINITION_DASH = {"narrow": "solid", "broad": "dash", "attributed": "dot"}


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


def _stacked_domain_bars(values: pd.DataFrame, shown: list[str], hover: str, period: str) -> go.Figure:
    """One stacked bar per period, a segment per domain in ``shown`` (in the domains' colours and
    patterns), on a category axis of periods."""
    x = _period_labels(values.index)
    styles = series_styles(shown)
    fig = go.Figure()
    for domain in shown:
        st = styles[domain]
        fig.add_bar(x=x, y=values[domain].tolist(), name=display_name(domain), marker_color=st["color"],
                    marker_pattern_shape=st["pattern"], hovertemplate=hover)
    fig.update_layout(barmode="stack", hovermode="closest")
    fig.update_xaxes(title_text=period.capitalize(), type="category")
    return fig


def funding_by_domain_chart(funding: FundingByDomain, taxonomy: Taxonomy | None = None,
                            source: str = "curated funding ledger (data/funding_rounds.csv)", *,
                            data_to=None) -> go.Figure:
    """Stacked bars of disclosed new-money funding per period and AI domain, in USD billions.

    ``data_to``: the date the data stop (the last round counted); a period running past it is
    labelled "to <date>" and shaded. With one domain the title names it.
    """
    wide = funding.amounts() / 1e9
    shown = _domains_shown(wide)
    fig = _stacked_domain_bars(wide.round(3), shown, "%{y:,.2f} bn USD", funding.period)
    fig.update_yaxes(title_text="USD billions", tickformat=",~g")
    return finish(fig, _funding_title("funding", funding.period, shown), source, period=funding.period,
                   data_to=data_to)


def funding_share_chart(funding: FundingByDomain, source: str = "curated funding ledger (data/funding_rounds.csv)",
                        *, data_to=None) -> go.Figure:
    """Each domain's share of the period's disclosed new money (stacked to 100%): a $200bn quarter
    does not flatten the small domains, as it does in the totals."""
    wide = funding.amounts()
    total = wide.sum(axis=1).replace(0.0, np.nan)
    share = wide.div(total, axis=0)
    fig = _stacked_domain_bars(share.round(4), _domains_shown(wide), "%{y:.1%}", funding.period)
    fig.update_yaxes(title_text="Share of the period's funding (%)", tickformat=".0%", range=[0, 1])
    return finish(fig, f"Each domain's share of AI funding per {funding.period} (disclosed new money)", source,
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
    # every panel's axes alike, in one pass (per-panel updates scan the layout each time)
    fig.update_yaxes(title_text="USD m", tickformat=",~g", title_standoff=2)
    fig.update_xaxes(title_text=funding.period.capitalize(), type="date", title_standoff=2, tickformat="%Y",
                     dtick="M24")
    fig.update_annotations(font=dict(size=12))
    fig.update_layout(height=230 * rows + 120, hovermode="closest", bargap=0.1)
    note = f"; the last {funding.period} runs to {pd.Timestamp(data_to).date().isoformat()} (lighter)" \
        if last_partial else ""
    finish(fig, f"Funding per {funding.period}, each domain on its own scale", source + note)
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
    return finish(fig, "Share of AI funding going to LLMs", source, period=period, data_to=data_to)


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
    return finish(fig, f"LLM share per quarter and forecast ({model.definition} definition)", source)


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
    return finish(fig, "How much of each publisher's AI-funding total the ledger covers", source)


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
    return finish(fig, "LLM share: ledger vs estimated full market", source)


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
    return finish(fig, "Concentration of AI funding", source, period="year", data_to=data_to)


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
    return finish(fig, "Two money flows on one scale: hyperscaler capex and LLM venture funding", source)


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
    return finish(fig, "Hyperscaler capex intensity", source)


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
    return finish(fig, title, source, period="year", data_to=data_to)


def multiples_chart(multiples, source: str = "ledger valuations / data/lab_financials.csv revenue") -> go.Figure:
    """Post-money valuation over latest revenue (run-rate or annual) at each priced round."""
    fig = go.Figure()
    if not multiples.empty:
        for org, g in multiples.groupby("org_name"):
            fig.add_scatter(x=g["announced_on"].dt.strftime("%Y-%m-%d").tolist(), y=g["multiple"].round(1).tolist(),
                            mode="lines+markers", name=safe_text(org), hovertemplate="%{y:,.0f}x")
    fig.update_yaxes(title_text="Valuation / revenue (x, log scale)", type="log")
    fig.update_xaxes(title_text="Round date")
    return finish(fig, "Valuation-to-revenue multiples at priced rounds", source)


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
    return finish(fig, "Lead investors by the size of the rounds they led (full round amount)", source)


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
    return finish(fig, f"{name}: share of all disclosed AI funding", source, period="year", data_to=data_to)
