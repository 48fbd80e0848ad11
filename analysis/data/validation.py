"""``aibubble validate``: every dataset against its schema, and the rules that span files.

The cross-file rules of a ledger (its companies exist, valuations cover amounts, no duplicate
deals, nothing dated after today) need a companies table. A ledger checked together with a
companies file uses that file; a ledger given alone uses the ``companies.csv`` beside it when
there is one and the bundled ``data/companies.csv`` otherwise, exactly as
:func:`analysis.data.ledger.load_ledger` reads it, so what ``validate`` accepts the notebooks load.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import clock, config
from analysis.data.schemas import NOT_NEW_EQUITY
from analysis.data.tables import frame_line, read_table
from analysis.errors import DataValidationError, Problem


@dataclass(frozen=True)
class CompanyReference:
    """The companies a ledger's rounds are checked against.

    Attributes
    ----------
    table : DataFrame
        Validated companies (the ``companies`` schema).
    shown : str
        The file it came from, as messages show it.
    own_domains : bool
        Whether a round that names its own ``domain`` needs no row in ``table`` (a ledger without
        a companies file of its own, such as an imported one, classifies its rounds itself).
    """

    table: pd.DataFrame
    shown: str
    own_domains: bool

    @property
    def note(self) -> str:
        taxonomy = config.display_path(config.TAXONOMY_PATH)
        if self.own_domains:
            return (f"checked against {self.shown} and {taxonomy} (no companies.csv beside the ledger; "
                    "rounds with a domain of their own need no company row)")
        return f"checked against {self.shown} and {taxonomy}"


def company_reference(rounds_path: Path | str, companies_path: Path | str | None = None) -> CompanyReference:
    """The companies table for a ledger: given, else beside the ledger, else the bundled one.

    Raises
    ------
    DataValidationError
        The companies file fails its schema.
    """
    rounds_path = Path(rounds_path)
    sibling = rounds_path.with_name("companies.csv")
    path = Path(companies_path) if companies_path else (sibling if sibling.exists() else None)
    if path is not None:
        return CompanyReference(read_table(path, "companies"), config.display_path(path), own_domains=False)
    bundled = config.DATASET_FILES["companies"]
    return CompanyReference(read_table(bundled, "companies"), config.display_path(bundled), own_domains=True)


def cross_check(rounds: pd.DataFrame, companies: pd.DataFrame, shown: str,
                as_of: pd.Timestamp | None = None, *, companies_shown: str = "companies.csv",
                own_domains: bool = False) -> list[Problem]:
    """Checks that span files: companies exist, valuations cover amounts, no duplicate deals.

    With ``as_of``, rounds announced after it are problems too. With ``own_domains``, a round
    that carries a ``domain`` need not name a company of ``companies``.
    """
    problems: list[Problem] = []
    # Vectorised masks, then one Problem per failing row: a million-row imported ledger is
    # checked in seconds, not minutes.
    unknown = ~rounds["org_name"].isin(set(companies["name"]))
    rule = f"company not in {companies_shown}"
    if own_domains:
        unknown &= rounds["domain"].isna()
        rule += " and the round has no domain of its own"
    for idx, value in rounds.loc[unknown, "org_name"].items():
        problems.append(Problem(shown, frame_line(idx, rounds), "org_name", value, rule))
    amount, post = rounds["raised_amount_usd"], rounds["post_money_valuation_usd"]
    low = amount.notna() & post.notna() & (post < amount)
    for idx in rounds.index[low]:
        problems.append(Problem(shown, frame_line(idx, rounds), "post_money_valuation_usd", post[idx],
                                f"post-money valuation below the amount raised ({amount[idx]:,.0f})"))
    if as_of is not None:
        late = rounds["announced_on"] > as_of
        for idx in rounds.index[late]:
            problems.append(Problem(shown, frame_line(idx, rounds), "announced_on",
                                    str(rounds.at[idx, "announced_on"].date()),
                                    f"after the data's as-of date {as_of.date()}"))
    # Equity and debt announced together (xAI, 2025-06-30: $5bn of each) are two money flows, so
    # the key includes whether a round is new equity; anything else equal is a duplicate.
    with_amount = rounds.dropna(subset=["raised_amount_usd"]).assign(
        # v2: the parts of a split round (equal cash and secondary halves) differ in money_type.
        _equity=lambda f: f["money_type"] if "money_type" in f else ~f["investment_type"].isin(NOT_NEW_EQUITY))
    dupes = with_amount[with_amount.duplicated(["org_name", "announced_on", "raised_amount_usd", "_equity"],
                                               keep="first")]
    for idx, row in dupes.iterrows():
        problems.append(Problem(shown, frame_line(idx, rounds), "round_id", row["round_id"],
                                "duplicate of another round (same company, date and amount)"))
    return problems


@dataclass(frozen=True)
class ValidationReport:
    """What ``aibubble validate`` found: the problems, the files checked and how.

    ``notes`` say what a file was checked against when that was not given (a ledger alone).
    """

    problems: tuple[Problem, ...]
    checked: tuple[str, ...]
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"file": p.file, "line": p.line, "column": p.column, "value": p.value, "rule": p.rule}
                             for p in self.problems], columns=["file", "line", "column", "value", "rule"])

    def _repr_html_(self) -> str:
        head = "ok" if self.ok else f"{len(self.problems)} problem(s)"
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (f"<p><b>{head}</b>: {html.escape(', '.join(self.checked))}</p>"
                + (f"<ul>{notes}</ul>" if notes else "") + self.summary().to_html(index=False))


def check_files(paths: dict[str, Path] | None = None) -> ValidationReport:
    """Validate datasets (default: every bundled file) and the cross-file rules.

    ``paths`` maps dataset names to files, at most one per dataset. A ledger given without a
    companies file is checked against :func:`company_reference` (the note says which).
    """
    paths = dict(paths or config.DATASET_FILES)
    problems: list[Problem] = []
    notes: list[str] = []
    frames: dict[str, pd.DataFrame] = {}
    for dataset, path in paths.items():
        try:
            frames[dataset] = read_table(path, dataset)
        except DataValidationError as exc:
            problems.extend(exc.problems)
    if "funding_rounds" in frames:
        rounds_path = Path(paths["funding_rounds"])
        reference = None
        if "companies" in frames:
            reference = CompanyReference(frames["companies"], config.display_path(paths["companies"]), False)
        elif "companies" not in paths:
            try:
                reference = company_reference(rounds_path)
                notes.append(f"{config.display_path(rounds_path)}: {reference.note}")
            except DataValidationError as exc:
                problems.extend(exc.problems)
        if reference is not None:
            problems.extend(cross_check(frames["funding_rounds"], reference.table, config.display_path(rounds_path),
                                        as_of=pd.Timestamp(clock.today()), companies_shown=reference.shown,
                                        own_domains=reference.own_domains))
    # Data model v2 rules (money types, splits, relationships, publisher tiers, revenue dates).
    from analysis.data.datamodel import check_datamodel
    problems.extend(check_datamodel(frames, {d: config.display_path(p) for d, p in paths.items()}))
    checked = tuple(config.display_path(p) for p in paths.values())
    return ValidationReport(tuple(problems), checked, tuple(notes))


def validate_files(paths: dict[str, Path] | None = None) -> list[Problem]:
    """:func:`check_files`' problems (every bundled file by default)."""
    return list(check_files(paths).problems)
