"""The verdict: "LLM bubble or AI bubble", decided by stated rules from the scorecard's banded
yardsticks and the claim tests, with a confidence, the evidence that weighs most and what would
change it. The rules are data (:data:`SIDE_RULES`, :data:`LABEL_RULES`); every input is a
``metrics.json``-shaped dict, so the verdict can be recomputed from a published run.

How a side is read
------------------
For the LLM side (the headline, broad definition) and for non-LLM AI, each verdict yardstick with
a value scores 2 points in its extreme band, 1 in its elevated band, 0 in its normal band; a
yardstick is *firm* when its whole interval lies in that band. A side is

* ``bubble`` - at least two yardsticks extreme with one of them firm, or three or more elevated or
  extreme with one extreme firm;
* ``froth`` - two or more points but not a bubble (for example two extremes whose intervals reach
  back below the cut-off);
* ``normal`` - fewer than two points;
* ``unknown`` - fewer than two verdict yardsticks have a value.

Labels
------
``LABEL_RULES`` maps the two sides' readings to a label, first match wins: LLM unknown ->
``insufficient_evidence``; both bubble -> ``ai_wide_bubble``; LLM bubble, non-LLM not ->
``llm_bubble_not_ai_bubble``; non-LLM bubble, LLM not -> ``non_llm_bubble``; LLM froth ->
``llm_froth_no_bubble``; otherwise ``no_bubble``.

Confidence
----------
``high`` when at least four yardsticks (both sides together) agree with the label, at least two
of them firm, and at most one disagrees (an LLM yardstick in its normal band, a non-LLM one in
its extreme band, for an LLM-bubble label); ``medium`` when at least three agree and more agree
than disagree; ``low`` otherwise, or when the non-LLM side is unknown. Claim 1 contradicted (LLM companies
valued no higher than others) lowers an LLM-bubble label one step; claim 4 contradicted (the rest
of AI exposed to an LLM bust) lowers ``llm_bubble_not_ai_bubble`` one step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

LABELS = ("llm_bubble_not_ai_bubble", "ai_wide_bubble", "non_llm_bubble", "llm_froth_no_bubble", "no_bubble",
          "insufficient_evidence")
LABEL_TEXT = {
    "llm_bubble_not_ai_bubble": "an LLM bubble, not an AI-wide bubble",
    "ai_wide_bubble": "an AI-wide bubble, LLMs included",
    "non_llm_bubble": "a bubble outside LLMs, not in them",
    "llm_froth_no_bubble": "froth in LLMs, short of a bubble",
    "no_bubble": "no bubble on these yardsticks",
    "insufficient_evidence": "not enough evidence to say",
}
VERDICT_YARDSTICKS = ("valuation_to_revenue", "funding_growth", "market_signal", "capex_to_revenue")
SIDES = {"llm": "llm_broad", "non_llm": "non_llm"}
POINTS = {"normal": 0, "elevated": 1, "extreme": 2}

#: A side's reading from its points, extremes and firm extremes (first match wins).
SIDE_RULES = (
    ("unknown", lambda s: s["valued"] < 2),
    ("bubble", lambda s: (s["extreme"] >= 2 and s["firm_extreme"] >= 1)
     or (s["elevated_or_more"] >= 3 and s["firm_extreme"] >= 1)),
    ("froth", lambda s: s["points"] >= 2),
    ("normal", lambda s: True),
)
#: The label from the two readings (first match wins).
LABEL_RULES = (
    ("insufficient_evidence", lambda llm, non: llm == "unknown"),
    ("ai_wide_bubble", lambda llm, non: llm == "bubble" and non == "bubble"),
    ("llm_bubble_not_ai_bubble", lambda llm, non: llm == "bubble"),
    ("non_llm_bubble", lambda llm, non: non == "bubble"),
    ("llm_froth_no_bubble", lambda llm, non: llm == "froth"),
    ("no_bubble", lambda llm, non: True),
)
#: Which band of each side agrees with each label.
AGREES = {
    "llm_bubble_not_ai_bubble": {"llm": ("elevated", "extreme"), "non_llm": ("normal", "elevated")},
    "ai_wide_bubble": {"llm": ("elevated", "extreme"), "non_llm": ("elevated", "extreme")},
    "non_llm_bubble": {"llm": ("normal", "elevated"), "non_llm": ("elevated", "extreme")},
    "llm_froth_no_bubble": {"llm": ("elevated", "extreme"), "non_llm": ("normal", "elevated")},
    "no_bubble": {"llm": ("normal",), "non_llm": ("normal",)},
    "insufficient_evidence": {"llm": (), "non_llm": ()},
}
CONFIDENCE = ("low", "medium", "high")


@dataclass(frozen=True)
class Verdict:
    label: str
    confidence: str
    sides: dict                      # side -> reading and its counts
    evidence: tuple                  # the three pieces that weigh most (dicts)
    would_change: tuple              # thresholds in the reader's units (dicts)
    rows: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)

    def metrics(self) -> dict:
        return {"label": self.label, "confidence": self.confidence, "sides": self.sides,
                "evidence": list(self.evidence), "would_change": list(self.would_change)}

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"label": self.label, "confidence": self.confidence,
                              **{f"{k}_reading": v["reading"] for k, v in self.sides.items()}}])

    def _repr_html_(self) -> str:
        return self.summary().to_html(index=False)


def _side_rows(scorecard: dict, group: str) -> list[dict]:
    rows = []
    for y in VERDICT_YARDSTICKS:
        r = scorecard["rows"].get(y, {}).get(group)
        if r and r["value"] is not None and r["band"] is not None:
            rows.append({"yardstick": y, "group": group, **r})
    return rows


def read_side(rows: list[dict]) -> dict:
    counts = {"valued": len(rows), "points": sum(POINTS[r["band"]] for r in rows),
              "extreme": sum(r["band"] == "extreme" for r in rows),
              "firm_extreme": sum(r["band"] == "extreme" and r["firm"] for r in rows),
              "elevated_or_more": sum(r["band"] in ("elevated", "extreme") for r in rows)}
    reading = next(name for name, rule in SIDE_RULES if rule(counts))
    return {"reading": reading, **counts}


def _distance(r: dict, cutoffs: dict) -> float:
    """How far a value sits from its nearest cut-off, as a ratio (0 = on the line)."""
    cut = cutoffs.get(r["yardstick"], {})
    lines = [c["value"] for c in (cut.get("elevated"), cut.get("extreme")) if c]
    if not lines or r["value"] is None:
        return 0.0
    import math

    # Scores and shares can be 0: read them on a log scale from 1% of the line up, so "0 against
    # a line at 60" is far, not on it.
    return min(abs(math.log(max(r["value"], 0.01 * abs(c), 1e-9) / max(abs(c), 1e-9))) for c in lines)


def decide(scorecard: dict, claims: dict | None = None) -> Verdict:
    """The verdict from ``scorecard.metrics()`` and the thesis claims' metrics (``{"1": {...}}``)."""
    claims = claims or {}
    cutoffs = scorecard.get("cutoffs", {})
    rows = {side: _side_rows(scorecard, group) for side, group in SIDES.items()}
    sides = {side: read_side(r) for side, r in rows.items()}
    label = next(name for name, rule in LABEL_RULES if rule(sides["llm"]["reading"], sides["non_llm"]["reading"]))
    agreeing = [r for side in rows for r in rows[side] if r["band"] in AGREES[label][side]]
    disagreeing = [r for side in rows for r in rows[side] if r["band"] not in AGREES[label][side]]
    firm = [r for r in agreeing if r["firm"]]
    level = 2 if len(agreeing) >= 4 and len(firm) >= 2 and len(disagreeing) <= 1 else \
        1 if len(agreeing) >= 3 and len(agreeing) > len(disagreeing) else 0
    if sides["non_llm"]["reading"] == "unknown" or label == "insufficient_evidence":
        level = 0
    lowered = []
    c1, c4 = claims.get("1", {}).get("verdict"), claims.get("4", {}).get("verdict")
    if label in ("llm_bubble_not_ai_bubble", "llm_froth_no_bubble") and c1 == "contradicted":
        level, lowered = level - 1, lowered + ["claim 1 contradicted"]
    if label == "llm_bubble_not_ai_bubble" and c4 == "contradicted":
        level, lowered = level - 1, lowered + ["claim 4 contradicted"]
    confidence = CONFIDENCE[max(level, 0)]
    every = [r for side in rows for r in rows[side]]
    weigh = sorted(every, key=lambda r: (POINTS[r["band"]], r["firm"], _distance(r, cutoffs)), reverse=True)
    evidence = [{"yardstick": r["yardstick"], "group": r["group"], "value": r["value"], "interval": r["interval"],
                 "band": r["band"], "firm": r["firm"]} for r in weigh[:3]]
    sides = {**sides, "lowered_by": lowered, "agreeing": len(agreeing), "disagreeing": len(disagreeing),
             "firm_agreeing": len(firm)}
    return Verdict(label, confidence, sides, tuple(evidence),
                   tuple(_would_change(label, rows, cutoffs)), pd.DataFrame(every))


def _would_change(label: str, rows: dict, cutoffs: dict) -> list[dict]:
    """The crossings that would move a side's reading and so the label, nearest first: a bubble
    side's extreme yardsticks falling below their extreme cut-off; on a side short of a bubble,
    an extreme yardstick whose interval's lower end rises above the cut-off (becoming firm), or a
    lower band's value rising into the next."""
    out = []
    for side, side_rows in rows.items():
        reading = read_side(side_rows)["reading"]
        for r in side_rows:
            cut = cutoffs.get(r["yardstick"], {})
            lo = r["interval"][0] if r["interval"] else None
            if reading == "bubble" and r["band"] == "extreme":
                line, change, now = cut["extreme"], "falls below", r["value"]
            elif reading != "bubble" and r["band"] == "extreme" and not r["firm"] and lo is not None:
                line, change, now = cut["extreme"], "has its interval's lower end rise above", lo
            elif reading != "bubble" and r["band"] == "elevated" and cut.get("extreme"):
                line, change, now = cut["extreme"], "rises above", r["value"]
            elif reading != "bubble" and r["band"] == "normal" and cut.get("elevated"):
                line, change, now = cut["elevated"], "rises above", r["value"]
            else:
                continue
            effect = f"the {'LLM' if side == 'llm' else 'non-LLM'} side would " + \
                ("no longer count as a bubble if more of its extremes followed" if reading == "bubble"
                 else "move toward a bubble reading")
            out.append({"side": side, "yardstick": r["yardstick"], "group": r["group"], "change": change,
                        "now": now, "threshold": line["value"], "reference": line["reference"],
                        "reference_text": line["text"], "effect": effect,
                        "distance": _distance({**r, "value": now}, cutoffs)})
    out.sort(key=lambda w: w["distance"])
    return out[:4]
