"""Vendor vocabularies -> money type, stage, country (analysis.data.vendor_maps)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.data import vendor_maps as VM
from analysis.data.vocabulary import INVESTMENT_TYPES, MONEY_TYPES, STAGES


def test_every_investment_type_has_a_money_type_and_stage_rule():
    for kind in INVESTMENT_TYPES:
        money, note = VM.money_type_for(kind)
        assert money in MONEY_TYPES and note == ""
        stage, _ = VM.place_stage(kind)
        assert stage in STAGES


@pytest.mark.parametrize("kind, money", [("secondary_market", "secondary"), ("post_ipo_debt", "debt"),
                                         ("convertible_note", "convertible"), ("grant", "grant"),
                                         ("series_c", "equity_cash"), ("initial_coin_offering", "other")])
def test_money_types(kind, money):
    assert VM.money_type_for(kind)[0] == money


def test_unknown_vendor_values_become_other_with_the_vendor_word_in_the_note():
    money, note = VM.money_type_for("Mezzanine Tranche X")
    assert money == "other" and "'Mezzanine Tranche X'" in note
    stage, note = VM.place_stage("Mezzanine Tranche X")
    assert stage == "other" and "'Mezzanine Tranche X'" in note


@pytest.mark.parametrize("kind, amount, post, text, stage", [
    ("series_b", None, None, "", "early"), ("series_d", None, None, "", "late"), ("series_g", None, None, "", "growth"),
    ("corporate_round", 5e9, None, "", "strategic"), ("post_ipo_equity", None, None, "", "post_ipo"),
    ("series_unknown", 20e6, None, "the company's Series A2 extension", "early"),
    ("series_unknown", 20e6, None, "a $20M seed round", "seed"),
    ("series_unknown", 499e6, None, "", "other"),      # just below the size rule
    ("series_unknown", 500e6, None, "", "growth"),     # at the size rule
    ("undisclosed", None, 5e9, "", "growth"),          # valuation rule
    ("undisclosed", None, 4.9e9, "", "other"),
])
def test_stage_rules(kind, amount, post, text, stage):
    got, note = VM.place_stage(kind, amount, post, text)
    assert got == stage
    assert (note == "") == (kind not in ("series_unknown", "undisclosed"))


def test_pitchbook_stage_prefers_the_series_letter():
    assert VM.pitchbook_stage("Later Stage VC", "Series B") == "early"
    assert VM.pitchbook_stage("Early Stage VC", "F") == "growth"
    assert VM.pitchbook_stage("Later Stage VC") == "late"
    assert VM.pitchbook_stage("Corporate") == "strategic"
    assert VM.pitchbook_stage("Something new") is None


def test_classify_rounds_keeps_given_values_and_fills_the_rest():
    rounds = pd.DataFrame({"investment_type": ["series_a", "secondary_market", "series_unknown"],
                           "raised_amount_usd": [1e6, 2e6, 9e8], "money_type": ["committed_tranche", None, None],
                           "notes": ["", "", ""]})
    out = VM.classify_rounds(rounds)
    assert list(out["money_type"]) == ["committed_tranche", "secondary", "equity_cash"]
    assert list(out["stage"]) == ["early", "other", "growth"]
    assert out["classification_note"].iloc[0] == "" and "large-round rule" in out["classification_note"].iloc[2]


@pytest.mark.parametrize("value, code", [("USA", "US"), ("United States of America", "US"), ("gb", "GB"),
                                         ("Korea (Republic of)", "KR"), (" China ", "CN"), ("", None),
                                         (None, None), (float("nan"), None), ("Atlantis", None)])
def test_country_codes(value, code):
    assert VM.country_code(value) == code


def test_bundled_regions_cover_every_company_country():
    from analysis.data.ledger import load_dataset

    companies, regions = load_dataset("companies"), load_dataset("regions")
    used = set(companies["country"].dropna())
    assert used <= set(regions["country"])
    assert (VM.regions_of(pd.Series(["US", "HK", "ZZ"]), regions) == ["US", "China", "Other"]).all()
