"""The back-test section: the market part of the risk score through a historical bubble, from
index prices imported into the cache (e.g. ``aibubble import-prices IXIC.csv --ticker ^IXIC``)."""

from __future__ import annotations

import pandas as pd

from analysis.display import md_text
from analysis.sections import Section

#: A quarter scoring this much or more is a warning; one not followed by a FALL_SIZE fall within
#: FALL_YEARS is a false alarm.
HIGH_SCORE = 50
FALL_SIZE = 0.30
FALL_YEARS = 2


def backtest_section(index_ticker: str = "^IXIC", market_ticker: str = "^GSPC", start: str = "1995-01-01",
                     end: str = "2002-12-31") -> Section:
    """The market part of the score through ``start``..``end`` on ``index_ticker`` (with
    ``market_ticker`` for the run-up rule). Missing data gives a notice, not a failure."""
    from analysis import plots, risk
    from analysis.data.market import MarketCache

    cache = MarketCache()
    entries = {t: cache.read(t, "prices") for t in (index_ticker, market_ticker)}
    if not entries[index_ticker].ok:
        return Section({}, f"The back-test needs {md_text(index_ticker)} prices in the market cache "
                           f"(import them with `aibubble import-prices FILE --ticker {md_text(index_ticker)}`).", {})
    s = entries[index_ticker].frame.set_index("date")["close"].sort_index()
    m = entries[market_ticker].frame.set_index("date")["close"].sort_index() if entries[market_ticker].ok else None
    s = s[(s.index >= pd.Timestamp(start) - pd.DateOffset(years=3)) & (s.index <= pd.Timestamp(end))]
    dates = pd.date_range(start, end, freq="QE")
    raw = risk.public_indicators(pd.DataFrame({index_ticker: s}), m, dates, lppls_last=None)
    # The market part alone: its indicators renormalised among themselves (no coverage floor).
    scores = risk.score_history(raw, min_coverage=0.0).scores.dropna(subset=["score"])
    if scores.empty:
        return Section({}, "Not enough index history for the back-test.", {})
    peak_date = s.idxmax()
    top = scores.loc[scores["score"].idxmax()]
    high = scores[scores["score"] >= HIGH_SCORE]
    false_alarms = []
    for r in high.itertuples():
        future = s[(s.index > r.date) & (s.index <= r.date + pd.DateOffset(years=FALL_YEARS))]
        level = s[s.index <= r.date].iloc[-1]
        if len(future) and future.min() > (1 - FALL_SIZE) * level:
            false_alarms.append(r.date.date().isoformat())
    metrics = {"index": index_ticker, "peak_date": peak_date.date().isoformat(),
               "max_score": round(float(top["score"]), 1), "max_score_date": top["date"].date().isoformat(),
               "quarters_scoring_50_plus": int(len(high)), "false_alarms": false_alarms}
    text = (f"On {md_text(index_ticker)} the market part of the score peaked at {metrics['max_score']:.1f} on "
            f"{metrics['max_score_date']}; the index peaked on {metrics['peak_date']}. "
            f"{len(high)} quarter ends scored {HIGH_SCORE} or more; {len(false_alarms)} of them were not followed by a "
            f"{FALL_SIZE:.0%} fall within two years (false alarms"
            f"{': ' + ', '.join(false_alarms) if false_alarms else ''}).")
    return Section(metrics, text, {"chart": plots.backtest_chart(s[s.index >= pd.Timestamp(start)], scores)})
