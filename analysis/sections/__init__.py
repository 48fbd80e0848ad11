"""Sections: one part of a page each (numbers for ``metrics.json``, the sentences generated from
those numbers, figures and tables). Sections compute nothing of their own: they call the
analyses (``spending``, ``risk``, ``bubbles``...) and format their results; pages assemble them.

Every number in generated text is formatted from the section's metrics dict, so the text a
reader sees and ``metrics.json`` cannot disagree.
"""

from __future__ import annotations

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

        return pd.DataFrame([{"text": self.text, "figures": len([f for f in self.figures.values() if f is not None]),
                              "tables": len(self.tables)}])
