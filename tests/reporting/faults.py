"""Fault injection for the publish step: a full disk or a ``kill -9`` at any file-system call.

:class:`Faults` wraps every call that creates or moves a file or folder under the reports folder
(``os.open`` and ``open`` for writing, ``os.mkdir``, ``os.link``, ``os.symlink``,
``os.replace``, ``os.rename``, ``os.unlink``, ``os.rmdir``) and, once armed, counts them; at the chosen call it raises
``OSError(ENOSPC)`` or ends the process with ``os._exit`` (what ``kill -9`` does: no clean-up,
no ``finally``). It knows nothing about how publishing is implemented, so the same test runs
against any version of the code.

``papermill.execute_notebook`` is replaced by a copy of an already executed notebook, so a
"run" takes a fraction of a second and no kernel; the faults are armed when it returns, so
every call after the notebook has run is a fault point: staging, publishing, the index, the
history.

For runs in other processes (``aibubble report`` and its job process), :func:`sitecustomize_dir`
writes a ``sitecustomize.py`` that installs the same faults from ``AIBUBBLE_TEST_FAULTS``.
"""

from __future__ import annotations

import builtins
import errno
import io
import json
import os
import shutil
from pathlib import Path

ENV = "AIBUBBLE_TEST_FAULTS"
KILLED = 137


class Faults:
    """Count, or fail at, the n-th file-system write under ``root``.

    Parameters
    ----------
    root : path
        Only calls on paths under it count.
    mode : str
        ``count``; ``kill`` (``os._exit``); or an errno name (``enospc``, ``erofs``, ``eacces``)
        to raise.
    at : int
        The 1-based call to fail at.
    executed : path, optional
        An executed notebook that replaces running one (``papermill.execute_notebook``).
    armed : bool
        Count from the start instead of from the end of the notebook's execution.
    every : bool
        Fail at every call from ``at`` on (a read-only or full file system), not just that one.
    match : str, optional
        Count only calls on paths containing this text (``history.csv``).
    pause : (str, str), optional
        With ``mode="pause"``: after the call has been made, write a line to the first named
        pipe and block until a byte arrives on the second (the test decides when to go on).
    """

    def __init__(self, root, mode: str = "count", at: int = 0, executed=None, armed: bool = False,
                 counter: Path | None = None, every: bool = False, match: str | None = None,
                 pause: tuple[str, str] | None = None):
        self.roots = {str(Path(root)), str(Path(root).resolve())}
        self.mode, self.at, self.armed, self.every, self.match = mode, int(at), armed, every, match
        self.pause = tuple(pause) if pause else None
        self.executed = Path(executed) if executed else None
        self.counter = Path(counter) if counter else None
        self.calls = 0
        self.log: list[str] = []

    # -- the fault point ------------------------------------------------------------------
    def _under_root(self, *paths, dir_fd: int | None = None) -> str | None:
        for path in paths:
            if not isinstance(path, (str, bytes, os.PathLike)):
                continue
            text = os.fsdecode(os.fspath(path))
            if not os.path.isabs(text):  # relative to a folder descriptor (shutil.rmtree) or the cwd
                base = os.readlink(f"/proc/self/fd/{dir_fd}") if dir_fd is not None else os.getcwd()
                text = os.path.join(base, text)
            if any(text == r or text.startswith(r + os.sep) for r in self.roots):
                return text
        return None

    def hit(self, *paths, dir_fd: int | None = None) -> bool:
        """Count a call; fail it if it is the chosen one. True: pause once the call is done."""
        path = self._under_root(*paths, dir_fd=dir_fd) if self.armed else None
        if path is None or (self.match and self.match not in path):
            return False
        self.calls += 1
        self.log.append(path)
        if self.counter is not None:  # outside root, so writing it is not a fault point
            self.counter.write_text(str(self.calls))
        if self.calls == self.at or (self.every and self.calls > self.at):
            if self.mode == "kill":
                os._exit(KILLED)
            if self.mode == "pause":
                return True
            if self.mode != "count":
                code = getattr(errno, self.mode.upper())
                raise OSError(code, os.strerror(code), path)
        return False

    def wait_for_the_test(self) -> None:
        with io.open(self.pause[0], "w") as out:
            out.write(f"paused {os.getpid()}\n")
        with io.open(self.pause[1], "rb", buffering=0) as release:
            release.read(1)

    # -- installing -----------------------------------------------------------------------
    def install(self, setattr_=None) -> "Faults":
        """Wrap the file-system calls (``setattr_``: pytest's ``monkeypatch.setattr``, so they are
        restored after the test; default plain ``setattr`` for a process that ends anyway)."""
        put = setattr_ or setattr
        faults = self
        names = ("mkdir", "link", "symlink", "replace", "rename", "unlink", "rmdir")
        real = {name: getattr(os, name) for name in ("open", *names)}
        real_open = io.open
        writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT

        def os_open(path, flags, *args, **kwargs):
            pause = bool(flags & writing) and faults.hit(path, dir_fd=kwargs.get("dir_fd"))
            fd = real["open"](path, flags, *args, **kwargs)
            if pause:
                faults.wait_for_the_test()
            return fd

        def one(name):
            def wrapped(*args, **kwargs):
                pause = faults.hit(*args[:2], dir_fd=kwargs.get("dir_fd", kwargs.get("src_dir_fd")))
                done = real[name](*args, **kwargs)
                if pause:
                    faults.wait_for_the_test()
                return done
            return wrapped

        def open_(file, mode="r", *args, **kwargs):
            pause = any(c in mode for c in "wax+") and faults.hit(file)
            handle = real_open(file, mode, *args, **kwargs)
            if pause:
                faults.wait_for_the_test()
            return handle

        put(os, "open", os_open)
        for name in names:
            put(os, name, one(name))
        put(builtins, "open", open_)
        put(io, "open", open_)  # Path.open / write_text call io.open
        if self.executed is not None:
            import papermill

            def execute_notebook(input_path, output_path, *args, **kwargs):
                shutil.copyfile(self.executed, output_path)
                faults.armed = True
                return None

            put(papermill, "execute_notebook", execute_notebook)
        return self

    def spec(self) -> str:
        return json.dumps({"root": sorted(self.roots)[0], "mode": self.mode, "at": self.at,
                           "executed": str(self.executed) if self.executed else None, "armed": self.armed,
                           "counter": str(self.counter) if self.counter else None, "every": self.every,
                           "match": self.match, "pause": self.pause})


def install_from_env() -> None:
    """Called by the generated ``sitecustomize.py`` in every Python process of a test run."""
    text = os.environ.get(ENV)
    if text:
        data = json.loads(text)
        Faults(**data).install()


def sitecustomize_dir(folder: Path) -> Path:
    """A folder with a ``sitecustomize.py`` that installs :data:`ENV`'s faults; put it first on
    ``PYTHONPATH`` of the processes under test."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(
        "from tests.reporting.faults import install_from_env\ninstall_from_env()\n", encoding="utf-8")
    return folder


def executed_notebook(path: Path, value: float) -> Path:
    """A notebook as papermill leaves it after a run: a parameters cell, the injected
    parameters, and one cell whose outputs are a line of text and the headline metrics."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from analysis.reporting.metrics import METRICS_MIME

    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = new_code_cell('as_of = ""  # report date')
    params.metadata["tags"] = ["parameters"]
    injected = new_code_cell('as_of = "2025-06-30"')
    injected.metadata["tags"] = ["injected-parameters"]
    body = new_code_cell("publish_metrics(...)", execution_count=1)
    body.outputs = [new_output("stream", name="stdout", text=f"run {value}\n"),
                    new_output("display_data", data={METRICS_MIME: {"score": {"value": value}},
                                                     "text/plain": "(metrics)"})]
    nb.cells = [params, injected, body]
    for cell in nb.cells:
        cell.metadata["papermill"] = {"status": "completed"}
    nbformat.write(nb, path)
    return path


def _kill_matrix(argv: list[str]) -> int:
    """``python -m tests.reporting.faults BASE OUT N JSON``: for each k in 1..N, copy the reports
    folder BASE to OUT/k and run a report into it in a forked child that dies at the k-th
    file-system call; OUT/k.status holds the child's exit status. Forking from this fresh,
    single-threaded process is safe and costs no interpreter start per k."""
    base, out, count, run = Path(argv[0]), Path(argv[1]), int(argv[2]), json.loads(argv[3])
    from analysis.reporting.execute import run_notebook

    for k in range(1, count + 1):
        root = out / str(k)
        shutil.copytree(base, root, symlinks=True)
        pid = os.fork()
        if pid == 0:
            try:
                Faults(root, "kill", k, run["executed"]).install()
                run_notebook(Path(run["notebook"]), run["params"], as_of=run["as_of"], reports_root=root)
            except BaseException:
                os._exit(1)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        (out / f"{k}.status").write_text(str(os.waitstatus_to_exitcode(status)))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(_kill_matrix(sys.argv[1:]))
