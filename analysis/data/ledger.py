"""The funding ledger: load it (bundled or imported) fully validated, with its reference tables.

The generic CSV reader lives in :mod:`analysis.data.tables` and the cross-file rules in
:mod:`analysis.data.validation`; their public names are re-exported here for existing callers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.data.schemas import NOT_NEW_EQUITY
from analysis.data.tables import frame_line, guess_dataset, load_dataset, read_table
from analysis.data.validation import cross_check, validate_files
from analysis.errors import DataValidationError, Problem

__all__ = ["Ledger", "cross_check", "guess_dataset", "load_dataset", "load_ledger", "read_table", "validate_files"]


@dataclass(frozen=True)
class Ledger:
    """The validated funding ledger with its reference tables.

    ``rounds`` carries an ``effective_domain`` column (the round's override or its company's
    domain) and ``new_money`` (False for secondaries and debt), which every analysis uses.
    """

    rounds: pd.DataFrame
    companies: pd.DataFrame
    investors: pd.DataFrame
    source: str

    @property
    def last_round_date(self) -> pd.Timestamp:
        """Date of the newest round in the ledger (not the report date: that is "as of")."""
        return self.rounds["announced_on"].max()

    def summary(self) -> pd.DataFrame:
        r = self.rounds
        return pd.DataFrame(
            {
                "rounds": [len(r)],
                "companies": [r["org_name"].nunique()],
                "first_round": [r["announced_on"].min().date()],
                "last_round": [r["announced_on"].max().date()],
                "total_usd_bn": [r.loc[r["new_money"], "raised_amount_usd"].sum() / 1e9],
            }
        )


def load_ledger(path: Path | str | None = None, companies_path: Path | str | None = None,
                investors_path: Path | str | None = None,
                as_of: pd.Timestamp | str | None = None) -> Ledger:
    """Load the funding ledger (bundled by default, or an imported one) fully validated.

    For another ledger, ``companies.csv`` and ``investors.csv`` in the same folder are used when
    present; otherwise companies are derived from the ledger's own ``domain`` column (as the
    importers write it) and the bundled investor types are used.
    """
    rounds_path = Path(path) if path else config.DATASET_FILES["funding_rounds"]
    shown = config.display_path(rounds_path)
    rounds = read_table(rounds_path, "funding_rounds")
    sibling_companies = rounds_path.with_name("companies.csv")
    companies_file = companies_path or (sibling_companies if sibling_companies.exists() else None)
    if companies_file:
        companies = read_table(companies_file, "companies")
    else:
        companies = _companies_from_rounds(rounds, shown)
    sibling_investors = rounds_path.with_name("investors.csv")
    investors_file = investors_path or (sibling_investors if sibling_investors.exists()
                                        else config.DATASET_FILES["investors"])
    investors = read_table(investors_file, "investors") if Path(investors_file).exists() else \
        pd.DataFrame(columns=["name", "investor_type"])
    cutoff = pd.Timestamp(as_of) if as_of is not None else None
    problems = cross_check(rounds, companies, shown, as_of=None)
    if problems:
        raise DataValidationError(problems)
    if cutoff is not None:
        rounds = rounds[rounds["announced_on"] <= cutoff]
    domain_of = companies.set_index("name")["domain"]
    rounds = rounds.assign(
        effective_domain=rounds["domain"].fillna(rounds["org_name"].map(domain_of)),
        new_money=~rounds["investment_type"].isin(NOT_NEW_EQUITY),
    )
    return Ledger(rounds.reset_index(drop=True), companies, investors, shown)


def _companies_from_rounds(rounds: pd.DataFrame, shown: str) -> pd.DataFrame:
    missing = rounds[rounds["domain"].isna()]
    if len(missing):
        raise DataValidationError([
            Problem(shown, frame_line(i), "domain", None,
                    "an imported ledger without companies.csv needs a domain on every round")
            for i in missing.index
        ])
    first = rounds.drop_duplicates("org_name")
    return pd.DataFrame({"name": first["org_name"], "domain": first["domain"]})
