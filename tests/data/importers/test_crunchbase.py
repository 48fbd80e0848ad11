"""Crunchbase bulk exports: accounting, domains and rules, dates, amounts, provenance, cleaning."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from analysis.data.importers import LEDGER_COLUMNS, import_crunchbase, write_ledger
from analysis.data.importers.crunchbase import _resolve_names
from analysis.data.ledger import load_ledger
from analysis.data.schemas import INVESTMENT_TYPES, FundingRounds
from analysis.data.tables import read_table
from tests.data.importers.common import CB, raw_csv, row_of, uuid, write_rows


def test_crunchbase_round_trip_passes_validation_and_load_ledger(cb, tmp_path):
    out = write_ledger(cb.ledger, tmp_path / "imported.csv")
    rounds = read_table(out, "funding_rounds")  # what `aibubble validate` runs
    ledger = load_ledger(out)                   # companies derived from the domain column
    assert len(rounds) == len(ledger.rounds) == 11
    assert rounds["domain"].notna().all()
    assert set(ledger.companies["name"]) == set(cb.companies["org_name"])
    assert (ledger.rounds["effective_domain"] == ledger.rounds["domain"]).all()


def test_crunchbase_accounting(cb):
    assert cb.rows_read == 15 and cb.rows_kept == 11
    assert cb.dropped.to_dict() == {
        "organization not in the organizations file": 1,          # Ghost Co
        "not an AI company": 1,                                   # Greenleaf Grocers
        "announced before 2010-01-01 (the ledger's floor)": 1,    # Sensa Health 2008
        "duplicate round (same company, date, amount and kind)": 1,  # Helix seed listed twice
    }
    assert cb.rows_read == cb.rows_kept + cb.dropped.sum()
    assert cb.per_domain()["rounds"].to_dict() == {
        "llm_foundation": 2, "llm_applications": 2, "ai_infrastructure": 0, "biology": 2,
        "chemistry_materials": 0, "image": 0, "audio": 0, "video": 1, "robotics": 2,
        "autonomous_vehicles": 0, "healthcare_clinical": 1, "defense_security": 0, "other_ai": 1}

EXPECTED_CB_COMPANIES = {
    # org_name: (domain, rule, matched)
    "Helix Therapeutics AI": ("biology", "category", "drug discovery"),
    "Frontier Mind": ("llm_foundation", "category", "foundation models"),
    "CodePilot": ("llm_applications", "keyword", "coding assistants"),
    "Roboworks": ("robotics", "keyword", "humanoid"),
    "Sensa Health": ("healthcare_clinical", "category", "health care"),
    "Quiet Labs": ("other_ai", "ai_category", "artificial intelligence (ai)"),
    "Clipforge": ("video", "category_group", "video"),
    "Nova AI (nova-ai)": ("llm_applications", "category", "generative ai"),
    "Nova AI (nova-ai-2)": ("robotics", "category", "robotics"),
}


def test_crunchbase_domains_and_the_rule_that_fired(cb):
    got = {r.org_name: (r.domain, r.rule, r.matched) for r in cb.companies.itertuples()}
    assert got == EXPECTED_CB_COMPANIES
    # Every ledger row says in its notes which rule placed its company.
    for _, row in cb.ledger.iterrows():
        domain, rule, matched = EXPECTED_CB_COMPANIES[row["org_name"]]
        assert row["domain"] == domain
        phrase = {"category": "classified by category", "category_group": "classified by category group",
                  "keyword": "classified by keyword", "ai_category": "other_ai: AI category"}[rule]
        assert row["notes"].startswith(f"{phrase} '{matched}'"), row["notes"]


def test_crunchbase_year_only_and_year_month_dates(cb):
    year_only = row_of(cb, "cb-" + uuid(2))
    assert year_only["announced_on"] == "2022-01-01"
    assert "announced_on given as '2022' (year only); set to 2022-01-01" in year_only["notes"]
    year_month = row_of(cb, "cb-" + uuid(3))
    assert year_month["announced_on"] == "2024-05-01"
    assert "'2024-05' (year-month)" in year_month["notes"]
    assert cb.adjusted["announced_on given as year only; set to the period's first day"] == 1


def test_crunchbase_missing_amounts_stay_empty_and_amounts_are_plain_numbers(cb, tmp_path):
    out = write_ledger(cb.ledger, tmp_path / "imported.csv")
    raw = {r["round_id"]: r for r in raw_csv(out)}
    codepilot = raw["cb-" + uuid(4)]
    assert codepilot["raised_amount_usd"] == codepilot["raised_amount"] == ""
    assert codepilot["raised_amount_currency"] == ""
    assert raw["cb-" + uuid(9)]["raised_amount_usd"] == "2000000"      # "2,000,000" in the export
    roboworks = raw["cb-" + uuid(5)]
    assert (roboworks["raised_amount_usd"], roboworks["raised_amount"], roboworks["raised_amount_currency"]) == (
        "100000000", "92000000", "EUR")
    assert raw["cb-" + uuid(3)]["post_money_valuation_usd"] == "4000000000"
    loaded = load_ledger(out).rounds.set_index("round_id")
    assert np.isnan(loaded.loc["cb-" + uuid(4), "raised_amount_usd"])


def test_crunchbase_comma_lists(cb, tmp_path):
    # category lists with and without spaces after the comma both classify (Helix, Frontier Mind);
    # lead_investor_uuids "a, b" become "Sequoia Capital;Lux Ventures".
    assert row_of(cb, "cb-" + uuid(3))["lead_investors"] == "Sequoia Capital;Lux Ventures"
    assert row_of(cb, "cb-" + uuid(1))["lead_investors"] == "Sequoia Capital"
    # Quiet Labs' lead is a person missing from organizations.csv: left out and counted ...
    assert pd.isna(row_of(cb, "cb-" + uuid(9))["lead_investors"])
    assert cb.adjusted["lead investor uuids not found (left out)"] == 1
    # ... unless investors.csv names them.
    with_investors = import_crunchbase(CB / "funding_rounds.csv", CB / "organizations.csv",
                                       investors=CB / "investors.csv")
    assert row_of(with_investors, "cb-" + uuid(9))["lead_investors"] == "Ada Angel"
    assert "lead investor uuids not found (left out)" not in with_investors.adjusted


def test_crunchbase_provenance_columns(cb):
    helix = row_of(cb, "cb-" + uuid(1))
    assert helix["source_url"] == "https://www.crunchbase.com/funding_round/seed-round-helix--b0000001"
    assert helix["source_title"] == "Crunchbase bulk export: Seed Round - Helix Therapeutics AI"
    assert helix["source_publisher"] == "Crunchbase (user export)"
    assert helix["source_date"] == "2024-12-01"            # the round's updated_at
    assert helix["confidence"] == "reported"
    # No cb_url for the round: its Crunchbase URL is built from the permalink.
    assert row_of(cb, "cb-" + uuid(10))["source_url"] == "https://www.crunchbase.com/funding_round/clipforge-series-a"
    # No updated_at: the export file's modification date.
    mtime = dt.datetime.fromtimestamp((CB / "funding_rounds.csv").stat().st_mtime, tz=dt.timezone.utc)
    assert row_of(cb, "cb-" + uuid(9))["source_date"] == mtime.strftime("%Y-%m-%d")
    assert list(cb.ledger.columns) == LEDGER_COLUMNS
    # Data model v2 columns (money_type, stage, announced_total_usd) are optional in the schema
    # until the importers fill them (analysis.data.vendor_maps); every required column is written.
    required = {name for name, column in FundingRounds.columns.items() if column.required}
    assert required <= set(LEDGER_COLUMNS) <= set(FundingRounds.columns)


def test_crunchbase_cleaning_rules(cb):
    # Homonyms keep apart, with their permalinks, and are not mistaken for duplicates.
    assert {row_of(cb, "cb-" + uuid(11))["org_name"], row_of(cb, "cb-" + uuid(12))["org_name"]} == {
        "Nova AI (nova-ai)", "Nova AI (nova-ai-2)"}
    # A post-money valuation below the amount raised is dropped with a note.
    sensa = row_of(cb, "cb-" + uuid(8))
    assert pd.isna(sensa["post_money_valuation_usd"])
    assert "post-money valuation 20,000,000 below the amount raised" in sensa["notes"]
    # An investment type outside the Crunchbase enum is kept as undisclosed, noted.
    odd = row_of(cb, "cb-" + uuid(15))
    assert odd["investment_type"] == "undisclosed" and "'strategic_partnership'" in odd["notes"]
    assert cb.ledger["investment_type"].isin(INVESTMENT_TYPES).all()
    # Ordered by date, then company.
    assert cb.ledger["announced_on"].is_monotonic_increasing


def test_crunchbase_ai_filters():
    strict = import_crunchbase(CB / "funding_rounds.csv", CB / "organizations.csv", ai_filter="strict")
    # CodePilot has no AI category (only a keyword rule): out under "strict".
    assert "CodePilot" not in set(strict.companies["org_name"])
    assert strict.rows_kept == 10
    everything = import_crunchbase(CB / "funding_rounds.csv", CB / "organizations.csv", ai_filter="all")
    grocer = everything.companies.set_index("org_name").loc["Greenleaf Grocers"]
    assert (grocer["domain"], grocer["rule"]) == ("other_ai", "none")


def test_repeated_organization_rows_use_the_first_and_a_bom_is_ignored(tmp_path):
    lines = (CB / "organizations.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    helix_again = lines[1].replace('"Artificial Intelligence (AI),Drug Discovery"', "Robotics")
    (tmp_path / "organizations.csv").write_text("\ufeff" + "".join(lines + [helix_again]), encoding="utf-8")
    (tmp_path / "funding_rounds.csv").write_bytes(b"\xef\xbb\xbf" + (CB / "funding_rounds.csv").read_bytes())
    result = import_crunchbase(tmp_path / "funding_rounds.csv", tmp_path / "organizations.csv")
    helix = result.companies.set_index("org_name").loc["Helix Therapeutics AI"]
    assert (helix["domain"], helix["matched"]) == ("biology", "drug discovery")
    assert result.rows_kept == 11


def test_round_without_a_name_gets_a_title_from_type_and_company(tmp_path):
    rows = raw_csv(CB / "funding_rounds.csv")
    rows[0]["name"] = ""
    path = write_rows(tmp_path / "funding_rounds.csv", rows)
    result = import_crunchbase(path, CB / "organizations.csv")
    assert row_of(result, "cb-" + uuid(1))["source_title"] == "Crunchbase bulk export: seed - Helix Therapeutics AI"


def test_round_without_a_url_cites_its_organisation_else_is_dropped(tmp_path):
    rounds = raw_csv(CB / "funding_rounds.csv")
    orgs = raw_csv(CB / "organizations.csv")
    for row in rounds[:2]:             # both Helix rounds: no cb_url, no permalink
        row["cb_url"] = row["permalink"] = ""
    rounds[2]["cb_url"] = "not a url"  # Frontier Mind: a broken URL and no permalink
    rounds[2]["permalink"] = ""
    frontier = next(o for o in orgs if o["name"] == "Frontier Mind")
    frontier["cb_url"] = frontier["permalink"] = ""
    result = import_crunchbase(write_rows(tmp_path / "funding_rounds.csv", rounds),
                               write_rows(tmp_path / "organizations.csv", orgs))
    for n in (1, 2):
        assert row_of(result, "cb-" + uuid(n))["source_url"] == \
            "https://www.crunchbase.com/organization/helix-therapeutics-ai"
    assert not (result.ledger["round_id"] == "cb-" + uuid(3)).any()
    assert result.dropped["no source URL (no cb_url/permalink for round or organization)"] == 1
    assert result.rows_kept == 10


def test_a_repeated_round_id_is_dropped_once_and_counted(tmp_path):
    rounds = raw_csv(CB / "funding_rounds.csv")
    again = dict(rounds[3], uuid=rounds[3]["uuid"].upper(), raised_amount_usd="7000000")  # same id, other case
    result = import_crunchbase(write_rows(tmp_path / "funding_rounds.csv", rounds + [again]),
                               CB / "organizations.csv")
    assert result.dropped["repeated round id"] == 1
    assert result.rows_kept == 11                       # the first of the two is kept
    codepilot = row_of(result, "cb-" + uuid(4))
    assert pd.isna(codepilot["raised_amount_usd"])      # ... with its own (missing) amount


def test_lead_investor_uuids_resolve_to_names_in_order():
    keys, names = pa.array(["u1", "u2", "u3", "u4"]), pa.array(["Ada", "Bo", "Cy", None])
    raw = pa.array(["u1, u2", None, "zz", "", "u3,zz,u1", " u2 ", "u4", "u4,u1"])
    joined, unresolved = _resolve_names(raw, keys, names)
    # Order kept, blanks stripped, unknown uuids (zz) and nameless keys (u4) left out.
    assert joined.to_pylist() == ["Ada;Bo", None, None, None, "Cy;Ada", "Bo", None, "Ada"]
    assert unresolved == 2    # the two "zz"; u4 is a known key without a name


def test_same_ledger_whether_all_organisations_or_only_raisers_are_classified(cb, tmp_path):
    # With fewer organisations than rounds all are classified up front; with more (a full bulk
    # export), only those that raised a round. Twenty unrelated organisations switch paths.
    orgs = raw_csv(CB / "organizations.csv")
    extra = [dict(orgs[0], uuid=f"c0000000-0000-4000-8000-{n:012d}", name=f"Idle Co {n}", permalink=f"idle-{n}",
                  cb_url="") for n in range(20)]
    many = import_crunchbase(CB / "funding_rounds.csv", write_rows(tmp_path / "organizations.csv", orgs + extra))
    assert len(orgs) <= cb.rows_read < len(orgs) + len(extra)
    assert many.table.equals(cb.table)
    assert many.companies.equals(cb.companies)
    assert many.dropped.equals(cb.dropped) and many.adjusted.equals(cb.adjusted)


def test_crunchbase_country_codes_become_iso_alpha2_per_company_and_round(cb):
    countries = dict(zip(cb.companies["org_name"], cb.companies["country"]))
    assert countries["Frontier Mind"] == "GB" and countries["Nova AI (nova-ai-2)"] == "IL"
    frontier = cb.ledger[cb.ledger["org_name"] == "Frontier Mind"]
    assert set(frontier["country"]) == {"GB"}


def test_an_unknown_crunchbase_country_is_left_empty_and_counted(tmp_path):
    orgs = raw_csv(CB / "organizations.csv")
    next(o for o in orgs if o["name"] == "Frontier Mind")["country_code"] = "XYZ"
    result = import_crunchbase(CB / "funding_rounds.csv", write_rows(tmp_path / "organizations.csv", orgs))
    frontier = result.ledger[result.ledger["org_name"] == "Frontier Mind"]
    assert frontier["country"].isna().all()
    assert result.adjusted["company country missing or not a known country (left empty)"] == len(frontier)
