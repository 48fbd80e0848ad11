"""The fixture exports imported once per test module."""

from __future__ import annotations

import pytest

from analysis.data.importers import import_crunchbase, import_pitchbook
from tests.data.importers.common import CB, PB


@pytest.fixture(scope="module")
def cb():
    return import_crunchbase(CB / "funding_rounds.csv", CB / "organizations.csv")


@pytest.fixture(scope="module")
def pb():
    return import_pitchbook(PB / "deals.csv")
