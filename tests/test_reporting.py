"""End-to-end report runs through papermill and the HTML export, on the fixture ledger."""

from __future__ import annotations

import json
import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from analysis import config
from analysis import params as P
from analysis.errors import NotebookExecutionError
from analysis.reporting.execute import run_notebook
from analysis.reporting.index import list_runs

from tests.conftest import AS_OF


def test_briefing_run_writes_the_dated_folder(briefing_run):
    folder = briefing_run.folder
    assert folder.name == AS_OF
    for name in ("bubble-risk.ipynb", "bubble-risk.html", "metrics.json"):
        assert (folder / name).is_file(), name
    index = (folder.parent / "index.html").read_text()
    assert f'href="{AS_OF}/bubble-risk.html"' in index
    assert not list(folder.parent.glob(".staging-*"))


def test_metrics_match_the_hand_computed_fixture(briefing_run):
    metrics = json.loads((briefing_run.folder / "metrics.json").read_text())
    assert metrics["funding_usd_by_year"]["2023"] == pytest.approx(1.5e9)
    assert metrics["funding_usd_by_year"]["2024"] == pytest.approx(2.5e9)
    assert metrics["llm_share_by_year"]["narrow"]["2023"] == pytest.approx(1.1 / 1.5, abs=1e-4)
    assert metrics["llm_share_by_year"]["broad"]["2024"] == pytest.approx(2.1 / 2.5, abs=1e-4)
    assert metrics["llm_share_by_year"]["attributed"]["2023"] == pytest.approx((1.12 + 0.15) / 1.5, abs=1e-4)


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


def test_executed_notebook_stays_small_and_has_no_machine_paths(briefing_run):
    nb_text = briefing_run.notebook.read_text()
    html = briefing_run.html.read_text()
    assert briefing_run.notebook.stat().st_size < 500_000  # no inlined plotly.js
    for text in (nb_text, html):
        assert str(config.ROOT) not in text
        assert "/home/" not in text and "/root/" not in text
    assert "tests/fixtures/funding_rounds.csv" in html  # shown relative to the repo


def test_header_shows_as_of_parameters_and_freshness(briefing_run):
    html = briefing_run.html.read_text()
    header = html[html.index('<header class="aibubble-header">'):html.index("</header>")]
    assert AS_OF in header
    assert "period=quarter" in header
    assert "last round 2024-12-01" in header
    assert '<nav class="aibubble-toc">' in html


def _write_notebook(path, body: str):
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = new_code_cell('as_of = ""  # date')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [new_markdown_cell("# Test"), params, new_code_cell("x = 1"), new_code_cell(body)]
    nbformat.write(nb, path)
    return path


def test_failing_cell_keeps_last_good_report_and_the_executed_notebook(tmp_path):
    root = tmp_path / "reports"
    (tmp_path / "good").mkdir()
    good = _write_notebook(tmp_path / "good" / "bubble-risk.ipynb", "print('fine')")
    first = run_notebook(good, {"as_of": AS_OF}, as_of=AS_OF, reports_root=root)
    good_html = first.html.read_text()
    good_index = (root / "index.html").read_text()

    (tmp_path / "bad").mkdir()
    bad = _write_notebook(tmp_path / "bad" / "bubble-risk.ipynb", "raise RuntimeError('boom in cell')")
    with pytest.raises(NotebookExecutionError) as err:
        run_notebook(bad, {"as_of": AS_OF}, as_of=AS_OF, reports_root=root)
    message = str(err.value)
    assert "cell 3 failed: RuntimeError: boom in cell" in message
    assert "failed/" in message
    assert first.html.read_text() == good_html
    assert (root / "index.html").read_text() == good_index
    kept = list((root / "failed").glob("*.ipynb"))
    assert len(kept) == 1 and "boom in cell" in kept[0].read_text()
    assert not list(root.glob(".staging-*"))


def test_cell_timeout_is_reported_as_a_failure(tmp_path):
    root = tmp_path / "reports"
    slow = _write_notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(60)")
    with pytest.raises(NotebookExecutionError) as err:
        run_notebook(slow, {"as_of": AS_OF}, as_of=AS_OF, reports_root=root, cell_timeout=2)
    assert "cell 3" in str(err.value) and "timed out" in str(err.value)
    assert list_runs(root) == []
