"""Data model v2 checks (analysis.data.datamodel) on small frames with known problems, and the
bundled data passing them."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.data import datamodel as DM
from analysis.data.ledger import load_ledger, validate_files


def _rounds(rows):
    cols = ["round_id", "org_name", "investment_type", "money_type", "stage", "announced_on", "raised_amount_usd",
            "announced_total_usd"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["announced_on"] = pd.to_datetime(frame["announced_on"])
    return frame


def test_split_parts_must_sum_to_the_announced_total_within_one_percent():
    ok = _rounds([("a--cash", "A", "series_b", "equity_cash", "early", "2025-01-01", 99.5e6, 100e6),
                  ("a--tranche", "A", "series_b", "committed_tranche", "early", "2025-01-01", 0.0, 100e6)])
    assert DM.check_rounds(ok, "f.csv") == []
    bad = ok.assign(raised_amount_usd=[98e6, 0.0])  # 2% short
    problems = DM.check_rounds(bad, "f.csv")
    assert len(problems) == 1 and problems[0].line == 2 and "sum to 98,000,000" in problems[0].rule


def test_split_rules_on_totals_parts_and_paid_tranches():
    rows = _rounds([("b", "B", "seed", "equity_cash", "seed", "2025-01-01", 1e6, 1e6),             # total on unsplit
                    ("c--cash", "C", "seed", "equity_cash", "seed", "2025-01-01", 1e6, None),      # part w/o total
                    ("d--cash", "D", "seed", "equity_cash", "seed", "2025-01-01", 1e6, 1e6),       # single part
                    ("e--cash", "E", "seed", "equity_cash", "seed", "2025-01-01", 1e6, 2e6),
                    ("e--tranche-paid-2025-06", "E", "seed", "committed_tranche", "seed", "2025-06-01", 1e6, 2e6)])
    rules = {(p.line, p.rule.split(" (")[0]) for p in DM.check_rounds(rows, "f.csv")}
    assert (2, "only the parts of a split round carry announced_total_usd") in rules
    assert (3, "a split round's part needs the round's announced total") in rules
    assert (4, "a split round needs at least two parts") in rules
    assert (6, "a tranche reported paid is equity_cash") in rules
    assert len(rules) == 4


def test_a_ledger_without_v2_columns_is_a_problem_only_when_v2_is_required():
    old = _rounds([]).drop(columns=["money_type", "stage", "announced_total_usd"])
    assert {p.column for p in DM.check_rounds(old, "f.csv")} == {"money_type", "stage", "announced_total_usd"}
    assert DM.check_rounds(old, "f.csv", require_v2=False) == []


def test_new_money_is_cash_and_convertibles_of_unlisted_companies():
    rounds = _rounds([("a", "A", "series_b", "equity_cash", "early", "2025-01-01", 1, None),
                      ("b", "B", "convertible_note", "convertible", "other", "2025-01-01", 1, None),
                      ("c", "C", "post_ipo_equity", "equity_cash", "post_ipo", "2025-01-01", 1, None),
                      ("d", "D", "series_b", "committed_tranche", "early", "2025-01-01", 1, None),
                      ("e", "E", "grant", "grant", "other", "2025-01-01", 1, None),
                      ("f--compute", "F", "corporate_round", "in_kind_compute", "strategic", "2025-01-01", 1, 2)])
    out = DM.derive_round_columns(rounds)
    assert list(out["new_money"]) == [True, True, False, False, False, False]
    assert list(out["commitment"]) == [False, False, False, True, False, False]
    assert list(out["announced_money"]) == [True, True, False, True, False, True]
    assert out["round_base"].iloc[-1] == "f"


def test_every_cited_publisher_must_be_classified_with_file_and_line():
    publishers = pd.DataFrame({"publisher": ["Reuters"], "tier": ["tier1"], "outlet": ["Reuters"], "notes": [None]})
    frames = {"funding_rounds": pd.DataFrame({"source_publisher": ["Reuters", "Some Blog"]})}
    problems = DM.check_publishers(frames, publishers, {"funding_rounds": "data/funding_rounds.csv"})
    assert [(p.file, p.line, p.value) for p in problems] == [("data/funding_rounds.csv", 3, "Some Blog")]


def test_revenue_published_after_its_page_or_unconverted_is_flagged():
    lab = pd.DataFrame({
        "company": ["A", "B", "C"], "metric": ["annualized_run_rate"] * 3, "value_usd": [1e6, 4.9e6, None],
        "value": [None, 4e6, 3e6], "currency": [None, "EUR", "EUR"],
        "as_of_date": pd.to_datetime(["2025-01-31", "2024-06-20", "2025-09-09"]),
        "published_on": pd.to_datetime(["2025-03-01", "2024-06-21", "2025-09-10"]),
        "source_date": pd.to_datetime(["2025-02-01", "2024-07-01", "2025-09-10"])})
    rates = pd.DataFrame({"currency": ["EUR"], "date": pd.to_datetime(["2024-06-20"]), "rate": [1.25],
                          "quote": ["usd_per_unit"], "usd_per_unit": [1.25]})
    problems = DM.check_lab_financials(lab, rates, "lab.csv")
    assert {(p.line, p.column) for p in problems} == {(2, "published_on"), (3, "value_usd")}
    assert "should be 5,000,000" in [p for p in problems if p.line == 3][0].rule


def test_companies_need_a_country_or_a_stated_reason_and_a_domain_rule():
    companies = pd.DataFrame({"name": ["A", "B", "C"], "country": ["US", None, None],
                              "notes": ["domain rule: x", "domain rule: y; country unknown: no page says", "plain"]})
    regions = pd.DataFrame({"country": ["US"], "region": ["US"], "name": ["United States"]})
    problems = DM.check_companies(companies, regions, "c.csv")
    assert {(p.line, p.column) for p in problems} == {(4, "country"), (4, "notes")}


def test_relationship_investors_and_companies_must_exist():
    rel = pd.DataFrame({"investor": ["Alphabet", "Nobody"], "company": ["Waymo", "Waymo"],
                        "relationship": ["parent", "parent"], "from_date": pd.to_datetime(["2020-01-01", "2030-01-01"]),
                        "to_date": [pd.NaT, pd.NaT], "source_date": pd.to_datetime(["2021-01-01", "2021-01-01"])})
    investors = pd.DataFrame({"name": ["alphabet"]})
    companies = pd.DataFrame({"name": ["Waymo"]})
    problems = DM.check_relationships(rel, investors, companies, "r.csv")
    assert {(p.line, p.column) for p in problems} == {(3, "investor"), (3, "from_date")}


def test_bundled_data_passes_every_check_and_loads_with_v2_columns():
    assert validate_files() == []
    rounds = load_ledger().rounds
    assert {"money_type", "stage", "new_money", "commitment", "announced_money", "region"} <= set(rounds.columns)
    # Split rounds sum to their announced totals (the validator's rule, recomputed here).
    parts = rounds[rounds["announced_total_usd"].notna()]
    sums = parts.groupby("round_base").agg(total=("announced_total_usd", "first"), got=("raised_amount_usd", "sum"))
    assert ((sums["got"] - sums["total"]).abs() <= 0.01 * sums["total"]).all() and len(sums) >= 10


@pytest.mark.parametrize("round_id, money", [
    ("scale-ai-2025-06-13-corporate-round", "secondary"),
    ("openai-2026-02-27-series-unknown--tranche", "committed_tranche"),
    ("anthropic-2023-09-25-corporate-round--tranche-paid-2024-03", "equity_cash"),
    ("sandboxaq-2026-06-17-grant", "grant"),
])
def test_bundled_reclassified_rows(round_id, money):
    rounds = load_ledger().rounds.set_index("round_id")
    assert rounds.at[round_id, "money_type"] == money
    assert not rounds.at[round_id, "new_money"] or money == "equity_cash"


def test_the_company_table_country_wins_and_an_imported_round_country_fills_the_rest():
    rounds = _rounds([("a", "A", "series_b", "equity_cash", "early", "2025-01-01", 1, None),
                      ("b", "B", "series_b", "equity_cash", "early", "2025-01-01", 1, None),
                      ("c", "C", "series_b", "equity_cash", "early", "2025-01-01", 1, None)])
    rounds["country"] = ["DE", "FR", None]          # what an importer read from the vendor
    companies = pd.DataFrame({"name": ["A", "C"], "country": ["US", None]})
    regions = pd.DataFrame({"country": ["US", "FR", "DE"], "region": ["US", "Europe", "Europe"]})
    out = DM.derive_round_columns(rounds, companies, regions)
    assert list(out["country"]) == ["US", "FR", None]
    assert list(out["region"].fillna("unknown")) == ["US", "Europe", "unknown"]
    # Without a company table the rounds' own countries stand.
    assert list(DM.derive_round_columns(rounds, None, regions)["country"]) == ["DE", "FR", None]
