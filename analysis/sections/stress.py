"""The stress-test section: historical analogues (dot-com, the 2001 telecom capex cut, 2022) and
the reader's own LLM-bust scenario, propagated through the estimated and sourced channels, with
sign checks; the text generated from the outcome tables."""

from __future__ import annotations

import pandas as pd

from analysis.data.ledger import Ledger
from analysis.display import label, md_text
from analysis.sections import Section


def _analogue_labels() -> dict:
    from analysis.stress import ANALOGUES

    return {k: v["label"] for k, v in ANALOGUES.items()}


ANALOGUE_LABELS = _analogue_labels()


def _outcome_metrics(result) -> dict:
    out = {}
    for r in result.outcomes.itertuples():
        out[f"{r.scenario}:{r.channel}:{r.target}"] = {
            "q05": round(float(r.q05), 4), "q50": round(float(r.q50), 4), "q95": round(float(r.q95), 4),
            "sign_check": r.sign_check, "headline": bool(r.headline),
            "n_eff": None if pd.isna(r.n_eff) else round(float(r.n_eff), 1)}
    return out


def outcomes_table(result) -> pd.DataFrame:
    """Outcomes as a reader's table; a wrong-signed outcome carries its explanation."""
    o = result.outcomes
    return pd.DataFrame({
        "Scenario": o["scenario"].map(lambda s: "your scenario" if s == "custom" else ANALOGUE_LABELS.get(s, s)),
        "Channel": o["channel"], "Target": o["target"].map(lambda t: label(str(t))),
        "Median": o["q50"].map(lambda v: f"{v:+.0%}"),
        "5% to 95%": [f"{a:+.0%} to {b:+.0%}" for a, b in zip(o["q05"], o["q95"])],
        "Effective n": o["n_eff"].map(lambda v: "" if pd.isna(v) else f"{v:.0f}"),
        "Sign check": o["sign_check"], "Explanation": o["explanation"].fillna(""),
    })


def stress_headline(metrics: dict) -> str:
    """The largest headline falls per scenario and the flagged outcomes, from ``metrics``."""
    parts = []
    by_scenario: dict = {}
    for key, v in metrics["stress"].items():
        scenario, channel, target = key.split(":", 2)
        by_scenario.setdefault(scenario, []).append((v, channel, target))
    for scenario, rows in by_scenario.items():
        shown = sorted((r for r in rows if r[0]["headline"]), key=lambda r: r[0]["q50"])[:2]
        if not shown:
            continue
        name = "Your scenario" if scenario == "custom" else \
            f"The {ANALOGUE_LABELS.get(scenario, scenario.replace('_', ' '))} analogue"
        falls = "; ".join(f"{md_text(label(t))} ({c}) {v['q50']:+.0%} (5-95%: {v['q05']:+.0%} to {v['q95']:+.0%})"
                          for v, c, t in shown)
        parts.append(f"{name}: {falls}.")
    flagged = [k for k, v in metrics["stress"].items() if v["sign_check"] != "ok"]
    if flagged:
        one = len(flagged) == 1
        parts.append(f"{len(flagged)} outcome{'' if one else 's'} contradict{'s' if one else ''} the channel's "
                     f"expected sign and {'is' if one else 'are'} flagged, not counted (explanations in the table).")
    return " ".join(parts) if parts else "No stress channel could be estimated."


def stress_section(data: Ledger, *, as_of: str, capex, market, llm_valuation_haircut: float,
                   llm_funding_drop: float, capex_cut: float) -> Section:
    """The analogue scenarios and the reader's scenario through the same channels."""
    from analysis import plots, stress
    from analysis.data.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    llm_basket = taxonomy.segment_basket("llm_broad")
    supplier_basket = taxonomy.segment_basket("ai_infrastructure")
    levels = market.levels if market.available else None
    channels = stress.funding_channels(data.rounds, taxonomy.llm_domains("broad"), end=as_of)
    if levels is not None and llm_basket in levels:
        channels += stress.return_channels(levels, llm_basket, market.benchmark, end=as_of)
    if levels is not None and supplier_basket in levels:
        channels += stress.capex_channels(levels, capex.quarterly["capex_usd"], [supplier_basket], market.benchmark,
                                          capex.quarterly["companies_reporting"])
    analogues = stress.analogue_stress(channels)
    custom = stress.stress_test(channels + stress.exposure_channels(stress.load_reference_points()),
                                llm_valuation_haircut, llm_funding_drop, capex_cut)
    combined = pd.concat([analogues.outcomes, custom.outcomes], ignore_index=True)
    result = stress.StressResult(custom.parameters, custom.channels, combined, custom.draws)
    metrics = {"stress": _outcome_metrics(result), "stress_parameters": custom.parameters,
               "stress_notes": list(getattr(analogues, "notes", ()))}
    figures = {"stress": plots.stress_chart(custom) if len(custom.outcomes) else None}
    tables = {"outcomes": outcomes_table(result), "channels": custom.channels,
              "scenarios": getattr(analogues, "scenarios", pd.DataFrame())}
    return Section(metrics, stress_headline(metrics), figures, tables, model=result)
