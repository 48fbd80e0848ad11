"""Classify companies into the taxonomy's AI domains, vectorised over unique companies.

The rules live in ``data/taxonomy.yaml`` (the single source of truth); this module only applies
them. Each company gets one domain and the rule that decided it, so an imported ledger can say
*why* a company sits where it does ("classified by category 'drug discovery'").

Rule tiers, strongest first (the first tier that fires decides; within a tier the domain that
comes first in ``classifier_order`` wins):

1. ``category`` - an exact (case-insensitive) category name from the company's category list
   (Crunchbase ``category_list``, PitchBook ``VERTICALS``) is in a domain's ``categories``.
2. ``category_group`` - the same test on the coarser group list (Crunchbase
   ``category_groups_list``, PitchBook industry columns).
3. ``keyword`` - one of a domain's ``keywords`` regular expressions matches the description text.

A company is an AI company when one of its categories or groups is in the taxonomy's
``ai_categories`` or, under the default ``ai_filter="rules"``, when any domain rule fires. AI
companies that no domain rule places go to ``other_ai``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.data.taxonomy import Taxonomy, load_taxonomy
from analysis.errors import ParameterError

#: Rule kinds, strongest first; ``ai_category`` means "AI, but no domain rule fired" (other_ai)
#: and ``none`` means no rule at all (only possible with ``ai_filter="all"``).
RULE_KINDS = ("category", "category_group", "keyword", "ai_category", "none")

#: Which companies count as AI companies (see :func:`classify_companies`).
AI_FILTERS = ("rules", "strict", "all")

_RULE_PHRASE = {
    "category": "classified by category",
    "category_group": "classified by category group",
    "keyword": "classified by keyword",
    "ai_category": "other_ai: AI category",
}


@dataclass(frozen=True)
class Classification:
    """One row per company: its domain, the rule that decided it, and whether it is AI.

    Attributes
    ----------
    table : pandas.DataFrame
        Indexed like the input companies, columns ``domain`` (taxonomy id, or missing for
        non-AI companies), ``rule`` (one of :data:`RULE_KINDS`), ``matched`` (the category,
        group or matched text that fired; missing for ``none``), ``is_ai`` (bool) and ``note``
        (a readable sentence such as ``classified by category 'drug discovery'``).
    ai_filter : str
        The AI filter used (see :data:`AI_FILTERS`).
    """

    table: pd.DataFrame
    ai_filter: str

    @property
    def ai(self) -> pd.DataFrame:
        """The AI companies only."""
        return self.table[self.table["is_ai"]]

    def summary(self) -> pd.DataFrame:
        """AI companies per domain and rule kind (rows: domains; columns: rule kinds, total)."""
        ai = self.ai
        counts = pd.crosstab(ai["domain"], ai["rule"]).reindex(columns=list(RULE_KINDS), fill_value=0)
        counts = counts.loc[:, counts.sum() > 0]
        counts["companies"] = counts.sum(axis=1)
        return counts.sort_values("companies", ascending=False)

    def _repr_html_(self) -> str:
        head = (f"<p>{len(self.table):,} companies, {int(self.table['is_ai'].sum()):,} AI "
                f"(filter: {self.ai_filter})</p>")
        return head + self.summary().to_html()


def classify_companies(companies: pd.DataFrame, taxonomy: Taxonomy | None = None, *,
                       ai_filter: str = "rules", sep: str = ",") -> Classification:
    """Assign each company a taxonomy domain and record the rule that fired.

    Parameters
    ----------
    companies : pandas.DataFrame
        One row per company (any unique index). Optional string columns: ``categories`` and
        ``category_groups`` (``sep``-separated lists, as exports write them) and ``text``
        (description and keywords, matched by the keyword rules). Missing columns or values
        simply fire no rule.
    taxonomy : Taxonomy, optional
        Default: the bundled ``data/taxonomy.yaml``.
    ai_filter : {"rules", "strict", "all"}
        Which companies are AI companies. ``"rules"`` (default): an AI category/group or any
        domain rule. ``"strict"``: an AI category/group only (for a full, unfiltered bulk export,
        where a "Health Care" category alone says nothing about AI). ``"all"``: every company
        (the export was already filtered to AI companies).
    sep : str
        Separator of the category lists.

    Returns
    -------
    Classification

    Notes
    -----
    Vectorised over companies: category lists are exploded once and looked up in a dictionary
    (category -> first domain in ``classifier_order``); keyword rules are combined into one
    alternation per domain and matched with pyarrow's RE2 engine over the still-unclassified
    companies only, then Python's ``re`` extracts the matched text for the (few) winners. A
    domain whose patterns RE2 cannot compile (look-arounds, back-references) is matched with
    Python's ``re`` instead. RE2's ``\\b`` is ASCII-only, Python's Unicode-aware; the two differ
    only next to non-ASCII letters.
    """
    if ai_filter not in AI_FILTERS:
        raise ParameterError(f"unknown ai_filter {ai_filter!r}; expected one of {AI_FILTERS}")
    tax = taxonomy or load_taxonomy()
    index = companies.index
    n = len(index)
    rank = np.full(n, np.iinfo(np.int32).max, dtype=np.int64)
    rule = np.full(n, "none", dtype=object)
    matched = np.full(n, None, dtype=object)
    is_ai_category = np.zeros(n, dtype=bool)
    ai_category_name = np.full(n, None, dtype=object)

    order = [d for d in tax.classifier_order if d != "other_ai"]
    category_rank: dict[str, int] = {}
    for r, domain_id in enumerate(order):
        for cat in tax[domain_id].categories:
            category_rank.setdefault(cat, r)
    ai_categories = tax.ai_categories

    for column, kind in (("categories", "category"), ("category_groups", "category_group")):
        if column not in companies:
            continue
        items = _explode(companies[column], sep)
        if items.empty:
            continue
        pos, names = items["pos"].to_numpy(), items["name"]
        # AI flag: any listed category/group in ai_categories (first one kept for the note).
        ai_hits = items[names.isin(ai_categories).to_numpy()].drop_duplicates("pos")
        first_ai = ai_hits["pos"].to_numpy()
        new_ai = first_ai[~is_ai_category[first_ai]]
        ai_category_name[new_ai] = ai_hits.set_index("pos").loc[new_ai, "name"].to_numpy()
        is_ai_category[first_ai] = True
        # Domain: the best-ranked category of companies still unclassified.
        r = names.map(category_rank).to_numpy(dtype=float)
        hit = ~np.isnan(r) & (rule[pos] == "none")
        if not hit.any():
            continue
        best = (pd.DataFrame({"pos": pos[hit], "rank": r[hit].astype(np.int64), "name": names.to_numpy()[hit]})
                .sort_values(["pos", "rank"], kind="stable").drop_duplicates("pos"))
        p = best["pos"].to_numpy()
        rank[p] = best["rank"].to_numpy()
        rule[p] = kind
        matched[p] = best["name"].to_numpy()

    if "text" in companies:
        text = companies["text"].astype("string[pyarrow]")
        todo = np.flatnonzero((rule == "none") & text.notna().to_numpy())
        for r, domain_id in enumerate(order):
            patterns = tax[domain_id].keywords
            if not patterns or todo.size == 0:
                continue
            combined = "|".join(f"(?:{p.pattern})" for p in patterns)
            sub = text.iloc[todo]
            mask = _regex_mask(sub, combined)
            winners = todo[mask]
            if winners.size == 0:
                continue
            compiled = re.compile(combined, re.IGNORECASE)
            found = [compiled.search(t) for t in text.iloc[winners].tolist()]
            rank[winners] = r
            rule[winners] = "keyword"
            matched[winners] = [m.group(0) if m else None for m in found]
            todo = todo[~mask]

    fired = rule != "none"
    if ai_filter == "rules":
        is_ai = is_ai_category | fired
    elif ai_filter == "strict":
        is_ai = is_ai_category.copy()
    else:
        is_ai = np.ones(n, dtype=bool)
    domain = np.full(n, None, dtype=object)
    order_arr = np.array(order, dtype=object)
    domain[fired] = order_arr[rank[fired]]
    other = is_ai & ~fired
    domain[other] = "other_ai"
    rule[other & is_ai_category] = "ai_category"
    matched[other & is_ai_category] = ai_category_name[other & is_ai_category]
    domain[~is_ai] = None

    table = pd.DataFrame({"domain": domain, "rule": rule, "matched": matched, "is_ai": is_ai}, index=index)
    table["note"] = _notes(table)
    return Classification(table, ai_filter)


def _explode(lists: pd.Series, sep: str) -> pd.DataFrame:
    """Long frame (pos, name) of the stripped, lower-cased items of separated lists."""
    s = lists.astype("string[pyarrow]")
    parts = s.str.lower().str.split(sep)
    pos = np.repeat(np.arange(len(s)), parts.str.len().fillna(0).astype(np.int64).to_numpy())
    flat = parts.dropna().explode()
    names = pd.Series(flat.to_numpy(), dtype="string[pyarrow]").str.strip()
    out = pd.DataFrame({"pos": pos, "name": names})
    return out[out["name"].notna() & (out["name"] != "")].reset_index(drop=True)


def _regex_mask(text: pd.Series, pattern: str) -> np.ndarray:
    """Case-insensitive regex search over a pyarrow string series, falling back to ``re``."""
    try:
        import pyarrow.compute as pc

        arr = text.array._pa_array  # the ChunkedArray behind an ArrowStringArray
        hits = pc.match_substring_regex(arr, pattern, ignore_case=True)
        return np.asarray(hits.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    except Exception:  # RE2 cannot compile the pattern (or pyarrow internals changed)
        return text.str.contains(pattern, flags=re.IGNORECASE, regex=True, na=False).to_numpy(dtype=bool)


def _notes(table: pd.DataFrame) -> pd.Series:
    phrase = table["rule"].map(_RULE_PHRASE)
    note = phrase + " '" + table["matched"].astype(object).fillna("") + "'"
    note = note.where(table["rule"] != "ai_category", note + ", no domain rule fired")
    return note.where(phrase.notna(), None)
