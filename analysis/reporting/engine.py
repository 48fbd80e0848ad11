"""The papermill engine a job runs its notebook with: papermill's nbclient engine, with the executed
notebook written when a code cell starts and at the end (also after a failed cell, a timeout or a
dead kernel), not also when each cell ends and at every markdown cell.

papermill's default writes the whole notebook at the start and the end of every cell, markdown
included, and each write serialises every output so far: for the briefing, 82 writes of a notebook
growing to 1 MB, about 1 s of a 12 s execution. The write at a code cell's start is the one that
matters: when the supervisor kills a job at its wall-clock limit, the file on disk must show which
cell was running (:mod:`analysis.reporting.supervise`). A cell's outputs reach the file with the
next code cell's start or the final write.

The writes while the notebook runs are progress snapshots: compact JSON, replaced atomically (7 ms
for the briefing's 1 MB notebook, against 40 ms for nbformat's indented, key-sorted form, 30 times
a run). The last write, when the notebook completes or fails, is papermill's own; the runner reads
either kind with nbformat.
"""

from __future__ import annotations

import json

from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

from analysis.files import atomic_file

#: The name jobs pass to ``papermill.execute_notebook(engine_name=...)``.
ENGINE_NAME = "aibubble"
#: Longest time between two writes of the executed notebook while one cell runs (papermill's
#: autosave during a long cell also goes through this).
SAVE_EVERY_S = 10.0


class SparseSaves(NotebookExecutionManager):
    """Writes at the notebook's start and end, when a code cell starts, and otherwise at most
    every :data:`SAVE_EVERY_S` seconds."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._always = False
        self._final = False

    def save(self, **kwargs):
        if self._final:
            super().save(**kwargs)   # papermill's own, full form
        elif self._always or (self.now() - self.last_save_time).total_seconds() >= SAVE_EVERY_S:
            self._snapshot()

    def _snapshot(self) -> None:
        """The notebook so far, as compact JSON (see the module docstring)."""
        if self.output_path:
            with atomic_file(self.output_path) as handle:
                handle.write(json.dumps(self.nb, ensure_ascii=False))
        self.last_save_time = self.now()

    def cell_start(self, cell, cell_index=None, **kwargs):
        self._always = cell.get("cell_type") == "code"  # the file must name the running cell
        try:
            super().cell_start(cell, cell_index, **kwargs)
        finally:
            self._always = False

    def notebook_start(self, **kwargs):
        self._always = True
        try:
            super().notebook_start(**kwargs)
        finally:
            self._always = False

    def notebook_complete(self, **kwargs):
        self._final = True  # the last write: after success, a failed cell, a timeout or a dead kernel
        super().notebook_complete(**kwargs)


class SparseSavesEngine(NBClientEngine):
    """nbclient execution with :class:`SparseSaves` managing the notebook's state and its writes."""

    @classmethod
    def execute_notebook(cls, nb, kernel_name, output_path=None, progress_bar=True, log_output=False,
                         autosave_cell_every=30, **kwargs):
        manager = SparseSaves(nb, output_path=output_path, progress_bar=progress_bar, log_output=log_output,
                              autosave_cell_every=autosave_cell_every)
        manager.notebook_start()
        try:
            cls.execute_managed_notebook(manager, kernel_name, log_output=log_output, **kwargs)
        finally:
            manager.cleanup_pbar()
            manager.notebook_complete()
        return manager.nb


papermill_engines.register(ENGINE_NAME, SparseSavesEngine)
