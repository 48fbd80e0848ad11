"""From the chosen export rows to the finished ledger: ordering, cleaning, notes and the result.

Both importers hand :func:`finish_ledger` the same per-round columns; the rules it applies
(dropped rows counted by reason, documented adjustments noted on the row) are listed in the
package docstring and in ``data/README.md``.
"""

from __future__ import annotations

import functools
import html
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.data.classifier import AI_FILTERS, Classification, arrow_strings
from analysis.data.importers.parsing import STRING_TYPES, Dates, as_strings, to_bool
from analysis.data.taxonomy import load_taxonomy
from analysis.data.vocabulary import NOT_NEW_EQUITY
from analysis.errors import ParameterError

#: Ledger columns in the bundled ``data/funding_rounds.csv`` header order.
LEDGER_COLUMNS = [
    "round_id", "org_name", "domain", "investment_type", "money_type", "stage", "announced_on", "raised_amount_usd",
    "raised_amount", "raised_amount_currency", "post_money_valuation_usd", "lead_investors",
    "other_investors", "source_url", "source_title", "source_publisher", "source_date",
    "confidence", "notes", "country",
]
#: Ledger columns that hold numbers (written as plain digits; never treated as text).
LEDGER_NUMBER_COLUMNS = ("raised_amount_usd", "raised_amount", "post_money_valuation_usd")
#: The ledger schema's earliest ``announced_on``.
LEDGER_FLOOR = pd.Timestamp("2010-01-01")

# --------------------------------------------------------------------------------------------
# Result


@dataclass(frozen=True)
class ImportResult:
    """An imported ledger with the accounting of what happened to every input row.

    Attributes
    ----------
    table : pyarrow.Table
        The funding ledger (``LEDGER_COLUMNS``, all strings as written to CSV); ``ledger`` is
        the same as a DataFrame, built on first use (a bulk import need never build it).
    company_table : pyarrow.Table
        One row per kept company: ``org_name``, ``org_key``, ``domain``, ``rule``, ``matched``,
        ``note``, ``rounds``: the per-company classification report; ``companies`` is the same
        as a DataFrame sorted by name, built on first use.
    rows_read : int
        Data rows in the export (funding rounds or deals).
    dropped : pandas.Series
        Rows dropped, by reason (index: reason; values: rows).
    adjusted : pandas.Series
        Kept rows whose values were changed by a documented rule, by rule.
    source : str
        ``"crunchbase"`` or ``"pitchbook"``.
    files : tuple of str
        The export files read (display paths).
    """

    table: pa.Table
    company_table: pa.Table
    rows_read: int
    dropped: pd.Series
    adjusted: pd.Series
    source: str
    files: tuple[str, ...] = field(default_factory=tuple)

    @functools.cached_property
    def ledger(self) -> pd.DataFrame:
        """The funding ledger as a DataFrame of pandas strings (zero-copy view of ``table``)."""
        return self.table.to_pandas(types_mapper=STRING_TYPES.get)

    @functools.cached_property
    def companies(self) -> pd.DataFrame:
        """The per-company classification report, sorted by company name."""
        order = pc.sort_indices(self.company_table, sort_keys=[("org_name", "ascending")])
        return self.company_table.take(order).to_pandas(types_mapper=STRING_TYPES.get)

    @property
    def rows_kept(self) -> int:
        return self.table.num_rows

    def per_domain(self) -> pd.DataFrame:
        """Kept rounds and companies per domain (rows in taxonomy display order)."""
        ids = list(load_taxonomy().ids)
        rounds, companies = (_value_counts(t["domain"]).reindex(ids, fill_value=0)
                             for t in (self.table, self.company_table))
        return pd.DataFrame({"rounds": rounds, "companies": companies}).rename_axis("domain")

    def summary(self) -> pd.DataFrame:
        """One tidy table: rows read/kept, per domain, dropped and adjusted, by reason."""
        rows = [("read", "rows", self.rows_read), ("kept", "rows", self.rows_kept)]
        per = self.per_domain()
        rows += [("kept rounds by domain", d, int(n)) for d, n in per["rounds"].items()]
        rows += [("dropped", reason, int(n)) for reason, n in self.dropped.items()]
        rows += [("adjusted (kept)", reason, int(n)) for reason, n in self.adjusted.items()]
        return pd.DataFrame(rows, columns=["section", "item", "rows"])

    def report(self) -> str:
        """The printed summary of an import (what the CLI shows)."""
        per = self.per_domain()
        other = per.loc["other_ai"] if "other_ai" in per.index else pd.Series({"rounds": 0, "companies": 0})
        w = max(len(f"{self.rows_read:,}"), 7)
        lines = [f"{self.source} import: {' + '.join(self.files)}",
                 f"  rows read     {self.rows_read:>{w},}",
                 f"  rows kept     {self.rows_kept:>{w},}  ({self.company_table.num_rows:,} AI companies)"]
        for domain, row in per.iterrows():
            if row["rounds"]:
                lines.append(f"    {domain:<22}{row['rounds']:>{w},} rounds  {row['companies']:>9,} companies")
        lines.append(f"  other_ai (no domain rule fired): {int(other['companies']):,} companies, "
                     f"{int(other['rounds']):,} rounds")
        lines.append(f"  rows dropped  {int(self.dropped.sum()):>{w},}")
        lines += [f"    {reason}: {int(n):,}" for reason, n in self.dropped.items()]
        if len(self.adjusted):
            lines.append("  kept with documented adjustments (see notes):")
            lines += [f"    {reason}: {int(n):,}" for reason, n in self.adjusted.items()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.report())}</pre>" + self.per_domain().to_html()


# --------------------------------------------------------------------------------------------
# Shared assembly


def any_repeat(ids: pa.Array) -> bool:
    """Whether any value occurs twice (one hash pass; finding which rows is left to pandas)."""
    return pc.count_distinct(ids, mode="all").as_py() < len(ids)


def rank_names(names: pd.Series) -> np.ndarray:
    """Each company's place in alphabetical order of names (ties share a place)."""
    rank = pc.rank(arrow_strings(names).fill_null(""), sort_keys="ascending", tiebreaker="dense")
    return rank.to_numpy(zero_copy_only=False)


def select_rows(org_pos: np.ndarray, pre_drop: dict[str, np.ndarray], cls: Classification, announced: np.ndarray,
            name_rank: np.ndarray, dropped: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """The rows to keep and their ledger order, counting every dropped row under its first reason.

    Returns ``alive`` (kept row positions, ascending) and ``order`` (a permutation of ``alive``'s
    positions), so ``alive[order]`` are the rows in ledger order: by announcement date, company
    name and export row. Ordering the positions here spares a sort of the finished ledger.
    """
    alive = np.ones(len(org_pos), dtype=bool)
    for reason, mask in pre_drop.items():
        dropped[reason] = int((mask & alive).sum())
        alive &= ~mask
    is_ai = cls.table["is_ai"].to_numpy(dtype=bool)
    ai = np.zeros(len(org_pos), dtype=bool)
    ai[org_pos >= 0] = is_ai[org_pos[org_pos >= 0]]
    dropped["not an AI company"] = int((alive & ~ai).sum())
    alive &= ai
    no_date = np.isnat(announced)
    dropped["no announced_on date"] = int((alive & no_date).sum())
    alive &= ~no_date
    early = np.zeros(len(org_pos), dtype=bool)
    early[~no_date] = announced[~no_date] < LEDGER_FLOOR.to_datetime64()
    dropped[f"announced before {LEDGER_FLOOR.date()} (the ledger's floor)"] = int((alive & early).sum())
    alive &= ~early
    rows = np.flatnonzero(alive)
    # One integer key, day then name; a stable sort keeps export order within a tie.
    day = (announced[rows] - LEDGER_FLOOR.to_datetime64()).astype("timedelta64[D]").astype(np.int64)
    order = np.argsort(day * (int(name_rank.max(initial=0)) + 1) + name_rank[org_pos[rows]], kind="stable")
    return rows, order


def finish_ledger(c: dict, dates: "Dates", companies: pd.DataFrame, cls: Classification, publisher: str, *,
            rows_read: int, dropped: dict[str, int], adjusted: dict[str, int], source: str,
            files: tuple[str, ...]) -> ImportResult:
    """Clean and format the selected rounds (one entry each, ``org_pos`` into ``companies``).

    ``c`` maps column names to per-round values: text as pyarrow arrays, pandas Series, lists
    or None (all missing); amounts as float arrays; ``type_note`` as an object array. The
    importers leave ``source_url`` missing where they found no URL; those rounds are dropped.
    An optional ``ids_repeat`` (bool) says whether any ``round_id`` occurs twice, when the
    importer has already checked.
    """
    org_pos = np.asarray(c["org_pos"], dtype=np.int64)
    n = len(org_pos)
    text = {col: as_strings(c[col], n) for col in ("round_id", "investment_type", "raised_amount_currency",
                                                 "lead_investors", "other_investors", "source_url",
                                                 "source_title", "source_date")}
    money = {col: np.asarray(c[col], dtype=float) for col in ("raised_amount_usd", "raised_amount",
                                                             "post_money_valuation_usd", "pre_money_valuation_usd")}
    type_note = np.asarray(c["type_note"], dtype=object)
    # Valuations the ledger would reject: zero, or below the amount raised (left empty, noted).
    post = money["post_money_valuation_usd"]
    zero, below = post == 0, (post < money["raised_amount_usd"]) & (post != 0)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Text that needs no decision is formatted for every round in a second thread while
        # this one finds the rounds to drop (usually none).
        formatting = pool.submit(_formatted_columns, money, np.where(zero | below, np.nan, post),
                                 text["source_title"], dates)
        alive = _rounds_to_keep(text, money["raised_amount_usd"], org_pos, dates.values, c.get("ids_repeat"),
                                dropped)
        formatted = formatting.result()
    if not alive.all():
        keep = np.flatnonzero(alive)
        take = pa.array(keep)
        text = {col: arr.take(take) for col, arr in text.items()}
        formatted = {col: arr.take(take) for col, arr in formatted.items()}
        money = {col: v[keep] for col, v in money.items()}
        type_note, zero, below, org_pos = type_note[keep], zero[keep], below[keep], org_pos[keep]
        dates = dates.subset(keep)

    # Per-company values are gathered for the kept companies only (a bulk export's companies
    # mostly raise no AI round), then per round by each round's index among them.
    rounds_of = np.bincount(org_pos, minlength=len(companies))
    kept = np.flatnonzero(rounds_of)
    per_kept = pa.array((np.cumsum(rounds_of > 0) - 1)[org_pos])  # each round's company among ``kept``
    table = cls.table
    # Company names: the ledger keys companies by name, so homonyms get their permalink / id.
    names = companies["name"].take(kept).fillna("").astype(object).to_numpy()
    alt = companies["alt_id"].take(kept).astype(object).to_numpy()
    clash = pd.Series(names).duplicated(keep=False).to_numpy() | (names == "")
    display = names.copy()
    display[clash] = [f"{nm} ({a})".strip() for nm, a in zip(names[clash], alt[clash])]
    adjusted["company name shared by several companies; id appended"] = int(clash[per_kept.to_numpy()].sum())
    domain = table["domain"].to_numpy(dtype=object)[kept]
    country = _countries(companies, kept)
    unknown = pd.isna(country)
    if "country" in companies and companies["country"].notna().any() and unknown.any():
        adjusted["company country missing or not a known country (left empty)"] = int(
            np.bincount(per_kept.to_numpy(), minlength=len(kept))[unknown].sum())
    company_note = arrow_strings(table["note"]).take(pa.array(kept)).cast(pa.string())

    # Extra notes (imprecise dates, unknown types, valuations left out) touch few rows; only
    # those rows meet Python strings.
    extra = np.full(len(org_pos), None, dtype=object)
    for code, label in ((1, "year-month"), (2, "year only")):
        m = dates.precision == code
        adjusted[f"announced_on given as {label}; set to the period's first day"] = int(m.sum())
        extra = _append(extra, m, [f"announced_on given as '{raw}' ({label}); set to {iso}"
                                   for raw, iso in zip(dates.raw[m], dates.iso[m])])
    m = pd.notna(type_note)
    adjusted["investment type not in the vocabulary; recorded as undisclosed"] = int(m.sum())
    extra = _append(extra, m, type_note[m])
    extra = _append(extra, zero, ["post-money valuation 0 in the export; left empty"] * int(zero.sum()))
    extra = _append(extra, below, [f"post-money valuation {v:,.0f} below the amount raised in the export; "
                                   "left empty" for v in money["post_money_valuation_usd"][below]])
    adjusted["post-money valuation zero or below the amount raised; left empty"] = int((zero | below).sum())
    pre = money["pre_money_valuation_usd"]
    has_pre = ~np.isnan(pre)
    extra = _append(extra, has_pre, [f"pre-money ${v:,.0f}" for v in pre[has_pre]])
    notes = company_note.take(per_kept)
    with_extra = pd.notna(extra)
    if with_extra.any():
        base = notes.filter(pa.array(with_extra)).to_pylist()
        merged = [f"{b}; {e}" if b else e for b, e in zip(base, extra[with_extra])]
        notes = pc.replace_with_mask(notes, pa.array(with_extra), pa.array(merged, pa.string()))

    n = len(org_pos)
    kept_post = money["post_money_valuation_usd"]
    money_type, stage, type_notes = money_and_stage(text["investment_type"], money["raised_amount_usd"],
                                                    np.where(zero | below, np.nan, kept_post))
    if type_notes is not None:
        adjusted["money type or stage not decided by the investment type; rule in notes"] = int(
            pd.notna(type_notes).sum())
        with_note = pd.notna(type_notes)
        base = notes.filter(pa.array(with_note)).to_pylist()
        merged = [f"{b}; {e}" if b else e for b, e in zip(base, type_notes[with_note])]
        notes = pc.replace_with_mask(notes, pa.array(with_note), pa.array(merged, pa.string()))
    ledger = pa.table({
        "round_id": text["round_id"],
        "org_name": as_strings(display, len(kept)).take(per_kept),
        "domain": as_strings(domain, len(kept)).take(per_kept),
        "investment_type": text["investment_type"],
        "money_type": money_type,
        "stage": stage,
        "announced_on": formatted["announced_on"],
        "raised_amount_usd": formatted["raised_amount_usd"],
        "raised_amount": formatted["raised_amount"],
        "raised_amount_currency": text["raised_amount_currency"],
        "post_money_valuation_usd": formatted["post_money_valuation_usd"],
        "lead_investors": text["lead_investors"],
        "other_investors": text["other_investors"],
        "source_url": text["source_url"],
        "source_title": formatted["source_title"],
        "source_publisher": pa.repeat(pa.scalar(publisher, pa.string()), n),
        "source_date": text["source_date"],
        "confidence": pa.repeat(pa.scalar("reported", pa.string()), n),
        "notes": notes,
        "country": pa.array(country, pa.string()).take(per_kept),
    })
    report = pa.table({
        "org_name": as_strings(display, len(kept)), "org_key": as_strings(companies["key"], len(companies)).take(kept),
        "domain": as_strings(domain, len(kept)), "rule": as_strings(table["rule"].to_numpy(dtype=object)[kept], len(kept)),
        "matched": as_strings(table["matched"].to_numpy(dtype=object)[kept], len(kept)),
        "note": company_note,
        "country": pa.array(country, pa.string()),
        "rounds": rounds_of[kept],
    })
    return ImportResult(table=ledger, company_table=report, rows_read=rows_read, dropped=_counts(dropped),
                        adjusted=_counts(adjusted), source=source, files=files)


def _countries(companies: pd.DataFrame, kept: np.ndarray) -> np.ndarray:
    """ISO alpha-2 HQ country of each kept company from the vendor's value (alpha-2, alpha-3 or
    an English name; :func:`analysis.data.vendor_maps.country_code`), decided once per distinct
    value; missing where the export has no country column or an unknown value."""
    from analysis.data import vendor_maps as V

    if "country" not in companies:
        return np.full(len(kept), None, dtype=object)
    raw = companies["country"].take(kept).astype(object)
    code_of = {v: V.country_code(v) for v in pd.unique(raw.dropna()) if isinstance(v, str)}
    return np.array([code_of.get(v) if isinstance(v, str) else None for v in raw], dtype=object)


def money_and_stage(investment_type: pa.Array, amount: np.ndarray, post: np.ndarray):
    """``money_type`` and ``stage`` per round from the vendor's investment type (the rules of
    :mod:`analysis.data.vendor_maps`, decided once per distinct type), and the note for rounds no
    type rule decides (``None`` when there are none). Unlabelled rounds are ``growth`` from
    $500M raised or a $5bn valuation, else ``other``; an unknown type is money type ``other``."""
    from analysis.data import vendor_maps as V

    kinds = pd.Series(investment_type.to_pandas(), dtype=object).fillna("").str.strip().str.lower()
    distinct = kinds.unique()
    money_of = {k: V.money_type_for(k) for k in distinct}
    fixed_stage = {k: V.STAGE_BY_INVESTMENT_TYPE.get(k) for k in distinct}
    money = kinds.map(lambda k: money_of[k][0]).to_numpy(dtype=object)
    money_note = kinds.map(lambda k: money_of[k][1] or None).to_numpy(dtype=object)
    stage = kinds.map(fixed_stage).to_numpy(dtype=object)
    undecided = pd.isna(stage)
    big = (np.nan_to_num(amount, nan=0.0) >= V.GROWTH_AMOUNT_USD) | (np.nan_to_num(post, nan=0.0) >= V.GROWTH_VALUATION_USD)
    stage[undecided & big] = "growth"
    stage[undecided & ~big] = "other"
    stage_note = np.full(len(stage), None, dtype=object)
    stage_note[undecided & big] = "stage growth: unlabelled round of $500M+ or a $5bn+ valuation (large-round rule)"
    stage_note[undecided & ~big] = "stage other: the investment type names no stage"
    notes = np.array([("; ".join(x for x in (a, b) if x) or None) for a, b in zip(money_note, stage_note)], dtype=object) \
        if (pd.notna(money_note) | pd.notna(stage_note)).any() else None
    return pa.array(money, pa.string()), pa.array(stage, pa.string()), notes


def _rounds_to_keep(text: dict[str, pa.Array], amount: np.ndarray, org_pos: np.ndarray, announced: np.ndarray,
                    ids_repeat: bool | None, dropped: dict[str, int]) -> np.ndarray:
    """Rounds without a source URL, with a repeated id, or duplicating another round: dropped, counted."""
    alive = to_bool(pc.is_valid(text["source_url"]))
    dropped["no source URL (no cb_url/permalink for round or organization)"] = int((~alive).sum())
    dup_id = np.zeros(len(alive), dtype=bool)
    # Most exports repeat no id (an importer may have checked already); then the exact check,
    # which keeps the first of each id among the rounds with a URL, is skipped.
    if ids_repeat if ids_repeat is not None else any_repeat(text["round_id"]):
        ids = text["round_id"].filter(pa.array(alive))
        dup_id[alive] = pd.Series(pd.array(ids, dtype="str")).duplicated().to_numpy()
    dropped["repeated round id"] = int(dup_id.sum())
    alive &= ~dup_id
    # The ledger's duplicate rule: same company, date, amount and kind of money (new equity or not).
    new_equity = ~to_bool(pc.is_in(text["investment_type"], value_set=pa.array(sorted(NOT_NEW_EQUITY), pa.string())))
    key = pd.DataFrame({"o": org_pos, "d": announced, "a": amount, "e": new_equity})
    dup = np.zeros(len(alive), dtype=bool)
    dup[alive] = key[alive].duplicated().to_numpy() & ~np.isnan(amount[alive])
    dropped["duplicate round (same company, date, amount and kind)"] = int(dup.sum())
    return alive & ~dup


def _formatted_columns(money: dict[str, np.ndarray], post: np.ndarray, title: pa.Array,
                       dates: "Dates") -> dict[str, pa.Array]:
    """The ledger's number, title and date columns as text, for every round."""
    return {"raised_amount_usd": _format_amount(money["raised_amount_usd"]),
            "raised_amount": _format_amount(money["raised_amount"]),
            "post_money_valuation_usd": _format_amount(post),
            "source_title": pc.utf8_trim_whitespace(title),
            "announced_on": dates.iso_strings()}


def _append(notes: np.ndarray, mask: np.ndarray, extra) -> np.ndarray:
    """Append ``extra`` (one note per True in ``mask``) to the notes, "; "-separated."""
    if not mask.any():
        return notes
    notes = notes.copy()
    notes[mask] = [f"{a}; {b}" if a else b for a, b in zip(notes[mask], extra)]
    return notes


def _format_amount(values: np.ndarray) -> pa.Array:
    """Plain numbers for the CSV: integers without ".0", other values in full precision."""
    v = np.asarray(values, dtype=float)
    finite = np.isfinite(v)
    whole = finite & (np.abs(v) < 2**53) & (v == np.round(np.nan_to_num(v)))
    out = pc.cast(pa.array(np.where(whole, v, 0.0).astype(np.int64), mask=~whole), pa.string())
    fraction = finite & ~whole  # rare: amounts with cents
    if fraction.any():
        out = pc.replace_with_mask(out, pa.array(fraction), pc.cast(pa.array(v[fraction]), pa.string()))
    return out


def _value_counts(values: pa.ChunkedArray) -> pd.Series:
    counts = pc.value_counts(values).flatten()
    return pd.Series(counts[1].to_numpy(), index=counts[0].to_pylist(), dtype=np.int64)


def _counts(d: dict[str, int]) -> pd.Series:
    s = pd.Series(d, dtype=int, name="rows")
    return s[s > 0].rename_axis("reason")


def check_ai_filter(ai_filter: str) -> None:
    if ai_filter not in AI_FILTERS:
        raise ParameterError(f"unknown ai_filter {ai_filter!r}; expected one of {AI_FILTERS}")
