"""The answer first: the verdict paragraph, the numbers a portfolio manager looks for first, and
the scorecard (LLM against non-LLM AI on absolute yardsticks), all generated from metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.display import label as display_label
from analysis.display import md_text, usd_bn
from analysis.sections import Section

UNITS = {"valuation_to_revenue": "multiple", "funding_growth": "growth", "market_signal": "score",
         "capex_to_revenue": "share", "llm_share": "share", "ai_share_of_venture": "share",
         "mega_round_share": "share", "supplier_share": "share", "drawdown": "growth", "capex_to_ocf": "share"}
SIDE_WORDS = {"bubble": "reads as a bubble", "froth": "reads as froth, short of a bubble",
              "normal": "reads as normal", "unknown": "has too few yardsticks to read"}
#: How many of the largest private labs the first screen shows.
TOP_LABS = 3
#: What a cell read from listed prices says when the market cache is empty (the bundled render).
NEEDS_MARKET_DATA = "needs market data"


def fmt(yardstick: str, value) -> str:
    """A yardstick value in the reader's units (the formats the text check allows)."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "n/a"
    unit = UNITS.get(yardstick, "share")
    if unit == "multiple":
        return f"{value:.0f}x"
    if unit == "growth":
        return f"{value:+.0%}"
    if unit == "score":
        return f"{value:.0f}"
    return f"{value:.0%}"


def _interval(yardstick: str, interval) -> str:
    if not interval:
        return ""
    return f" (90% interval {fmt(yardstick, interval[0])} to {fmt(yardstick, interval[1])})"


def _phrase(y: str, r: dict, cutoffs: dict) -> str:
    from analysis.scorecard import BY_ID

    name = BY_ID[y].label.lower()
    cut = cutoffs.get(y, {})
    line = cut.get("extreme") if r["band"] == "extreme" else cut.get("elevated")
    iv = f" ({fmt(y, r['interval'][0])} to {fmt(y, r['interval'][1])})" if r["interval"] else ""
    ref = f" vs {fmt(y, line['value'])} for {line['text']}" if line and r["band"] != "normal" else ""
    firm = ", firm" if r["firm"] else ""
    return f"{name} {fmt(y, r['value'])}{iv}: {r['band']}{firm}{ref}"


def verdict_headline(m: dict) -> str:
    """The verdict in a sentence and three bullets (each side's reading with the yardsticks behind
    it; what would change it), built only from the ``verdict`` and ``scorecard`` metrics.
    Intervals are 90%; a band is firm when the whole interval lies in it."""
    from analysis.verdict import LABEL_TEXT

    v, card = m["verdict"], m["scorecard"]
    rows, cutoffs = card["rows"], card["cutoffs"]
    lines = [f"**Verdict: {LABEL_TEXT[v['label']]}** (confidence: {v['confidence']}; intervals are 90%)."]
    for side, group, name in (("llm", "llm_broad", "The LLM side (broad definition)"),
                              ("non_llm", "non_llm", "Non-LLM AI")):
        reading = v["sides"][side]["reading"]
        shown = [(y, rows[y][group]) for y in ("valuation_to_revenue", "funding_growth", "capex_to_revenue",
                                                "market_signal") if group in rows.get(y, {})
                 and rows[y][group]["value"] is not None and rows[y][group]["band"] is not None]
        detail = "; ".join(_phrase(y, r, cutoffs) for y, r in shown)
        lines.append(f"* **{name} {SIDE_WORDS[reading]}**" + (f": {detail}." if detail else "."))
    if v["sides"].get("lowered_by"):
        lines.append("* Confidence lowered: " + ", ".join(v["sides"]["lowered_by"]) + ".")
    changes = []
    for w in v["would_change"][:2]:
        side = "LLMs'" if w["side"] == "llm" else "non-LLM AI's"
        changes.append(f"{side} {w['yardstick'].replace('_', ' ')} {w['change']} {fmt(w['yardstick'], w['threshold'])} "
                       f"(now {fmt(w['yardstick'], w['now'])})")
    if changes:
        lines.append("* **What would change it:** " + "; or ".join(changes) + ".")
    return "\n".join(lines)


def pm_numbers(m: dict) -> pd.DataFrame:
    """The numbers a portfolio manager looks for first, as a reader's table (from metrics only)."""
    rows = []
    ai = m["scorecard"]["rows"].get("ai_share_of_venture", {}).get("all_ai")
    if ai and ai["value"] is not None:
        rows.append({"Measure": "AI's share of all venture money", "Value": fmt("ai_share_of_venture", ai["value"]),
                     "Range / interval": _interval("ai_share_of_venture", ai["interval"]).strip(" ()").replace(
                         "90% interval ", "publishers: "), "As of": ai["note"]})
    for lab in m.get("labs", []):
        rows.append({"Measure": f"{lab['company']}: latest post-money", "Value": usd_bn(lab["post_money_usd"]),
                     "Range / interval": (f"{lab['multiple']:.0f}x revenue public by then" if lab["multiple"] else
                                          "no revenue figure public by then"), "As of": lab["date"]})
    cap = m["scorecard"]["rows"].get("capex_to_ocf", {}).get("hyperscalers")
    if cap and cap["value"] is not None:
        rows.append({"Measure": "Hyperscaler capex / operating cash flow", "Value": fmt("capex_to_ocf", cap["value"]),
                     "Range / interval": f"capex {usd_bn(m.get('capex_t4q_usd'))} over four quarters",
                     "As of": cap["note"]})
    drawdowns = m.get("drawdowns", {})
    from analysis.data.taxonomy import load_taxonomy

    taxonomy = load_taxonomy()
    named = [taxonomy.segment_basket("llm_broad"), taxonomy.segment_basket("ai_infrastructure")]
    for basket in named:
        if basket in drawdowns:
            dd = drawdowns[basket]
            rows.append({"Measure": f"{md_text(display_label(basket))} basket: below its peak",
                         "Value": fmt("drawdown", dd["current"]),
                         "Range / interval": "today's AI names looking back (survivorship)", "As of": dd["as_of"]})
    rest = {k: v for k, v in drawdowns.items() if k not in named and v["current"] is not None}
    if rest:
        vals = sorted(v["current"] for v in rest.values())
        rows.append({"Measure": f"Other {len(rest)} AI baskets: below their peak (median)",
                     "Value": fmt("drawdown", float(np.median(vals))),
                     "Range / interval": f"{fmt('drawdown', vals[0])} to {fmt('drawdown', vals[-1])}",
                     "As of": max(v["as_of"] for v in rest.values())})
    if not m.get("drawdowns"):
        rows.append({"Measure": "Listed AI baskets below their peak", "Value": NEEDS_MARKET_DATA,
                     "Range / interval": "aibubble fetch, or aibubble import-prices FILE ...", "As of": ""})
    return pd.DataFrame(rows, columns=["Measure", "Value", "Range / interval", "As of"])


def scorecard_table(m: dict, groups=("llm_broad", "non_llm")) -> pd.DataFrame:
    """The scorecard as a reader's table: one row per yardstick, LLM against non-LLM AI."""
    from analysis.scorecard import YARDSTICKS

    rows = m["scorecard"]["rows"]
    cutoffs = m["scorecard"]["cutoffs"]
    out = []
    for y in YARDSTICKS:
        cells = {}
        no_prices = not any(rows.get(y.id, {}).values())
        for g in groups:
            r = rows.get(y.id, {}).get(g) or (rows.get(y.id, {}).get("hyperscalers") if y.id.startswith("capex")
                                              and g == "llm_broad" else None)
            if y.id == "ai_share_of_venture" and g == "llm_broad":
                r = rows.get(y.id, {}).get("all_ai")
            if r is None and y.needs_prices and no_prices:
                cells[g] = NEEDS_MARKET_DATA
                continue
            if r is None or r["value"] is None:
                cells[g] = "n/a" if r is None else f"n/a ({r['note']})"
                continue
            band = f", {r['band']}" + (" (firm)" if r["firm"] else "") if r["band"] else ""
            cells[g] = f"{fmt(y.id, r['value'])}{_interval(y.id, r['interval'])}{band}"
        cut = cutoffs.get(y.id, {})
        lines = "; ".join(f"{k} from {fmt(y.id, c['value'])} ({c['text']})" for k, c in
                          (("elevated", cut.get("elevated")), ("extreme", cut.get("extreme"))) if c) or \
            (NEEDS_MARKET_DATA if y.needs_prices and no_prices else "no sourced yardstick")
        out.append({"Yardstick": y.label, **{display_label(g) if g != "non_llm" else "Non-LLM AI": c
                                             for g, c in cells.items()},
                    "Bands": lines, "In the verdict": "yes" if y.in_verdict else "no"})
    return pd.DataFrame(out)


def domain_table(m: dict, domains: list[str]) -> pd.DataFrame:
    """Each domain (and the narrow LLM definition) on the ledger's yardsticks."""
    rows = m["scorecard"]["rows"]
    out = []
    for g in ["llm_narrow", *domains]:
        rec = {"Segment": display_label(g)}
        for y in ("valuation_to_revenue", "funding_growth", "mega_round_share", "supplier_share", "market_signal"):
            r = rows.get(y, {}).get(g)
            rec[{"valuation_to_revenue": "Valuation / revenue", "funding_growth": "Funding growth",
                 "mega_round_share": "Share in $1bn+ rounds", "supplier_share": "Share from suppliers",
                 "market_signal": "Listed signal"}[y]] = \
                "n/a" if not r or r["value"] is None else fmt(y, r["value"]) + (f" ({r['band']})" if r["band"] else "")
        out.append(rec)
    return pd.DataFrame(out)


def largest_labs(rounds: pd.DataFrame, lab_financials: pd.DataFrame, n: int = TOP_LABS) -> list[dict]:
    """The private companies with the highest latest post-money: that valuation, its date and the
    multiple of revenue public by then (None without one)."""
    from analysis.valuation import revenue_multiples

    priced = rounds[rounds["post_money_valuation_usd"].notna()].sort_values("announced_on")
    latest = priced.groupby("org_name").tail(1).nlargest(n, "post_money_valuation_usd")
    multiples = revenue_multiples(rounds, lab_financials)
    out = []
    for r in latest.itertuples():
        m = multiples[(multiples["org_name"] == r.org_name) & (multiples["announced_on"] == r.announced_on)]
        out.append({"company": r.org_name, "post_money_usd": float(r.post_money_valuation_usd),
                    "date": r.announced_on.date().isoformat(),
                    "multiple": round(float(m["multiple"].iloc[0]), 1) if len(m) else None})
    return out


def verdict_section(data, *, as_of: str, lab_financials: pd.DataFrame, market_totals: pd.DataFrame, capex,
                    references: pd.DataFrame, claims: dict, signals: dict | None, drawdowns: dict | None,
                    signal_high: float | None, prices_as_of: str | None, infra_llm_share: float) -> Section:
    """The verdict, the first-screen numbers and the scorecard."""
    from analysis import scorecard, verdict
    from analysis.data.ledger import load_dataset

    end = min(data.last_round_date, pd.Timestamp(as_of))
    card = scorecard.build(data.rounds, lab_financials, market_totals, capex, references, end,
                           investors=data.investors, relationships=load_dataset("relationships"),
                           signals=signals, drawdowns={k: v["current"] for k, v in (drawdowns or {}).items()},
                           signal_high=signal_high, infra_llm_share=infra_llm_share)
    decided = verdict.decide(card.metrics(), claims)
    q = capex.quarterly.dropna(subset=["capex_usd"])
    metrics = {"verdict": decided.metrics(), "scorecard": card.metrics(),
               "labs": largest_labs(data.rounds, lab_financials),
               "drawdowns": drawdowns or {},
               "capex_t4q_usd": float(q["capex_t4q_usd"].iloc[-1]) if len(q) else None,
               "inputs_as_of": {"report": as_of, "private": end.date().isoformat(), "prices": prices_as_of,
                                "full_year": card.as_of.get("full_year"), "capex": card.as_of.get("capex")}}
    tables = {"pm": pm_numbers(metrics), "scorecard": scorecard_table(metrics)}
    return Section(metrics, verdict_headline(metrics), {}, tables)


def dates_line(m: dict) -> str:
    """The dates every score rests on, in words."""
    d = m["inputs_as_of"]
    prices = f"prices to {d['prices']}" if d.get("prices") else "no market prices"
    return (f"Report date {d['report']}; private inputs to {d['private']}, {prices}, hyperscaler filings to "
            f"{d['capex']}, published full-year totals to {d['full_year']}.")
