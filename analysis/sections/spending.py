"""The spending section: the full-market LLM share, the share model and the hyperscaler capex
flow, with the paragraph generated from their numbers."""

from __future__ import annotations

import pandas as pd

from analysis.data.ledger import Ledger
from analysis.display import md_text, pct, usd_bn
from analysis.sections import Section
from analysis.sections.funding import funding_metrics


def spending_metrics(model, coverages: dict, conc, capex, yearly_llm_share: dict) -> dict:
    """Headline numbers of the spending model (all plain floats, rounded for reading)."""
    latest_cov = {}
    for definition, cov in coverages.items():
        row = cov.latest()
        latest_cov[definition] = {"year": int(row["year"]), "share_mid": round(float(row["share_mid"]), 4),
                                  "share_low": round(float(row["share_low"]), 4),
                                  "share_high": round(float(row["share_high"]), 4),
                                  "ledger_share": round(float(row["ledger_share"]), 4)}
    any_cov = next(iter(coverages.values()))
    ratios = any_cov.ratios
    last_year = int(ratios["year"].max()) if len(ratios) else None
    fc = model.forecast
    conc_last = conc.table.iloc[-1]
    q = capex.quarterly.dropna(subset=["capex_usd"])
    cq = q.iloc[-1]
    return {
        "coverage": {
            "year": last_year,
            "by_publisher": {r.publisher: round(float(r.coverage), 4) for r in ratios[ratios["year"] == last_year].itertuples()},
        },
        "full_market_llm_share": latest_cov,
        "share_model": {
            "definition": model.definition,
            "break_pvalue": round(model.break_result.pvalue, 4),
            "break_F": round(model.break_result.stat, 3),
            "slope_logodds_per_year": round(float(model.trend["slope"]), 3),
            "forecast_period": str(fc.index[-1]),
            "forecast_mean": round(float(fc["mean"].iloc[-1]), 4),
            "forecast_lower": round(float(fc["lower"].iloc[-1]), 4),
            "forecast_upper": round(float(fc["upper"].iloc[-1]), 4),
            "backtest_mae_model": round(float(model.backtest_errors.get("model_mae", float("nan"))), 4),
            "backtest_mae_naive": round(float(model.backtest_errors.get("naive_mae", float("nan"))), 4),
        },
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
    sm = m["share_model"]
    fm = m["full_market_llm_share"].get(sm["definition"])
    parts = []
    if fm:
        parts.append(
            f"Scaling the ledger to published market totals, LLMs took an estimated {pct(fm['share_mid'])} of AI "
            f"venture funding in {fm['year']} ({sm['definition']} definition; range {pct(fm['share_low'])} to "
            f"{pct(fm['share_high'])} across publishers), against {pct(fm['ledger_share'])} of the ledger's large rounds.")
    verdict = "a break" if sm["break_pvalue"] < 0.05 else "no significant break"
    parts.append(f"The share shows {verdict} at ChatGPT's launch (Chow F = {sm['break_F']:.2f}, p = {sm['break_pvalue']:.3f}).")
    parts.append(
        f"The model's forecast for {sm['forecast_period']} is {pct(sm['forecast_mean'])} "
        f"(90% interval {pct(sm['forecast_lower'])} to {pct(sm['forecast_upper'])}); in the 2025+ hold-out its mean "
        f"absolute error was {sm['backtest_mae_model']:.2f} against {sm['backtest_mae_naive']:.2f} for the last value.")
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
    from analysis import plots, spending

    start = f"{start_year}-01-01"
    try:
        quarterly = spending.funding_by_domain(data.rounds, "quarter", start=start, end=as_of)
        yearly = spending.funding_by_domain(data.rounds, "year", start=start, end=as_of)
        model = spending.share_model(quarterly, definition, infra_llm_share)
    except ValueError as exc:
        return Section({}, f"The spending model is not shown: {md_text(exc)}.", {})
    definitions = ("narrow", "broad", "attributed")
    coverages = {d: spending.coverage(data.rounds, market_totals, d, infra_llm_share) for d in definitions}
    conc = spending.concentration(data.rounds, data.investors, definition)
    shares = [spending.llm_share(yearly, d, infra_llm_share) for d in definitions]
    metrics = spending_metrics(model, coverages, conc, capex,
                               funding_metrics(data, yearly, shares)["llm_share_by_year"])
    figures = {
        "full_market": plots.full_market_share_chart([coverages[definition]]),
        "share_model": plots.share_model_chart(model),
        "capex": plots.capex_vs_funding_chart(capex, quarterly, spending.llm_share(quarterly, definition, infra_llm_share)),
    }
    return Section(metrics, spending_headline(metrics), figures, model=model)
