"""The thesis section: the five claims of "an LLM bubble, not an AI bubble", each an effect with
its interval, effective n, p-values (raw and Holm-adjusted) and a verdict; the contagion tables
behind claim 4."""

from __future__ import annotations

import pandas as pd

from analysis.data.ledger import Ledger
from analysis.display import md_text
from analysis.sections import Section

VERDICT_WORDS = {"supported": "supported", "leaning_supported": "leaning supported", "inconclusive": "inconclusive",
                 "leaning_contradicted": "leaning contradicted", "contradicted": "contradicted",
                 "not_testable": "not testable"}


def p_text(p) -> str:
    """A p-value for a reader: three decimals, "< 0.001" below that (never "0.000")."""
    return "" if p is None else ("< 0.001" if p < 0.001 else f"{p:.3f}")


def claims_table(result) -> pd.DataFrame:
    """The claim tests as a reader's table: statement, verdict, evidence (effect and interval in
    words), effective n, p-values raw and Holm-adjusted, and what limits the test."""
    fmt_p = p_text

    def fmt_n(n_eff):
        return ", ".join(f"{k.replace('_', ' ')} {v:.0f}" for k, v in n_eff.items())

    rows = []
    for c in result.claims:
        rows.append({"Claim": f"{c.number}. {c.statement}", "Verdict": VERDICT_WORDS[c.verdict],
                     "Evidence": c.evidence, "Effective n": fmt_n(c.n_eff), "p (raw)": fmt_p(c.p_raw),
                     "p (Holm)": fmt_p(c.p_adjusted), "Limits": c.limits})
    return pd.DataFrame(rows)


def sensitivity_table(result) -> pd.DataFrame:
    """Each claim under the narrow LLM definition (unadjusted: a sensitivity analysis)."""
    rows = []
    for definition, claims in result.sensitivity.items():
        for c in claims:
            rows.append({"Definition": definition, "Claim": c.number, "Verdict (unadjusted)": VERDICT_WORDS[c.verdict],
                         "p (raw)": p_text(c.p_raw)})
    return pd.DataFrame(rows)


def thesis_headline(metrics: dict) -> str:
    """One sentence per verdict count, from ``metrics["thesis"]``."""
    counts: dict = {}
    for v in metrics["thesis"].values():
        counts[v["verdict"]] = counts.get(v["verdict"], 0) + 1
    order = [k for k in VERDICT_WORDS if k in counts]
    text = ", ".join(f"{counts[k]} {VERDICT_WORDS[k]}" for k in order)
    return (f"Of the thesis's five claims, tested with Holm's adjustment for testing five: {text}. "
            f"Claim 4: {md_text(metrics['thesis']['4'].get('details', {}).get('text', ''))}").strip()


def thesis_section(data: Ledger, *, as_of: str, lab_financials: pd.DataFrame, market, models) -> Section:
    """The claims (claim 4 from :mod:`analysis.contagion`, on prices when the market context has
    them, else on funding) and their tables."""
    from analysis import thesis
    from analysis.contagion import contagion

    levels = market.levels if market.available else None
    end = min(data.last_round_date, pd.Timestamp(as_of))
    c = contagion(data.rounds, levels, market.benchmark, universe=market.universe, end=as_of)
    result = thesis.run(data.rounds, lab_financials, end, c.claim(), models=models)
    metrics = {"thesis": result.metrics(), "thesis_sensitivity": result.sensitivity_metrics()}
    tables = {"claims": claims_table(result), "sensitivity": sensitivity_table(result),
              "contagion": c.summary()}
    return Section(metrics, thesis_headline(metrics), {}, tables, model=result)
