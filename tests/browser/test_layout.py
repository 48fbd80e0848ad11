"""Layout of the exported HTML in a real browser (Chromium through Playwright), read from the DOM
after Plotly has drawn: legends clear of axis titles, tick labels and plot areas; one label per
category; no tick label cut by the chart's box or overlapping its neighbours; every chart and
axis titled; reader tables without raw identifiers, midnight times or long decimals.

Each check is shown to fail on a deliberately broken figure (``broken.py``). Full-page
screenshots go to reports/browser/ (git-ignored) for the developer to look at.
"""

from __future__ import annotations

import pytest

from tests.browser import broken
from tests.browser import harness as H

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAX_HTML_BYTES = 7 * 1024 * 1024  # plotly.js alone is about 4.8 MB


@pytest.fixture(scope="module")
def chromium():
    with H.browser() as b:
        yield b


def _check_render(chromium, html, name):
    assert html.stat().st_size < MAX_HTML_BYTES, f"{name}: {html.stat().st_size / 1e6:.1f} MB"
    page = H.open_page(chromium, html)
    try:
        problems = H.layout_problems(page, H.taxonomy_ids())
        H.save_screenshot(page, name)
        charts = page.eval_on_selector_all(".aibubble-chart", "els => els.length")
    finally:
        page.close()
    assert charts >= 2
    assert problems == [], "\n".join(f"{p['chart']}: {p['check']}: {p['detail']}" for p in problems)


def test_bundled_briefing_layout(chromium, bundled_render):
    _check_render(chromium, bundled_render, "bundled-briefing")


def test_market_briefing_layout(chromium, market_renders):
    _check_render(chromium, market_renders["briefing"], "market-briefing")


def test_deep_dive_layout_and_contents(chromium, market_renders):
    html = market_renders["deep-dive"]
    _check_render(chromium, html, f"market-deep-dive-{html.stem}")
    text = html.read_text()
    toc = text[text.index('class="aibubble-toc"'):text.index("</nav>")]
    for heading in ("Funding", "Valuations", "Listed exposure", "Change since the last run"):
        assert f">{heading}</a>" in toc, heading
    assert "AI domain deep-dive: Robotics and embodied AI" in text
    assert "AI funding per quarter by domain" not in text  # one domain: the title names it


def test_every_check_fails_on_its_broken_fixture(chromium, tmp_path):
    html, expected, tables = broken.page()
    path = tmp_path / "broken.html"
    path.write_text(html)
    page = H.open_page(chromium, path)
    try:
        problems = H.layout_problems(page, H.taxonomy_ids())
        H.save_screenshot(page, "broken-fixtures")
    finally:
        page.close()
    found: dict = {}
    for p in problems:
        found.setdefault(p["chart"], set()).add(p["check"])
    for chart, check in expected.items():
        assert check in found.get(chart, set()), (chart, check, found.get(chart))
    fixed = {f"chart-{int(c.split('-')[1]) + 1}" for c in expected}
    assert not fixed & set(found), {c: found[c] for c in fixed & set(found)}
    assert set(broken.TABLE_CHECKS) <= found.get(tables["broken"], set()), found.get(tables["broken"])
    assert tables["fixed"] not in found, found.get(tables["fixed"])


def test_the_connect_over_cdp_fallback_drives_the_same_chromium(chromium, tmp_path):
    """The path taken when Playwright cannot launch this Chromium itself: Chromium started with a
    DevTools port, Playwright attached over CDP; the layout checks run the same way."""
    html, expected, _ = broken.page()
    path = tmp_path / "broken.html"
    path.write_text(html)
    b, proc = H.connect_over_cdp(chromium.browser_type, H.chromium_path(), H.BASE_ARGS + H.OFFLINE_ARGS)
    try:
        page = H.open_page(b, path)
        checks = {x["check"] for x in H.layout_problems(page, H.taxonomy_ids())}
        page.close()
    finally:
        b.close()
        proc.terminate()
        proc.wait(timeout=20)
    assert set(expected.values()) <= checks
