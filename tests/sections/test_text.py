"""Generated sentences use only metric values, and the check itself can fail."""

from __future__ import annotations

import pytest

from analysis.sections.funding import funding_headline
from analysis.sections.risk import risk_headline
from analysis.sections.spending import spending_headline, spending_section
from tests.sections.textcheck import assert_numbers_come_from


def test_text_check_fails_on_a_number_not_in_metrics():
    metrics = {"risk_scores": {"llm_broad": {"score": 44.5, "change": -0.4, "change_since": "2026-03-31",
                                             "interval": [40.1, 47.5], "as_of": "2026-06-23"}}}
    assert_numbers_come_from(risk_headline(metrics, "broad"), metrics)
    with pytest.raises(AssertionError):
        assert_numbers_come_from("The score is 51.3 out of 100.", metrics)


def test_risk_headline_names_segments_by_their_display_names():
    metrics = {"risk_scores": {
        "llm_broad": {"score": 44.5, "change": None, "as_of": "2026-06-23", "interval": None},
        "autonomous_vehicles": {"score": 71.7, "change": 2.0, "as_of": "2026-06-23", "interval": [60.2, 75.0]},
        "biology": {"score": 40.0, "change": 1.0, "as_of": "2026-06-23", "interval": None}}}
    from analysis.sections.risk import others_summary

    metrics["risk_summary"] = others_summary(metrics["risk_scores"])
    assert metrics["risk_summary"]["median"] == pytest.approx(55.9, abs=0.05)
    text = risk_headline(metrics, "broad")
    assert "Autonomous vehicles at 71.7" in text
    assert "autonomous_vehicles" not in text
    assert_numbers_come_from(text, metrics)


def test_funding_headline_uses_the_metrics():
    metrics = {"funding_usd_by_year": {"2024": 2.5e9, "2025": 4e9},
               "llm_share_by_year": {"broad": {"2024": 0.84, "2025": 0.5}}}
    text = funding_headline(metrics, "broad")
    assert "$4.0 bn" in text and "50%" in text and "84%" in text
    assert_numbers_come_from(text, metrics)


def test_spending_headline_on_the_bundled_ledger():
    from analysis import spending
    from analysis.data.ledger import load_dataset, load_ledger

    data = load_ledger()
    capex = spending.capex_flows(load_dataset("hyperscaler_financials"), 0.5)
    section = spending_section(data, as_of="2026-06-30", start_year=2019, definition="broad", infra_llm_share=0.5,
                               capex=capex, market_totals=load_dataset("market_totals"))
    assert section.metrics["share_outlook"]["definition"] == "broad"
    assert_numbers_come_from(section.text, section.metrics)
    assert_numbers_come_from(spending_headline(section.metrics), section.metrics)


def test_risk_text_compares_segments_on_the_pillar_they_all_have():
    from analysis.sections.risk import like_for_like_summary, others_summary

    def seg(score, private, public, rounds):
        return {"score": score, "change": None, "as_of": "2026-06-23", "interval": None, "rounds_12m": rounds,
                "pillars": {"private": private, "public": public, "spending": None}}

    scores = {"llm_broad": seg(59.8, 94.3, 5.7, 40), "llm_narrow": seg(59.6, 99.0, 5.7, 23),
              "other_ai": seg(85.0, 85.0, None, 12), "defense_security": seg(84.6, 84.6, None, 3),
              "robotics": seg(53.6, 83.1, 4.5, 14)}
    metrics = {"risk_scores": scores, "risk_summary": others_summary(scores)}
    metrics["risk_summary"]["like_for_like"] = like_for_like_summary(scores, "llm_broad")
    summary = metrics["risk_summary"]["like_for_like"]
    # the narrow segment (the foundation-model domain) is not ranked beside the headline side
    assert summary["segments"] == 4 and summary["llm_private_rank"] == 1
    assert summary["private_only"] == ["other_ai", "defense_security"] and summary["small"] == ["defense_security"]
    text = risk_headline(metrics, "broad")
    assert "2 segments are scored on private markets alone" in text
    assert "scores 94.3, the highest of 4 (median 84.8)" in text
    assert "fewer than 10 rounds in 12 months (Defense and security)" in text
    assert_numbers_come_from(text, metrics)


def test_p_values_never_read_zero():
    from analysis.sections.thesis import p_text

    assert p_text(0.0) == "< 0.001" and p_text(0.0004) == "< 0.001"
    assert p_text(0.0123) == "0.012" and p_text(None) == ""
