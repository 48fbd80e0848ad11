"""Display helpers: escaping, formats, display names."""

from __future__ import annotations

from analysis.display import label, md_text, pct, usd_bn


def test_md_text_neutralises_markup_and_markdown():
    assert md_text("<b>A_B</b> [x](y)") == "&lt;b&gt;A\\_B&lt;/b&gt; \\[x\\](y)"


def test_formats_and_names():
    assert pct(0.123) == "12%" and pct(None) == "n/a"
    assert usd_bn(12.34e9) == "$12.3 bn"
    assert label("autonomous_vehicles") == "Autonomous vehicles"
    assert label("NVDA") == "NVDA"
