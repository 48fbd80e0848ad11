"""Writing files so that a reader sees the old content or the new, never half of either.

Every writer in the package (imported ledgers, the market-data cache, reports, the run index and
history) goes through :func:`atomic_file`: the data goes to a temporary file in the target's
folder, which replaces the target only once it is complete, and is removed if anything fails.
The new file gets the permissions any newly created file gets (``0666`` less the umask), as if
it had been written in place.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import IO, Iterator


def _create_temp(folder: Path, name: str) -> tuple[int, Path]:
    """A new, empty, exclusively created file next to the target.

    Why not ``tempfile.mkstemp``: it creates the file ``0600`` whatever the umask, and the mode
    survives the rename, so every report, ledger and cache file would be readable by its owner
    only. ``os.open`` with ``0o666`` lets the kernel apply the umask, as for any new file.
    """
    for _ in range(100):
        tmp = folder / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {folder / name}")


@contextlib.contextmanager
def atomic_file(path: Path | str, mode: str = "w", *, fsync: bool = False) -> Iterator[IO]:
    """Open a temporary file next to ``path``; on a clean exit it replaces ``path``.

    ``mode`` is ``"w"`` (UTF-8 text, no newline translation, as the csv module wants) or
    ``"wb"``. ``fsync`` flushes the data to disk before the rename (the market cache, which must
    survive a crash). On any exception the temporary file is removed and the target is untouched.
    """
    path = Path(path)
    try:
        fd, tmp = _create_temp(path.parent, path.name)
    except OSError as exc:
        raise type(exc)(exc.errno, exc.strerror, str(path)) from exc
    try:
        text = {} if "b" in mode else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(fd, mode, **text) as handle:
            yield handle
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if exc.filename in (None, str(tmp)):  # a full disk fails the write, which names no file
            raise type(exc)(exc.errno, exc.strerror, str(path)) from exc
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path | str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` through :func:`atomic_file`."""
    with atomic_file(path) as handle:
        handle.write(text)
