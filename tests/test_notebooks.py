"""Every notebook runs under papermill with its defaults, stays thin, and validates its parameters."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from analysis import config
from analysis.errors import NotebookExecutionError
from analysis.reporting.execute import run_notebook
from tests.conftest import require_shared_market

NOTEBOOKS = sorted(config.NOTEBOOKS_DIR.glob("*.ipynb")) + sorted(config.BRIEFINGS_DIR.glob("*.ipynb"))
AS_OF = "2026-06-30"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_thin_and_committed_clean(path: Path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    for line in tagged[0].source.splitlines():
        assert " = " in line and "  # " in line, f"parameters are 'name = literal  # meaning': {line!r}"
    for cell in code:
        assert not cell.get("outputs") and cell.get("execution_count") is None, "commit notebooks without outputs"
        for line in cell.source.splitlines():
            assert not line.startswith(("def ", "class ")), "computation belongs in analysis/, not a notebook"
    assert "P.validate(" in code[code.index(tagged[0]) + 1].source, "the cell after the parameters validates them"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name != "bubble-risk.ipynb"], ids=lambda p: p.name)
def test_notebook_runs_under_papermill(path: Path, tmp_path):
    from analysis import params as P

    values = P.resolve(path, {"as_of": AS_OF})
    run = run_notebook(path, values, as_of=AS_OF, reports_root=tmp_path)
    assert run.html.stat().st_size > 10_000
    assert "Traceback" not in run.html.read_text()


def test_bad_parameters_fail_in_the_validation_cell(tmp_path):
    path = config.NOTEBOOKS_DIR / "02-llm-vs-ai-spending.ipynb"
    for params, message in (({"definition": "huge"}, "definition: 'huge'"),
                            ({"infra_llm_share": 1.5}, "outside [0, 1]"),
                            ({"start_year": 2026, "as_of": "2024-06-30"}, "empty period")):
        with pytest.raises(NotebookExecutionError) as err:
            run_notebook(path, {"as_of": "2025-06-30", **params}, as_of="2025-06-30", reports_root=tmp_path)
        assert "cell 2 failed: ParameterError" in str(err.value) and message in str(err.value)


def test_market_notebook_with_the_real_snapshot(tmp_path):
    market = require_shared_market()
    from analysis import params as P
    from analysis.data.prices_import import import_prices

    files = [market / "stocks" / f"{t}.csv" for t in ("NVDA", "MSFT", "GOOGL", "AMD", "RXRX", "SDGR", "ISRG", "TER")]
    import_prices(files + [market / "etfs" / "SPY.csv", market / "etfs" / "QQQ.csv"])
    nb = config.NOTEBOOKS_DIR / "03-market-bubble-signals.ipynb"
    values = P.resolve(nb, {"as_of": "2026-08-21"})
    run = run_notebook(nb, values, as_of="2026-08-21", reports_root=tmp_path)
    assert run.chart_count >= 5
    page = run.html.read_text()
    assert "Market data as of 2026-08-21" in page and "No market data" not in page
