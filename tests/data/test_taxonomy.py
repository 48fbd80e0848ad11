"""The taxonomy file: domains, LLM segments, ticker segments, baskets and display names, checked
at load; the segment-to-basket maps live only there."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from analysis import config
from analysis.data.taxonomy import load_taxonomy
from analysis.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_bundled_taxonomy_maps_every_segment_to_a_basket_or_none():
    t = load_taxonomy()
    segments = t.risk_segments()
    assert list(segments)[:2] == ["llm_narrow", "llm_broad"]
    assert segments["llm_broad"] == t.llm_domains("broad")
    basket_ids = {b.id for b in t.baskets}
    for seg in segments:
        assert t.segment_basket(seg) in basket_ids | {None}
    assert t.segment_basket("llm_broad") is not None            # the LLM side keeps a basket of its own
    assert t.segment_basket("defense_security") is None         # no listed pure play
    owners = t.basket_segments()
    assert "llm_broad" in owners[t.segment_basket("llm_broad")]
    assert t.market_benchmark == "SPY"


def test_baskets_are_disjoint_and_hyperscalers_sit_apart_from_chips():
    """No ticker segment (so no ticker) is in two baskets, so no chart of baskets counts a ticker
    twice; the hyperscalers are in a different basket from the chip makers; the LLM basket stands
    only for the LLM side (the LLM segments and the LLM domains), nothing else."""
    import pandas as pd

    t = load_taxonomy()
    seen: dict[str, str] = {}
    for b in t.baskets:
        for seg in b.ticker_segments:
            assert seg not in seen, f"ticker segment {seg} in baskets {seen[seg]} and {b.id}"
            seen[seg] = b.id
    assert seen["hyperscaler"] != seen["ai_chips"]
    tickers = pd.read_csv(config.DATASET_FILES["tickers"])
    members = tickers[~tickers["is_benchmark"]].groupby("segment")["ticker"].apply(set)
    in_baskets = [tk for seg, b in seen.items() for tk in members.get(seg, set())]
    assert len(in_baskets) == len(set(in_baskets))
    llm_basket = t.segment_basket("llm_broad")
    assert t.segment_basket("llm_narrow") == llm_basket
    # the foundation-model domain is the narrow LLM segment, scored once under that name
    llm_side = {s.id for s in t.llm_segments} | (set(t.llm_domains("broad")) - set(t.llm_domains("narrow")))
    assert set(t.basket_segments()[llm_basket]) == llm_side
    assert t.segment_basket("ai_infrastructure") not in (None, llm_basket)


def test_every_id_has_a_display_name_and_unknown_ids_fail():
    t = load_taxonomy()
    ids = list(t.risk_segments()) + [b.id for b in t.baskets] + list(t.ticker_segments)
    for key in ids:
        name = t.label(key)
        assert name and "_" not in name, (key, name)
    with pytest.raises(KeyError):
        t.label("no_such_segment")
    assert t.label("NVDA", default="NVDA") == "NVDA"


def test_ticker_segments_of_the_taxonomy_cover_the_tickers_file():
    import pandas as pd

    tickers = pd.read_csv(config.DATASET_FILES["tickers"])
    assert set(tickers["segment"]) <= set(load_taxonomy().ticker_segments)


@pytest.mark.parametrize("edit, message", [
    (lambda raw: raw["domains"]["image"].update(basket="no_basket"), "unknown basket 'no_basket'"),
    (lambda raw: raw["llm_segments"]["llm_broad"].update(basket="nope"), "llm_segments.llm_broad: unknown basket"),
    (lambda raw: raw["baskets"]["llm_exposed"]["ticker_segments"].append("hyperscalers"),
     "unknown ticker segment 'hyperscalers'"),
    (lambda raw: raw["baskets"]["llm_exposed"]["ticker_segments"].append("benchmark"), "benchmarks cannot"),
    (lambda raw: raw["llm_segments"]["llm_broad"].update(definition="attributed"), "narrow or broad"),
])
def test_a_broken_market_configuration_fails_at_load(tmp_path, edit, message):
    raw = yaml.safe_load(config.TAXONOMY_PATH.read_text(encoding="utf-8"))
    edit(raw)
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_taxonomy(path)


def test_segment_maps_appear_once_in_the_repository():
    """The ticker-segment to basket map lives in data/taxonomy.yaml only: no Python module spells
    out a basket's ticker segments again (the old PUBLIC_BASKETS, BASKET_SEGMENTS, DOMAIN_SEGMENTS)."""
    files = subprocess.run(["git", "ls-files", "analysis", "notebooks", "tests", "benchmarks"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    pattern = re.compile(r"ai_drug_discovery\W+\)|\"ai_drug_discovery\",\)|PUBLIC_BASKETS|BASKET_SEGMENTS|DOMAIN_SEGMENTS")
    offenders = [f for f in files if f.endswith((".py", ".ipynb")) and f != "tests/data/test_taxonomy.py"
                 and (ROOT / f).is_file()
                 and pattern.search((ROOT / f).read_text(encoding="utf-8"))]
    assert offenders == []
