"""The reports folder: its layout, its locks, and the one publish transaction every run goes through.

Layout
------
::

    reports/
      .gen/g000042-5f3a9c/          a generation: every published file, complete and never changed
        index.html  history.csv  2025-06-30/bubble-risk.{html,ipynb,metrics.json,run.json}  failed/...
      .current -> .gen/g000042-5f3a9c     THE switch: one symbolic link, replaced atomically
      index.html -> .current/index.html   the public names, which readers and links use,
      history.csv -> .current/history.csv all resolved through .current
      2025-06-30 -> .current/2025-06-30
      failed -> .current/failed
      .run.lock .run.lock.info .publish.lock .staging-*/   runs in progress

Publishing (:func:`publish`) builds the next generation beside the live one: unchanged files are
hard links to the live generation's (no copy, no extra space), new files are linked in from the
run's staging folder, then ``history.csv`` gets its rows and ``index.html`` is rebuilt, all inside
the new generation. One ``rename`` of a symbolic link over ``.current`` then makes all of it
visible at once. A run killed, or a disk that fills up, at any instant before that rename leaves
the previous generation visible, complete; after it, the new one. Files inside a generation are
only ever created, never rewritten, so the hard links the generations share never change under
a reader.

Why a symbolic link rather than renaming a complete ``<as-of>`` folder into place: a run changes
more than its folder (the history row, the index, ``failed/``), and ``rename`` cannot replace a
non-empty folder; a single link switches every one of them together.

Locks: ``aibubble report`` and ``aibubble run`` hold :func:`run_lock` for a whole run, so two runs
never interleave in one folder; :func:`publish_lock` is the short lock of one transaction (the
jobs of a batch publish from parallel processes).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Callable, Iterable, Iterator

from filelock import FileLock, Timeout

from analysis import clock, config
from analysis.errors import OutputError, OutputPathError, ReportsBusyError, os_error_message
from analysis.files import atomic_write_text

GENERATIONS = ".gen"
CURRENT = ".current"
_GENERATION = re.compile(r"^g(\d{6,})-[0-9a-f]+$")
AS_OF_FOLDER = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FAILED = "failed"
#: Top-level names a generation may hold (each gets a public link): as-of folders, failed runs,
#: the index, the history and a history file set aside because it could not be read.
_PUBLIC = re.compile(r"^(\d{4}-\d{2}-\d{2}|failed|index\.html|history\.csv|history\.unreadable-[\w.-]+\.csv)$")
#: How often a run that waits for the folder says it is still waiting.
WAIT_NOTICE_S = 60.0


# --------------------------------------------------------------------------------------------
# Locks
# --------------------------------------------------------------------------------------------

def publish_lock(reports_root: Path) -> FileLock:
    """The short lock of one publish transaction."""
    return FileLock(str(Path(reports_root) / ".publish.lock"))


@contextlib.contextmanager
def run_lock(reports_root: Path, wait: bool = True, on_wait: Callable[[str], None] | None = None,
             what: str = "aibubble report") -> Iterator[None]:
    """Hold the reports folder for a whole run, so two runs never interleave.

    When another run holds it: raise :class:`ReportsBusyError` (``wait=False``) or wait, telling
    ``on_wait`` who holds it at once and again every :data:`WAIT_NOTICE_S` seconds, so a run
    queued behind a hung one says so in its log. The lock is an OS file lock, so a run killed
    with SIGKILL releases it; what it left behind is removed by :func:`clean_stale` in the next.
    """
    root = Path(reports_root)
    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(root / ".run.lock"))
    info = root / ".run.lock.info"

    def holder() -> str:
        try:
            return info.read_text(encoding="utf-8").strip() or "unknown process"
        except OSError:
            return "unknown process"

    try:
        lock.acquire(timeout=0)
    except Timeout:
        if not wait:
            raise ReportsBusyError(f"{root.name}/ is busy: another run holds it ({holder()}); "
                                   "not waiting (--no-wait)") from None
        waited = 0.0
        if on_wait:
            on_wait(holder())
        while True:
            try:
                lock.acquire(timeout=WAIT_NOTICE_S)
                break
            except Timeout:
                waited += WAIT_NOTICE_S
                if on_wait:
                    on_wait(f"{holder()}; still waiting after {waited / 60:.0f} min")
    try:
        atomic_write_text(info, f"pid {os.getpid()}, {what}, since {clock.stamp()}")
        yield
    finally:
        with contextlib.suppress(OSError):  # the run is over; a stale info file is only shown, never trusted
            info.unlink(missing_ok=True)
        lock.release()


def prepare_root(reports_root: os.PathLike | str) -> Path:
    """Create the reports folder if needed and check that runs can write into it, before any
    kernel starts; a path that cannot be a writable folder is a bad ``--out``, one line."""
    root = Path(reports_root)
    shown = f"reports folder {root}"
    if root.exists() and not root.is_dir():
        raise OutputPathError(f"{shown}: is a file, not a folder; choose a folder with --out")
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-test-{secrets.token_hex(4)}"
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        probe.unlink()
    except (FileExistsError, NotADirectoryError):
        raise OutputPathError(f"{shown}: a part of the path is a file, not a folder; choose a folder with --out") from None
    except OSError as exc:
        # a full disk is not a bad --out (exit 1); a read-only or forbidden place is (exit 2)
        error = OutputError if exc.errno in (errno.ENOSPC, errno.EDQUOT) else OutputPathError
        raise error(f"{shown}: {os_error_message(exc, 'write to it')}") from None
    return root


# --------------------------------------------------------------------------------------------
# Generations
# --------------------------------------------------------------------------------------------

def live(reports_root: Path) -> Path | None:
    """The live generation's folder (``None`` before the first publish)."""
    link = Path(reports_root) / CURRENT
    try:
        target = os.readlink(link)
    except OSError:
        return None
    folder = link.parent / target
    return folder if folder.is_dir() else None


def _number(generation: Path) -> int:
    return int(_GENERATION.match(generation.name).group(1))


def _generations(root: Path) -> list[Path]:
    """Every complete generation folder, oldest first."""
    folder = root / GENERATIONS
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if _GENERATION.match(p.name)), key=_number)


def _next_name(root: Path) -> str:
    existing = _generations(root)
    number = _number(existing[-1]) + 1 if existing else 1
    return f"g{number:06d}-{secrets.token_hex(3)}"


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link (no copy, no space); a copy where the file system has no hard links."""
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise
        shutil.copy2(source, target)


def _clone(source: Path, target: Path, skip: set[str]) -> None:
    """``target`` as a hard-linked copy of the tree ``source``, without the relative paths in ``skip``."""
    for folder, subfolders, files in os.walk(source):
        rel = Path(folder).relative_to(source)
        subfolders[:] = [d for d in subfolders if (rel / d).as_posix() not in skip]
        (target / rel).mkdir(exist_ok=True)
        for name in files:
            if (rel / name).as_posix() not in skip:
                _link_or_copy(Path(folder) / name, target / rel / name)


def _link_public(root: Path, name: str) -> None:
    """``reports/<name> -> .current/<name>``; dangling (invisible) until the generation holding
    ``name`` goes live."""
    path = root / name
    wanted = f"{CURRENT}/{name}"
    if path.is_symlink():
        if os.readlink(path) == wanted:
            return
    elif path.exists():
        return  # a real file or folder of the old layout: replaced by _adopt_legacy
    tmp = root / f".{name}.{secrets.token_hex(4)}.link.tmp"
    os.symlink(wanted, tmp)
    os.replace(tmp, path)


def _switch(root: Path, generation: Path) -> None:
    """Make ``generation`` live: the commit point of every transaction."""
    tmp = root / f"{CURRENT}.{secrets.token_hex(4)}.link.tmp"
    os.symlink(f"{GENERATIONS}/{generation.name}", tmp)
    try:
        os.replace(tmp, root / CURRENT)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _prune(root: Path, keep: Iterable[Path]) -> None:
    """After a switch: drop public links to names the live generation no longer holds and every
    generation but ``keep`` (the live one and the one before, which a reader may still be in)."""
    current = live(root)
    for path in root.iterdir():
        if path.is_symlink() and _PUBLIC.match(path.name) and not (current and (current / path.name).exists()):
            path.unlink(missing_ok=True)
    keep = {p.name for p in keep}
    for generation in _generations(root):
        if generation.name not in keep:
            shutil.rmtree(generation, ignore_errors=True)


def _legacy_entries(root: Path) -> list[Path]:
    """Real (not linked) report files of the layout before generations."""
    return [p for p in root.iterdir() if _PUBLIC.match(p.name) and not p.is_symlink()]


def _adopt_legacy(root: Path) -> None:
    """Move a reports folder of the old layout (real ``<as-of>/`` folders, ``index.html``, ...)
    into a first generation. Run under the publish lock; safe to repeat after a kill."""
    legacy = _legacy_entries(root)
    if not legacy:
        return
    if live(root) is None:
        build = root / GENERATIONS / f".build-{secrets.token_hex(4)}"
        build.mkdir(parents=True)
        for path in legacy:
            if path.is_dir():
                _clone(path, build / path.name, skip=set())
            else:
                _link_or_copy(path, build / path.name)
        generation = root / GENERATIONS / _next_name(root)
        os.rename(build, generation)
        _switch(root, generation)
    current = live(root)
    for path in legacy:
        if not (current / path.name).exists():
            continue  # not adopted (appeared after the first generation): leave it alone
        trash = root / f".trash-{path.name}-{secrets.token_hex(4)}"
        os.rename(path, trash)
        _link_public(root, path.name)
        if trash.is_dir():
            shutil.rmtree(trash, ignore_errors=True)
        else:
            trash.unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# The transaction
# --------------------------------------------------------------------------------------------

def publish(reports_root: os.PathLike | str, files: dict[str, Path] | None = None,
            history_rows: Iterable[dict] = (), remove: Iterable[str] = (),
            keep_failed: int | None = None) -> Path:
    """Publish one change to the reports folder as a single atomic switch.

    Parameters
    ----------
    reports_root : path-like
    files : dict, optional
        Relative path in the reports folder (``2025-06-30/bubble-risk.html``,
        ``failed/<name>.ipynb``) -> the finished file to publish there (left in place; it is
        linked, not moved).
    history_rows : iterable of dict
        Rows for ``history.csv`` (:func:`analysis.reporting.history.history_row`).
    remove : iterable of str
        Relative paths (files or whole as-of folders) to leave out of the new generation.
    keep_failed : int, optional
        Keep this many failed runs in ``failed/`` (default :func:`analysis.config.keep_failed`).

    Returns
    -------
    Path
        The new live generation.

    Raises
    ------
    OSError
        Anything the file system refuses (a full disk, permissions): nothing was published, the
        previous generation is still live and complete, and no temporary files are left.
    """
    from analysis.reporting.history import HISTORY_FILE, append_rows
    from analysis.reporting.index import write_index

    root = Path(reports_root)
    files = dict(files or {})
    rows = list(history_rows)
    with publish_lock(root):
        _adopt_legacy(root)
        previous = live(root)
        build = root / GENERATIONS / f".build-{secrets.token_hex(4)}"
        try:
            build.mkdir(parents=True)
            if previous is not None:
                _clone(previous, build, skip=set(remove) | set(files))
            for rel, source in files.items():
                target = build / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                _link_or_copy(Path(source), target)
            if rows:
                append_rows(build / HISTORY_FILE, rows)
            _bound_failed(build, config.keep_failed() if keep_failed is None else keep_failed)
            write_index(build)
            generation = root / GENERATIONS / _next_name(root)
            os.rename(build, generation)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
        try:
            for path in generation.iterdir():
                if _PUBLIC.match(path.name):
                    _link_public(root, path.name)
            _switch(root, generation)
        except BaseException:
            shutil.rmtree(generation, ignore_errors=True)
            raise
        try:
            _prune(root, keep=[generation] + ([previous] if previous else []))
        except OSError:
            pass  # published; what is left is removed by the next run's clean_stale
    return generation


def _bound_failed(build: Path, keep: int) -> None:
    """Keep the ``keep`` newest failed runs (record and kept notebook) in ``failed/``."""
    folder = build / FAILED
    if not folder.is_dir():
        return
    records = []
    for record in folder.glob("*.run.json"):
        try:
            finished = str(json.loads(record.read_text(encoding="utf-8")).get("finished_at", ""))
        except (OSError, ValueError):
            finished = ""
        records.append((finished, record.stat().st_mtime_ns, record.name, record))
    records.sort(reverse=True)
    for *_, record in records[keep:]:
        stem = record.name[:-len(".run.json")]
        for path in folder.glob(f"{glob_escape(stem)}.*"):
            path.unlink(missing_ok=True)


def glob_escape(text: str) -> str:
    return re.sub(r"([*?[])", r"[\1]", text)


def published_record(reports_root: Path, as_of: str, job: str) -> dict | None:
    """The live run record of ``job`` for ``as_of`` (None if there is none or it is unreadable)."""
    try:
        return json.loads((Path(reports_root) / as_of / f"{job}.run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def clean_stale(reports_root: Path) -> list[str]:
    """Remove what killed runs left: staging folders, unfinished generations, generations older
    than the one before the live one, dangling links, temp files; finish adopting an old-layout
    folder. Call only while holding :func:`run_lock` (then no live run owns any of them).
    Returns the removed names."""
    root = Path(reports_root)
    removed = []
    with publish_lock(root):
        _adopt_legacy(root)
        for path in [*root.glob(".staging-*"), *root.glob(".trash-*"), *(root / GENERATIONS).glob(".build-*")]:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path.name)
        for tmp in root.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
            removed.append(tmp.name)
        current = live(root)
        if current is not None:
            for tmp in current.rglob(".*.tmp"):  # pre-generation leftovers of atomic writes
                tmp.unlink(missing_ok=True)
                removed.append(tmp.name)
            # the newest generation before the live one stays (a reader may still be in it); one
            # that never went live (a kill between building and switching) goes
            older = [g for g in _generations(root) if _number(g) < _number(current)]
            before = {p.name for p in root.iterdir()}
            _prune(root, keep=[current] + older[-1:])
            removed.extend(sorted(before - {p.name for p in root.iterdir()}))
    return removed
