"""The funding ledger as the analyses load it: provenance, derived columns, the as-of cut."""

from __future__ import annotations

import pandas as pd

from analysis.data.ledger import load_ledger
from tests.conftest import FIXTURES


def test_bundled_ledger_meets_its_provenance_rules():
    ledger = load_ledger()
    rounds = ledger.rounds
    assert rounds["source_url"].str.startswith("http").all()
    assert rounds["source_title"].str.len().gt(0).all()
    assert rounds["source_publisher"].str.len().gt(0).all()
    assert rounds["source_date"].notna().all()
    assert rounds["round_id"].is_unique
    assert set(rounds["effective_domain"]) <= set(config_domains())
    assert rounds["announced_on"].min() >= pd.Timestamp("2019-01-01")


def config_domains():
    from analysis.data.taxonomy import load_taxonomy

    return load_taxonomy().ids


def test_as_of_cuts_the_ledger():
    ledger = load_ledger(FIXTURES / "funding_rounds.csv", as_of="2023-12-31")
    assert ledger.rounds["announced_on"].max() <= pd.Timestamp("2023-12-31")
    assert len(ledger.rounds) == 5
