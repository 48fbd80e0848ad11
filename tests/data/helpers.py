"""Helpers shared by the data-layer tests."""

from __future__ import annotations

import shutil

from tests.conftest import FIXTURES


def copy_fixture(tmp_path, edit=None):
    """The fixture ledger and its reference tables in ``tmp_path``; ``edit(lines)`` changes the ledger."""
    for name in ("funding_rounds.csv", "companies.csv", "investors.csv"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    if edit:
        path = tmp_path / "funding_rounds.csv"
        lines = path.read_text().splitlines()
        edit(lines)
        path.write_text("\n".join(lines) + "\n")
    return tmp_path / "funding_rounds.csv"

