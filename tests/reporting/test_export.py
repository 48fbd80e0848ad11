"""The HTML export: self-contained (one inlined plotly.js, no CDN), no code, a header with the
as-of date, parameters and freshness."""

from __future__ import annotations

import re

import nbformat

from tests.conftest import AS_OF


def _code_cells_with_figures(nb) -> int:
    return sum(
        1 for cell in nb.cells if cell.cell_type == "code"
        for out in cell.get("outputs", []) if "application/vnd.plotly.v1+json" in out.get("data", {})
    )


def test_html_is_self_contained_with_one_plotly_and_no_code(briefing_run):
    html = briefing_run.html.read_text()
    nb = nbformat.read(briefing_run.notebook, as_version=4)
    assert "<script src=" not in html
    assert 'import "http' not in html and "import 'http" not in html
    assert html.count("window.Plotly") >= 1
    # plotly.js carries its version banner exactly once when inlined exactly once
    assert len(re.findall(r"\* plotly\.js v\d+\.\d+\.\d+", html)) == 1
    figures = _code_cells_with_figures(nb)
    assert figures >= 2
    assert html.count('class="aibubble-chart"') == figures == briefing_run.chart_count
    assert "P.validate(" not in html and "from analysis" not in html
    assert 'class="jp-CodeMirrorEditor' not in html and 'class="highlight hl-ipython3"' not in html
    assert briefing_run.html.stat().st_size < 6_000_000


def test_header_shows_as_of_parameters_and_freshness(briefing_run):
    html = briefing_run.html.read_text()
    header = html[html.index('<header class="aibubble-header">'):html.index("</header>")]
    assert AS_OF in header
    assert "period=quarter" in header
    assert "last round 2024-12-01" in header
    assert '<nav class="aibubble-toc">' in html


def test_notebook_only_and_silent_cells_are_left_out_of_the_html():
    from analysis.reporting.export import NOTEBOOK_ONLY_TAG, export_html

    def shown(text, tags=()):
        cell = nbformat.v4.new_code_cell("x", metadata={"tags": list(tags)})
        cell.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": text})]
        return cell

    silent = nbformat.v4.new_code_cell("y = 1")
    nb = nbformat.v4.new_notebook(cells=[shown("**kept line**"), shown("**banner twice**", [NOTEBOOK_ONLY_TAG]), silent])
    html, _ = export_html(nb, {"title": "t", "as_of": AS_OF, "banners": ["banner once"]})
    assert "kept line" in html
    assert html.count("jp-Cell jp-CodeCell") == 1  # cells that show nothing leave no empty box
    assert "banner twice" not in html
    assert html.count("banner once") == 1
