"""Assemble the briefing's headline metrics and the sentences generated from them.

Every number in generated text is formatted from the metrics dict that goes to ``metrics.json``,
so the text and the file cannot disagree.
"""

from __future__ import annotations

import html

import pandas as pd

from analysis.data.ledger import Ledger
from analysis.spending import FundingByDomain, LLMShare


def md_text(value: object) -> str:
    """Escape a data-derived string for a Markdown/HTML display (company names, investors)."""
    escaped = html.escape(str(value), quote=True)
    for ch in "\\`*_[]#|":
        escaped = escaped.replace(ch, "\\" + ch)
    return escaped


def funding_metrics(ledger: Ledger, yearly: FundingByDomain, shares: list[LLMShare]) -> dict:
    """Headline funding numbers per year: totals and the LLM share under each definition."""
    by_year = yearly.amounts().sum(axis=1)
    metrics = {
        "ledger": {
            "rounds": int(len(ledger.rounds)),
            "companies": int(ledger.rounds["org_name"].nunique()),
            "last_round_date": ledger.rounds["announced_on"].max().date().isoformat(),
            "source": ledger.source,
        },
        "funding_usd_by_year": {str(p): float(v) for p, v in by_year.items()},
        "llm_share_by_year": {
            s.definition: {str(p): (None if pd.isna(v) else round(float(v), 4)) for p, v in s.table["share"].items()}
            for s in shares
        },
    }
    return metrics


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def usd_bn(value: float | None) -> str:
    return "n/a" if value is None else f"${value / 1e9:,.1f} bn"


def funding_headline(metrics: dict, definition: str) -> str:
    """One paragraph on the latest full year, built only from ``metrics``."""
    years = sorted(metrics["funding_usd_by_year"])
    if not years:
        return "The ledger has no funding in the selected period."
    latest = years[-1]
    share = metrics["llm_share_by_year"][definition].get(latest)
    text = (f"In {latest} the ledger records {usd_bn(metrics['funding_usd_by_year'][latest])} of disclosed AI "
            f"funding; {pct(share)} of it went to LLMs ({definition} definition).")
    if len(years) > 1:
        prev = years[-2]
        prev_share = metrics["llm_share_by_year"][definition].get(prev)
        text += f" In {prev} the share was {pct(prev_share)} of {usd_bn(metrics['funding_usd_by_year'][prev])}."
    return text
