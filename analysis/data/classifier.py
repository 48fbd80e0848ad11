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

import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
    Vectorised over companies: each distinct category list is exploded once and looked up in a
    dictionary (category -> first domain in ``classifier_order``), and its verdict copied to the
    companies that carry it; keyword rules are combined into one alternation per domain and
    matched with pyarrow's RE2 engine over the still-unclassified companies whose text matches
    any keyword at all (one scan with every pattern finds those), then the matched text is
    extracted for the winners. A
    domain whose patterns RE2 cannot compile (look-arounds, back-references) is matched with
    Python's ``re`` instead. RE2's ``\\b`` is ASCII-only, Python's Unicode-aware; the two differ
    only next to non-ASCII letters.
    """
    if ai_filter not in AI_FILTERS:
        raise ParameterError(f"unknown ai_filter {ai_filter!r}; expected one of {AI_FILTERS}")
    tax = taxonomy or load_taxonomy()
    index = companies.index
    n = len(index)
    unranked = np.iinfo(np.int32).max  # rank of a company no domain rule has placed yet
    rank = np.full(n, unranked, dtype=np.int64)
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

    names_of = np.array(list(category_rank), dtype=object)
    rank_of = np.array(list(category_rank.values()), dtype=np.int64)
    ai_set = pa.array(sorted(ai_categories), pa.string())
    domain_set = pa.array(names_of.tolist(), pa.string())
    tiers = [(column, kind) for column, kind in (("categories", "category"), ("category_groups", "category_group"))
             if column in companies]
    # The two list columns are read in parallel (pyarrow releases the GIL); the category tier
    # still decides first below.
    with ThreadPoolExecutor(max_workers=max(len(tiers), 1)) as pool:
        verdicts = list(pool.map(lambda tier: _list_verdicts(companies[tier[0]], sep, ai_set, domain_set, rank_of,
                                                             unranked), tiers))
    for (_, kind), (company_ai_name, company_rank, company_name) in zip(tiers, verdicts):
        # AI flag: any listed category/group in ai_categories (the first one kept for the note).
        new = pd.notna(company_ai_name) & ~is_ai_category
        ai_category_name[new] = company_ai_name[new]
        is_ai_category |= new
        # Domain: the best-ranked category of each company still unclassified.
        won = (company_rank < unranked) & (rank == unranked)
        rank[won] = company_rank[won]
        rule[won] = kind
        matched[won] = company_name[won]

    if "text" in companies:
        text = arrow_strings(companies["text"])
        todo = np.flatnonzero((rule == "none") & _to_bool(pc.is_valid(text)))
        domains = [(r, d) for r, d in enumerate(order) if tax[d].keywords]
        if todo.size and domains:
            patterns = ["|".join(f"(?:{p.pattern})" for p in tax[d].keywords) for _, d in domains]
            # pyarrow releases the GIL, so the scans run in parallel threads.
            workers = os.cpu_count() or 1
            with ThreadPoolExecutor(max_workers=workers) as pool:
                # Most descriptions match no keyword at all: one scan with every domain's
                # patterns, in slices, finds the few that do; only those are scanned domain by
                # domain (the first domain in classifier_order that matches still wins below).
                anything = "|".join(f"(?:{p})" for p in patterns)
                slices = np.array_split(todo, workers)
                todo = todo[np.concatenate(list(pool.map(
                    lambda rows: _regex_mask(text.take(pa.array(rows)), anything), slices)))]
                candidates = text.take(pa.array(todo))
                masks = list(pool.map(lambda pat: _regex_mask(candidates, pat), patterns))
            open_ = np.ones(todo.size, dtype=bool)
            for (r, _), pattern, mask in zip(domains, patterns, masks):
                win = mask & open_
                if not win.any():
                    continue
                winners = todo[win]
                rank[winners] = r
                rule[winners] = "keyword"
                matched[winners] = _first_match(text.take(pa.array(winners)), pattern)
                open_ &= ~win

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

    # Object columns, not pandas' inferred "str": converting ~10^6 Python strings to Arrow costs
    # more than the classification itself, and callers only gather these per company.
    table = pd.DataFrame({"domain": pd.Series(domain, index=index, dtype=object),
                          "rule": pd.Series(rule, index=index, dtype=object),
                          "matched": pd.Series(matched, index=index, dtype=object),
                          "is_ai": is_ai,
                          "note": _notes(rule, matched).set_axis(index)}, index=index)
    return Classification(table, ai_filter)


def arrow_strings(values: pd.Series | pa.Array | pa.ChunkedArray, combine: bool = True) -> pa.Array | pa.ChunkedArray:
    """The pyarrow strings behind ``values`` (nulls for missing), zero-copy when pyarrow-backed.

    ``combine=False`` keeps a chunked array as it is (no copy) for functions that accept one.
    """
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        arr = values
    else:
        arr = getattr(values.array, "_pa_array", None)
    if arr is None or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pa.array(values.astype(object).where(values.notna(), None), type=pa.string(), from_pandas=True)
    if combine and isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr


def _to_bool(arr) -> np.ndarray:
    return np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _list_verdicts(lists: pd.Series, sep: str, ai_set: pa.Array, domain_set: pa.Array, rank_of: np.ndarray,
                   unranked: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per company: its first AI category (or None), best domain-category rank and that category.

    Exports repeat the same lists many times over: each distinct list is read once, and its
    verdict is copied to the companies that carry it.
    """
    codes, distinct = _distinct(lists)
    pos, names = _explode(distinct, sep)
    ai_name = np.full(len(distinct) + 1, None, dtype=object)  # the last entry serves code -1 (no list)
    best_rank = np.full(len(distinct) + 1, unranked, dtype=np.int64)
    best_name = np.full(len(distinct) + 1, None, dtype=object)
    if len(names):
        ai_hit = np.flatnonzero(_to_bool(pc.is_in(names, value_set=ai_set)))
        first_list, first_at = np.unique(pos[ai_hit], return_index=True)
        ai_name[first_list] = names.take(pa.array(ai_hit[first_at])).to_pylist()
        idx = pc.index_in(names, value_set=domain_set).fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
        hit = np.flatnonzero(idx >= 0)
        # Best rank within each list; a stable sort keeps the earlier category on a tie.
        order = np.lexsort((rank_of[idx[hit]], pos[hit]))
        winner_list, first = np.unique(pos[hit][order], return_index=True)
        chosen = hit[order][first]
        best_rank[winner_list] = rank_of[idx[chosen]]
        best_name[winner_list] = names.take(pa.array(chosen)).to_pylist()
    return ai_name[codes], best_rank[codes], best_name[codes]


def _distinct(values: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """Codes into the distinct strings of ``values`` (-1 for missing) and those strings."""
    encoded = arrow_strings(values).dictionary_encode()
    return encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64), encoded.dictionary


def _explode(lists: pa.Array, sep: str) -> tuple[np.ndarray, pa.Array]:
    """Positions and stripped, lower-cased items of separated lists (empty items removed)."""
    split = pc.split_pattern(lists, sep)
    names = pc.utf8_lower(pc.utf8_trim_whitespace(pc.list_flatten(split)))
    pos = pc.list_parent_indices(split).to_numpy(zero_copy_only=False).astype(np.int64)
    keep = _to_bool(pc.not_equal(names, ""))
    if not keep.all():
        names = names.filter(pa.array(keep))
        pos = pos[keep]
    return pos, names


def _regex_mask(text: pa.Array, pattern: str) -> np.ndarray:
    """Case-insensitive regex search over pyarrow strings (RE2), falling back to ``re``."""
    try:
        return _to_bool(pc.match_substring_regex(text, pattern, ignore_case=True))
    except pa.ArrowInvalid:  # RE2 cannot compile the pattern (look-around, back-reference)
        compiled = re.compile(pattern, re.IGNORECASE)
        return np.array([bool(t is not None and compiled.search(t)) for t in text.to_pylist()], dtype=bool)


def _first_match(text: pa.Array, pattern: str) -> np.ndarray:
    """The leftmost match in each string (alternatives tried in order, as in Python's ``re``).

    Only run on the strings a domain won, since extracting is far slower than testing.
    """
    try:
        # extract_regex wants every group named: make the taxonomy's groups non-capturing.
        plain = re.sub(r"(?<!\\)\((?!\?)", "(?:", pattern)
        found = pc.extract_regex(text, f"(?i)(?P<m>{plain})").field("m")
        return found.to_numpy(zero_copy_only=False).astype(object)
    except pa.ArrowInvalid:
        compiled = re.compile(pattern, re.IGNORECASE)
        hits = [compiled.search(t) if t is not None else None for t in text.to_pylist()]
        return np.array([h.group(0) if h else None for h in hits], dtype=object)


def _notes(rule: np.ndarray, matched: np.ndarray) -> pd.Series:
    """"classified by category 'drug discovery'" and the like; missing where no rule fired.

    Built in pyarrow and kept as pandas' Arrow-backed strings: no Python string per company.
    """
    kind = pc.index_in(pa.array(rule, pa.string()), value_set=pa.array(list(_RULE_PHRASE), pa.string()))
    phrase = pa.array(list(_RULE_PHRASE.values()), pa.string()).take(kind)  # null for rule "none"
    text = pa.array(matched, pa.string(), from_pandas=True).fill_null("")
    tail = pc.if_else(pc.equal(phrase, _RULE_PHRASE["ai_category"]), "', no domain rule fired", "'")
    # A null phrase (rule "none") makes the whole note null.
    notes = pc.binary_join_element_wise(phrase, " '", text, tail, "")
    return pd.Series(pd.array(notes, dtype=pd.StringDtype("pyarrow", na_value=np.nan)))
