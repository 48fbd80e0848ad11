"""The AI-domain taxonomy, read from ``data/taxonomy.yaml`` (the single source of truth)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from analysis import config
from analysis.errors import ConfigError

LLM_DEFINITIONS = ("narrow", "broad", "attributed")


@dataclass(frozen=True)
class Domain:
    id: str
    label: str
    description: str
    llm_narrow: bool
    llm_broad: bool
    color: str
    categories: tuple[str, ...]
    keywords: tuple[re.Pattern, ...]


@dataclass(frozen=True)
class Taxonomy:
    domains: tuple[Domain, ...]
    classifier_order: tuple[str, ...]
    ai_categories: frozenset[str]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(d.id for d in self.domains)

    def __getitem__(self, domain_id: str) -> Domain:
        for d in self.domains:
            if d.id == domain_id:
                return d
        raise KeyError(domain_id)

    def labels(self) -> dict[str, str]:
        return {d.id: d.label for d in self.domains}

    def colors(self) -> dict[str, str]:
        return {d.id: d.color for d in self.domains}

    def llm_domains(self, definition: str) -> tuple[str, ...]:
        """Domains whose funding counts as LLM spending under ``definition``.

        "attributed" starts from the broad set; the attributed share of AI-infrastructure
        funding and hyperscaler capex is added by the spending model, not here.
        """
        if definition not in LLM_DEFINITIONS:
            raise ValueError(f"unknown LLM definition {definition!r}; expected one of {LLM_DEFINITIONS}")
        if definition == "narrow":
            return tuple(d.id for d in self.domains if d.llm_narrow)
        return tuple(d.id for d in self.domains if d.llm_broad)


def _parse(raw: dict, source: str) -> Taxonomy:
    try:
        domains = []
        for domain_id, spec in raw["domains"].items():
            rules = spec.get("rules") or {}
            domains.append(
                Domain(
                    id=domain_id,
                    label=str(spec["label"]),
                    description=str(spec["description"]),
                    llm_narrow=bool(spec["llm_narrow"]),
                    llm_broad=bool(spec["llm_broad"]),
                    color=str(spec["color"]),
                    categories=tuple(c.lower() for c in rules.get("categories") or ()),
                    keywords=tuple(re.compile(k, re.IGNORECASE) for k in rules.get("keywords") or ()),
                )
            )
        order = tuple(raw["classifier_order"])
        ai_categories = frozenset(c.lower() for c in raw.get("ai_categories") or ())
    except (KeyError, TypeError, AttributeError, re.error) as exc:
        raise ConfigError(f"{source}: malformed taxonomy ({exc.__class__.__name__}: {exc})") from None
    ids = {d.id for d in domains}
    if set(order) != ids:
        raise ConfigError(f"{source}: classifier_order must list every domain exactly once")
    if "other_ai" not in ids:
        raise ConfigError(f"{source}: the taxonomy needs an 'other_ai' domain for unclassifiable companies")
    return Taxonomy(tuple(domains), order, ai_categories)


def load_taxonomy(path: Path | str | None = None) -> Taxonomy:
    """Read and check a taxonomy file (default: the bundled ``data/taxonomy.yaml``)."""
    path = Path(path) if path else config.TAXONOMY_PATH
    if path == config.TAXONOMY_PATH:
        return _bundled()
    return _read(path)


def _read(path: Path) -> Taxonomy:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{config.display_path(path)}: cannot read taxonomy: {exc}") from None
    return _parse(raw, config.display_path(path))


@functools.lru_cache(maxsize=1)
def _bundled() -> Taxonomy:
    return _read(config.TAXONOMY_PATH)
