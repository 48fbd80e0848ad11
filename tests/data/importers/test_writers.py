"""Writing imported ledgers: exact round trips, atomic writes, never over existing data."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from analysis import config
from analysis.cli import data as import_cli
from analysis.data.importers import LEDGER_COLUMNS, import_pitchbook, write_company_report, write_import, write_ledger
from analysis.data.importers.writers import FORMULA_START, neutralise_formulas
from analysis.data.ledger import load_ledger
from analysis.errors import AIBubbleError
from tests.data.importers.common import PB, raw_csv, write_rows


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


@pytest.fixture
def bundled_copy(tmp_path, monkeypatch):
    """The curated data files as copies in tmp_path, standing in for data/ (never touched)."""
    data = tmp_path / "data"
    data.mkdir()
    files = {}
    for dataset, path in config.DATASET_FILES.items():
        files[dataset] = data / path.name
        shutil.copy(path, files[dataset])
    monkeypatch.setattr(config, "DATASET_FILES", files)
    return files


def test_the_company_report_never_replaces_a_file_without_force_nor_curated_data(cb, tmp_path, bundled_copy):
    # Regression: `--report data/companies.csv` replaced the bundled companies without --force.
    companies = bundled_copy["companies"]
    before = companies.read_bytes()
    with pytest.raises(AIBubbleError, match="curated dataset"):
        write_company_report(cb, tmp_path / "data" / "companies.csv")
    with pytest.raises(AIBubbleError, match="curated dataset"):   # not even with --force
        write_company_report(cb, companies, overwrite=True)
    with pytest.raises(AIBubbleError, match="curated dataset"):
        write_ledger(cb.table, bundled_copy["investors"], overwrite=True)
    assert companies.read_bytes() == before
    other = tmp_path / "classification.csv"
    other.write_text("old\n")
    with pytest.raises(AIBubbleError, match="already exists"):
        write_company_report(cb, other)
    assert write_company_report(cb, other, overwrite=True) == other and other.read_text() != "old\n"


def test_two_outputs_on_one_file_are_refused_before_anything_is_written(cb, tmp_path):
    out = tmp_path / "ledger.csv"
    for report in (out, tmp_path / "sub" / ".." / "ledger.csv"):
        with pytest.raises(AIBubbleError, match="same file"):
            write_import(cb, out, report, overwrite=True)
        assert not out.exists()
    with pytest.raises(AIBubbleError, match="read as its reference table"):
        write_import(cb, out, tmp_path / "companies.csv")
    assert list(tmp_path.iterdir()) == []
    ledger, report = write_import(cb, out, tmp_path / "classification.csv")
    assert len(load_ledger(ledger).rounds) == 11 and len(pd.read_csv(report)) == 9
    with pytest.raises(AIBubbleError, match="already exists"):   # both checked before the first write
        write_import(cb, tmp_path / "new.csv", report)
    assert not (tmp_path / "new.csv").exists()


def test_cli_out_and_report_on_one_file_never_leave_the_report_in_place_of_the_ledger(tmp_path, capsys):
    # Regression: `--out X --report X` wrote the ledger, then replaced it with the report, exit 0.
    out = tmp_path / "x.csv"
    args = ["import", "pitchbook", "--deals", str(PB / "deals.csv"), "--out", str(out), "--report", str(out)]
    parser = import_cli.argparse.ArgumentParser()
    parser.add_argument("--debug", action="store_true")
    import_cli.add_import_parser(parser.add_subparsers(dest="command", required=True))
    parsed = parser.parse_args(args)
    with pytest.raises(AIBubbleError):
        parsed.func(parsed)
    assert not out.exists() or len(load_ledger(out).rounds) == 7


DANGEROUS = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)"]


def test_formula_payloads_are_neutralised_in_every_written_csv(tmp_path):
    # Regression: imported CSVs kept cells that a spreadsheet runs as formulas.
    rows = raw_csv(PB / "deals.csv")
    for row, payload in zip(rows, DANGEROUS * 3):   # homonyms get their id appended
        row["COMPANIES"] = payload
        row["LEAD_INVESTORS"] = "=1+1"
    result = import_pitchbook(write_rows(tmp_path / "deals.csv", rows))
    ledger = write_ledger(result.table, tmp_path / "ledger.csv")
    report = write_company_report(result, tmp_path / "classification.csv")
    for path, columns in ((ledger, ("org_name", "lead_investors")), (report, ("org_name", "note"))):
        cells = [r[c] for r in raw_csv(path) for c in columns if r[c]]
        assert cells, path
        assert not [c for c in cells if c[0] in "=+-@\t\r"], path
    names = {r["org_name"] for r in raw_csv(ledger)}
    for payload in DANGEROUS:
        assert any(name.startswith("'" + payload) for name in names), payload
    assert {r["lead_investors"] for r in raw_csv(ledger)} == {"'=1+1"}
    # Numbers stay numbers: the amount columns keep their plain digits.
    amounts = [r["raised_amount_usd"] for r in raw_csv(ledger) if r["raised_amount_usd"]]
    assert amounts and all(a.isdigit() for a in amounts) and "25500000" in amounts
    assert len(load_ledger(ledger).rounds) == result.rows_kept


def test_tab_and_carriage_return_payloads_are_neutralised_too(cb, tmp_path):
    tricky = cb.ledger.copy()
    tricky.loc[0, "notes"] = "\t=cmd"
    tricky.loc[1, "other_investors"] = "\rEvil"
    tricky.loc[2, "notes"] = "a - b = c"        # not at the start: left alone
    rows = raw_csv(write_ledger(tricky, tmp_path / "tricky.csv"))
    assert (rows[0]["notes"], rows[1]["other_investors"], rows[2]["notes"]) == ("'\t=cmd", "'\rEvil", "a - b = c")


def test_the_fast_formula_check_agrees_with_the_obvious_one():
    # neutralise_formulas reads the first byte of each value from Arrow's buffers; the obvious
    # version is a regex over every cell. Random strings over the dangerous characters, with
    # nulls, empty strings, slices (non-zero offsets), chunks and 64-bit offsets.
    rng = np.random.default_rng(20)
    alphabet = list("=+-@\t\rab c'1é")
    values = ["".join(rng.choice(alphabet, size=rng.integers(0, 4))) for _ in range(4000)]
    values = [None if rng.random() < 0.1 else v for v in values]
    base = pa.array(values, pa.string())
    cases = [base, base.slice(7, 3000), pa.chunked_array([base.slice(0, 100), base.slice(100)]),
             base.cast(pa.large_string()), pa.chunked_array([], pa.string())]
    for case in cases:
        risky = pc.fill_null(pc.match_substring_regex(case, FORMULA_START), False)
        expected = pc.if_else(risky, pc.binary_join_element_wise(pa.scalar("'", case.type), case,
                                                                 pa.scalar("", case.type)), case)
        got = neutralise_formulas(case)
        flat = [x.combine_chunks() if isinstance(x, pa.ChunkedArray) else x for x in (got, expected)]
        assert flat[0].equals(flat[1]), case.type
