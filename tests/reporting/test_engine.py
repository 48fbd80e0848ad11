"""The job engine writes the executed notebook when a code cell starts (so a job killed at its
wall-clock limit leaves a file naming the running cell) and at the end, not twice per cell."""

from __future__ import annotations

import nbformat
import papermill
import papermill.engines as papermill_engines_module
import pytest

from analysis import config
from analysis.reporting import engine

pytestmark = pytest.mark.slow
WRITE = papermill_engines_module.write_ipynb


def _notebook(path):
    cells = [nbformat.v4.new_markdown_cell("# A title"), nbformat.v4.new_code_cell("x = 1"),
             nbformat.v4.new_markdown_cell("Some words"), nbformat.v4.new_code_cell("y = x + 1\ny")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)


def _running(nb):
    return [i for i, c in enumerate(nb.cells) if c.metadata.get("papermill", {}).get("status") == "running"]


def _writes(tmp_path, monkeypatch, engine_name):
    written = []

    def recording(nb, path):
        written.append(_running(nb))
        WRITE(nb, path)

    snapshot = engine.SparseSaves._snapshot

    def recording_snapshot(self):
        snapshot(self)
        on_disk = nbformat.read(self.output_path, as_version=4)   # a snapshot is a notebook
        written.append(_running(on_disk))

    monkeypatch.setattr(papermill_engines_module, "write_ipynb", recording)
    monkeypatch.setattr(engine.SparseSaves, "_snapshot", recording_snapshot)
    source, out = tmp_path / "in.ipynb", tmp_path / f"out-{engine_name}.ipynb"
    _notebook(source)
    papermill.execute_notebook(str(source), str(out), kernel_name=config.KERNEL_NAME, progress_bar=False,
                               engine_name=engine_name)
    return written, nbformat.read(out, as_version=4)


def test_writes_at_each_code_cell_start_and_at_the_end(tmp_path, monkeypatch):
    written, nb = _writes(tmp_path, monkeypatch, engine.ENGINE_NAME)
    assert written == [[], [1], [3], []]  # notebook start, code cell 1 running, code cell 3 running, the end
    assert nb.cells[3].outputs[0]["data"]["text/plain"] == "2"
    # the progress snapshots are compact; the last write is papermill's own (nbformat's indented form)
    assert (tmp_path / f"out-{engine.ENGINE_NAME}.ipynb").read_text(encoding="utf-8").startswith("{\n")
    default, _ = _writes(tmp_path, monkeypatch, None)
    assert len(default) > len(written) + 4  # papermill's own engine: twice per cell, markdown included
