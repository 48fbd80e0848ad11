"""The risk-score section: each segment's 0-100 bubble-risk score with its interval and pillars,
its history, and the paragraph generated from them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.data.ledger import Ledger
from analysis.display import label, md_text
from analysis.sections import Section

#: Below this many rounds in 12 months a segment's score is mostly the all-AI value it is shrunk
#: toward (its own weight n / (n + 10) is under a half).
SMALL_SEGMENT_ROUNDS = 10
#: Segments drawn in the score-history chart.
HISTORY_CHART_SEGMENTS = ("llm_broad", "llm_narrow", "ai_infrastructure", "biology", "robotics",
                          "autonomous_vehicles")


def _num(v, d=1):
    return None if v is None or (isinstance(v, float) and not np.isfinite(v)) or pd.isna(v) else round(float(v), d)


def risk_metrics(scores) -> dict:
    """Per segment: score, interval, change and the date it is against, each pillar's score, and
    each indicator's raw and mapped value (so every statement in the text can be traced)."""
    latest = scores.latest()
    last_contrib = scores.contributions.merge(latest[["segment", "date"]], on=["segment", "date"]) \
        if len(latest) else scores.contributions.iloc[0:0]
    out = {}
    for r in latest.itertuples():
        ind = last_contrib[last_contrib["segment"] == r.segment]
        out[r.segment] = {
            "score": _num(r.score), "interval": [_num(r.low), _num(r.high)] if pd.notna(r.low) else None,
            "change": _num(r.change), "change_since": None if pd.isna(r.previous_date) else
            pd.Timestamp(r.previous_date).date().isoformat(),
            "as_of": pd.Timestamp(r.date).date().isoformat(),
            "pillars": {p: _num(getattr(r, p)) for p in ("private", "public", "spending")},
            "rounds_12m": _num(r.n_rounds, 0),
            "indicators": {i.indicator: {"raw": _num(i.raw, 4), "mapped": _num(i.score, 4),
                                         "weight": _num(i.weight, 4)} for i in ind.itertuples()}}
    return {"risk_scores": out, "risk_summary": others_summary(out)}


def others_summary(risk_scores: dict) -> dict:
    """How the segments outside the LLM side score: their count, median and the highest one."""
    others = {k: v["score"] for k, v in risk_scores.items() if not k.startswith("llm_") and v["score"] is not None}
    if not others:
        return {"segments": 0, "median": None, "highest": None, "highest_score": None}
    top = max(others, key=others.get)
    return {"segments": len(others), "median": round(float(np.median(list(others.values()))), 1),
            "highest": top, "highest_score": others[top]}


def risk_headline(metrics: dict, definition: str) -> str:
    """The score paragraph, generated only from ``metrics``."""
    scores = {k: v for k, v in metrics.get("risk_scores", {}).items() if v["score"] is not None}
    parts = []
    llm_key = "llm_narrow" if definition == "narrow" else "llm_broad"
    if llm_key in scores:
        s = scores[llm_key]
        iv = f" (90% interval {s['interval'][0]:.1f} to {s['interval'][1]:.1f})" if s.get("interval") else ""
        change = "" if s.get("change") is None else f", {s['change']:+.1f} since {s['change_since']}"
        parts.append(f"The LLM side's bubble-risk score is {s['score']:.1f} out of 100{iv} as of {s['as_of']}{change}.")
    summary = metrics.get("risk_summary") or others_summary(metrics.get("risk_scores", {}))
    if summary["segments"]:
        top = scores[summary["highest"]]
        iv = f" ({top['interval'][0]:.1f} to {top['interval'][1]:.1f})" if top.get("interval") else ""
        parts.append(f"Across the {summary['segments']} segments outside the LLM side the median is {summary['median']:.1f}; "
                     f"the highest is {md_text(label(summary['highest']))} at {summary['highest_score']:.1f}{iv}.")
    parts += like_for_like(summary.get("like_for_like") if "like_for_like" in summary
                           else like_for_like_summary(scores, llm_key))
    return " ".join(parts) if parts else "Not enough data for a risk score."


def like_for_like_summary(risk_scores: dict, llm_key: str) -> dict | None:
    """What keeps the ranking honest, for the text: scores average only the pillars a segment has,
    so a segment with no listed basket is scored on private markets alone; the private pillar,
    which every segment has, compares them like for like (the narrow LLM segment is the
    foundation-model domain scored once, so only the headline LLM side is ranked). Small segments
    lean on the all-AI values they are shrunk toward."""
    from analysis.risk import SHRINK_K

    private = {k: v["pillars"]["private"] for k, v in risk_scores.items()
               if v.get("pillars", {}).get("private") is not None}
    if llm_key not in private or len(private) < 3:
        return None
    ranked = sorted((k for k in private if k == llm_key or not k.startswith("llm_")), key=private.get, reverse=True)
    private_only = [k for k in ranked if all(risk_scores[k]["pillars"].get(p) is None for p in ("public", "spending"))]
    return {
        "llm_segment": llm_key, "llm_private": private[llm_key], "llm_private_rank": ranked.index(llm_key) + 1,
        "segments": len(ranked), "private_median": round(float(np.median([private[k] for k in ranked])), 1),
        "private_only": private_only, "private_only_count": len(private_only),
        "small_segment_rounds": SMALL_SEGMENT_ROUNDS, "shrink_k": SHRINK_K,
        "small": [k for k in ranked if (risk_scores[k].get("rounds_12m") or 0) < SMALL_SEGMENT_ROUNDS],
    }


def like_for_like(summary: dict | None) -> list[str]:
    """The sentences of :func:`like_for_like_summary`."""
    if not summary:
        return []
    out = []
    if summary["private_only"]:
        out.append(f"Scores average only the pillars a segment has, so they are not like for like: "
                   f"{summary['private_only_count']} segments are scored on private markets alone (no listed basket, "
                   f"or no market data loaded). On the private-markets pillar, which every segment has, "
                   f"{md_text(label(summary['llm_segment']))} scores {summary['llm_private']:.1f}, "
                   f"{_rank_words(summary['llm_private_rank'])} of {summary['segments']} "
                   f"(median {summary['private_median']:.1f}).")
    if summary["small"]:
        names = ", ".join(md_text(label(k)) for k in summary["small"])
        out.append(f"Segments with fewer than {summary['small_segment_rounds']} rounds in 12 months ({names}) are "
                   f"mostly the all-AI values they are shrunk toward (weight n/(n+{summary['shrink_k']})).")
    return out


def _rank_words(rank: int) -> str:
    return "the highest" if rank == 1 else f"{rank}{'nd' if rank == 2 else 'rd' if rank == 3 else 'th'} highest"


def scores_table(scores) -> pd.DataFrame:
    """The latest scores as a reader's table."""
    latest = scores.latest()
    return pd.DataFrame({
        "Segment": latest["segment"].map(label),
        "Score (0-100)": latest["score"].round(1),
        "90% interval": [f"{lo:.1f} to {hi:.1f}" if pd.notna(lo) else "n/a" for lo, hi in zip(latest["low"], latest["high"])],
        "Private": latest["private"].round(1), "Public": latest["public"].round(1),
        "Spending": latest["spending"].round(1),
        "Change": latest["change"].round(1),
        "Since": latest["previous_date"].dt.date.astype(str).where(latest["previous_date"].notna(), ""),
        "Rounds (12 months)": latest["n_rounds"],
    })


def risk_section(data: Ledger, *, as_of: str, definition: str, lab_financials: pd.DataFrame, capex,
                 signals: dict | None, risk_weights: dict, relationships: pd.DataFrame | None) -> Section:
    """Scores per segment with intervals, their history and contributions.

    ``signals``: basket id -> :class:`~analysis.bubbles.signal.SignalHistory` (empty without
    market data): the public pillar.
    """
    from analysis import plots, risk

    raw, scores = risk.risk_history(data, as_of, lab_financials, capex, signals or None, risk_weights or None,
                                    relationships)
    metrics = risk_metrics(scores)
    metrics["risk_summary"]["like_for_like"] = like_for_like_summary(
        metrics["risk_scores"], "llm_narrow" if definition == "narrow" else "llm_broad")
    figures = {"scores": plots.risk_scores_chart(scores),
               "history": plots.score_history_chart(scores, list(HISTORY_CHART_SEGMENTS))}
    return Section(metrics, risk_headline(metrics, definition), figures, {"latest": scores_table(scores)},
                   model=(raw, scores))
