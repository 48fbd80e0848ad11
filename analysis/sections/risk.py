"""The risk section: bubble-risk scores per segment, the thesis's claims, the LLM-bust stress test
and the listed baskets' bubble status, with the opening paragraph generated from their numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.data.ledger import Ledger
from analysis.display import label, md_text
from analysis.sections import Section

#: LPPLS windows of the status table (6 windows, 500 to 125 trading days).
STATUS_LPPLS_WINDOWS = (500, 425, 350, 275, 200, 125)
#: Segments drawn in the score-history chart.
HISTORY_CHART_SEGMENTS = ("llm_broad", "llm_narrow", "ai_infrastructure", "biology", "robotics",
                          "autonomous_vehicles")


def risk_metrics(scores, thesis_result, stress_result, status: pd.DataFrame | None) -> dict:
    """Scores, claim verdicts, stress outcomes and bubble status as plain values for metrics.json."""
    latest = scores.latest()
    out = {
        "risk_scores": {r.segment: {"score": None if pd.isna(r.score) else round(float(r.score), 1),
                                    "change": None if pd.isna(r.change) else round(float(r.change), 1),
                                    "as_of": pd.Timestamp(r.date).date().isoformat(),
                                    "coverage": round(float(r.coverage), 2)}
                        for r in latest.itertuples()},
        "thesis": thesis_result.metrics(),
        "thesis_sensitivity": thesis_result.sensitivity_metrics(),
    }
    out["risk_summary"] = others_summary(out["risk_scores"])
    if stress_result is not None and len(stress_result.outcomes):
        out["stress"] = {f"{r.channel}:{r.target}": {"q05": round(float(r.q05), 4), "q50": round(float(r.q50), 4),
                                                      "q95": round(float(r.q95), 4)}
                         for r in stress_result.outcomes.itertuples()}
        out["stress_parameters"] = stress_result.parameters
    if status is not None and len(status):
        out["bubble_status"] = {r["basket"]: {k: v for k, v in r.items() if k not in ("basket", "label")}
                                for r in status.to_dict("records")}
    return out


VERDICT_WORDS = {"supported": "supported", "leaning_supported": "leaning supported", "inconclusive": "inconclusive",
                 "leaning_contradicted": "leaning contradicted", "contradicted": "contradicted",
                 "not_testable": "not testable"}


def claims_table(result) -> pd.DataFrame:
    """The claim tests as a reader's table: statement, verdict, evidence (effect and interval in
    words), effective n, p-values raw and Holm-adjusted, and what limits the test."""
    def fmt_p(p):
        return "" if p is None else ("< 0.001" if p < 0.001 else f"{p:.3f}")

    def fmt_n(n_eff):
        return ", ".join(f"{k.replace('_', ' ')} {v:.0f}" for k, v in n_eff.items())

    rows = []
    for c in result.claims:
        rows.append({"Claim": f"{c.number}. {c.statement}", "Verdict": VERDICT_WORDS[c.verdict],
                     "Evidence": c.evidence, "Effective n": fmt_n(c.n_eff), "p (raw)": fmt_p(c.p_raw),
                     "p (Holm)": fmt_p(c.p_adjusted), "Limits": c.limits})
    return pd.DataFrame(rows)


def others_summary(risk_scores: dict) -> dict:
    """How the segments outside the LLM side score: their count, median and the highest one."""
    others = {k: v["score"] for k, v in risk_scores.items() if not k.startswith("llm_") and v["score"] is not None}
    if not others:
        return {"segments": 0, "median": None, "highest": None, "highest_score": None}
    top = max(others, key=others.get)
    return {"segments": len(others), "median": round(float(np.median(list(others.values()))), 1),
            "highest": top, "highest_score": others[top]}


def risk_headline(metrics: dict, definition: str) -> str:
    """The opening paragraph, generated only from ``metrics`` (so text and metrics.json agree)."""
    scores = {k: v for k, v in metrics.get("risk_scores", {}).items() if v["score"] is not None}
    parts = []
    llm_key = "llm_narrow" if definition == "narrow" else "llm_broad"
    if llm_key in scores:
        s = scores[llm_key]
        change = "" if s["change"] is None else f" ({s['change']:+.1f} since the previous quarter end)"
        parts.append(f"The LLM segment's bubble-risk score is {s['score']:.1f} out of 100 as of {s['as_of']}{change}.")
    summary = metrics.get("risk_summary") or others_summary(metrics.get("risk_scores", {}))
    if summary["segments"]:
        parts.append(f"Across the other {summary['segments']} AI segments scored, the median is "
                     f"{summary['median']:.1f}; the highest is {md_text(label(summary['highest']))} at "
                     f"{summary['highest_score']:.1f}.")
    verdicts = metrics.get("thesis", {})
    if verdicts:
        counts = {}
        for v in verdicts.values():
            counts[v["verdict"]] = counts.get(v["verdict"], 0) + 1
        text = ", ".join(f"{n} {verdict.replace('_', ' ')}" for verdict, n in sorted(counts.items()))
        parts.append(f"Of the five claims of the 'LLM bubble, not AI bubble' thesis, the data finds: {text}.")
    status = metrics.get("bubble_status", {})
    if status:
        explosive = sorted(label(k) for k, v in status.items() if v.get("explosive"))
        parts.append(f"{len(explosive)} of {len(status)} listed AI baskets are in an explosive (PSY) episode"
                     + (f": {', '.join(md_text(e) for e in explosive)}." if explosive else "."))
    return " ".join(parts) if parts else "Not enough data for a risk score."


def risk_section(data: Ledger, *, as_of: str, definition: str, lab_financials: pd.DataFrame, capex, market,
                 models: pd.DataFrame | None, risk_weights: dict, llm_valuation_haircut: float,
                 llm_funding_drop: float, capex_cut: float) -> Section:
    """Scores, thesis and stress test, with their figures and metrics.

    ``market`` is a :class:`analysis.baskets.MarketContext`; ``models`` the Epoch AI model table
    (None when absent: claim 3 is then not testable).
    """
    from analysis import plots, risk, stress, thesis
    from analysis.bubbles.sweep import bubble_status
    from analysis.contagion import claim_contagion
    from analysis.data.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    llm = taxonomy.llm_domains("broad")
    llm_basket = taxonomy.segment_basket("llm_broad")
    supplier_basket = taxonomy.segment_basket("ai_infrastructure")
    levels = market.levels if market.available else None
    raw, scores = risk.risk_history(data, as_of, lab_financials, capex, levels, market.benchmark,
                                    weights=risk_weights or None)
    status = bubble_status(levels, STATUS_LPPLS_WINDOWS, {b.id: b.label for b in taxonomy.baskets}) \
        if levels is not None else None
    f_channels = stress.funding_channels(data.rounds, llm, end=as_of)
    r_channels = stress.return_channels(levels, llm_basket, market.benchmark, end=as_of) \
        if levels is not None and llm_basket in levels else []
    c_channels = stress.capex_channels(levels, capex.quarterly["capex_usd"], [supplier_basket], market.benchmark,
                                       capex.quarterly["companies_reporting"]) \
        if levels is not None and supplier_basket in levels else []
    end = min(data.last_round_date, pd.Timestamp(as_of))
    contagion = claim_contagion(data.rounds, levels, market.benchmark,
                                universe=market.universe, end=as_of)
    claims = thesis.run(data.rounds, lab_financials, end, contagion, models=models)
    result = stress.stress_test(f_channels + r_channels + c_channels, llm_valuation_haircut, llm_funding_drop,
                                capex_cut)
    metrics = risk_metrics(scores, claims, result, status)
    figures = {"scores": plots.risk_scores_chart(scores),
               "history": plots.score_history_chart(scores, list(HISTORY_CHART_SEGMENTS)),
               "stress": plots.stress_chart(result) if len(result.outcomes) else None}
    if levels is not None:
        figures["baskets"] = plots.basket_levels_chart(levels)
    tables = {"claims": claims_table(claims), "status": status, "stress": result.outcomes,
              "channels": result.channels, "latest": scores.latest()}
    return Section(metrics, risk_headline(metrics, definition), figures, tables)
