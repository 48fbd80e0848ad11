"""Bring-your-own-data importers: a Crunchbase or PitchBook export -> a funding ledger CSV.

The ledger written here uses the :class:`~analysis.data.schemas.FundingRounds` columns, fills
``domain`` on every row (so :func:`~analysis.data.ledger.load_ledger` can derive the companies
from it) and passes ``aibubble validate``. Each row's ``notes`` say which taxonomy rule placed
the company ("classified by category 'drug discovery'").

Rules applied to every export (also in ``data/README.md``):

* Dates. ``YYYY-MM-DD`` (an optional time part is ignored), ``YYYY-MM`` and ``YYYY`` are read;
  PitchBook exports may also use ``M/D/YYYY`` and ``D-Mon-YYYY``. A year-only or year-month date
  is set to the first day of that period and the row's notes say so ("announced_on given as
  '2021' (year only); set to 2021-01-01"), so annual and monthly totals keep the right period.
  Anything else is an error. Rows without a date, or dated before the ledger's floor
  (2010-01-01), are dropped and counted.
* Amounts. Empty stays empty (undisclosed, never zero). Thousands separators are ignored.
  A value that is not a number, or is negative, is an error. A post-money valuation of zero,
  or below the amount raised (which the ledger rejects), is left empty and noted.
* Duplicates. A repeated round id, or a second round of the same company on the same date with
  the same amount and kind of money (the ledger's duplicate rule), is dropped and counted.
* Company names. Two different companies with the same name get their permalink / id appended
  ("Nova AI (nova-ai-2)"), because the ledger identifies companies by name.
* Errors name the file, line (header = line 1, counted in physical lines even when quoted fields
  span several) and column; at most :data:`MAX_PROBLEMS` are listed. The output file is written
  atomically (temp file + ``os.replace``), so a failed import never leaves a partial ledger.
  pyarrow's CSV writer writes it, quoting every text value (missing values stay empty).

Speed: a bulk export is processed as pyarrow arrays, with independent steps in two threads, and
only the AI rounds are ever turned into ledger text (``benchmarks/import_ledger.py``).

Modules: :mod:`.crunchbase` and :mod:`.pitchbook` read their exports; :mod:`.parsing` reads CSV
and parses dates and amounts for both; :mod:`.assembly` turns the chosen rows into the ledger and
its :class:`ImportResult`; :mod:`.writers` writes the ledger and the classification report.
"""

from __future__ import annotations

from analysis.data.importers.assembly import LEDGER_COLUMNS, LEDGER_FLOOR, ImportResult
from analysis.data.importers.crunchbase import (
    CRUNCHBASE_ORGS_REQUIRED, CRUNCHBASE_PUBLISHER, CRUNCHBASE_ROUNDS_REQUIRED, import_crunchbase)
from analysis.data.importers.parsing import MAX_PROBLEMS
from analysis.data.importers.pitchbook import (
    DEAL_SIZE_UNITS, PITCHBOOK_ALIASES, PITCHBOOK_DEAL_TYPES, PITCHBOOK_FAILED_STATUS, PITCHBOOK_INDUSTRY_COLUMNS,
    PITCHBOOK_PUBLISHER, PITCHBOOK_REQUIRED, import_pitchbook)
from analysis.data.importers.writers import check_targets, write_company_report, write_import, write_ledger

__all__ = [
    "CRUNCHBASE_ORGS_REQUIRED", "CRUNCHBASE_PUBLISHER", "CRUNCHBASE_ROUNDS_REQUIRED", "DEAL_SIZE_UNITS",
    "LEDGER_COLUMNS", "LEDGER_FLOOR", "MAX_PROBLEMS", "PITCHBOOK_ALIASES", "PITCHBOOK_DEAL_TYPES",
    "PITCHBOOK_FAILED_STATUS", "PITCHBOOK_INDUSTRY_COLUMNS", "PITCHBOOK_PUBLISHER", "PITCHBOOK_REQUIRED",
    "ImportResult", "check_targets", "import_crunchbase", "import_pitchbook", "write_company_report",
    "write_import", "write_ledger",
]
