"""``aibubble validate``: every dataset against its schema, and the rules that span files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis import clock, config
from analysis.data.schemas import NOT_NEW_EQUITY
from analysis.data.tables import frame_line, read_table
from analysis.errors import DataValidationError, Problem


def cross_check(rounds: pd.DataFrame, companies: pd.DataFrame, shown: str,
                as_of: pd.Timestamp | None = None) -> list[Problem]:
    """Checks that span files: companies exist, valuations cover amounts, no duplicate deals."""
    problems: list[Problem] = []
    # Vectorised masks, then one Problem per failing row: a million-row imported ledger is
    # checked in seconds, not minutes.
    unknown = ~rounds["org_name"].isin(set(companies["name"]))
    for idx, value in rounds.loc[unknown, "org_name"].items():
        problems.append(Problem(shown, frame_line(idx), "org_name", value, "company not in companies.csv"))
    amount, post = rounds["raised_amount_usd"], rounds["post_money_valuation_usd"]
    low = amount.notna() & post.notna() & (post < amount)
    for idx in rounds.index[low]:
        problems.append(Problem(shown, frame_line(idx), "post_money_valuation_usd", post[idx],
                                f"post-money valuation below the amount raised ({amount[idx]:,.0f})"))
    if as_of is not None:
        late = rounds["announced_on"] > as_of
        for idx in rounds.index[late]:
            problems.append(Problem(shown, frame_line(idx), "announced_on", str(rounds.at[idx, "announced_on"].date()),
                                    f"after the data's as-of date {as_of.date()}"))
    # Equity and debt announced together (xAI, 2025-06-30: $5bn of each) are two money flows, so
    # the key includes whether a round is new equity; anything else equal is a duplicate.
    with_amount = rounds.dropna(subset=["raised_amount_usd"]).assign(
        _equity=lambda f: ~f["investment_type"].isin(NOT_NEW_EQUITY))
    dupes = with_amount[with_amount.duplicated(["org_name", "announced_on", "raised_amount_usd", "_equity"],
                                               keep="first")]
    for idx, row in dupes.iterrows():
        problems.append(Problem(shown, frame_line(idx), "round_id", row["round_id"],
                                "duplicate of another round (same company, date and amount)"))
    return problems


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
                                    as_of=pd.Timestamp(clock.today())))
    return problems
