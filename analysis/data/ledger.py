"""Load and validate the curated datasets. A file either passes every check or nothing is returned.

Line numbers in problems count the header as line 1, so ``funding_rounds.csv:12`` is what an
editor shows (fields with embedded newlines would shift this; the curated files have none).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.errors

from analysis import config
from analysis.data.schemas import NOT_NEW_EQUITY, SCHEMAS
from analysis.errors import DataValidationError, Problem

_PARSER_LINE = re.compile(r"line (\d+)")


def _frame_line(index_value) -> int | None:
    try:
        return int(index_value) + 2
    except (TypeError, ValueError):
        return None


def read_table(path: Path | str, dataset: str) -> pd.DataFrame:
    """Read one dataset CSV and validate it against its schema, reporting every problem at once.

    Raises
    ------
    DataValidationError
        With one :class:`Problem` per failing cell, missing/unknown column or unparseable line.
    """
    path = Path(path)
    shown = config.display_path(path)
    model = SCHEMAS[dataset]
    try:
        # Strings only, and only empty fields are missing: "NA" is a valid ticker, not a null.
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    except FileNotFoundError:
        raise DataValidationError([Problem(shown, None, None, None, "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise DataValidationError([Problem(shown, None, None, None, f"not UTF-8 text ({exc.reason})")]) from None
    except pd.errors.EmptyDataError:
        raise DataValidationError([Problem(shown, None, None, None, "file is empty (no header row)")]) from None
    except pd.errors.ParserError as exc:
        match = _PARSER_LINE.search(str(exc))
        line = int(match.group(1)) if match else None
        raise DataValidationError([Problem(shown, line, None, None, f"malformed CSV: {str(exc).strip()}")]) from None
    try:
        return model.validate(raw, lazy=True)
    except pandera.errors.SchemaErrors as exc:
        raise DataValidationError(_problems_from(exc, shown)) from None


def _problems_from(exc: pandera.errors.SchemaErrors, shown: str) -> list[Problem]:
    problems = []
    cases = exc.failure_cases
    for row in cases.itertuples(index=False):
        check = str(row.check)
        column = None if pd.isna(row.column) else str(row.column)
        value = None if pd.isna(row.failure_case) else row.failure_case
        if check == "column_in_schema":
            problems.append(Problem(shown, 1, str(value), None, "unknown column (not in the schema)"))
        elif check == "column_in_dataframe":
            problems.append(Problem(shown, 1, str(value), None, "required column is missing"))
        else:
            rule = _describe_check(check)
            problems.append(Problem(shown, _frame_line(row.index), column, value, rule))
    problems.sort(key=lambda p: (p.line or 0, p.column or ""))
    return _dedupe(problems)


def _describe_check(check: str) -> str:
    if check.startswith("coerce_dtype"):
        wanted = check.split("(", 1)[-1].rstrip(")").strip("'")
        return f"cannot be read as {wanted}"
    if check == "not_nullable":
        return "must not be empty"
    if check == "field_uniqueness" or check.startswith("unique"):
        return "must be unique"
    return f"fails check {check}"


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen, out = set(), []
    for p in problems:
        key = (p.line, p.column, repr(p.value), p.rule)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


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


def cross_check(rounds: pd.DataFrame, companies: pd.DataFrame, shown: str,
                as_of: pd.Timestamp | None = None) -> list[Problem]:
    """Checks that span files: companies exist, valuations cover amounts, no duplicate deals."""
    problems: list[Problem] = []
    # Vectorised masks, then one Problem per failing row: a million-row imported ledger is
    # checked in seconds, not minutes.
    unknown = ~rounds["org_name"].isin(set(companies["name"]))
    for idx, value in rounds.loc[unknown, "org_name"].items():
        problems.append(Problem(shown, _frame_line(idx), "org_name", value, "company not in companies.csv"))
    amount, post = rounds["raised_amount_usd"], rounds["post_money_valuation_usd"]
    low = amount.notna() & post.notna() & (post < amount)
    for idx in rounds.index[low]:
        problems.append(Problem(shown, _frame_line(idx), "post_money_valuation_usd", post[idx],
                                f"post-money valuation below the amount raised ({amount[idx]:,.0f})"))
    if as_of is not None:
        late = rounds["announced_on"] > as_of
        for idx in rounds.index[late]:
            problems.append(Problem(shown, _frame_line(idx), "announced_on", str(rounds.at[idx, "announced_on"].date()),
                                    f"after the data's as-of date {as_of.date()}"))
    # Equity and debt announced together (xAI, 2025-06-30: $5bn of each) are two money flows, so
    # the key includes whether a round is new equity; anything else equal is a duplicate.
    # v2: the parts of a split round (equal cash and secondary halves) differ in money_type.
    with_amount = rounds.dropna(subset=["raised_amount_usd"]).assign(
        _equity=lambda f: f["money_type"] if "money_type" in f else ~f["investment_type"].isin(NOT_NEW_EQUITY))
    dupes = with_amount[with_amount.duplicated(["org_name", "announced_on", "raised_amount_usd", "_equity"],
                                               keep="first")]
    for idx, row in dupes.iterrows():
        problems.append(Problem(shown, _frame_line(idx), "round_id", row["round_id"],
                                "duplicate of another round (same company, date and amount)"))
    return problems


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
    rounds = rounds.assign(effective_domain=rounds["domain"].fillna(rounds["org_name"].map(domain_of)))
    # Data model v2: money_type/stage (derived from investment_type for older ledgers) and the
    # new_money / commitment / announced_money flags, country and region (datamodel module).
    from analysis.data.datamodel import derive_round_columns
    regions_file = config.DATASET_FILES.get("regions")
    regions = read_table(regions_file, "regions") if regions_file and Path(regions_file).exists() else None
    rounds = derive_round_columns(rounds, companies, regions)
    return Ledger(rounds.reset_index(drop=True), companies, investors, shown)


def _companies_from_rounds(rounds: pd.DataFrame, shown: str) -> pd.DataFrame:
    missing = rounds[rounds["domain"].isna()]
    if len(missing):
        raise DataValidationError([
            Problem(shown, _frame_line(i), "domain", None,
                    "an imported ledger without companies.csv needs a domain on every round")
            for i in missing.index
        ])
    first = rounds.drop_duplicates("org_name")
    return pd.DataFrame({"name": first["org_name"], "domain": first["domain"]})


def validate_files(paths: dict[str, Path] | None = None) -> list[Problem]:
    """Validate datasets (default: every bundled file) and the cross-file rules; return all problems."""
    paths = paths or dict(config.DATASET_FILES)
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    for dataset, path in paths.items():
        try:
            frames[dataset] = read_table(path, dataset)
        except DataValidationError as exc:
            problems.extend(exc.problems)
    if "funding_rounds" in frames and "companies" in frames:
        problems.extend(cross_check(frames["funding_rounds"], frames["companies"],
                                    config.display_path(paths["funding_rounds"]),
                                    as_of=pd.Timestamp.today().normalize()))
    # Data model v2 rules (money types, splits, relationships, publisher tiers, revenue dates).
    from analysis.data.datamodel import check_datamodel
    problems.extend(check_datamodel(frames, {d: config.display_path(p) for d, p in paths.items()}))
    return problems


def load_dataset(dataset: str, path: Path | str | None = None) -> pd.DataFrame:
    """Load one validated reference dataset (companies, lab_financials, market_totals, ...)."""
    return read_table(path or config.DATASET_FILES[dataset], dataset)


def guess_dataset(path: Path) -> str | None:
    """Which schema a file uses: from its name (``my_rounds.csv`` -> funding_rounds), else from
    its header (the exact column set of one schema, in any order and quoting)."""
    stem = path.stem.lower()
    for dataset in SCHEMAS:
        if dataset in stem:
            return dataset
    if "round" in stem or "ledger" in stem:
        return "funding_rounds"
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            header = {name.strip() for name in next(csv.reader(fh), [])}
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    # Every required column and nothing unknown (v2 optional columns may be absent).
    matches = [dataset for dataset, schema in SCHEMAS.items()
               if {n for n, c in schema.to_schema().columns.items() if c.required} <= header
               <= set(schema.to_schema().columns)]
    return matches[0] if len(matches) == 1 else None
