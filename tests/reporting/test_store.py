"""The publish transaction: a full disk or a kill at any file-system call of publishing leaves the
previous run or the new one, never a mix; files are readable under the umask; an old-layout
folder is adopted; failed runs are bounded and scrubbed.

The faults come from :mod:`tests.reporting.faults`, which wraps the OS calls themselves, so the
tests do not depend on how publishing is implemented: every write, link, rename and folder
after the notebook has run is a fault point.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import subprocess
import sys

import pytest

from analysis import config
from analysis.reporting.execute import run_notebook
from tests.conftest import AS_OF
from tests.reporting.faults import Faults, executed_notebook
from tests.reporting.support import history_rows, tiny_notebook

JOB = "bubble-risk"  # the briefing's name: its run also writes <as-of>/metrics.json
PUBLISHED = [f"{AS_OF}/{JOB}.{ext}" for ext in ("html", "ipynb", "metrics.json", "run.json")] + [f"{AS_OF}/metrics.json"]


@pytest.fixture
def before(tmp_path, monkeypatch):
    """A reports folder holding one good run (score 3.0), and an executed notebook for the next
    run (score 7.0), which the faults then interrupt."""
    folder = tmp_path / "src"
    folder.mkdir()
    notebook = tiny_notebook(folder / f"{JOB}.ipynb", "pass")
    old, new = executed_notebook(tmp_path / "old.ipynb", 3.0), executed_notebook(tmp_path / "new.ipynb", 7.0)
    root = tmp_path / "before"
    with monkeypatch.context() as patch:
        Faults(root, executed=old).install(patch.setattr)
        run_notebook(notebook, {"as_of": AS_OF}, as_of=AS_OF, reports_root=root)
    return {"root": root, "notebook": notebook, "new": new, "files": _read(root)}


def _read(root) -> dict:
    names = PUBLISHED + ["index.html", "history.csv"]
    return {name: (root / name).read_bytes() if (root / name).is_file() else None for name in names}


def _visible(root) -> list[str]:
    """Every name a reader of the folder sees (links followed, dot-names skipped)."""
    seen = []
    for folder, subfolders, files in os.walk(root, followlinks=True):
        subfolders[:] = [d for d in subfolders if not d.startswith(".")]
        seen += [os.path.relpath(os.path.join(folder, f), root) for f in files if not f.startswith(".")]
    return sorted(seen)


def assert_one_run(root, old: dict) -> str:
    """The folder shows the old run or the new one, whole: report files, index and history agree."""
    now = _read(root)
    same = {name: now[name] == old[name] for name in PUBLISHED}
    assert all(same.values()) or not any(same.values()), f"a mix of two runs: {same}"
    assert not any(name.endswith(".tmp") for name in _visible(root)), _visible(root)
    if all(same.values()):
        assert now["index.html"] == old["index.html"] and now["history.csv"] == old["history.csv"]
        return "old"
    record = json.loads(now[f"{AS_OF}/{JOB}.run.json"])
    assert json.loads(now[f"{AS_OF}/metrics.json"])["score"]["value"] == 7.0
    assert record["finished_at"] in now["index.html"].decode(), "the index does not show the new run"
    assert now["history.csv"] is not None and any(
        r["job"] == JOB and r["finished_at"] == record["finished_at"] for r in history_rows(root)), \
        "the new run's history row is missing"
    return "new"


def _count_calls(before, tmp_path, monkeypatch) -> int:
    root = tmp_path / "count"
    shutil.copytree(before["root"], root, symlinks=True)
    with monkeypatch.context() as patch:
        faults = Faults(root, "count", executed=before["new"]).install(patch.setattr)
        run_notebook(before["notebook"], {"as_of": AS_OF}, as_of=AS_OF, reports_root=root)
    assert assert_one_run(root, before["files"]) == "new"
    return faults.calls


def test_a_full_disk_at_any_step_of_publishing_keeps_the_previous_run(before, tmp_path, monkeypatch):
    calls = _count_calls(before, tmp_path, monkeypatch)
    assert calls >= 5
    for k in range(1, calls + 1):
        root = tmp_path / f"k{k}"
        shutil.copytree(before["root"], root, symlinks=True)
        with monkeypatch.context() as patch:
            Faults(root, "enospc", k, before["new"]).install(patch.setattr)
            try:
                run_notebook(before["notebook"], {"as_of": AS_OF}, as_of=AS_OF, reports_root=root)
                failed = None
            except OSError as exc:
                failed = exc
        if failed is None:  # a caller that expects the error (filelock creating its folder) went on
            assert assert_one_run(root, before["files"]) == "new", f"call {k}"
        else:
            assert failed.errno == errno.ENOSPC and failed.filename, f"call {k}: {failed!r}"
            assert assert_one_run(root, before["files"]) == "old", f"call {k}"
        # and the next run, with room on the disk, publishes normally and leaves nothing behind
        with monkeypatch.context() as patch:
            Faults(root, executed=before["new"]).install(patch.setattr)
            run_notebook(before["notebook"], {"as_of": AS_OF}, as_of=AS_OF, reports_root=root)
        assert assert_one_run(root, before["files"]) == "new", f"call {k}"
        assert not [p for p in root.iterdir() if p.name.startswith(".staging")], f"call {k}"


def test_a_kill_at_any_step_of_publishing_leaves_one_whole_run(before, tmp_path, monkeypatch):
    calls = _count_calls(before, tmp_path, monkeypatch)
    out = tmp_path / "killed"
    out.mkdir()
    run = {"executed": str(before["new"]), "notebook": str(before["notebook"]), "params": {"as_of": AS_OF},
           "as_of": AS_OF}
    subprocess.run([sys.executable, "-m", "tests.reporting.faults", str(before["root"]), str(out), str(calls),
                    json.dumps(run)], check=True, cwd=config.ROOT, timeout=600,
                   env={**os.environ, "PYTHONPATH": str(config.ROOT)})
    outcomes = []
    for k in range(1, calls + 1):
        assert (out / f"{k}.status").read_text() == "137", f"call {k}: the run was not killed there"
        outcomes.append(assert_one_run(out / str(k), before["files"]))
        # the next run finishes what the killed one left
        root = out / str(k)
        with monkeypatch.context() as patch:
            Faults(root, executed=before["new"]).install(patch.setattr)
            run_notebook(before["notebook"], {"as_of": AS_OF}, as_of=AS_OF, reports_root=root)
        assert assert_one_run(root, before["files"]) == "new", f"call {k}"
        assert not [p for p in root.rglob(".build-*")] and not list(root.glob(".staging-*")), f"call {k}"
    assert outcomes[0] == "old" and outcomes[-1] == "new"  # killed before the switch, and after it


def test_published_files_are_readable_by_everyone_the_umask_allows(before, tmp_path, monkeypatch):
    root = tmp_path / "umask"
    old = os.umask(0o022)
    try:
        with monkeypatch.context() as patch:
            Faults(root, executed=before["new"]).install(patch.setattr)
            run_notebook(before["notebook"], {"as_of": AS_OF}, as_of=AS_OF, reports_root=root)
    finally:
        os.umask(old)
    for name in PUBLISHED + ["index.html", "history.csv"]:
        assert stat.S_IMODE((root / name).stat().st_mode) == 0o644, name


def test_a_folder_of_the_old_layout_is_adopted_whole(tmp_path, monkeypatch):
    """Reports written before generations (real folders and files) stay where links point."""
    root = tmp_path / "reports"
    (root / "2025-01-31").mkdir(parents=True)
    (root / "2025-01-31" / "old.html").write_text("<p>old</p>")
    (root / "2025-01-31" / "old.run.json").write_text(json.dumps(
        {"job": "old", "as_of": "2025-01-31", "status": "ok", "finished_at": "2025-02-01 06:00:00 UTC"}))
    (root / "history.csv").write_text("as_of,job,finished_at,status,duration_s,x\n"
                                      "2025-01-31,old,2025-02-01 06:00:00 UTC,ok,1.00,1.0\n")
    (root / "index.html").write_text("stale")
    (root / "README.md").write_text("not ours")
    notebook = tiny_notebook(tmp_path / f"{JOB}.ipynb", "pass")
    with monkeypatch.context() as patch:
        Faults(root, executed=executed_notebook(tmp_path / "new.ipynb", 7.0)).install(patch.setattr)
        run_notebook(notebook, {"as_of": AS_OF}, as_of=AS_OF, reports_root=root)
    assert (root / "2025-01-31" / "old.html").read_text() == "<p>old</p>"
    assert [r["job"] for r in history_rows(root)] == ["old", JOB]
    index = (root / "index.html").read_text()
    assert 'href="2025-01-31/old.html"' in index and f'href="{AS_OF}/{JOB}.html"' in index
    assert (root / "README.md").read_text() == "not ours"
    assert not list(root.glob(".trash-*"))


def _failing_notebook(tmp_path):
    """A notebook whose cell fails inside the package, so the traceback names package files."""
    return tiny_notebook(tmp_path / "bad.ipynb", "from analysis import params as P\nP.validate({'period': 'week'})")


def test_failed_runs_are_kept_without_machine_paths_and_bounded(tmp_path, monkeypatch):
    monkeypatch.setenv("AIBUBBLE_KEEP_FAILED", "2")
    root = tmp_path / "reports"
    bad = _failing_notebook(tmp_path)
    from analysis.errors import NotebookExecutionError

    for _ in range(3):
        with pytest.raises(NotebookExecutionError):
            run_notebook(bad, {"as_of": AS_OF, "top_n": 5}, as_of=AS_OF, reports_root=root)
    kept = sorted((root / "failed").glob("*.ipynb"))
    assert len(kept) == 2 and len(list((root / "failed").glob("*.run.json"))) == 2
    text = kept[-1].read_text()
    assert "ParameterError" in text and "period" in text
    assert str(config.ROOT) not in text and os.path.expanduser("~") + os.sep not in text
    assert len(history_rows(root)) == 3  # the history keeps every failure


def test_a_run_that_waits_says_so_at_once_and_again_while_it_waits(tmp_path, monkeypatch):
    import threading

    from filelock import FileLock

    from analysis.reporting import store

    monkeypatch.setattr(store, "WAIT_NOTICE_S", 0.05)
    root = tmp_path / "reports"
    root.mkdir()
    (root / ".run.lock.info").write_text("pid 1, aibubble run reports.yaml, since 2025-06-30T06:00:00+00:00")
    notices, twice, done = [], threading.Event(), threading.Event()

    def on_wait(text):
        notices.append(text)
        if len(notices) >= 2:
            twice.set()

    def waiter():
        with store.run_lock(root, on_wait=on_wait):
            done.set()

    holder = FileLock(str(root / ".run.lock"))
    holder.acquire()
    thread = threading.Thread(target=waiter)
    thread.start()
    try:
        assert twice.wait(60), notices
        assert not done.is_set()
    finally:
        holder.release()
    assert done.wait(60)
    thread.join()
    assert notices[0] == "pid 1, aibubble run reports.yaml, since 2025-06-30T06:00:00+00:00"
    assert "still waiting after" in notices[1]
