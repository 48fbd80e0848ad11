"""Run one independent piece of a page build in a second process while this one goes on.

A page build is a chain of sections, most of them single-threaded pandas work; on a machine
with two or more cores the market side of the briefing (prices, basket signals, then the
claims and the verdict that use them) can run next to the private-market side.
:func:`in_background` starts ``fn(*args, **kwargs)`` in a forked child and returns a
:class:`Pending`. A plain function gives one value (``Pending.result()``); a generator function
gives its values one by one as the child produces them (``Pending.next()``), so the parent can
use the first while the child computes the second.

Forking copies the parent's memory (the loaded ledger, imported modules), so nothing but the
results crosses between the processes. Fork is used only where it is safe and cheap: on Linux,
when more than one CPU is available, and while numba's parallel threading layer has not been
started in this process (its pools do not survive a fork). Otherwise, or with
``AIBUBBLE_WORKERS=1``, the call runs in this process when its values are asked for, so the
results never depend on where they were computed.

A child that fails for any reason (an exception, a value that does not pickle, a killed
process) is not trusted to report it: the call is run again in this process, which raises the
genuine exception with its real traceback (or gives the values the child could not send).
"""

from __future__ import annotations

import inspect
import multiprocessing
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any


def parallel_allowed() -> bool:
    """Whether :func:`in_background` may fork here (see the module docstring)."""
    if os.environ.get("AIBUBBLE_WORKERS", "").strip() == "1":
        return False
    if not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2:
        return False
    numba = sys.modules.get("numba")
    if numba is not None:
        try:
            numba.threading_layer()
        except ValueError:   # "threading layer is not initialized": no worker threads to lose
            return True
        return False
    return True


def _values(fn: Callable, args: tuple, kwargs: dict) -> Iterator:
    """The call's values in order: a generator's items, or a plain function's one value."""
    if inspect.isgeneratorfunction(fn):
        yield from fn(*args, **kwargs)
    else:
        yield fn(*args, **kwargs)


def _run_child(conn, fn: Callable, args: tuple, kwargs: dict) -> None:
    # A pipe holds 64 KB: sending a large value blocks until the parent reads it, so a sender
    # thread transmits while this thread computes the next value.
    outbox: queue.Queue = queue.Queue()

    def send_all():
        while (message := outbox.get()) is not None:
            try:
                conn.send(message)
            except Exception:   # unpicklable: the parent recomputes from here on
                conn.send(("failed", None))
                return

    sender = threading.Thread(target=send_all, daemon=True)
    sender.start()
    try:
        for value in _values(fn, args, kwargs):
            outbox.put(("value", value))
        outbox.put(("done", None))
    except BaseException:   # the parent re-runs the call and raises the real error
        outbox.put(("failed", None))
    finally:
        outbox.put(None)
        sender.join()
        conn.close()


class Pending:
    """The values of one :func:`in_background` call, collected in order with :meth:`next`
    (:meth:`result` for a plain function's single value). As a context manager it collects
    the child on the way out, also when the parent fails first."""

    def __init__(self, fn: Callable, args: tuple, kwargs: dict, fork: bool):
        self._call = (fn, args, kwargs)
        self._received = 0
        #: True once a forked call had to be computed here instead (the child failed).
        self.recomputed = False
        self._here: Iterator | None = None
        self._process = None
        self._conn = None
        if fork:
            ctx = multiprocessing.get_context("fork")
            self._conn, child_end = ctx.Pipe(duplex=False)
            self._process = ctx.Process(target=_run_child, args=(child_end, fn, args, kwargs), daemon=True,
                                        name=f"aibubble-{getattr(fn, '__name__', 'task')}")
            self._process.start()
            child_end.close()

    @property
    def forked(self) -> bool:
        """Whether the call is running (or ran) in a child process not yet collected."""
        return self._process is not None

    def next(self) -> Any:
        """The call's next value: the child's if it sent one, else computed here (raising the
        call's own exception, or ``StopIteration`` when the call has no more values)."""
        if self._process is not None:
            try:
                status, value = self._conn.recv()
            except Exception:   # the child died or sent something that does not unpickle
                status, value = "failed", None
            if status == "value":
                self._received += 1
                return value
            self.close()
            if status == "done":
                self._here = iter(())
        if self._here is None:
            self.recomputed = self._conn is not None   # a forked call that the child did not finish
            self._here = _values(*self._call)
            for _ in range(self._received):   # the values the child did send: recomputed, not repeated
                next(self._here)
        return next(self._here)

    def result(self) -> Any:
        """A plain function's value (then the child is collected)."""
        try:
            return self.next()
        finally:
            self.close()

    def __enter__(self) -> Pending:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Collect the child (ending it if the values still owed are not wanted)."""
        if self._process is None:
            return
        self._conn.close()
        self._process.join(timeout=0.5)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._process = None


def in_background(fn: Callable, /, *args, **kwargs) -> Pending:
    """Start ``fn(*args, **kwargs)`` in a forked child when :func:`parallel_allowed`, else defer
    it to the first ``next()``/``result()``. Its values must pickle; ``fn`` must not depend on
    side effects in this process (the child's are lost)."""
    return Pending(fn, args, kwargs, parallel_allowed())
