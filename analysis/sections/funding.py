"""The funding section: disclosed funding per year, the LLM share under each definition, and the
largest recent rounds."""

from __future__ import annotations

import pandas as pd

from analysis.data.ledger import Ledger
from analysis.data.vocabulary import REGIONS, STAGES
from analysis.display import pct, usd_bn
from analysis.spending import FundingByDomain, LLMShare, split_names


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
    """The largest disclosed rounds of the last ``months`` before ``as_of``, with their money
    type and the tier of the page each figure was read from (names shown as given; the notebook
    displays them through an escaping formatter)."""
    from analysis.data.ledger import load_dataset
    from analysis.display import label

    end = min(pd.Timestamp(as_of), data.last_round_date)
    r = data.rounds[(data.rounds["announced_on"] > end - pd.DateOffset(months=months))
                    & (data.rounds["announced_on"] <= end)].dropna(subset=["raised_amount_usd"])
    top = r.nlargest(n, "raised_amount_usd")
    tiers = load_dataset("publishers").set_index("publisher")["tier"]
    tier_words = {"primary": "primary", "tier1": "tier 1", "secondary": "secondary (no better page found)"}
    return pd.DataFrame({
        "Date": top["announced_on"].dt.date.astype(str), "Company": top["org_name"],
        "Domain": top["effective_domain"].map(label),
        "Money": top["money_type"].str.replace("_", " ") if "money_type" in top else "",
        "Amount (USD bn)": (top["raised_amount_usd"] / 1e9).round(2),
        "Post-money (USD bn)": (top["post_money_valuation_usd"] / 1e9).round(1),
        "Lead investors": top["lead_investors"].map(lambda text: "; ".join(split_names(text))),
        "Source": top["source_publisher"],
        "Source tier": top["source_publisher"].map(tiers).map(tier_words).fillna("unclassified"),
    }).reset_index(drop=True)


def money_section(data: Ledger, *, as_of: str, start_year: int):
    """Which money the ledger counts: dollars by money type with commitments beside the headline,
    deal counts and median sizes by stage and region, down and flat rounds, and the source tiers
    of the money that matters."""
    from analysis import deals
    from analysis.data.ledger import load_dataset
    from analysis.sections import Section

    rounds = data.rounds[(data.rounds["announced_on"] >= pd.Timestamp(f"{start_year}-01-01"))
                         & (data.rounds["announced_on"] <= pd.Timestamp(as_of))]
    by_type = deals.money_by_type(rounds, "year").table
    stage = deals.deal_table(rounds, "stage", "year").table
    region = deals.deal_table(rounds, "region", "year").table
    down = deals.down_rounds(rounds)
    publishers = load_dataset("publishers")
    tiers = source_tiers(rounds, publishers)
    revenue = revenue_tiers(load_dataset("lab_financials"), publishers)
    metrics = {
        "new_money_usd_by_year": {str(p): float(v) for p, v in by_type["new_money_usd"].items()},
        "commitments_usd_by_year": {str(p): float(v) for p, v in by_type["commitments_usd"].items()},
        "down_or_flat_rounds": int((down["kind"] != "up").sum()) if len(down) else 0,
        "priced_follow_ons": int(len(down)),
        "billion_rounds": tiers,
        "revenue_figures": revenue,
    }
    tables = {"by_type": by_type, "stage": stage, "region": region, "down": down}
    text = (f"Of the ledger's {tiers['rounds']} rounds of $1bn or more, {tiers['primary_or_tier1']} cite a primary "
            f"or tier-1 page ({pct(tiers['share'])}); of its {revenue['figures']} revenue figures, "
            f"{revenue['primary_or_tier1']} do ({pct(revenue['share'])}); the others are marked in the tables. "
            f"{metrics['down_or_flat_rounds']} of {metrics['priced_follow_ons']} follow-on priced rounds were flat or down.")
    return Section(metrics, text, {}, tables)


def source_tiers(rounds: pd.DataFrame, publishers: pd.DataFrame) -> dict:
    """How many rounds of $1bn or more (a split round counted once, at its announcement) cite a
    primary or tier-1 publisher."""
    tier = rounds["source_publisher"].map(publishers.set_index("publisher")["tier"])
    big = rounds.assign(tier=tier).sort_values("announced_on").groupby("round_base").agg(
        total=("raised_amount_usd", lambda s: s.sum(min_count=1)), tier=("tier", "first"))
    big = big[big["total"] >= 1e9]
    good = int(big["tier"].isin(["primary", "tier1"]).sum())
    return {"rounds": int(len(big)), "primary_or_tier1": good,
            "share": round(good / len(big), 4) if len(big) else None}


def revenue_tiers(lab_financials: pd.DataFrame, publishers: pd.DataFrame) -> dict:
    """How many revenue and run-rate figures (the ones multiples and claim 5 use) cite a primary
    or tier-1 publisher."""
    rev = lab_financials[lab_financials["metric"].isin(["annualized_run_rate", "annual_revenue"])]
    tier = rev["source_publisher"].map(publishers.set_index("publisher")["tier"])
    good = int(tier.isin(["primary", "tier1"]).sum())
    return {"figures": int(len(rev)), "primary_or_tier1": good,
            "share": round(good / len(rev), 4) if len(rev) else None}


#: The money-type columns a reader sees, headline first; ``money_by_type`` names them.
MONEY_VIEW_COLUMNS = {
    "new_money_usd": "New money (USD bn)",
    "commitments_usd": "Committed, not reported paid (USD bn)",
    "secondary_usd": "Secondary sales (USD bn)",
    "debt_usd": "Debt (USD bn)",
    "in_kind_compute_usd": "Compute in kind (USD bn)",
}


def year_label(period, data_to) -> str:
    """A year as a reader's column or row label, marking the year the data stop in (``data_to``,
    the newest input, as the charts do) as partial."""
    year = str(period)
    end = pd.Timestamp(data_to)
    return f"{year} (to {end.date().isoformat()})" if year == str(end.year) and end < pd.Timestamp(f"{year}-12-31") \
        else year


def money_type_view(by_type: pd.DataFrame, data_to) -> pd.DataFrame:
    """Dollars per year by money type in USD bn: the headline (new money) first, then the money
    it leaves out, so a reader sees what the totals do not count."""
    cols = [c for c in MONEY_VIEW_COLUMNS if c in by_type]
    out = (by_type[cols] / 1e9).rename(columns=MONEY_VIEW_COLUMNS)
    out.insert(0, "Year", [year_label(p, data_to) for p in by_type.index])
    return out.reset_index(drop=True)


def deal_view(deals: pd.DataFrame, data_to, years: int = 4) -> pd.DataFrame:
    """Rounds and median size by group (stage or region) for the last ``years`` years: one column
    per year reading "deals (median USD m)", the partial year marked."""
    by = deals.index.names[1]
    periods = sorted(deals.index.get_level_values("period").unique())[-years:]
    cells = {}
    for p in periods:
        part = deals.xs(p, level="period")
        cells[year_label(p, data_to)] = {
            g: (f"{int(r.deals)}" if pd.isna(r.median_usd) else f"{int(r.deals)} ({r.median_usd / 1e6:,.0f})")
            for g, r in part.iterrows()}
    out = pd.DataFrame(cells).fillna("0")
    vocabulary = STAGES if by == "stage" else REGIONS
    out = out.loc[sorted(out.index, key=lambda g: (vocabulary.index(g) if g in vocabulary else len(vocabulary),
                                                   str(g)))]
    label = "Stage" if by == "stage" else "Region" if by == "region" else by.capitalize()
    return out.rename_axis(label).reset_index()


def down_round_view(down: pd.DataFrame) -> pd.DataFrame:
    """The flat and down rounds: the company, the two rounds' dates, the earlier post-money, the
    later pre-money and the change."""
    columns = ["Company", "Domain", "Earlier round", "Later round", "Earlier post-money (USD bn)",
               "Later pre-money (USD bn)", "Change", "Kind"]
    if down.empty:  # no priced follow-on: the pairs table has no columns to read
        return pd.DataFrame(columns=columns)
    d = down[down["kind"] != "up"].sort_values("second_date", ascending=False)
    return pd.DataFrame({
        "Company": d["org_name"], "Domain": d["domain"], "Earlier round": d["first_date"],
        "Later round": d["second_date"], "Earlier post-money (USD bn)": d["first_post_usd"] / 1e9,
        "Later pre-money (USD bn)": d["second_value_usd"] / 1e9, "Change": d["value_ratio"] - 1,
        "Kind": d["kind"],
    }).reset_index(drop=True)
