"""Deal tables, down rounds and supplier financing without parents (analysis.deals)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import deals as D
from analysis.data.datamodel import derive_round_columns


def _rounds(rows):
    cols = ["round_id", "org_name", "investment_type", "money_type", "stage", "announced_on", "raised_amount_usd",
            "announced_total_usd", "post_money_valuation_usd", "lead_investors", "other_investors"]
    f = pd.DataFrame(rows, columns=cols)
    f["announced_on"] = pd.to_datetime(f["announced_on"])
    f = derive_round_columns(f)
    return f.assign(effective_domain="autonomous_vehicles", region="US")


ROUNDS = _rounds([
    ("w1", "Waymo", "series_unknown", "equity_cash", "growth", "2024-10-25", 100.0, None, None, "Alphabet", "GV"),
    ("c1", "Cruise", "corporate_round", "equity_cash", "strategic", "2024-05-01", 50.0, None, None, "Microsoft", None),
    ("x1", "X", "series_a", "equity_cash", "early", "2024-03-01", 50.0, None, 100.0, "VC", "Nvidia"),
    ("x2--cash", "X", "series_b", "equity_cash", "early", "2025-03-01", 30.0, 40.0, 120.0, "VC", None),
    ("x2--tranche", "X", "series_b", "committed_tranche", "early", "2025-03-01", 10.0, 40.0, None, "VC", None),
])
INVESTORS = pd.DataFrame({"name": ["Alphabet", "GV", "Microsoft", "Nvidia", "VC"],
                          "investor_type": ["corporate_cloud", "corporate_cloud", "corporate_cloud", "corporate_chip", "vc"]})
PARENT = pd.DataFrame({"investor": ["Alphabet", "GV"], "company": ["Waymo", "Waymo"], "relationship": ["parent"] * 2,
                       "from_date": [pd.NaT, pd.NaT], "to_date": [pd.NaT, pd.NaT]})


def test_parents_are_not_suppliers():
    with_parents = D.supplier_financed(ROUNDS, INVESTORS, None).table.loc[pd.Period("2024", "Y")]
    without = D.supplier_financed(ROUNDS, INVESTORS, PARENT).table.loc[pd.Period("2024", "Y")]
    # 2024 new money 200: Waymo 100 (Alphabet-led), Cruise 50 (Microsoft-led), X 50 (Nvidia joined)
    assert with_parents["supplier_led_share"] == pytest.approx(150 / 200)
    assert with_parents["supplier_participation_share"] == pytest.approx(200 / 200)
    assert without["supplier_led_share"] == pytest.approx(50 / 200)
    assert without["supplier_participation_share"] == pytest.approx(100 / 200)


def test_a_parent_relationship_only_counts_while_it_lasts():
    ended = PARENT.assign(to_date=pd.Timestamp("2024-01-01"))
    row = D.supplier_financed(ROUNDS, INVESTORS, ended).table.loc[pd.Period("2024", "Y")]
    assert row["supplier_led_share"] == pytest.approx(150 / 200)


def test_money_by_type_keeps_commitments_beside_the_headline():
    table = D.money_by_type(ROUNDS).table
    y25 = table.loc[pd.Period("2025", "Y")]
    assert y25["new_money_usd"] == 30 and y25["commitments_usd"] == 10 and y25["committed_tranche_rows"] == 1


def test_deal_table_counts_a_split_round_once_with_its_whole_size():
    table = D.deal_table(ROUNDS.assign(new_money=True), "stage").table
    assert table.loc[(pd.Period("2025", "Y"), "early"), "deals"] == 1
    assert table.loc[(pd.Period("2025", "Y"), "early"), "total_usd"] == 40
    with pytest.raises(ValueError, match="no 'country' column"):
        D.deal_table(ROUNDS, "country")


def test_down_and_flat_rounds_from_pre_money():
    # X: 100 post, then 120 post raising the whole 40 announced -> pre-money 80: ratio 0.8 = down
    got = D.down_rounds(ROUNDS)
    assert got["kind"].tolist() == ["down"] and got["value_ratio"].iloc[0] == pytest.approx(0.8)
    flat = ROUNDS.assign(post_money_valuation_usd=[None, None, 100.0, 142.0, None])  # pre 102 -> flat
    assert D.down_rounds(flat)["kind"].tolist() == ["flat"]
