"""Running one notebook into a dated folder (papermill, staging, publish), on the fixture ledger."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from analysis import config
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


def test_executed_notebook_stays_small_and_has_no_machine_paths(briefing_run):
    nb_text = briefing_run.notebook.read_text()
    html = briefing_run.html.read_text()
    assert briefing_run.notebook.stat().st_size < 500_000  # no inlined plotly.js
    for text in (nb_text, html):
        assert str(config.ROOT) not in text
        assert "/home/" not in text and "/root/" not in text
    assert "tests/fixtures/funding_rounds.csv" in html  # shown relative to the repo


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

    (tmp_path / "bad").mkdir()
    bad = _write_notebook(tmp_path / "bad" / "bubble-risk.ipynb", "raise RuntimeError('boom in cell')")
    with pytest.raises(NotebookExecutionError) as err:
        run_notebook(bad, {"as_of": AS_OF}, as_of=AS_OF, reports_root=root)
    message = str(err.value)
    assert "cell 3 failed: RuntimeError: boom in cell" in message
    assert "failed/" in message
    assert first.html.read_text() == good_html
    index = (root / "index.html").read_text()  # the good report is still linked; the failure is listed
    assert f'href="{AS_OF}/bubble-risk.html"' in index and 'class="status-failed"' in index
    kept = list((root / "failed").glob("*.ipynb"))
    assert len(kept) == 1 and "boom in cell" in kept[0].read_text()
    assert not list(root.glob(".staging-*"))


def test_cell_timeout_is_reported_as_a_failure(tmp_path):
    root = tmp_path / "reports"
    slow = _write_notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(60)")
    with pytest.raises(NotebookExecutionError) as err:
        run_notebook(slow, {"as_of": AS_OF}, as_of=AS_OF, reports_root=root, cell_timeout=2)
    assert "cell 3" in str(err.value) and "timed out" in str(err.value)
    assert [(r["job"], r["status"]) for r in list_runs(root)] == [("slow", "failed")]  # listed, never as a report
    assert not (root / AS_OF).exists()
