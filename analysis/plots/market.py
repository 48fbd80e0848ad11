"""Charts of listed markets: basket levels, PSY and LPPLS diagnostics, the bubble signal over time,
the AI-era baskets, drawdowns and rolling risk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.chartstyle import display_name, finish, safe_text, series_styles, weekly


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
    return finish(fig, "Equal-weighted segment baskets", source)


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
    return finish(fig, title, source)


def pd_date(value) -> str:
    return value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else str(value)


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
    return finish(fig, title, source)


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
    return finish(fig, "LPPLS confidence indicator", source)


def tc_distribution_chart(conf, source: str = "analysis.bubbles.lppls qualified fits") -> go.Figure:
    """Histogram of the critical times tc of qualified fits (all end dates), in calendar dates."""
    fits = conf.fits
    q = fits[fits["qualified"]] if "qualified" in fits else fits.iloc[0:0]
    fig = go.Figure()
    if len(q) and "tc_date" in q:
        fig.add_histogram(x=[pd_date(d) for d in q["tc_date"]], name="qualified fits", marker_color="#b2182b")
    fig.update_yaxes(title_text="Number of qualified fits")
    fig.update_xaxes(title_text="Critical time tc (date)")
    return finish(fig, f"Where qualified LPPLS fits put the critical time ({len(q)} fits)", source)


def basket_chart(basket, source: str = "cached market prices (aibubble fetch)") -> go.Figure:
    """One equal-weight basket's level (first day = 100), from a :class:`analysis.baskets.BasketIndex`."""
    fig = go.Figure()
    lvl = weekly(basket.level)
    fig.add_scatter(x=lvl.index.strftime("%Y-%m-%d").tolist(), y=lvl.round(3).tolist(), mode="lines",
                    name=safe_text(basket.name), hovertemplate="%{y:.1f}")
    fig.update_yaxes(title_text="Index level (first day = 100)")
    fig.update_xaxes(title_text="Date")
    return finish(fig, f"Listed exposure: equal-weight basket of {len(basket.members)} companies", source)


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
    return finish(fig, title or f"{name}: bubble signals over time (shaded: PSY episodes, run-up flags)", source)


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
    return finish(fig, title, source)


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
    return finish(fig, f"{display_name(history.name)}: what the signal is made of", source)


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
    return finish(fig, title, source)


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
    return finish(fig, "Underwater chart: how far below their peak the baskets are", source)


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
    return finish(fig, f"Rolling {vol.window}-day volatility and beta to {safe_text(beta.benchmark)}", source)
