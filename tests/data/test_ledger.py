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


def test_loaded_tables_carry_no_file_record_into_the_analysis():
    """read_table keeps the file in DataFrame.attrs for line numbers; pandas deep-copies attrs
    into every derived frame, so what the analysis gets must not carry it (a briefing made about
    10,000 such copies)."""
    from analysis.data.ledger import load_dataset, load_ledger

    ledger = load_ledger()
    assert ledger.rounds.attrs == {} and ledger.companies.attrs == {} and ledger.investors.attrs == {}
    assert load_dataset("lab_financials").attrs == {}
    # clearing a loaded copy leaves the cached table's record (validation still names lines)
    from analysis import config
    from analysis.data.tables import SOURCE_ATTR, read_table

    assert SOURCE_ATTR in read_table(config.DATASET_FILES["lab_financials"], "lab_financials").attrs
