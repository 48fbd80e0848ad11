"""Tables for readers: every table the briefing, the deep dives and the notebooks show goes
through :func:`reader_table` (or :func:`reader_frame` for the formatted strings).

The layer turns an analysis frame into what a reader expects: headers in words with their units
("Amount (USD bn)"), US dollars in billions with one decimal, dates as dates (never
"2026-01-14 00:00:00"), shares as percentages, yes/no for flags, at most the decimals a number
deserves, and display names instead of identifiers (taxonomy ids, the ledger's vocabulary ids).
Text cells are HTML-escaped by the Styler.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from analysis.display import words

#: Reader's headers of the columns the analyses use. ``*_usd`` columns not listed read
#: "<words> (USD bn)".
COLUMN_NAMES = {
    "announced_on": "Date", "org_name": "Company", "effective_domain": "Domain", "domain": "Domain",
    "investment_type": "Round type", "raised_amount_usd": "Amount (USD bn)",
    "post_money_valuation_usd": "Post-money (USD bn)", "lead_investors": "Lead investors",
    "other_investors": "Other investors", "confidence": "Confidence", "source_publisher": "Source",
    "money_type": "Money", "ticker": "Ticker", "name": "Name", "segment": "Segment", "priced": "Prices cached",
    "total_return": "Total return", "cagr": "Annual return (CAGR)", "level": "Level (first day = 100)",
    "start": "Start", "end": "End", "current": "Below the peak now", "max_drawdown": "Largest drawdown",
    "peak_date": "Peak", "trough_date": "Trough", "series": "Series", "amount_usd": "Amount (USD bn)",
    "rounds": "Rounds", "mega_rounds": "Rounds of $1bn+", "share": "Share", "confirmed_share": "Confirmed by a primary page",
    "members": "Members", "days": "Trading days", "kind": "Kind", "label": "Stretch", "threshold": "Threshold",
    "median_lead_days": "Median lead (days)", "calm_share_high": "Calm months flagged", "detected": "Detected",
    "score": "Score (0-100)", "change_vs_default": "Change vs default", "indicator": "Indicator",
    "pillar": "Pillar", "weight": "Weight", "rounds_led": "Rounds led", "investor_type": "Investor type",
    "n_rounds": "Rounds (12 months)", "last_round": "Latest round", "undisclosed": "Amount not disclosed",
    "total_usd_bn": "Total (USD bn)", "first_round": "First round", "companies": "Companies",
    "default_weight": "Default weight", "anchors": "Anchors", "sources": "Sources",
}
#: Columns holding fractions shown as percentages.
PCT_COLUMNS = {"share", "total_return", "cagr", "current", "max_drawdown", "confirmed_share", "calm_share_high",
               "coverage", "capex_yoy", "excess_return", "relative_return"}
_SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
_USD = re.compile(r"(^|_)usd$")


def header(column: object) -> str:
    """A column's header in words, with its unit."""
    c = str(column)
    if c in COLUMN_NAMES:
        return COLUMN_NAMES[c]
    if _USD.search(c) and "_" in c:
        return words(_USD.sub("", c)).capitalize() + " (USD bn)"
    if _SNAKE.match(c) and "_" in c:
        text = words(c)
        return text[:1].upper() + text[1:]
    return c


def usd_bn_cell(value) -> str:
    """US dollars in billions with one decimal; "<0.1" for a positive amount under $50m."""
    if value is None or pd.isna(value):
        return ""
    bn = float(value) / 1e9
    return "<0.1" if 0 < bn < 0.05 else f"{bn:,.1f}"


def date_cell(value) -> str:
    if value is None or pd.isna(value):
        return ""
    ts = pd.Timestamp(value)
    return ts.date().isoformat() if ts == ts.normalize() else ts.strftime("%Y-%m-%d %H:%M")


def text_cell(value) -> str:
    """A text value: identifiers (taxonomy or vocabulary ids) in words, everything else as given."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp):
        return date_cell(value)
    s = str(value)
    return words(s) if _SNAKE.match(s) else s


def number_cell(value, decimals: int) -> str:
    if value is None or pd.isna(value):
        return ""
    v = float(value)
    if decimals == 0 or (v.is_integer() and abs(v) >= 1000):
        return f"{v:,.0f}"
    return f"{v:,.{decimals}f}"


def _formatter(column: str, series: pd.Series, decimals: int, pct_decimals: int, overrides: dict):
    if column in overrides:
        fmt = overrides[column]
        return (lambda v: "" if v is None or (not isinstance(v, str) and pd.isna(v)) else fmt.format(v)) \
            if isinstance(fmt, str) else fmt
    if pd.api.types.is_bool_dtype(series):
        return lambda v: "yes" if v else "no"
    if pd.api.types.is_datetime64_any_dtype(series):
        return date_cell
    if _USD.search(column):
        return usd_bn_cell
    if column in PCT_COLUMNS or column.endswith("_share") or column.endswith("_pct"):
        return lambda v: "" if v is None or pd.isna(v) else f"{float(v):.{pct_decimals}%}"
    if pd.api.types.is_integer_dtype(series):
        return lambda v: "" if pd.isna(v) else f"{int(v):,}"
    if pd.api.types.is_float_dtype(series):
        whole = series.dropna()
        money = "USD bn" in column or "$bn" in column
        d = decimals if money else 0 if len(whole) and (whole == whole.round()).all() else decimals
        return lambda v: number_cell(v, d)
    return text_cell


def reader_frame(frame: pd.DataFrame, formats: dict | None = None, *, decimals: int = 1, pct_decimals: int = 0,
                 index: bool = False, rename: dict | None = None, na_rep: str = "") -> pd.DataFrame:
    """``frame`` as strings for a reader (see the module docstring).

    Parameters
    ----------
    formats : dict, optional
        Column -> format string (``"{:.2f}"``) or callable, overriding the inferred format.
    decimals, pct_decimals : int
        Decimals of plain numbers (1) and of percentages (0).
    index : bool
        Keep the index as the first column (its values go through the same rules).
    rename : dict, optional
        Column -> header, overriding :func:`header`.
    na_rep : str
        What a missing value shows ("" by default; "n/a" where a reader expects a value).
    """
    df = frame.reset_index() if index else frame.copy()
    overrides = formats or {}
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        name = str(col)
        f = _formatter(name, df[col], decimals, pct_decimals, overrides)
        out[(rename or {}).get(name) or header(name)] = [
            na_rep if not isinstance(v, str) and pd.api.types.is_scalar(v) and pd.isna(v) else f(v) for v in df[col]]
    return out.reset_index(drop=True)


def reader_table(frame: pd.DataFrame, formats: dict | None = None, *, caption: str | None = None, decimals: int = 1,
                 pct_decimals: int = 0, index: bool = False, rename: dict | None = None, wrap: bool = False,
                 na_rep: str = ""):
    """A pandas Styler of :func:`reader_frame` with HTML-escaped cells, no index, an optional
    caption; ``wrap`` left-aligns long text columns."""
    shown = reader_frame(frame, formats, decimals=decimals, pct_decimals=pct_decimals, index=index, rename=rename,
                         na_rep=na_rep)
    styler = shown.style.format(escape="html").hide(axis="index")
    dates = [c for c in shown.columns if len(shown) and shown[c].str.fullmatch(r"\d{4}-\d{2}-\d{2}|").all()
             and shown[c].ne("").any()]
    if dates:
        styler = styler.set_properties(subset=dates, **{"white-space": "nowrap"})
    if wrap:
        styler = styler.set_properties(**{"text-align": "left", "white-space": "normal"})
    if caption:
        styler = styler.set_caption(caption)
    return styler


def metric_name(path: str) -> str:
    """A metrics.json path in words ("risk_scores.llm_broad.score" -> "Bubble-risk score: LLM,
    broad (models and LLM apps)")."""
    parts = path.split(".")
    if parts[0] == "risk_scores" and len(parts) == 3 and parts[2] == "score":
        return f"Bubble-risk score: {words(parts[1])}"
    if parts[:2] == ["spending", "full_market_llm_share"] and len(parts) == 4:
        return f"Full-market LLM share, {parts[2]} ({words(parts[3])})"
    return " / ".join(words(p) for p in parts)


def changes_view(changes):
    """A :class:`analysis.reporting.history.MetricChanges` whose table reads in words: metric
    names and formatted values (USD in billions, shares as percentages)."""
    from dataclasses import replace

    t = changes.table
    if t is None or not len(t):
        return changes
    rows = [{"Metric": metric_name(r.metric), "Previous": _metric_value(r.metric, r.previous),
             "Now": _metric_value(r.metric, r.current), "Change": _metric_value(r.metric, r.change, signed=True)}
            for r in t.itertuples(index=False)]
    return replace(changes, table=pd.DataFrame(rows, columns=["Metric", "Previous", "Now", "Change"]))


def _metric_value(path: str, v, signed: bool = False) -> str:
    if v is None or pd.isna(v):
        return ""
    if "usd" in path:
        return ("+" if signed and v > 0 else "") + usd_bn_cell(v) if v >= 0 or not signed else \
            "-" + usd_bn_cell(-v)
    sign = "+" if signed else ""
    if "share" in path or "return" in path or "drawdown" in path:
        return f"{v:{sign}.1%}"
    return f"{v:{sign},.1f}"
