"""Charts of the risk score (by segment, over time), the stress test, the back-test and the
signal's calibration on past bubbles."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analysis.chartstyle import category_rows, display_name, finish, safe_text, series_styles, weekly


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
    return finish(fig, "Bubble-risk score by segment, where it comes from, and its 90% interval", source)


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
    return finish(fig, "Bubble-risk score history", source)


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
    return finish(fig, "LLM-bust stress test: distribution of outcomes (whiskers 5-95%)", source)


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
    return finish(fig, "Back-test: the market part of the score through a historical bubble", source)


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
    return finish(fig, "Calibration: the signal on past bubbles and calm stretches", source)
