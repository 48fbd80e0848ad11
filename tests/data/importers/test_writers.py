"""Writing imported ledgers: exact round trips, atomic writes, never over existing data."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.data.importers import LEDGER_COLUMNS, write_ledger
from analysis.errors import AIBubbleError
from tests.data.importers.common import raw_csv


def test_written_ledger_reads_back_to_the_same_strings(cb, tmp_path):
    tricky = cb.ledger.copy()
    tricky.loc[0, "notes"] = 'quote " and, comma\nand newline'
    tricky.loc[1, "source_title"] = "Crunchbase bulk export: Series A, extended"
    tricky.loc[2, "org_name"] = '"Quoted" Co'
    tricky.loc[3, "notes"] = "caf\u00e9 \u2013 na\u00efve"
    out = write_ledger(tricky, tmp_path / "tricky.csv")
    back = pd.read_csv(out, dtype=str, keep_default_na=False, na_values=[""])
    assert list(back.columns) == LEDGER_COLUMNS
    expected = tricky[LEDGER_COLUMNS].astype(object).where(tricky[LEDGER_COLUMNS].notna(), None)
    assert back.astype(object).where(back.notna(), None).values.tolist() == expected.values.tolist()
    # The standard library's reader agrees (quoted fields, doubled quotes, embedded newline).
    rows = raw_csv(out)
    assert rows[0]["notes"] == 'quote " and, comma\nand newline'
    assert rows[2]["org_name"] == '"Quoted" Co'
    assert rows[0]["other_investors"] == ""   # missing values are empty fields
    # The CLI writes the Arrow table behind the DataFrame: byte for byte the same file.
    a, b = write_ledger(cb.table, tmp_path / "a.csv"), write_ledger(cb.ledger, tmp_path / "b.csv")
    assert a.read_bytes() == b.read_bytes()


def test_write_is_atomic_and_refuses_to_overwrite(cb, tmp_path, monkeypatch):
    out = tmp_path / "ledger.csv"
    out.write_text("precious\n")
    with pytest.raises(AIBubbleError, match="already exists"):
        write_ledger(cb.ledger, out)

    def boom(table, sink, *args, **kwargs):
        sink.write(b"round_id,org_name\ncb-1,Half wr")   # a partial write, then the disk fills up
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("analysis.data.importers.writers.pacsv.write_csv", boom)
    with pytest.raises(AIBubbleError, match="No space left"):
        write_ledger(cb.ledger, out, overwrite=True)
    assert out.read_text() == "precious\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.csv"]   # no temp file left behind
