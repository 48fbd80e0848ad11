"""The taxonomy classifier: rule tiers, classifier_order, AI filters, and the vectorised path
checked against a slow, obvious per-company loop."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

from analysis.data.classifier import RULE_KINDS, classify_companies
from analysis.data.taxonomy import load_taxonomy
from analysis.errors import ParameterError

TAX = load_taxonomy()


def _clean(values) -> list:
    return [None if pd.isna(v) else v for v in values]


def _frame(rows: dict[str, tuple]) -> pd.DataFrame:
    """name -> (categories, category_groups, text)."""
    return pd.DataFrame.from_dict(rows, orient="index", columns=["categories", "category_groups", "text"])


def test_each_rule_kind_with_the_rule_that_fired():
    companies = _frame({
        "Helix": ("Artificial Intelligence (AI),Drug Discovery", "Health Care", "small-molecule platform"),
        "CodePilot": ("Software,Developer Tools", "Software", "AI coding assistants for developers"),
        "Clipforge": ("Artificial Intelligence (AI)", "Media and Entertainment,Video", "Tools for creators."),
        "Quiet": ("Artificial Intelligence (AI),Enterprise Software", "Software", "Finance workflows."),
        "Grocer": ("E-Commerce", "Food and Beverage", "Online grocery delivery."),
    })
    t = classify_companies(companies).table
    assert _clean(t["domain"]) == ["biology", "llm_applications", "video", "other_ai", None]
    assert t["rule"].tolist() == ["category", "keyword", "category_group", "ai_category", "none"]
    assert _clean(t["matched"]) == ["drug discovery", "coding assistants", "video", "artificial intelligence (ai)",
                                    None]
    assert t["is_ai"].tolist() == [True, True, True, True, False]
    assert t.loc["Helix", "note"] == "classified by category 'drug discovery'"
    assert t.loc["CodePilot", "note"] == "classified by keyword 'coding assistants'"
    assert t.loc["Clipforge", "note"] == "classified by category group 'video'"
    assert t.loc["Quiet", "note"] == ("other_ai: AI category 'artificial intelligence (ai)', "
                                      "no domain rule fired")


def test_stronger_tier_beats_earlier_domain_and_order_breaks_ties_within_a_tier():
    companies = _frame({
        # keyword for robotics (earlier in classifier_order) loses to a category for video
        "tier": ("Video Editing", None, "robots that film weddings"),
        # two categories: robotics precedes biology in classifier_order
        "order": ("Biotechnology, Robotics", None, None),
        # two keyword domains: llm_foundation precedes llm_applications
        "kw": (None, None, "a chatbot built on our own foundation model"),
    })
    t = classify_companies(companies).table
    assert t.loc["tier", ["domain", "rule", "matched"]].tolist() == ["video", "category", "video editing"]
    assert t.loc["order", ["domain", "matched"]].tolist() == ["robotics", "robotics"]
    assert t.loc["kw", ["domain", "rule", "matched"]].tolist() == ["llm_foundation", "keyword", "foundation model"]


def test_lists_are_case_and_whitespace_insensitive_and_empty_items_ignored():
    companies = _frame({"a": ("  ARTIFICIAL intelligence ,, DRUG discovery ,", None, None),
                        "b": (" , ", "", "")})
    t = classify_companies(companies).table
    assert t.loc["a", ["domain", "matched"]].tolist() == ["biology", "drug discovery"]
    assert not t.loc["b", "is_ai"]


@pytest.mark.parametrize("ai_filter, expected_ai", [
    ("rules", {"cat": True, "kw_only": True, "ai_only": True, "none": False}),
    ("strict", {"cat": False, "kw_only": False, "ai_only": True, "none": False}),
    ("all", {"cat": True, "kw_only": True, "ai_only": True, "none": True}),
])


def test_ai_filters(ai_filter, expected_ai):
    companies = _frame({
        "cat": ("Biotechnology", None, None),              # a domain category, no AI category
        "kw_only": ("Software", None, "AI copilots for lawyers"),
        "ai_only": ("Machine Learning", None, None),
        "none": ("Retail", None, "shoes"),
    })
    t = classify_companies(companies, ai_filter=ai_filter).table
    assert t["is_ai"].to_dict() == expected_ai
    # Non-AI companies carry no domain; an AI company no rule places is other_ai.
    assert t.loc[~t["is_ai"], "domain"].isna().all()
    if ai_filter == "all":
        assert t.loc["none", ["domain", "rule"]].tolist() == ["other_ai", "none"]


def test_unknown_ai_filter_is_a_parameter_error():
    with pytest.raises(ParameterError, match="ai_filter"):
        classify_companies(_frame({"a": ("AI", None, None)}), ai_filter="maybe")


def test_missing_columns_and_empty_input():
    only_text = pd.DataFrame({"text": ["self-driving trucks", None]}, index=["x", "y"])
    t = classify_companies(only_text).table
    assert t.loc["x", ["domain", "rule"]].tolist() == ["autonomous_vehicles", "keyword"]
    assert not t.loc["y", "is_ai"]
    empty = classify_companies(_frame({}))
    assert empty.table.empty and list(empty.table.columns) == ["domain", "rule", "matched", "is_ai", "note"]


def test_pattern_re2_cannot_compile_falls_back_to_python_re():
    # A look-behind is valid Python regex but not RE2: the domain must still match.
    robotics = dataclasses.replace(TAX["robotics"], keywords=(re.compile(r"(?<!toy )\brobots\b", re.I),))
    tax = dataclasses.replace(TAX, domains=tuple(robotics if d.id == "robotics" else d for d in TAX.domains))
    t = classify_companies(_frame({"real": (None, None, "warehouse robots"),
                                   "toy": (None, None, "toy robots for kids")}), tax).table
    assert t.loc["real", ["domain", "matched"]].tolist() == ["robotics", "robots"]
    assert t.loc["toy", "domain"] != "robotics"


def test_summary_counts_ai_companies_by_domain_and_rule():
    companies = _frame({"a": ("Drug Discovery", None, None), "b": ("Genetics", None, None),
                        "c": (None, None, "protein design"), "d": ("Retail", None, None)})
    s = classify_companies(companies).summary()
    assert s.loc["biology", "category"] == 2 and s.loc["biology", "keyword"] == 1
    assert s.loc["biology", "companies"] == 3 and "other_ai" not in s.index


# --- the vectorised classifier against an obvious per-company loop -------------------------


def _slow_classify(categories, groups, text, tax=TAX) -> tuple:
    """Reference: the documented rules, one company at a time, in plain Python."""
    order = [d for d in tax.classifier_order if d != "other_ai"]
    categories, groups, text = (None if pd.isna(v) else v for v in (categories, groups, text))
    cats = [c.strip().lower() for c in (categories or "").split(",") if c.strip()]
    grps = [g.strip().lower() for g in (groups or "").split(",") if g.strip()]
    ai_hit = next((c for c in cats + grps if c in tax.ai_categories), None)
    for kind, items in (("category", cats), ("category_group", grps)):
        for domain in order:
            hit = next((c for c in items if c in tax[domain].categories), None)
            if hit is not None:
                return domain, kind, hit
    if text:
        for domain in order:
            pattern = "|".join(f"(?:{p.pattern})" for p in tax[domain].keywords)
            if pattern:
                m = re.search(pattern, text, re.IGNORECASE)
                if m:
                    return domain, "keyword", m.group(0)
    if ai_hit is not None:
        return "other_ai", "ai_category", ai_hit
    return None, "none", None


def test_vectorised_classifier_matches_the_slow_reference():
    rng = np.random.default_rng(20261128)
    cat_pool = sorted({c for d in TAX.domains for c in d.categories} | set(TAX.ai_categories)) + [
        "software", "retail", "fintech", "e-commerce", "gaming", "real estate"]
    phrases = ["drug discovery platform", "humanoid robots", "AI coding agents", "self-driving trucks",
               "text-to-video studio", "voice cloning", "GPU clusters for rent", "clinical notes for patients",
               "payroll for restaurants", "a foundation model lab", "defense technology", "battery materials",
               "image generation for ads", "an online shoe store", "Robo-advisor for savers", "LLMs we train"]
    n = 600
    def pick_list(p_empty):
        k = rng.integers(1, 4)
        return None if rng.random() < p_empty else ", ".join(rng.choice(cat_pool, k, replace=False).tolist())
    companies = pd.DataFrame({
        "categories": [pick_list(0.3) for _ in range(n)],
        "category_groups": [pick_list(0.6) for _ in range(n)],
        "text": [None if rng.random() < 0.2 else " and ".join(rng.choice(phrases, 2, replace=False).tolist())
                 for _ in range(n)],
    })
    fast = classify_companies(companies, ai_filter="all").table
    slow = [_slow_classify(*row) for row in companies.itertuples(index=False)]
    expected_domain = [d if d is not None else "other_ai" for d, _, _ in slow]
    assert fast["domain"].tolist() == expected_domain
    assert fast["rule"].tolist() == [k for _, k, _ in slow]
    assert _clean(fast["matched"]) == [m for _, _, m in slow]
    # Every rule kind occurs, so the comparison covers each path.
    assert set(fast["rule"]) == set(RULE_KINDS)
