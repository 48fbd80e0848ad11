"""Physical line numbers of CSV records, so a problem names the line an editor shows.

A quoted field may span several lines (a note with a line break), so "data row i is on line
i + 2" is wrong after such a field. :class:`LineMap` scans the file with the csv module only when
a problem must be located, so files without problems pay nothing.
"""

from __future__ import annotations

import csv
from pathlib import Path


class LineMap:
    """Physical line of each CSV record, computed only when a problem must be located.

    ``line(i)`` is the 1-based line on which data row ``i`` (0-based, header excluded) starts;
    quoted fields spanning several lines are accounted for, blank lines skipped as pandas does.
    """

    def __init__(self, path: Path):
        self.path = path
        self._starts: list[int] | None = None

    def _scan(self) -> list[int]:
        starts, prev = [], 0
        with open(self.path, encoding="utf-8-sig", newline="", errors="replace") as fh:
            reader = csv.reader(fh)
            for record in reader:
                start = prev + 1
                prev = reader.line_num
                if record:
                    starts.append(start)
        return starts

    def line(self, row: int) -> int | None:
        if self._starts is None:
            self._starts = self._scan()
        return self._starts[row + 1] if row + 1 < len(self._starts) else None
