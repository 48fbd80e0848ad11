"""The funding ledger: load it (bundled or imported) fully validated, with its reference tables.

The generic CSV reader lives in :mod:`analysis.data.tables` and the cross-file rules in
:mod:`analysis.data.validation`; their public names are re-exported here for existing callers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import config
from analysis.data.tables import for_analysis, guess_dataset, load_dataset, read_table
from analysis.data.validation import CompanyReference, check_files, company_reference, cross_check, validate_files
from analysis.errors import DataValidationError

__all__ = ["Ledger", "check_files", "cross_check", "guess_dataset", "load_dataset", "load_ledger", "read_table",
           "validate_files"]


@dataclass(frozen=True)
class Ledger:
    """The validated funding ledger with its reference tables.

    ``rounds`` carries an ``effective_domain`` column (the round's override or its company's
    domain), ``money_type``, ``stage``, ``new_money`` (equity cash and convertibles of unlisted
    companies: the headline), ``commitment``, ``announced_money`` (what market-total publishers
    count), ``round_base``, ``country`` and ``region`` (analysis.data.datamodel).
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
    present. Without a ``companies.csv`` beside it (an imported ledger), a round's own ``domain``
    classifies it and rounds without one must name a company of the bundled ``companies.csv``;
    the bundled investor types are used. ``aibubble validate`` applies the same rules
    (:func:`analysis.data.validation.company_reference`).
    """
    rounds_path = Path(path) if path else config.DATASET_FILES["funding_rounds"]
    shown = config.display_path(rounds_path)
    rounds = read_table(rounds_path, "funding_rounds")
    reference = company_reference(rounds_path, companies_path)
    companies = _ledger_companies(rounds, reference)
    sibling_investors = rounds_path.with_name("investors.csv")
    investors_file = investors_path or (sibling_investors if sibling_investors.exists()
                                        else config.DATASET_FILES["investors"])
    investors = read_table(investors_file, "investors") if Path(investors_file).exists() else \
        pd.DataFrame(columns=["name", "investor_type"])
    cutoff = pd.Timestamp(as_of) if as_of is not None else None
    problems = cross_check(rounds, reference.table, shown, as_of=None, companies_shown=reference.shown,
                           own_domains=reference.own_domains)
    if problems:
        raise DataValidationError(problems)
    if cutoff is not None:
        rounds = rounds[rounds["announced_on"] <= cutoff]
    domain_of = companies.set_index("name")["domain"]
    rounds = rounds.assign(effective_domain=rounds["domain"].fillna(rounds["org_name"].map(domain_of)))
    # Data model v2: money_type/stage (derived from investment_type for older ledgers) and the
    # new_money / commitment / announced_money flags, country and region (datamodel module).
    from analysis.data.datamodel import derive_round_columns
    regions_file = config.DATASET_FILES.get("regions")
    regions = read_table(regions_file, "regions") if regions_file and Path(regions_file).exists() else None
    rounds = derive_round_columns(rounds, companies, regions)
    return Ledger(for_analysis(rounds.reset_index(drop=True)), for_analysis(companies),
                  for_analysis(investors), shown)


def _ledger_companies(rounds: pd.DataFrame, reference: CompanyReference) -> pd.DataFrame:
    """The ledger's companies: the reference table, or for a ledger that classifies its own
    rounds, one row per company from its first round with a domain, and the reference's rows
    for the companies whose rounds carry none."""
    if not reference.own_domains:
        return reference.table
    first = rounds.dropna(subset=["domain"]).drop_duplicates("org_name")
    derived = pd.DataFrame({"name": first["org_name"], "domain": first["domain"]})
    listed = reference.table[reference.table["name"].isin(set(rounds["org_name"]) - set(derived["name"]))]
    parts = [part for part in (listed, derived) if len(part)]
    table = pd.concat(parts, ignore_index=True) if parts else derived
    return table.reindex(columns=reference.table.columns)
