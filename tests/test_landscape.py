"""The funding landscape on the hand-computed fixture ledger."""

from __future__ import annotations

import pytest

from analysis.data.ledger import load_ledger
from analysis.landscape import filter_rounds, landscape
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def fixture():
    return load_ledger(FIXTURES / "funding_rounds.csv")


def test_filters_by_investor_type_look_at_leads_and_other_investors(fixture):
    cloud = filter_rounds(fixture.rounds, fixture.investors, investor_type="corporate_cloud")
    assert "alpha-2023-07" in set(cloud["round_id"])
    vc = filter_rounds(fixture.rounds, fixture.investors, investor_type="vc")
    assert "alpha-2023-07" in set(vc["round_id"])  # Fund One joined as an other investor
    assert filter_rounds(fixture.rounds, fixture.investors, domain="no_such").empty


def test_landscape_views_agree_with_the_ledger(fixture):
    view = landscape(fixture, "year", "", "", "", 3)
    assert view.rounds == len(fixture.rounds)
    assert len(view.largest) == 3
    assert view.largest["raised_amount_usd"].is_monotonic_decreasing
    assert view.investors["amount_usd"].iloc[0] == view.investors["amount_usd"].max()
    assert view.filters == {"period": "year", "domain": "all", "round_type": "all", "investor_type": "all"}
    assert view.summary()["rounds"].iloc[0] == view.rounds
