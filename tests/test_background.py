"""analysis.background: a forked child's result comes back unchanged, and any failure of the child
ends in this process's own result or genuine exception."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from analysis import background
from analysis.background import Pending, in_background, parallel_allowed

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is used on Linux only")


def _pid_and_sum(values):
    return os.getpid(), float(np.sum(values))


def _fail(message):
    raise ValueError(message)


def _unpicklable():
    return lambda: 42


def _die_in_child(parent_pid):
    if os.getpid() != parent_pid:
        os._exit(3)  # a child killed without a word (as by the OOM killer)
    return "computed here"


def test_a_forked_call_returns_the_childs_value():
    values = np.arange(1_000_000, dtype=float)
    pending = Pending(_pid_and_sum, (values,), {}, fork=True)
    assert pending.forked
    pid, total = pending.result()
    assert pid != os.getpid()          # it really ran in another process
    assert total == float(values.sum())
    assert not pending.forked and not pending.recomputed   # collected once, nothing redone here


def test_a_deferred_call_runs_here_at_result_time():
    pending = Pending(_pid_and_sum, ([1.0, 2.0],), {}, fork=False)
    assert not pending.forked
    assert pending.result() == (os.getpid(), 3.0)
    assert not pending.recomputed     # it was never meant to run elsewhere


def test_an_exception_in_the_child_is_raised_here_with_its_own_type_and_message():
    with pytest.raises(ValueError, match="bad input in row 7"):
        Pending(_fail, ("bad input in row 7",), {}, fork=True).result()


def test_a_result_that_does_not_pickle_is_computed_here():
    pending = Pending(_unpicklable, (), {}, fork=True)
    assert pending.result()() == 42
    assert pending.recomputed


def test_a_child_that_dies_is_replaced_by_a_run_here():
    assert Pending(_die_in_child, (os.getpid(),), {}, fork=True).result() == "computed here"


def test_workers_1_turns_forking_off(monkeypatch):
    monkeypatch.setenv("AIBUBBLE_WORKERS", "1")
    assert not parallel_allowed()
    assert not in_background(_pid_and_sum, [1.0]).forked


class _FakeNumba:
    def __init__(self, layer):
        self.layer = layer

    def threading_layer(self):
        if self.layer is None:
            raise ValueError("Threading layer is not initialized.")
        return self.layer


@pytest.mark.parametrize("layer, allowed", [(None, True), ("workqueue", False), ("omp", False)])
def test_no_fork_once_numbas_thread_pool_runs(monkeypatch, layer, allowed):
    monkeypatch.delenv("AIBUBBLE_WORKERS", raising=False)
    monkeypatch.setattr(background.os, "cpu_count", lambda: 2)
    monkeypatch.setitem(sys.modules, "numba", _FakeNumba(layer))
    assert parallel_allowed() is allowed


def test_one_cpu_means_no_fork(monkeypatch):
    monkeypatch.delenv("AIBUBBLE_WORKERS", raising=False)
    monkeypatch.setattr(background.os, "cpu_count", lambda: 1)
    assert not parallel_allowed()


def _two_stages(parent_pid, second, first_received=None):
    yield os.getpid()
    if second == "die" and os.getpid() != parent_pid:
        first_received.wait(10)
        os._exit(4)  # the child dies between its two values
    if second == "raise":
        raise KeyError("second stage")
    yield os.getpid()


def test_a_generator_streams_its_values_in_order():
    with Pending(_two_stages, (os.getpid(), "ok"), {}, fork=True) as pending:
        first, second = pending.next(), pending.next()
        with pytest.raises(StopIteration):
            pending.next()          # the child said it was done: nothing is recomputed
        assert not pending.recomputed
    assert first == second != os.getpid()
    assert not pending.forked


def test_a_child_dying_after_its_first_value_leaves_the_rest_to_this_process():
    import multiprocessing

    first_received = multiprocessing.get_context("fork").Event()
    with Pending(_two_stages, (os.getpid(), "die", first_received), {}, fork=True) as pending:
        assert pending.next() != os.getpid()   # sent by the child
        first_received.set()
        assert not pending.recomputed
        assert pending.next() == os.getpid()   # recomputed here, the first value skipped
        assert pending.recomputed


def test_an_error_in_a_later_stage_is_raised_here():
    with Pending(_two_stages, (os.getpid(), "raise"), {}, fork=True) as pending:
        pending.next()
        with pytest.raises(KeyError, match="second stage"):
            pending.next()


def _slow_second(parent_pid):
    import time

    yield 1
    time.sleep(60)
    yield 2


def test_leaving_early_ends_the_child():
    with Pending(_slow_second, (os.getpid(),), {}, fork=True) as pending:
        assert pending.next() == 1
        process = pending._process
    assert not process.is_alive()


def _big_then_mark(marker):
    yield np.ones(4_000_000)       # 32 MB: far more than a pipe holds
    marker.write_text("computing the second value")
    yield "second"


def test_a_large_value_does_not_stop_the_child_until_the_parent_reads_it(tmp_path):
    import time

    marker = tmp_path / "marker"
    with Pending(_big_then_mark, (marker,), {}, fork=True) as pending:
        deadline = time.monotonic() + 20
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert marker.exists()      # the child went on before anyone read its first value
        assert pending.next().sum() == 4_000_000 and pending.next() == "second"
