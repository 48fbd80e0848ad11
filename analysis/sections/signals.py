"""Market bubble signals for the pages: the AI-era basket panel, each basket's signal history
(PSY, LPPLS, run-up, drawdown; :mod:`analysis.bubbles.signal`), the trust of one basket at the
latest date, listed series a reader asks for, and the committed calibration - with the metrics
and the sentences generated from them.

Notebook 03, the deep dives and the briefing call these; nothing here computes a statistic of
its own. Without market data every function says so in words (:data:`NO_MARKET_DATA`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from analysis import baskets
from analysis.bubbles import signal as S
from analysis.display import label, md_text
from analysis.sections import LazyFigures, Section

NO_MARKET_DATA = ("**These charts need market data.** The market-data cache is empty, so the basket "
                  "charts, the bubble signals over time and the drawdowns are not shown. Fill the cache "
                  "with `aibubble fetch` (downloads prices from Yahoo Finance) or `aibubble import-prices "
                  "FILE ...` (CSV files with a date and a close column), then run the report again. The "
                  "calibration on past bubbles below needs no market data.")


@dataclass(frozen=True)
class BasketSignals:
    """The AI-era panel and a signal history per basket (``histories``: basket id -> history),
    the trust of ``trust_basket`` at its last date, and per-basket metrics for metrics.json."""

    panel: baskets.BasketPanel
    histories: dict
    trust: object = None
    trust_basket: str | None = None
    drawdowns: pd.DataFrame = field(default_factory=pd.DataFrame)

    def metrics(self) -> dict:
        """Per basket: the current score and components, the current PSY episode (start or None),
        the drawdown (current, maximum, peak and trough dates) and, for one basket, the trust."""
        dd = self.drawdowns.set_index("series") if len(self.drawdowns) else pd.DataFrame()
        out = {}
        for key, h in self.histories.items():
            row = dd.loc[key].to_dict() if key in dd.index else None
            trust = self.trust if key == self.trust_basket else None
            out[key] = {"label": label(key), **S.metrics(h, trust=trust, drawdown=row),
                        "members": list(self.panel.members.get(key, ()))}
        return out

    def status(self) -> pd.DataFrame:
        """One row per basket, display names: the latest score, its components and the episode."""
        rows = []
        for key, m in self.metrics().items():
            rows.append({"Basket": m["label"], "As of": m["as_of"], "Score": m["score"], "High": m["high"],
                         "PSY margin": m["raw"]["psy_margin"], "LPPLS confidence": m["raw"]["lppls_confidence"],
                         "Two-year return": m["raw"]["runup_two_year"], "Drawdown": m["drawdown"]["current"],
                         "PSY episode since": m["episode_start"] or "none"})
        return pd.DataFrame(rows)

    def summary(self) -> pd.DataFrame:
        return self.status()


def basket_signals(market, *, start=baskets.AI_ERA_START, trust_basket: str | None = None,
                   n_resamples: int | None = None, cache=True, freq: str = "ME") -> BasketSignals:
    """Signal histories of every AI-era basket (against SPY for the run-up) and the trust of one.

    Parameters
    ----------
    market : MarketContext
        From :func:`analysis.baskets.market_context`; must have data (``market.available``).
    start : date-like
        First date of the baskets (default 2019-01-01).
    trust_basket : str, optional
        Basket whose LPPLS trust is computed at its last date (about 5 s).
    n_resamples : int, optional
        Trust resamples per window (default :data:`analysis.bubbles.trust.DEFAULT_RESAMPLES`).
    cache : bool or FitCache
        ``True``: the LPPLS fit cache in the market-data cache folder (later runs refit only new
        month ends); ``False``: none.
    freq : str
        Period ends of the histories (``"ME"`` month ends; ``"QE"`` for a cheaper score history).
    """
    from analysis.bubbles.fitcache import FitCache
    from analysis.bubbles.trust import DEFAULT_RESAMPLES, trust

    fit_cache = FitCache() if cache is True else (cache or None)
    panel = market.panel(start)
    spy = panel.benchmarks["SPY"] if "SPY" in panel.benchmarks else market.benchmark
    histories = {key: S.history(panel.levels[key].dropna(), freq, spy, name=key, cache=fit_cache)
                 for key in panel.levels.columns if panel.levels[key].notna().sum() > 0}
    tr = None
    if trust_basket and trust_basket in panel.levels:
        tr = trust(panel.levels[trust_basket].dropna(), n_resamples=n_resamples or DEFAULT_RESAMPLES, cache=fit_cache)
    return BasketSignals(panel, histories, tr, trust_basket, panel.drawdown().table)


def series_signals(universe, tickers, market_series: pd.Series | None, *, start=baskets.AI_ERA_START,
                   cache=True) -> dict:
    """Signal histories of listed series a reader names (tickers of the cache), each from its own
    listing (``start_date`` cuts applied) with month ends from ``start``. Tickers without prices
    are skipped."""
    from analysis.bubbles.fitcache import FitCache

    fit_cache = FitCache() if cache is True else (cache or None)
    prices = baskets.apply_start_dates(universe.prices, universe.tickers)
    have = set(prices["ticker"].astype(str).unique())
    out = {}
    for t in tickers:
        if t not in have:
            continue
        s = prices.loc[prices["ticker"].astype(str) == t].set_index("date")["close"].sort_index().rename(t)
        if s[s.index >= pd.Timestamp(start)].empty or len(s) < 100:
            continue
        out[t] = S.history(s, "ME", market_series, start=start, name=t, cache=fit_cache)
    return out


def calibration_text(cal: S.Calibration) -> str:
    """Sentences on the committed calibration, generated from its table (no number typed in)."""
    t = cal.table
    b = t[t["kind"] == "bubble"]
    calm = t[t["kind"] == "calm"]
    det = b["detected"].astype(bool)
    events = b.groupby("event")["detected"].apply(lambda v: bool(v.astype(bool).any()))
    leads = b.loc[det, "lead_days"]
    loeo = cal.loeo_summary()
    lb = loeo[loeo["kind"] == "bubble"]
    lc = loeo[loeo["kind"] == "calm"]
    thr = float(t["threshold"].iloc[0])
    missed = ", ".join(md_text(x) for x in b.loc[~det, "label"]) or "none"
    return (
        f"The signal was run on {len(b)} series of past bubbles and {len(calm)} calm stretches. The bubbles are "
        f"**{cal.independent_events} independent events** (the NASDAQ, the NASDAQ-100 and the dot-com stocks are one). "
        f"At the fixed threshold of {thr:.0f} ('high'), {int(events.sum())} of {len(events)} events and "
        f"{int(det.sum())} of {len(b)} series were flagged within the 24 months before their peak "
        f"(median lead {leads.median():.0f} days; missed: {missed}); "
        f"{calm['calm_share_high'].mean():.0%} of calm months were flagged on average "
        f"(worst stretch {calm['calm_share_high'].max():.0%}). "
        f"Leaving one event out at a time and choosing the threshold on the rest (grid 30-90), the held-out "
        f"event was caught {int((lb['detected'] > 0).sum())} times of {len(lb)} (thresholds "
        f"{lb['threshold'].min():.0f}-{lb['threshold'].max():.0f}); leaving one calm stretch out at a time, "
        f"{lc['calm_share_high'].mean():.0%} of its months were flagged on average. With five events this is "
        f"a plausibility check, not a measured hit rate.")


def signals_section(market, *, trust_basket: str | None = None, cache=True, freq: str = "ME",
                    computed: BasketSignals | None = None) -> Section:
    """Everything the pages show of the market signals, as a :class:`Section`.

    ``metrics``: ``{"available", "baskets": {id: ...}, "calibration": {...}}`` (see
    :meth:`BasketSignals.metrics`); ``text``: generated from those; ``figures``: the AI-era basket
    charts, the score history and one signal panel per basket; ``tables``: status, drawdowns,
    calibration. Without market data only the calibration is filled and the text says how to
    get market data. ``computed``: this market's :func:`basket_signals` with the same
    arguments, when already computed (the briefing computes it in a second process).
    """
    from analysis import plots

    cal = S.load_calibration()
    metrics = {"available": bool(market.available),
               "calibration": {"independent_events": cal.independent_events, "high_threshold": S.HIGH,
                               "source": cal.source}}
    recipes = {"calibration": lambda: plots.calibration_chart(cal)}
    tables = {"calibration": cal.reader_table(), "calibration_loeo": cal.loeo_summary()}
    if not market.available:
        return Section(metrics, NO_MARKET_DATA + "\n\n" + calibration_text(cal), LazyFigures(recipes), tables)
    sig = computed if computed is not None else \
        basket_signals(market, trust_basket=trust_basket, cache=cache, freq=freq)
    metrics["baskets"] = sig.metrics()
    panel = sig.panel
    recipes.update({
        "baskets": lambda: plots.ai_basket_chart(panel),
        "baskets_launch": lambda: plots.ai_basket_chart(panel, launch=True),
        "underwater": lambda: plots.underwater_chart(panel.drawdown(), baskets.SURVIVORSHIP_NOTE),
        "rolling": lambda: plots.rolling_risk_chart(panel.volatility(), panel.beta(), baskets.SURVIVORSHIP_NOTE),
        "scores": lambda: plots.signal_score_chart(sig.histories)})
    for key, h in sig.histories.items():
        recipes[f"signal:{key}"] = (lambda h=h, key=key:
                                    plots.signal_panel_chart(h, sig.trust if key == trust_basket else None))
    tables.update({"status": sig.status(), "drawdowns": sig.drawdowns})
    return Section(metrics, signals_text(metrics) + "\n\n" + calibration_text(cal), LazyFigures(recipes), tables,
                   model=sig)


def signal_sentence(m: dict) -> str:
    """One series' current signal in words, from its :func:`analysis.bubbles.signal.metrics`."""
    score = "n/a (too little history)" if m["score"] is None else f"{m['score']:.0f} of 100"
    level = "high" if m["high"] else "not high"
    dd = m["drawdown"]["current"]
    return (f"As of {m['as_of']} the signal is {score} ({level}; 60 or more is high). PSY explosive episode: "
            f"{'since ' + m['episode_start'] if m['episode_start'] else 'none'}; LPPLS confidence "
            f"{'n/a' if m['raw']['lppls_confidence'] is None else format(m['raw']['lppls_confidence'], '.0%')}; "
            f"two-year return {'n/a' if m['raw']['runup_two_year'] is None else format(m['raw']['runup_two_year'], '.0%')}; "
            f"{'n/a' if dd is None else format(-dd, '.0%')} below the running peak.")


def signals_text(metrics: dict) -> str:
    """The opening sentences of the market-signal part, generated from ``metrics``."""
    rows = metrics.get("baskets", {})
    scored = {k: v for k, v in rows.items() if v["score"] is not None}
    if not scored:
        return "No basket has enough price history for a signal score yet."
    high = sorted(v["label"] for v in scored.values() if v["high"])
    top = max(scored, key=lambda k: scored[k]["score"])
    episodes = sorted(v["label"] for v in scored.values() if v["episode_start"])
    as_of = max(v["as_of"] for v in scored.values())
    parts = [f"As of {as_of}, {len(high)} of {len(scored)} AI baskets have a high market bubble signal (60 or more)"
             + (f": {', '.join(md_text(h) for h in high)}." if high else "."),
             f"The highest is {md_text(scored[top]['label'])} at {scored[top]['score']:.0f}."]
    parts.append(f"{len(episodes)} are in a PSY explosive episode now"
                 + (f" ({', '.join(md_text(e) for e in episodes)})." if episodes else "."))
    parts.append(baskets.SURVIVORSHIP_NOTE)
    return " ".join(parts)


__all__ = ["NO_MARKET_DATA", "BasketSignals", "basket_signals", "series_signals", "calibration_text",
           "signals_section", "signals_text", "signal_sentence"]
