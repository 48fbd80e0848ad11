"""Every verdict label is reachable from a fixture, and the confidence rules hold."""

from __future__ import annotations

import pytest

from analysis import verdict as V

CUTS = {"valuation_to_revenue": {"elevated": {"value": 14.7, "reference": "a", "text": "a"},
                                 "extreme": {"value": 35.0, "reference": "b", "text": "b"}},
        "funding_growth": {"elevated": {"value": 0.414, "reference": "c", "text": "c"},
                           "extreme": {"value": 0.581, "reference": "d", "text": "d"}},
        "capex_to_revenue": {"elevated": {"value": 0.15, "reference": "e", "text": "e"},
                             "extreme": {"value": 0.5, "reference": "f", "text": "f"}},
        "market_signal": {"elevated": {"value": 60.0, "reference": "g", "text": "g"}, "extreme": None}}
VALUES = {"normal": {"valuation_to_revenue": 8.0, "funding_growth": 0.1, "capex_to_revenue": 0.1, "market_signal": 30.0},
          "elevated": {"valuation_to_revenue": 20.0, "funding_growth": 0.5, "capex_to_revenue": 0.3, "market_signal": 70.0},
          "extreme": {"valuation_to_revenue": 80.0, "funding_growth": 1.2, "capex_to_revenue": 0.6, "market_signal": 90.0}}


def card(llm: list[tuple[str, str, bool]], non: list[tuple[str, str, bool]]) -> dict:
    """A scorecard.metrics()-shaped dict: per side, (yardstick, band, firm) triples."""
    rows = {}
    for group, spec in (("llm_broad", llm), ("non_llm", non)):
        for y, band, firm in spec:
            rows.setdefault(y, {})[group] = {"value": VALUES[band][y], "interval": [1.0, 2.0], "band": band,
                                             "firm": firm, "n": 10, "note": "", "source": ""}
    return {"rows": rows, "cutoffs": CUTS}


BUBBLE = [("valuation_to_revenue", "extreme", True), ("funding_growth", "extreme", True),
          ("capex_to_revenue", "elevated", True)]
FROTH = [("valuation_to_revenue", "extreme", False), ("funding_growth", "extreme", False)]
NORMAL = [("valuation_to_revenue", "normal", True), ("funding_growth", "normal", True)]
ONE = [("valuation_to_revenue", "extreme", True)]


@pytest.mark.parametrize("llm, non, label", [
    (BUBBLE, NORMAL, "llm_bubble_not_ai_bubble"),
    (BUBBLE, BUBBLE, "ai_wide_bubble"),
    (NORMAL, BUBBLE, "non_llm_bubble"),
    (FROTH, NORMAL, "llm_froth_no_bubble"),
    (NORMAL, NORMAL, "no_bubble"),
    (ONE, NORMAL, "insufficient_evidence"),
])
def test_every_label_is_reachable(llm, non, label):
    v = V.decide(card(llm, non))
    assert v.label == label
    assert v.metrics()["label"] == label and v.confidence in V.CONFIDENCE


def test_confidence_counts_agreeing_firm_yardsticks_and_claims_lower_it():
    strong = V.decide(card(BUBBLE, NORMAL))
    assert strong.confidence == "high"                      # 5 agree, 5 firm
    loose = [("valuation_to_revenue", "extreme", True), ("funding_growth", "extreme", False),
             ("capex_to_revenue", "elevated", False)]
    weak = V.decide(card(loose, [("valuation_to_revenue", "elevated", False), ("funding_growth", "normal", False)]))
    assert weak.label == "llm_bubble_not_ai_bubble"
    assert weak.confidence == "medium"                      # 5 agree but only 1 firm
    lowered = V.decide(card(BUBBLE, NORMAL), {"1": {"verdict": "contradicted"}, "4": {"verdict": "contradicted"}})
    assert lowered.confidence == "low" and lowered.sides["lowered_by"] == ["claim 1 contradicted",
                                                                           "claim 4 contradicted"]
    unknown_rest = V.decide(card(BUBBLE, ONE))
    assert unknown_rest.label == "llm_bubble_not_ai_bubble" and unknown_rest.confidence == "low"


def test_a_froth_side_says_what_would_make_it_a_bubble():
    v = V.decide(card(BUBBLE, FROTH))
    assert v.label == "llm_bubble_not_ai_bubble"
    non = [w for w in v.would_change if w["side"] == "non_llm"]
    assert non and all(w["change"].startswith("has its interval") for w in non)
    assert {w["threshold"] for w in non} == {35.0, 0.581}
    assert len(v.evidence) == 3 and v.evidence[0]["band"] == "extreme" and v.evidence[0]["firm"]
