"""Writing files so that a reader sees the old content or the new, never half of either.

Every writer in the package (imported ledgers, the market-data cache, reports, the run index and
history) goes through :func:`atomic_file`: the data goes to a temporary file in the target's
folder, which replaces the target only once it is complete, and is removed if anything fails.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator


@contextlib.contextmanager
def atomic_file(path: Path | str, mode: str = "w", *, fsync: bool = False) -> Iterator[IO]:
    """Open a temporary file next to ``path``; on a clean exit it replaces ``path``.

    ``mode`` is ``"w"`` (UTF-8 text, no newline translation, as the csv module wants) or
    ``"wb"``. ``fsync`` flushes the data to disk before the rename (the market cache, which must
    survive a crash). On any exception the temporary file is removed and the target is untouched.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        text = {} if "b" in mode else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(fd, mode, **text) as handle:
            yield handle
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path | str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through :func:`atomic_file`."""
    with atomic_file(path) as handle:
        handle.write(text)
