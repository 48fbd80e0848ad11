"""The AI-domain taxonomy, read from ``data/taxonomy.yaml`` (the single source of truth).

Besides the domains it holds the configuration every market section shares: the LLM segments
(the LLM side under each definition), the ticker segments of ``data/tickers.csv``, the listed
baskets built from them, which basket stands for each risk segment, and every display name.
It is checked when read, so a typo in a basket or segment name fails at load, not mid-report.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
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
    basket: str | None = None


@dataclass(frozen=True)
class LlmSegment:
    """The LLM side of the market under one definition, scored as a segment of its own."""

    id: str
    label: str
    definition: str
    basket: str | None


@dataclass(frozen=True)
class Basket:
    """An equal-weighted listed basket of the tickers whose ``segment`` is in ``ticker_segments``."""

    id: str
    label: str
    ticker_segments: tuple[str, ...]


@dataclass(frozen=True)
class Taxonomy:
    domains: tuple[Domain, ...]
    classifier_order: tuple[str, ...]
    ai_categories: frozenset[str]
    llm_segments: tuple[LlmSegment, ...] = ()
    ticker_segments: dict = field(default_factory=dict)   # id -> label
    baskets: tuple[Basket, ...] = ()
    market_benchmark: str = "SPY"

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

    def non_llm_domains(self, definition: str = "broad") -> tuple[str, ...]:
        """Every domain outside the LLM side under ``definition`` ("non-LLM AI")."""
        llm = set(self.llm_domains(definition))
        return tuple(d for d in self.ids if d not in llm)

    def risk_segments(self) -> dict[str, tuple[str, ...]]:
        """Segments scored for bubble risk and the domains each covers: the LLM segments first,
        then every other domain on its own."""
        segments = {s.id: self.llm_domains(s.definition) for s in self.llm_segments}
        # A domain that is exactly an LLM segment (the narrow definition's foundation models) is
        # scored once, as that segment, not twice under two names.
        same = set(segments.values())
        segments.update({d.id: (d.id,) for d in self.domains if (d.id,) not in same})
        return segments

    def basket(self, basket_id: str) -> Basket:
        for b in self.baskets:
            if b.id == basket_id:
                return b
        raise KeyError(basket_id)

    def segment_basket(self, segment_id: str) -> str | None:
        """The listed basket that stands for a risk segment or domain (None: no listed pure play)."""
        for s in self.llm_segments:
            if s.id == segment_id:
                return s.basket
        return self[segment_id].basket

    def basket_segments(self) -> dict[str, tuple[str, ...]]:
        """Each basket and the risk segments (LLM segments and domains) it stands for."""
        out: dict[str, list[str]] = {b.id: [] for b in self.baskets}
        for seg in self.risk_segments():
            basket = self.segment_basket(seg)
            if basket:
                out[basket].append(seg)
        return {k: tuple(v) for k, v in out.items()}

    def label(self, key: str, default: str | None = None) -> str:
        """The display name of a domain, LLM segment, basket or ticker segment id.

        Raises KeyError for an unknown id unless ``default`` is given: a raw identifier must
        never reach a reader by accident.
        """
        for d in self.domains:
            if d.id == key:
                return d.label
        for s in self.llm_segments:
            if s.id == key:
                return s.label
        for b in self.baskets:
            if b.id == key:
                return b.label
        if key in self.ticker_segments:
            return self.ticker_segments[key]
        if default is not None:
            return default
        raise KeyError(key)


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
                    basket=spec.get("basket") or None,
                )
            )
        order = tuple(raw["classifier_order"])
        ai_categories = frozenset(c.lower() for c in raw.get("ai_categories") or ())
        llm_segments = tuple(LlmSegment(id=k, label=str(v["label"]), definition=str(v["definition"]),
                                        basket=v.get("basket") or None)
                             for k, v in (raw.get("llm_segments") or {}).items())
        ticker_segments = {k: str(v["label"]) for k, v in (raw.get("ticker_segments") or {}).items()}
        baskets = tuple(Basket(id=k, label=str(v["label"]), ticker_segments=tuple(v["ticker_segments"]))
                        for k, v in (raw.get("baskets") or {}).items())
        benchmark = str(raw.get("market_benchmark") or "SPY")
    except (KeyError, TypeError, AttributeError, re.error) as exc:
        raise ConfigError(f"{source}: malformed taxonomy ({exc.__class__.__name__}: {exc})") from None
    ids = {d.id for d in domains}
    if set(order) != ids:
        raise ConfigError(f"{source}: classifier_order must list every domain exactly once")
    if "other_ai" not in ids:
        raise ConfigError(f"{source}: the taxonomy needs an 'other_ai' domain for unclassifiable companies")
    _check_market_config(source, ids, domains, llm_segments, ticker_segments, baskets)
    return Taxonomy(tuple(domains), order, ai_categories, llm_segments, ticker_segments, baskets, benchmark)


def _check_market_config(source: str, ids: set, domains, llm_segments, ticker_segments: dict, baskets) -> None:
    """Names must resolve: every basket a segment names exists, every basket's ticker segments
    exist, no basket holds the benchmarks, and no id is used twice across domains and segments."""
    basket_ids = {b.id for b in baskets}
    for seg in llm_segments:
        if seg.definition not in ("narrow", "broad"):
            raise ConfigError(f"{source}: llm_segments.{seg.id}: definition must be narrow or broad")
        if seg.id in ids:
            raise ConfigError(f"{source}: llm_segments.{seg.id}: the id is also a domain id")
    for owner, basket in [(f"domains.{d.id}", d.basket) for d in domains] + \
                         [(f"llm_segments.{s.id}", s.basket) for s in llm_segments]:
        if basket is not None and basket not in basket_ids:
            raise ConfigError(f"{source}: {owner}: unknown basket {basket!r} (known: {', '.join(sorted(basket_ids))})")
    for b in baskets:
        for seg in b.ticker_segments:
            if seg not in ticker_segments:
                raise ConfigError(f"{source}: baskets.{b.id}: unknown ticker segment {seg!r}")
            if seg == "benchmark":
                raise ConfigError(f"{source}: baskets.{b.id}: benchmarks cannot be basket members")


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
