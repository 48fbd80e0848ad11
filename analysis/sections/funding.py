"""The funding section: disclosed funding per year, the LLM share under each definition, and the
largest recent rounds."""

from __future__ import annotations

import pandas as pd

from analysis.data.ledger import Ledger
from analysis.display import pct, usd_bn
from analysis.spending import FundingByDomain, LLMShare


def funding_metrics(ledger: Ledger, yearly: FundingByDomain, shares: list[LLMShare]) -> dict:
    """Headline funding numbers per year: totals and the LLM share under each definition."""
    by_year = yearly.amounts().sum(axis=1)
    return {
        "ledger": {
            "rounds": int(len(ledger.rounds)),
            "companies": int(ledger.rounds["org_name"].nunique()),
            "last_round_date": ledger.last_round_date.date().isoformat(),
            "source": ledger.source,
        },
        "funding_usd_by_year": {str(p): float(v) for p, v in by_year.items()},
        "llm_share_by_year": {
            s.definition: {str(p): (None if pd.isna(v) else round(float(v), 4)) for p, v in s.table["share"].items()}
            for s in shares
        },
    }


def funding_headline(metrics: dict, definition: str) -> str:
    """One paragraph on the latest year, built only from ``metrics``."""
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


def largest_recent_rounds(data: Ledger, as_of: str, n: int = 10, months: int = 12) -> pd.DataFrame:
    """The largest disclosed rounds of the last ``months`` before ``as_of`` (names shown as given;
    the notebook displays them through an escaping formatter)."""
    from analysis.display import label

    end = min(pd.Timestamp(as_of), data.last_round_date)
    r = data.rounds[(data.rounds["announced_on"] > end - pd.DateOffset(months=months))
                    & (data.rounds["announced_on"] <= end)].dropna(subset=["raised_amount_usd"])
    top = r.nlargest(n, "raised_amount_usd")
    return pd.DataFrame({
        "date": top["announced_on"].dt.date.astype(str), "company": top["org_name"],
        "domain": top["effective_domain"].map(label), "round": top["investment_type"],
        "amount (USD bn)": (top["raised_amount_usd"] / 1e9).round(2),
        "post-money (USD bn)": (top["post_money_valuation_usd"] / 1e9).round(1),
        "lead investors": top["lead_investors"].fillna(""), "source": top["source_publisher"],
    }).reset_index(drop=True)
