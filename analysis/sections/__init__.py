"""Sections: one part of a page each (numbers for ``metrics.json``, the sentences generated from
those numbers, figures and tables). Sections compute nothing of their own: they call the
analyses (``spending``, ``risk``, ``bubbles``...) and format their results; pages assemble them.

Every number in generated text is formatted from the section's metrics dict, so the text a
reader sees and ``metrics.json`` cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    """A page section: metrics for metrics.json, generated text, figures and tables by name,
    and the fitted model other sections reuse (``None`` when the section has none)."""

    metrics: dict
    text: str
    figures: dict
    tables: dict = field(default_factory=dict)
    model: object = None

    def summary(self):
        import pandas as pd

        figures = len(self.figures) if isinstance(self.figures, LazyFigures) else \
            len([f for f in self.figures.values() if f is not None])
        return pd.DataFrame([{"text": self.text, "figures": figures,
                              "tables": len(self.tables)}])


class LazyFigures(Mapping):
    """Figures by name, each built on first access and kept.

    A section offers every figure a page might show, but a page shows a few: the briefing two
    of the signal section's fourteen. Building a plotly figure costs tens of milliseconds to a
    second, so figures are recipes until a page asks for them. Iterating and ``len`` see every
    name without building anything.
    """

    def __init__(self, recipes: Mapping[str, Callable[[], object]]):
        self._recipes = dict(recipes)
        self._built: dict[str, object] = {}

    def __getitem__(self, name: str):
        if name not in self._built:
            self._built[name] = self._recipes[name]()
        return self._built[name]

    def __contains__(self, name) -> bool:
        return name in self._recipes

    def __iter__(self):
        return iter(self._recipes)

    def __len__(self) -> int:
        return len(self._recipes)
