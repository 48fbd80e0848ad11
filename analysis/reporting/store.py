"""The reports folder as shared state: the run lock, the publish lock, and clean-up after killed runs.

``aibubble report`` and ``aibubble run`` both hold :func:`run_lock` for a whole run, so two runs
never interleave in one folder; :func:`publish_lock` is the short lock held while files are moved
into place (jobs of one batch publish in parallel).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Callable, Iterator

from filelock import FileLock, Timeout

from analysis.errors import ReportsBusyError
from analysis.files import atomic_write_text


def publish_lock(reports_root: Path) -> FileLock:
    """The short lock held while files are moved into place and the index is rebuilt."""
    return FileLock(str(Path(reports_root) / ".publish.lock"))


@contextlib.contextmanager
def run_lock(reports_root: Path, wait: bool = True, on_wait: Callable[[str], None] | None = None,
             what: str = "aibubble report") -> Iterator[None]:
    """Hold the reports folder for a whole run, so two runs never interleave.

    ``aibubble report`` and ``aibubble run`` both take it. When it is held: wait (``on_wait`` is
    told who holds it) or raise :class:`ReportsBusyError`. The lock is an OS file lock, so a run
    killed with SIGKILL releases it; what such a run left behind is removed by
    :func:`clean_stale` in the next one.
    """
    root = Path(reports_root)
    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(root / ".run.lock"))
    info = root / ".run.lock.info"
    try:
        lock.acquire(timeout=0)
    except Timeout:
        try:
            holder = info.read_text(encoding="utf-8").strip()
        except OSError:
            holder = "unknown process"
        if not wait:
            raise ReportsBusyError(f"{root.name}/ is busy: another run holds it ({holder}); not waiting (--no-wait)") from None
        if on_wait:
            on_wait(holder)
        lock.acquire()
    try:
        started = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        atomic_write_text(info, f"pid {os.getpid()}, {what}, since {started}")
        yield
    finally:
        info.unlink(missing_ok=True)
        lock.release()


def clean_stale(reports_root: Path) -> list[str]:
    """Remove what killed runs left: staging and trash folders, temp files. Call only while
    holding :func:`run_lock` (then no live run owns any of them). Returns the removed names."""
    root = Path(reports_root)
    removed = []
    for path in list(root.glob(".staging-*")) + list(root.glob(".trash-*")):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    for folder in [root, *[p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")]]:
        for tmp in folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
            removed.append(tmp.name)
    return removed
