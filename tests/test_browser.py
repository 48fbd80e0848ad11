"""Open the HTML briefing in headless Chromium with networking unavailable: every chart renders.

Skipped when Chromium is absent, except where AIBUBBLE_REQUIRE_BROWSER=1 (CI sets it), where a
missing browser is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # No network at all: every request goes to a dead proxy and no host name resolves.
    "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
    "--virtual-time-budget=15000",
]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("AIBUBBLE_REQUIRE_BROWSER") == "1":
        pytest.fail("Chromium is required (AIBUBBLE_REQUIRE_BROWSER=1) but not installed")
    pytest.skip("Chromium not installed (apt-get install chromium)")


def render_dom(html_path, tmp_path) -> str:
    cmd = [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
           html_path.as_uri()]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def chart_blocks(dom: str) -> dict[str, str]:
    """Map each chart div id to the DOM text up to the next chart div."""
    starts = [(m.start(), m.group(1)) for m in re.finditer(r'<div\b[^>]*\bid="(chart-\d+)"[^>]*>', dom)]
    blocks = {}
    for i, (pos, chart_id) in enumerate(starts):
        end = starts[i + 1][0] if i + 1 < len(starts) else len(dom)
        blocks[chart_id] = dom[pos:end]
    return blocks


def test_every_chart_renders_an_svg_offline(briefing_run, tmp_path):
    dom = render_dom(briefing_run.html, tmp_path)
    blocks = chart_blocks(dom)
    assert len(blocks) == briefing_run.chart_count >= 2
    for chart_id, block in blocks.items():
        assert 'class="main-svg"' in block, f"{chart_id} did not render"
        assert "<g class=\"cartesianlayer\"" in block or "<g class=\"pielayer\"" in block or "trace" in block


def test_chart_check_would_catch_a_missing_plotly(briefing_run, tmp_path):
    """The same check fails on a copy whose inlined plotly.js is removed (the test can fail)."""
    html = briefing_run.html.read_text()
    start = html.index('<script type="text/javascript">/**')
    end = html.index("</script>", start) + len("</script>")
    broken = tmp_path / "broken.html"
    broken.write_text(html[:start] + html[end:])
    blocks = chart_blocks(render_dom(broken, tmp_path))
    assert blocks and not any('class="main-svg"' in b for b in blocks.values())
