"""The money section's reader views: which money counts, deals by stage and region, flat and
down rounds."""

import pandas as pd
import pytest

from analysis.sections.funding import deal_view, down_round_view, money_type_view, year_label


def test_year_label_marks_only_the_partial_year():
    assert year_label(2026, "2026-08-21") == "2026 (to 2026-08-21)"
    assert year_label(2025, "2026-08-21") == "2025"
    assert year_label(2025, "2025-12-31") == "2025"


def test_money_type_view_in_billions_with_the_headline_first():
    by_type = pd.DataFrame({"secondary_usd": [2e9], "new_money_usd": [5.5e9], "commitments_usd": [1e9],
                            "equity_cash_usd": [5e9]}, index=pd.PeriodIndex(["2025"], freq="Y"))
    view = money_type_view(by_type, "2025-12-31")
    assert list(view.columns) == ["Year", "New money (USD bn)", "Committed, not reported paid (USD bn)",
                                  "Secondary sales (USD bn)"]
    assert view.iloc[0].tolist() == ["2025", pytest.approx(5.5), pytest.approx(1.0), pytest.approx(2.0)]


def test_deal_view_orders_groups_by_the_vocabulary_and_keeps_the_last_years():
    idx = pd.MultiIndex.from_tuples(
        [(pd.Period(y, "Y"), s) for y in ("2022", "2023", "2024") for s in ("late", "seed")] + [
            (pd.Period("2024", "Y"), "mystery")], names=["period", "stage"])
    deals = pd.DataFrame({"deals": [1, 2, 3, 4, 5, 6, 7], "median_usd": [1e8, None, 2e8, 3e6, 4e8, 5e6, 1e6]},
                         index=idx)
    view = deal_view(deals, "2024-06-30", years=2)
    assert list(view.columns) == ["Stage", "2023", "2024 (to 2024-06-30)"]
    assert view["Stage"].tolist() == ["seed", "late", "mystery"]
    assert view.set_index("Stage").loc["late", "2023"] == "3 (200)"
    assert view.set_index("Stage").loc["mystery", "2023"] == "0"


def test_down_round_view_lists_only_flat_and_down_rounds_newest_first():
    down = pd.DataFrame({
        "org_name": ["A", "B", "C"], "domain": ["robotics"] * 3,
        "first_date": pd.to_datetime(["2021-01-01", "2022-01-01", "2023-01-01"]),
        "second_date": pd.to_datetime(["2022-01-01", "2024-01-01", "2025-01-01"]),
        "first_post_usd": [1e9, 2e9, 3e9], "second_value_usd": [5e8, 2e9, 9e9],
        "value_ratio": [0.5, 1.0, 3.0], "kind": ["down", "flat", "up"]})
    view = down_round_view(down)
    assert view["Company"].tolist() == ["B", "A"]
    assert view["Change"].tolist() == pytest.approx([0.0, -0.5])


def test_coverage_table_reads_years_as_years_and_states_the_target():
    from types import SimpleNamespace

    from analysis.sections.spending import coverage_table
    from analysis.tables import reader_frame

    ratios = pd.DataFrame({"year": [2021, 2021, 2022], "publisher": ["AI Index", "PitchBook", "AI Index"],
                           "coverage": [0.18, 0.25, 0.07]})
    targets = pd.DataFrame({"year": [2021, 2022], "target": [0.2, 0.3], "against": ["AI Index", "AI Index"],
                            "coverage": [0.18, 0.29996], "met": [False, False]})
    shown = reader_frame(coverage_table(SimpleNamespace(ratios=ratios), targets))
    assert shown["Year"].tolist() == ["2021", "2022"]
    assert shown.loc[0, "Target"] == "20% of AI Index"
    assert shown.loc[0, "Reached"] == "18.0% (not met)"
    assert shown.loc[1, "Reached"] == "29.9% (not met)"   # just under the target never reads as reaching it
    assert shown.loc[1, "PitchBook"] == ""


def test_down_round_view_of_a_ledger_without_priced_follow_ons_is_empty():
    # what deals.down_rounds returns when no company has two priced rounds: a kind column, no rows
    down = pd.DataFrame({"kind": pd.Series(dtype=str)})
    view = down_round_view(down)
    assert view.empty and view.columns[0] == "Company"


def test_largest_rounds_show_investor_lists_with_one_separator():
    from analysis.data.ledger import load_ledger
    from analysis.sections.funding import largest_recent_rounds

    table = largest_recent_rounds(load_ledger(), "2026-06-30", n=40)
    leads = table["Lead investors"]
    assert leads.str.contains(";").any()          # the bundled ledger has multi-lead rounds
    assert not leads.str.contains(r";\S|\s;", regex=True).any()
