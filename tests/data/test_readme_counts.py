"""data/README.md's table of files states each file's row count; it must match the files, so the
dictionary a reader trusts never drifts from the data it describes."""

from __future__ import annotations

import csv
import re

from analysis import config

ROW = re.compile(r"^\| `([a-z_]+\.csv)` \| (\d+) \|", re.M)


def stated_counts(text: str) -> dict[str, int]:
    return {name: int(n) for name, n in ROW.findall(text)}


def test_stated_row_counts_match_the_files():
    data_dir = config.DATA_DIR
    stated = stated_counts((data_dir / "README.md").read_text(encoding="utf-8"))
    assert len(stated) >= 15
    actual = {}
    for name in stated:
        with open(data_dir / name, encoding="utf-8", newline="") as fh:
            actual[name] = sum(1 for _ in csv.reader(fh)) - 1
    assert stated == actual


def test_the_count_check_reads_the_table_rows_only():
    text = "| `a.csv` | 12 | rows |\nprose | `b.csv` | 3 |\n| `c.csv` | - | cache |\n"
    assert stated_counts(text) == {"a.csv": 12}
