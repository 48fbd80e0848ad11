"""Job processes: a run killed with SIGKILL takes its job processes and kernels with it, and
leaves the published reports and the index as they were."""

from __future__ import annotations

import io
import os
import signal
import subprocess

from analysis import config
from analysis.reporting.index import list_runs
from analysis.reporting.jobs import load_config
from analysis.reporting.progress import Progress
from analysis.reporting.runner import run_batch
from tests.conftest import AS_OF
from tests.reporting.support import Fifo, aibubble, batch_config, env_for, tiny_notebook, wait_for_exit


def _published(root):
    """Every file a reader sees (links followed, dot-names skipped), with its bytes."""
    seen = {}
    for folder, subfolders, files in os.walk(root, followlinks=True):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        for name in files:
            if not name.startswith("."):
                path = os.path.join(folder, name)
                seen[os.path.relpath(path, root)] = open(path, "rb").read()
    return seen


def test_a_run_killed_with_sigkill_leaves_the_published_reports_and_index_intact(tmp_path):
    root = tmp_path / "reports"
    started = Fifo(tmp_path / "started")
    marker = tmp_path / "marker"
    tiny_notebook(tmp_path / "quick.ipynb", "print('published before the crash')")
    # The kernel reports its own pid and its parent's (the job process), then would carry on
    # for a minute and leave a mark if it outlived the kill.
    tiny_notebook(tmp_path / "hang.ipynb", f"import os, time\nopen({str(marker)!r}, 'w').write('x')\n"
                                           f"open({str(started.path)!r}, 'w').write(f'{{os.getpid()}} {{os.getppid()}}\\n')\n"
                                           f"time.sleep(60)\nopen({str(marker)!r}, 'w').write('finished')")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    good = batch_config(tmp_path / "a", "- name: quick\n  notebook: ../quick.ipynb\n")
    assert run_batch(load_config(good, as_of=AS_OF), root, progress=Progress(io.StringIO())).ok
    before = _published(root)
    assert f"{AS_OF}/quick.html" in before and "index.html" in before
    hang = batch_config(tmp_path / "b", "- name: quick\n  notebook: ../hang.ipynb\n")  # same job and date: a re-run
    proc = subprocess.Popen(aibubble("run", str(hang), "--as-of", AS_OF, "--out", str(root)), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=config.ROOT, env=env_for(root))
    try:
        lines = started.read_lines(1)
        assert lines, "the job never started"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    kernel, job_process = (int(pid) for pid in lines[0].split())
    # the job process sees its parent die and exits; the kernel follows its own parent
    assert wait_for_exit([job_process, kernel], timeout=60), "an orphaned job process or kernel survived the kill"
    started.close()
    assert marker.read_text() == "x"  # the orphaned job did not carry on
    assert list(root.glob(".staging-*"))  # left behind by the kill ...
    assert [r["job"] for r in list_runs(root)] == ["quick"]  # ... and never listed
    assert _published(root) == before
    # the lock died with the process; the next run cleans up what the killed one left
    assert run_batch(load_config(good, as_of=AS_OF), root, wait=False, progress=Progress(io.StringIO())).ok
    assert not list(root.glob(".staging-*")) and not list(root.glob(".*.tmp"))
