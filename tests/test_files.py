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
