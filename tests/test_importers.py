"""Bring-your-own-data importers on hand-written Crunchbase and PitchBook exports.

The fixtures in tests/fixtures/crunchbase and tests/fixtures/pitchbook are small enough to check
by eye; the expected domain and rule of every company are written out here.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from analysis.cli import data as import_cli
from analysis.data.importers import (
    LEDGER_COLUMNS, PITCHBOOK_DEAL_TYPES, _resolve_names, import_crunchbase, import_pitchbook, write_ledger)
from analysis.data.ledger import load_ledger, read_table
from analysis.data.schemas import INVESTMENT_TYPES, FundingRounds
from analysis.errors import AIBubbleError, DataValidationError

FIXTURES = Path(__file__).parent / "fixtures"
CB = FIXTURES / "crunchbase"
PB = FIXTURES / "pitchbook"


def _uuid(n: int) -> str:
    return f"b0000000-0000-4000-8000-{n:012d}"


@pytest.fixture(scope="module")
def cb():
    return import_crunchbase(CB / "funding_rounds.csv", CB / "organizations.csv")


@pytest.fixture(scope="module")
def pb():
    return import_pitchbook(PB / "deals.csv")


def _row(result, round_id: str) -> pd.Series:
    rows = result.ledger[result.ledger["round_id"] == round_id]
    assert len(rows) == 1, round_id
    return rows.iloc[0]


def _raw_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# --- Crunchbase -----------------------------------------------------------------------------


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
    year_only = _row(cb, "cb-" + _uuid(2))
    assert year_only["announced_on"] == "2022-01-01"
    assert "announced_on given as '2022' (year only); set to 2022-01-01" in year_only["notes"]
    year_month = _row(cb, "cb-" + _uuid(3))
    assert year_month["announced_on"] == "2024-05-01"
    assert "'2024-05' (year-month)" in year_month["notes"]
    assert cb.adjusted["announced_on given as year only; set to the period's first day"] == 1


def test_crunchbase_missing_amounts_stay_empty_and_amounts_are_plain_numbers(cb, tmp_path):
    out = write_ledger(cb.ledger, tmp_path / "imported.csv")
    raw = {r["round_id"]: r for r in _raw_csv(out)}
    codepilot = raw["cb-" + _uuid(4)]
    assert codepilot["raised_amount_usd"] == codepilot["raised_amount"] == ""
    assert codepilot["raised_amount_currency"] == ""
    assert raw["cb-" + _uuid(9)]["raised_amount_usd"] == "2000000"      # "2,000,000" in the export
    roboworks = raw["cb-" + _uuid(5)]
    assert (roboworks["raised_amount_usd"], roboworks["raised_amount"], roboworks["raised_amount_currency"]) == (
        "100000000", "92000000", "EUR")
    assert raw["cb-" + _uuid(3)]["post_money_valuation_usd"] == "4000000000"
    loaded = load_ledger(out).rounds.set_index("round_id")
    assert np.isnan(loaded.loc["cb-" + _uuid(4), "raised_amount_usd"])


def test_crunchbase_comma_lists(cb, tmp_path):
    # category lists with and without spaces after the comma both classify (Helix, Frontier Mind);
    # lead_investor_uuids "a, b" become "Sequoia Capital;Lux Ventures".
    assert _row(cb, "cb-" + _uuid(3))["lead_investors"] == "Sequoia Capital;Lux Ventures"
    assert _row(cb, "cb-" + _uuid(1))["lead_investors"] == "Sequoia Capital"
    # Quiet Labs' lead is a person missing from organizations.csv: left out and counted ...
    assert pd.isna(_row(cb, "cb-" + _uuid(9))["lead_investors"])
    assert cb.adjusted["lead investor uuids not found (left out)"] == 1
    # ... unless investors.csv names them.
    with_investors = import_crunchbase(CB / "funding_rounds.csv", CB / "organizations.csv",
                                       investors=CB / "investors.csv")
    assert _row(with_investors, "cb-" + _uuid(9))["lead_investors"] == "Ada Angel"
    assert "lead investor uuids not found (left out)" not in with_investors.adjusted


def test_crunchbase_provenance_columns(cb):
    helix = _row(cb, "cb-" + _uuid(1))
    assert helix["source_url"] == "https://www.crunchbase.com/funding_round/seed-round-helix--b0000001"
    assert helix["source_title"] == "Crunchbase bulk export: Seed Round - Helix Therapeutics AI"
    assert helix["source_publisher"] == "Crunchbase (user export)"
    assert helix["source_date"] == "2024-12-01"            # the round's updated_at
    assert helix["confidence"] == "reported"
    # No cb_url for the round: its Crunchbase URL is built from the permalink.
    assert _row(cb, "cb-" + _uuid(10))["source_url"] == "https://www.crunchbase.com/funding_round/clipforge-series-a"
    # No updated_at: the export file's modification date.
    mtime = dt.datetime.fromtimestamp((CB / "funding_rounds.csv").stat().st_mtime, tz=dt.timezone.utc)
    assert _row(cb, "cb-" + _uuid(9))["source_date"] == mtime.strftime("%Y-%m-%d")
    assert list(cb.ledger.columns) == LEDGER_COLUMNS
    assert set(LEDGER_COLUMNS) == set(FundingRounds.to_schema().columns)


def test_crunchbase_cleaning_rules(cb):
    # Homonyms keep apart, with their permalinks, and are not mistaken for duplicates.
    assert {_row(cb, "cb-" + _uuid(11))["org_name"], _row(cb, "cb-" + _uuid(12))["org_name"]} == {
        "Nova AI (nova-ai)", "Nova AI (nova-ai-2)"}
    # A post-money valuation below the amount raised is dropped with a note.
    sensa = _row(cb, "cb-" + _uuid(8))
    assert pd.isna(sensa["post_money_valuation_usd"])
    assert "post-money valuation 20,000,000 below the amount raised" in sensa["notes"]
    # An investment type outside the Crunchbase enum is kept as undisclosed, noted.
    odd = _row(cb, "cb-" + _uuid(15))
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


# --- PitchBook ------------------------------------------------------------------------------


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
    series_a = _row(pb, "pb-10001-01t")
    assert series_a["investment_type"] == "series_a"
    assert series_a["raised_amount_usd"] == "25500000"     # 25.5 USD millions
    assert "pre-money $100,000,000" in series_a["notes"]
    assert pd.isna(series_a["post_money_valuation_usd"])
    assert series_a["lead_investors"] == "Lux Capital" and series_a["other_investors"] == "Khosla Ventures"
    series_b = _row(pb, "pb-10002-02t")
    assert (series_b["investment_type"], series_b["announced_on"], series_b["post_money_valuation_usd"]) == (
        "series_b", "2025-06-30", "600000000")                  # M/D/YYYY date
    assert series_b["lead_investors"] == "Thrive Capital;Lux Capital"
    assert series_b["other_investors"] == "General Catalyst"
    assert _row(pb, "pb-10003-03t")[["investment_type", "announced_on"]].tolist() == ["seed", "2024-01-15"]
    corporate = _row(pb, "pb-10004-04t")
    assert corporate[["investment_type", "announced_on"]].tolist() == ["corporate_round", "2023-01-01"]
    assert pd.isna(corporate["raised_amount_usd"])
    assert _row(pb, "pb-10007-07t")["investment_type"] == "secondary_market"
    accel = _row(pb, "pb-10009-09t")
    assert accel[["investment_type", "raised_amount_usd", "announced_on"]].tolist() == [
        "pre_seed", "120000", "2021-05-01"]
    odd = _row(pb, "pb-10010-10t")
    assert odd["investment_type"] == "undisclosed" and "'Crowd Sale Special'" in odd["notes"]
    assert odd["source_url"] == "https://my.pitchbook.com/profile/10010-10T/deal/profile"
    assert odd["source_publisher"] == "PitchBook (user export)"


def test_pitchbook_deal_type_mapping_targets_the_ledger_vocabulary():
    assert {v for v in PITCHBOOK_DEAL_TYPES.values() if v is not None} <= set(INVESTMENT_TYPES)


def test_pitchbook_human_headers_and_usd_unit(tmp_path):
    result = import_pitchbook(PB / "human_headers_deals.csv")
    parley = _row(result, "pb-20001-01t")
    assert parley[["raised_amount_usd", "post_money_valuation_usd", "lead_investors", "other_investors"]].tolist() == [
        "4000000", "20000000", "Y Combinator", "SV Angel"]
    assert _row(result, "pb-20002-02t")["investment_type"] == "series_a"
    in_usd = import_pitchbook(PB / "human_headers_deals.csv", deal_size_unit="usd")
    assert _row(in_usd, "pb-20002-02t")["raised_amount_usd"] == "12.5"


# --- malformed exports ----------------------------------------------------------------------


MALFORMED = [
    # (importer kwargs, file shown in the message, line, column, rule fragment)
    ({"funding_rounds": CB / "ragged_funding_rounds.csv"}, "ragged_funding_rounds.csv", 5, None,
     "expected 24 fields, found 25"),
    ({"funding_rounds": CB / "missing_column_funding_rounds.csv"}, "missing_column_funding_rounds.csv", 1,
     "announced_on", "required column is missing"),
    ({"funding_rounds": CB / "bad_date_funding_rounds.csv"}, "bad_date_funding_rounds.csv", 5, "announced_on",
     "not a date"),
    ({"funding_rounds": CB / "negative_amount_funding_rounds.csv"}, "negative_amount_funding_rounds.csv", 3,
     "raised_amount_usd", "negative amount"),
    ({"deals": PB / "ragged_deals.csv"}, "ragged_deals.csv", 3, None, "expected 15 fields, found 13"),
    ({"deals": PB / "missing_column_deals.csv"}, "missing_column_deals.csv", 1, "DEAL_DATE",
     "required column is missing"),
    ({"deals": PB / "bad_date_deals.csv"}, "bad_date_deals.csv", 4, "DEAL_DATE", "not a date"),
    ({"deals": PB / "negative_amount_deals.csv"}, "negative_amount_deals.csv", 3, "DEAL_SIZE", "negative amount"),
]


def _run_import(kwargs):
    if "deals" in kwargs:
        return import_pitchbook(kwargs["deals"])
    return import_crunchbase(kwargs["funding_rounds"], CB / "organizations.csv")


@pytest.mark.parametrize("kwargs, name, line, column, rule", MALFORMED, ids=[m[1] for m in MALFORMED])
def test_malformed_exports_name_file_line_and_column(kwargs, name, line, column, rule):
    with pytest.raises(DataValidationError) as info:
        _run_import(kwargs)
    problem = info.value.problems[0]
    assert len(info.value.problems) == 1
    assert (Path(problem.file).name, problem.line, problem.column) == (name, line, column)
    assert rule in problem.rule
    text = str(problem)
    assert f"{name}:{line}" in text and (column is None or f"column {column}" in text)


def test_bad_values_are_all_reported_with_the_offending_value(tmp_path):
    rows = _raw_csv(CB / "funding_rounds.csv")
    rows[0]["announced_on"] = "15/03/2021"
    rows[2]["raised_amount_usd"] = "lots"
    rows[4]["raised_amount_currency_code"] = "EURO"
    path = tmp_path / "funding_rounds.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(DataValidationError) as info:
        import_crunchbase(path, CB / "organizations.csv")
    found = {(p.line, p.column, p.value) for p in info.value.problems}
    assert found == {(2, "announced_on", "15/03/2021"), (4, "raised_amount_usd", "lots"),
                     (6, "raised_amount_currency_code", "EURO")}


def test_empty_missing_and_non_utf8_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    latin = tmp_path / "latin.csv"
    latin.write_bytes((CB / "funding_rounds.csv").read_bytes().replace(b"Helix Therapeutics AI,a0",
                                                                        b"H\xe9lix Therapeutics AI,a0", 1))
    for path, fragment in ((empty, "file is empty"), (tmp_path / "nope.csv", "file not found"),
                           (latin, "not UTF-8")):
        with pytest.raises(DataValidationError, match=fragment):
            import_crunchbase(path, CB / "organizations.csv")


# --- writing and the CLI --------------------------------------------------------------------


def test_written_ledger_reads_back_to_the_same_strings(cb, tmp_path):
    tricky = cb.ledger.copy()
    tricky.loc[0, "notes"] = 'quote " and, comma\nand newline'
    tricky.loc[1, "source_title"] = "Crunchbase bulk export: Series A, extended"
    tricky.loc[2, "org_name"] = '"Quoted" Co'
    tricky.loc[3, "notes"] = "caf\u00e9 \u2013 na\u00efve"
    out = write_ledger(tricky, tmp_path / "tricky.csv")
    back = pd.read_csv(out, dtype=str, keep_default_na=False, na_values=[""])
    assert list(back.columns) == LEDGER_COLUMNS
    expected = tricky[LEDGER_COLUMNS].astype(object).where(tricky[LEDGER_COLUMNS].notna(), None)
    assert back.astype(object).where(back.notna(), None).values.tolist() == expected.values.tolist()
    # The standard library's reader agrees (quoted fields, doubled quotes, embedded newline).
    rows = _raw_csv(out)
    assert rows[0]["notes"] == 'quote " and, comma\nand newline'
    assert rows[2]["org_name"] == '"Quoted" Co'
    assert rows[0]["other_investors"] == ""   # missing values are empty fields
    # The CLI writes the Arrow table behind the DataFrame: byte for byte the same file.
    a, b = write_ledger(cb.table, tmp_path / "a.csv"), write_ledger(cb.ledger, tmp_path / "b.csv")
    assert a.read_bytes() == b.read_bytes()


def test_write_is_atomic_and_refuses_to_overwrite(cb, tmp_path, monkeypatch):
    out = tmp_path / "ledger.csv"
    out.write_text("precious\n")
    with pytest.raises(AIBubbleError, match="already exists"):
        write_ledger(cb.ledger, out)

    def boom(table, sink, *args, **kwargs):
        sink.write(b"round_id,org_name\ncb-1,Half wr")   # a partial write, then the disk fills up
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("analysis.data.importers.pacsv.write_csv", boom)
    with pytest.raises(AIBubbleError, match="No space left"):
        write_ledger(cb.ledger, out, overwrite=True)
    assert out.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.csv"]   # no temp file left behind


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aibubble")
    parser.add_argument("--debug", action="store_true")
    import_cli.add_import_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def _cli(argv: list[str]) -> int:
    """What analysis.cli.main does around a handler: AIBubbleError -> message + exit code."""
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except DataValidationError as exc:
        for problem in exc.problems:
            print(f"error: {problem}")
        return exc.exit_code
    except AIBubbleError as exc:
        print(f"error: {exc}")
        return exc.exit_code


def test_cli_crunchbase_success_prints_summary_and_writes_report(tmp_path, capsys):
    out, report = tmp_path / "ledger.csv", tmp_path / "classification.csv"
    code = _cli(["import", "crunchbase", "--funding-rounds", str(CB / "funding_rounds.csv"),
                 "--organizations", str(CB / "organizations.csv"), "--out", str(out), "--report", str(report)])
    printed = capsys.readouterr().out
    assert code == 0
    for fragment in ("rows read          15", "rows kept          11", "other_ai (no domain rule fired): 1 companies",
                     "not an AI company: 1", "wrote ledger.csv (11 rounds)"):
        assert fragment in printed, printed
    assert len(load_ledger(out).rounds) == 11
    assert pd.read_csv(report)[["org_name", "domain", "rule"]].shape == (9, 3)
    # A report named companies.csv beside the ledger would be read back as its companies table.
    assert _cli(["import", "crunchbase", "--funding-rounds", str(CB / "funding_rounds.csv"),
                 "--organizations", str(CB / "organizations.csv"), "--out", str(tmp_path / "other.csv"),
                 "--report", str(tmp_path / "companies.csv")]) == 1
    assert "choose another name" in capsys.readouterr().out


def test_cli_pitchbook_success(tmp_path, capsys):
    out = tmp_path / "pb.csv"
    assert _cli(["import", "pitchbook", "--deals", str(PB / "deals.csv"), "--out", str(out)]) == 0
    assert "rows kept           7" in capsys.readouterr().out
    assert len(read_table(out, "funding_rounds")) == 7


def test_cli_errors_exit_non_zero_without_traceback_and_leave_no_file(tmp_path, capsys):
    out = tmp_path / "ledger.csv"
    code = _cli(["import", "crunchbase", "--funding-rounds", str(CB / "bad_date_funding_rounds.csv"),
                 "--organizations", str(CB / "organizations.csv"), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 1
    assert "bad_date_funding_rounds.csv:5: column announced_on value '2024-13-45': not a date" in printed
    assert "Traceback" not in printed
    assert list(tmp_path.iterdir()) == []
    # An existing ledger is not replaced without --force, and a failed --force import keeps it.
    out.write_text("keep me\n")
    assert _cli(["import", "pitchbook", "--deals", str(PB / "deals.csv"), "--out", str(out)]) == 1
    assert "already exists; pass --force" in capsys.readouterr().out
    assert _cli(["import", "pitchbook", "--deals", str(PB / "ragged_deals.csv"), "--out", str(out), "--force"]) == 1
    assert out.read_text() == "keep me\n"


def test_aibubble_main_matches_cli_exit_codes(tmp_path, capsys):
    from analysis.cli import main

    out = tmp_path / "ledger.csv"
    assert main(["import", "pitchbook", "--deals", str(PB / "deals.csv"), "--out", str(out)]) == 0
    assert main(["import", "pitchbook", "--deals", str(PB / "missing_column_deals.csv"),
                 "--out", str(tmp_path / "x.csv")]) == 1
    assert "missing_column_deals.csv:1: column DEAL_DATE: required column is missing" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:   # argparse: a required option missing
        main(["import", "crunchbase", "--out", str(out)])
    assert info.value.code == 2


def test_repeated_organization_rows_use_the_first_and_a_bom_is_ignored(tmp_path):
    lines = (CB / "organizations.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    helix_again = lines[1].replace('"Artificial Intelligence (AI),Drug Discovery"', "Robotics")
    (tmp_path / "organizations.csv").write_text("\ufeff" + "".join(lines + [helix_again]), encoding="utf-8")
    (tmp_path / "funding_rounds.csv").write_bytes(b"\xef\xbb\xbf" + (CB / "funding_rounds.csv").read_bytes())
    result = import_crunchbase(tmp_path / "funding_rounds.csv", tmp_path / "organizations.csv")
    helix = result.companies.set_index("org_name").loc["Helix Therapeutics AI"]
    assert (helix["domain"], helix["matched"]) == ("biology", "drug discovery")
    assert result.rows_kept == 11


def test_an_empty_round_id_is_an_error(tmp_path):
    text = (PB / "deals.csv").read_text(encoding="utf-8").replace("10003-03T,", ",", 1)
    (tmp_path / "deals.csv").write_text(text, encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        import_pitchbook(tmp_path / "deals.csv")
    assert [(p.line, p.column) for p in info.value.problems] == [(4, "DEAL_ID")]


def test_round_without_a_name_gets_a_title_from_type_and_company(tmp_path):
    rows = _raw_csv(CB / "funding_rounds.csv")
    rows[0]["name"] = ""
    path = tmp_path / "funding_rounds.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    result = import_crunchbase(path, CB / "organizations.csv")
    assert _row(result, "cb-" + _uuid(1))["source_title"] == "Crunchbase bulk export: seed - Helix Therapeutics AI"


def _write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_round_without_a_url_cites_its_organisation_else_is_dropped(tmp_path):
    rounds = _raw_csv(CB / "funding_rounds.csv")
    orgs = _raw_csv(CB / "organizations.csv")
    for row in rounds[:2]:             # both Helix rounds: no cb_url, no permalink
        row["cb_url"] = row["permalink"] = ""
    rounds[2]["cb_url"] = "not a url"  # Frontier Mind: a broken URL and no permalink
    rounds[2]["permalink"] = ""
    frontier = next(o for o in orgs if o["name"] == "Frontier Mind")
    frontier["cb_url"] = frontier["permalink"] = ""
    result = import_crunchbase(_write_rows(tmp_path / "funding_rounds.csv", rounds),
                               _write_rows(tmp_path / "organizations.csv", orgs))
    for n in (1, 2):
        assert _row(result, "cb-" + _uuid(n))["source_url"] == \
            "https://www.crunchbase.com/organization/helix-therapeutics-ai"
    assert not (result.ledger["round_id"] == "cb-" + _uuid(3)).any()
    assert result.dropped["no source URL (no cb_url/permalink for round or organization)"] == 1
    assert result.rows_kept == 10


def test_a_repeated_round_id_is_dropped_once_and_counted(tmp_path):
    rounds = _raw_csv(CB / "funding_rounds.csv")
    again = dict(rounds[3], uuid=rounds[3]["uuid"].upper(), raised_amount_usd="7000000")  # same id, other case
    result = import_crunchbase(_write_rows(tmp_path / "funding_rounds.csv", rounds + [again]),
                               CB / "organizations.csv")
    assert result.dropped["repeated round id"] == 1
    assert result.rows_kept == 11                       # the first of the two is kept
    codepilot = _row(result, "cb-" + _uuid(4))
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
    orgs = _raw_csv(CB / "organizations.csv")
    extra = [dict(orgs[0], uuid=f"c0000000-0000-4000-8000-{n:012d}", name=f"Idle Co {n}", permalink=f"idle-{n}",
                  cb_url="") for n in range(20)]
    many = import_crunchbase(CB / "funding_rounds.csv", _write_rows(tmp_path / "organizations.csv", orgs + extra))
    assert len(orgs) <= cb.rows_read < len(orgs) + len(extra)
    assert many.table.equals(cb.table)
    assert many.companies.equals(cb.companies)
    assert many.dropped.equals(cb.dropped) and many.adjusted.equals(cb.adjusted)
