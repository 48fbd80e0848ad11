"""Helpers for the reporting and CLI tests: tiny notebooks, batch configs, and waiting on events
(FIFOs and process exits) instead of sleeping."""

from __future__ import annotations

import csv
import os
import select
import sys
import textwrap
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from analysis import config

METRICS_BODY = ("from analysis.reporting import publish_metrics\n"
                "publish_metrics({'score': {'value': top_n * 1.5, 'a.b': 2}, 'label': 'text', 'flag': True})")


def tiny_notebook(path: Path, body: str) -> Path:
    """A notebook with a parameters cell (``as_of``, ``top_n``) and one code cell."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = new_code_cell('as_of = ""  # report date\ntop_n = 5  # a number the test varies')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, new_code_cell(body)]
    nbformat.write(nb, path)
    return path


def batch_config(folder: Path, jobs: str, defaults: str = "timeout: 60") -> Path:
    path = folder / "batch.yaml"
    path.write_text(f"defaults:\n  {defaults}\njobs:\n{textwrap.indent(textwrap.dedent(jobs), '  ')}")
    return path


def history_rows(root: Path) -> list[dict]:
    with open(root / "history.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def aibubble(*args: str) -> list[str]:
    """``aibubble ARGS`` as a separate process (what the console script runs)."""
    return [sys.executable, "-c", "import sys; from analysis.cli import main; sys.exit(main())", *args]


def env_for(root: Path, **extra: str) -> dict:
    return {**os.environ, "AIBUBBLE_REPORTS_DIR": str(root), "PYTHONPATH": str(config.ROOT), **extra}


class Fifo:
    """A named pipe the test holds open for reading and writing, so that

    * jobs can write lines to it (``open(path, 'a')``) and the test blocks until they arrive
      (:meth:`read_lines`), and
    * jobs can block on ``open(path, 'rb').read(1)`` until the test writes (:meth:`release`).

    Holding both ends means a job's open never blocks and a read never sees end-of-file early.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        os.mkfifo(self.path)
        self.fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK)
        self._buffer = b""
        self.lines: list[str] = []

    def read_lines(self, count: int, timeout: float = 300.0) -> list[str]:
        """Block until ``count`` lines in all have arrived (or ``timeout`` s pass); return them."""
        deadline = time.monotonic() + timeout
        while len(self.lines) < count:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                break
            try:
                self._buffer += os.read(self.fd, 65536)
            except BlockingIOError:
                continue
            *done, self._buffer = self._buffer.split(b"\n")
            self.lines.extend(d.decode() for d in done)
        return list(self.lines)

    def release(self, count: int = 1) -> None:
        os.write(self.fd, b"x" * count)

    def close(self) -> None:
        os.close(self.fd)


def wait_for_exit(pids: list[int], timeout: float = 60.0) -> bool:
    """Block until every process in ``pids`` has exited (Linux pidfds: an event, not a poll)."""
    deadline = time.monotonic() + timeout
    for pid in pids:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                return False
        finally:
            os.close(fd)
    return True
