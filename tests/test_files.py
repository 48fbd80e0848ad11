"""analysis.files: a failed write leaves the old file and no temporary file behind."""

from __future__ import annotations

import pytest

from analysis.files import atomic_file, atomic_write_text


def test_a_complete_write_replaces_the_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with atomic_file(target) as fh:
        fh.write("a,b\r\n1,2\n")              # no newline translation: bytes as written
        assert target.read_text() == "old\n"  # readers still see the old file meanwhile
    assert target.read_bytes() == b"a,b\r\n1,2\n"
    atomic_write_text(target, "caf\u00e9")
    assert target.read_text(encoding="utf-8") == "caf\u00e9"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_file(target, "wb", fsync=True) as fh:
            fh.write(b"half")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_new_files_get_the_permissions_the_umask_gives_not_owner_only(tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "index.html", "<p>hi</p>")
        with atomic_file(tmp_path / "cache.parquet", "wb", fsync=True) as fh:
            fh.write(b"x")
        os.umask(0o077)
        atomic_write_text(tmp_path / "private.csv", "a\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "index.html").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "cache.parquet").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "private.csv").stat().st_mode) == 0o600
