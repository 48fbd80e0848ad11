"""The spending section: the full-market LLM share, the share model and the hyperscaler capex
flow, with the paragraph generated from their numbers."""

from __future__ import annotations

import pandas as pd

from analysis.data.ledger import Ledger
from analysis.display import md_text, pct, pct_down, usd_bn
from analysis.sections import Section
from analysis.sections.funding import funding_metrics


def spending_metrics(outlook, coverages: dict, conc, capex, yearly_llm_share: dict) -> dict:
    """Headline numbers of the spending model (all plain floats, rounded for reading).

    ``outlook`` is :func:`analysis.share_model.share_outlook` under the headline definition: the
    full-market share with its publishers x tail-rules interval, the break test (or why it is not
    run) and the forecast with the gate that decides whether it is headline material.
    """
    any_cov = next(iter(coverages.values()))
    ratios = any_cov.ratios
    last_year = int(ratios["year"].max()) if len(ratios) else None
    conc_last = conc.table.iloc[-1]
    q = capex.quarterly.dropna(subset=["capex_usd"])
    cq = q.iloc[-1]
    return {
        "coverage": {
            "year": last_year, "basis": getattr(any_cov, "basis", ""),
            "by_publisher": {r.publisher: round(float(r.coverage), 4)
                             for r in ratios[ratios["year"] == last_year].itertuples()},
        },
        "share_outlook": outlook.metrics(),
        "concentration": {
            "year": int(conc.table.index[-1]),
            "hhi_companies": round(float(conc_last["hhi_companies"]), 4),
            "top5_company_share": round(float(conc_last["top5_company_share"]), 4),
            "mega_round_share": round(float(conc_last["mega_round_share"]), 4),
            "supplier_led_share": round(float(conc_last["supplier_led_share"]), 4),
            "supplier_participation_share": round(float(conc_last["supplier_participation_share"]), 4),
        },
        "capex": {
            "quarter": str(q.index[-1]),
            "capex_t4q_usd": float(cq["capex_t4q_usd"]),
            "capex_yoy": round(float(cq["capex_yoy"]), 4),
            "capex_to_revenue_t4q": round(float(cq["capex_to_revenue_t4q"]), 4),
            "capex_to_ocf_t4q": round(float(cq["capex_to_ocf_t4q"]), 4),
            "llm_capex_t4q_usd": float(q["llm_capex_usd"].tail(4).sum()),
        },
        "llm_share_by_year": yearly_llm_share,
    }


def spending_headline(m: dict) -> str:
    """Plain-words summary of the spending model, built only from ``spending_metrics`` output."""
    o = m["share_outlook"]
    parts = []
    year = o.get("latest_year")
    fm = o["full_market"].get(str(year)) if year else None
    if fm:
        parts.append(
            f"Scaling the ledger to published market totals, LLMs took an estimated {pct(fm['share_mid'])} of AI "
            f"venture funding in {year} ({o['definition']} definition; {pct(fm['share_low'])} to "
            f"{pct(fm['share_high'])} across publishers and ways of allocating the rounds the ledger misses), "
            f"against {pct(fm['ledger_share'])} of the ledger's large rounds.")
    b = o["break_test"]
    if b["tested"]:
        word = "a break" if b["pvalue"] < 0.05 else "no significant break"
        parts.append(f"The share shows {word} at ChatGPT's launch (Chow F = {b['F']:.2f}, p = {b['pvalue']:.3f}).")
    else:
        reason = md_text(b["reason"]).rstrip(".")
        parts.append(reason if reason.lower().startswith("break test") else f"The break test is not run: {reason}")
        parts[-1] = parts[-1].replace("Break test not run", "The break test at ChatGPT's launch is not run", 1) + "."
    t = o.get("trend")
    if t:
        parts.append(f"The LLM share's trend moves {t['slope']:+.2f} log-odds a year (95% interval "
                     f"{t['ci_low']:+.2f} to {t['ci_high']:+.2f}; sample: {md_text(o['sample'])}).")
    g, fc = o["forecast_gate"], o.get("forecast")
    if fc and g["headline"]:
        parts.append(f"The forecast for {fc['period']} is {pct(fc['mean'])} (90% interval {pct(fc['lower'])} to "
                     f"{pct(fc['upper'])}); in the back-test it beat the last value and its interval covered "
                     f"{pct(g['interval_coverage'])} of outcomes.")
    else:
        parts.append("No forecast is shown as a finding: " + "; ".join(md_text(r).rstrip(".") for r in g["reasons"]) + ".")
    c = m["capex"]
    parts.append(
        f"Hyperscaler capex reached {usd_bn(c['capex_t4q_usd'])} over the four quarters to {c['quarter']} "
        f"({pct(c['capex_to_ocf_t4q'])} of operating cash flow).")
    return " ".join(parts)


def spending_section(data: Ledger, *, as_of: str, start_year: int, definition: str, infra_llm_share: float,
                     capex, market_totals: pd.DataFrame) -> Section:
    """The spending model's part of the briefing. A ledger too thin for the model (an imported
    sample, a short window) gives a section that says so instead of failing the report.

    ``capex`` is :func:`analysis.spending.capex_flows` of the hyperscaler panel (computed once
    by the page, shared with the risk section).
    """
    from analysis import plots, share_model, spending

    start = f"{start_year}-01-01"
    try:
        quarterly = spending.funding_by_domain(data.rounds, "quarter", start=start, end=as_of)
        yearly = spending.funding_by_domain(data.rounds, "year", start=start, end=as_of)
        outlook = share_model.share_outlook(data.rounds, market_totals, definition, infra_llm_share, start=start,
                                            end=as_of)
    except ValueError as exc:
        return Section({}, f"The spending model is not shown: {md_text(exc)}.", {})
    definitions = ("narrow", "broad", "attributed")
    coverages = {d: spending.coverage(data.rounds, market_totals, d, infra_llm_share) for d in definitions}
    from analysis.data.ledger import load_dataset

    conc = spending.concentration(data.rounds, data.investors, definition, relationships=load_dataset("relationships"))
    shares = [spending.llm_share(yearly, d, infra_llm_share) for d in definitions]
    metrics = spending_metrics(outlook, coverages, conc, capex,
                               funding_metrics(data, yearly, shares)["llm_share_by_year"])
    targets = spending.coverage_against_targets(data.rounds, market_totals)
    metrics["coverage_targets"] = {str(r.year): {"against": r.against, "coverage": round(float(r.coverage), 4),
                                                 "target": r.target, "met": r.met}
                                   for r in targets.itertuples() if r.reference_usd}
    figures = {
        "full_market": plots.full_market_share_chart(outlook.full_market),
        "capex": plots.capex_vs_funding_chart(capex, quarterly, spending.llm_share(quarterly, definition, infra_llm_share)),
    }
    tables = {"coverage": coverage_table(coverages[definition], targets)}
    return Section(metrics, spending_headline(metrics), figures, tables, model=outlook)


def coverage_table(cov, targets: pd.DataFrame) -> pd.DataFrame:
    """Each year's coverage against each publisher's total, and the targets, as a reader's table."""
    r = cov.ratios
    wide = r.pivot_table(index="year", columns="publisher", values="coverage", aggfunc="first")
    out = wide.apply(lambda col: col.map(lambda v: "" if pd.isna(v) else f"{v:.0%}"))
    t = targets.set_index("year")
    out["Target"] = [f"{t.at[y, 'target']:.0%} of {t.at[y, 'against']}" if y in t.index else "" for y in out.index]
    out["Reached"] = [("" if y not in t.index or pd.isna(t.at[y, "coverage"]) else
                       f"{pct_down(t.at[y, 'coverage'])} ({'met' if t.at[y, 'met'] else 'not met'})")
                      for y in out.index]
    out.index = out.index.astype(str)  # a year, not a number with a thousands separator
    return out.reset_index().rename(columns={"year": "Year"})
