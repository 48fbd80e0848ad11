"""PitchBook deals exports: accounting, deal types, units, dates, human-readable headers."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.data.importers import PITCHBOOK_DEAL_TYPES, import_pitchbook, write_ledger
from analysis.data.ledger import load_ledger
from analysis.data.schemas import INVESTMENT_TYPES
from analysis.data.tables import read_table
from analysis.errors import DataValidationError
from tests.data.importers.common import PB, row_of, raw_csv, write_rows


def test_pitchbook_round_trip_and_accounting(pb, tmp_path):
    out = write_ledger(pb.ledger, tmp_path / "pb.csv")
    assert len(read_table(out, "funding_rounds")) == 7
    assert len(load_ledger(out).rounds) == 7
    assert pb.rows_read == 10
    assert pb.dropped.to_dict() == {
        "deal failed or cancelled (DEAL_STATUS)": 1,
        "not a funding round (acquisition, buyout, IPO, ...)": 1,
        "not an AI company": 1,
    }


def test_pitchbook_domains_types_units_and_dates(pb):
    got = {r.org_name: (r.domain, r.rule, r.matched) for r in pb.companies.itertuples()}
    assert got == {
        "DeepFold Bio": ("biology", "keyword", "protein design"),
        "Parley AI": ("llm_applications", "keyword", "chatbot"),
        "Steel Hands Robotics": ("robotics", "keyword", "robots"),
        "Vox Synth": ("audio", "category", "audio"),
        "Quill Analytics": ("other_ai", "ai_category", "artificial intelligence & machine learning"),
        "Closer Systems": ("llm_applications", "keyword", "AI agents"),
    }
    series_a = row_of(pb, "pb-10001-01t")
    assert series_a["investment_type"] == "series_a"
    assert series_a["raised_amount_usd"] == "25500000"     # 25.5 USD millions
    assert "pre-money $100,000,000" in series_a["notes"]
    assert pd.isna(series_a["post_money_valuation_usd"])
    assert series_a["lead_investors"] == "Lux Capital" and series_a["other_investors"] == "Khosla Ventures"
    series_b = row_of(pb, "pb-10002-02t")
    assert (series_b["investment_type"], series_b["announced_on"], series_b["post_money_valuation_usd"]) == (
        "series_b", "2025-06-30", "600000000")                  # M/D/YYYY date
    assert series_b["lead_investors"] == "Thrive Capital;Lux Capital"
    assert series_b["other_investors"] == "General Catalyst"
    assert row_of(pb, "pb-10003-03t")[["investment_type", "announced_on"]].tolist() == ["seed", "2024-01-15"]
    corporate = row_of(pb, "pb-10004-04t")
    assert corporate[["investment_type", "announced_on"]].tolist() == ["corporate_round", "2023-01-01"]
    assert pd.isna(corporate["raised_amount_usd"])
    assert row_of(pb, "pb-10007-07t")["investment_type"] == "secondary_market"
    accel = row_of(pb, "pb-10009-09t")
    assert accel[["investment_type", "raised_amount_usd", "announced_on"]].tolist() == [
        "pre_seed", "120000", "2021-05-01"]
    odd = row_of(pb, "pb-10010-10t")
    assert odd["investment_type"] == "undisclosed" and "'Crowd Sale Special'" in odd["notes"]
    assert odd["source_url"] == "https://my.pitchbook.com/profile/10010-10T/deal/profile"
    assert odd["source_publisher"] == "PitchBook (user export)"


def test_pitchbook_deal_type_mapping_targets_the_ledger_vocabulary():
    assert {v for v in PITCHBOOK_DEAL_TYPES.values() if v is not None} <= set(INVESTMENT_TYPES)


def test_pitchbook_human_headers_and_usd_unit(tmp_path):
    result = import_pitchbook(PB / "human_headers_deals.csv")
    parley = row_of(result, "pb-20001-01t")
    assert parley[["raised_amount_usd", "post_money_valuation_usd", "lead_investors", "other_investors"]].tolist() == [
        "4000000", "20000000", "Y Combinator", "SV Angel"]
    assert row_of(result, "pb-20002-02t")["investment_type"] == "series_a"
    in_usd = import_pitchbook(PB / "human_headers_deals.csv", deal_size_unit="usd")
    assert row_of(in_usd, "pb-20002-02t")["raised_amount_usd"] == "12.5"


def test_an_empty_round_id_is_an_error(tmp_path):
    text = (PB / "deals.csv").read_text(encoding="utf-8").replace("10003-03T,", ",", 1)
    (tmp_path / "deals.csv").write_text(text, encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        import_pitchbook(tmp_path / "deals.csv")
    assert [(p.line, p.column) for p in info.value.problems] == [(4, "DEAL_ID")]


def test_pitchbook_hq_country_names_become_iso_alpha2(tmp_path):
    rows = raw_csv(PB / "human_headers_deals.csv")
    for row in rows:
        row["HQ Country/Territory/Region"] = "United Kingdom"
    rows[0]["HQ Country/Territory/Region"] = "United States"
    result = import_pitchbook(write_rows(tmp_path / "deals.csv", rows))
    first = result.ledger[result.ledger["org_name"] == rows[0]["Companies"]]
    assert set(first["country"]) == {"US"}
    assert (result.ledger["org_name"] != rows[0]["Companies"]).sum() > 0
    assert set(result.ledger.loc[result.ledger["org_name"] != rows[0]["Companies"], "country"]) == {"GB"}
    # An export without a country column leaves the column empty and counts nothing.
    plain = import_pitchbook(PB / "human_headers_deals.csv")
    assert plain.ledger["country"].isna().all()
    assert not any("country" in reason for reason in plain.adjusted.index)
