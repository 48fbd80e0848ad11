"""The back-test section: the market bubble signal (the risk score's public pillar) on past
bubbles - the committed calibration table over every episode, and the NASDAQ through the dot-com
bubble when its prices are in the cache."""

from __future__ import annotations

import pandas as pd

from analysis.display import md_text
from analysis.sections import LazyFigures, Section


#: Readers' names of the index tickers the back-test may run on (a chart title never shows "^IXIC").
INDEX_NAMES = {"^IXIC": "NASDAQ Composite", "^GSPC": "S&P 500", "^NDX": "NASDAQ-100"}


def backtest_section(index_ticker: str = "^IXIC", market_ticker: str = "^GSPC", start: str = "1995-01-01",
                     end: str = "2002-12-31", fit_cache=True) -> Section:
    """The calibration on past bubbles (no market data needed) and, with ``index_ticker`` in the
    cache, its signal month by month through ``start``..``end``. ``fit_cache``: the LPPLS fit cache
    as in :func:`analysis.sections.signals.basket_signals` (the past never changes, so a later
    run refits nothing)."""
    from analysis import plots
    from analysis.bubbles import signal as S
    from analysis.bubbles.fitcache import FitCache
    from analysis.data.market import MarketCache
    from analysis.sections.signals import calibration_text

    cal = S.load_calibration()
    figures = {"calibration": lambda: plots.calibration_chart(cal)}
    tables = {"calibration": cal.reader_table()}
    metrics = {"calibration_events": cal.independent_events, "high_threshold": S.HIGH}
    text = calibration_text(cal)
    cache = MarketCache()
    entry = cache.read(index_ticker, "prices")
    if entry.ok:
        s = entry.frame.set_index("date")["close"].sort_index()
        s = s[s.index <= pd.Timestamp(end)]
        m = cache.read(market_ticker, "prices")
        mkt = m.frame.set_index("date")["close"].sort_index() if m.ok else None
        fits = FitCache() if fit_cache is True else (fit_cache or None)
        index_name = INDEX_NAMES.get(index_ticker, index_ticker)
        h = S.history(s, "ME", mkt, start=start, end=end, name=index_name, cache=fits)
        t = h.table.dropna(subset=["score"])
        peak = s[s.index >= pd.Timestamp(start)].idxmax()
        high = t[t["high"].astype(bool)]
        first_high = high.index.min() if len(high) else None
        metrics.update({"index": index_ticker, "peak_date": peak.date().isoformat(),
                        "max_score": round(float(t["score"].max()), 1),
                        "max_score_date": t["score"].idxmax().date().isoformat(),
                        "first_high_date": None if first_high is None else first_high.date().isoformat(),
                        "lead_days": None if first_high is None else int((peak - first_high).days),
                        "months_high": int(len(high))})
        lead = (f"first reached 'high' on {metrics['first_high_date']}, {metrics['lead_days']} days before the "
                f"index's peak on {metrics['peak_date']}" if first_high is not None else
                f"never reached 'high' (the index peaked on {metrics['peak_date']})")
        text += (f" On the {md_text(index_name)} ({md_text(index_ticker)}) month by month, the signal peaked at {metrics['max_score']:.1f} on "
                 f"{metrics['max_score_date']} and {lead}; {metrics['months_high']} month ends scored high.")
        figures["index"] = lambda: plots.signal_panel_chart(h)
    else:
        text += (f" With {md_text(index_ticker)} prices in the market cache (`aibubble import-prices FILE --ticker "
                 f"{md_text(index_ticker)}`) the section also shows the signal month by month through the dot-com "
                 f"bubble.")
    return Section(metrics, text, LazyFigures(figures), tables)
