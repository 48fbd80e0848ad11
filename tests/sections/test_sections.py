"""Section containers (analysis.sections): figures built only when a page asks for them."""

from __future__ import annotations

import pytest

from analysis.sections import LazyFigures, Section


def test_lazy_figures_build_each_figure_once_and_only_on_access():
    built = []
    figures = LazyFigures({"a": lambda: built.append("a") or "figure a", "b": lambda: built.append("b") or "figure b"})
    assert list(figures) == ["a", "b"] and len(figures) == 2 and "a" in figures
    assert built == []
    assert figures["a"] == "figure a" and figures["a"] == "figure a"
    assert built == ["a"]
    assert figures.get("missing") is None
    with pytest.raises(KeyError):
        figures["missing"]
    assert Section({}, "", figures).summary()["figures"].iloc[0] == 2 and built == ["a"]
