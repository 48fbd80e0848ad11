"""Paths and settings: the one place the rest of the package learns where things are.

Every path derives from the repository root; environment variables override the few that a
deployment needs to move (the market-data cache and the reports folder).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
NOTEBOOKS_DIR = ROOT / "notebooks"
BRIEFINGS_DIR = NOTEBOOKS_DIR / "briefings"
TAXONOMY_PATH = DATA_DIR / "taxonomy.yaml"

#: The curated datasets, by the name the loaders and `aibubble validate` use.
DATASET_FILES = {
    "funding_rounds": DATA_DIR / "funding_rounds.csv",
    "companies": DATA_DIR / "companies.csv",
    "investors": DATA_DIR / "investors.csv",
    "lab_financials": DATA_DIR / "lab_financials.csv",
    "hyperscaler_financials": DATA_DIR / "hyperscaler_financials.csv",
    "market_totals": DATA_DIR / "market_totals.csv",
    "tickers": DATA_DIR / "tickers.csv",
    "fx_rates": DATA_DIR / "fx_rates.csv",
    "reference_points": DATA_DIR / "reference_points.csv",
    # Data model v2 (issue #15)
    "publishers": DATA_DIR / "publishers.csv",
    "relationships": DATA_DIR / "relationships.csv",
    "regions": DATA_DIR / "regions.csv",
    "models": DATA_DIR / "models.csv",
}

DEFAULT_BRIEFING = BRIEFINGS_DIR / "bubble-risk.ipynb"

#: Kernel used by papermill. "python3" resolves to the interpreter running the CLI, so a run
#: from the project's venv executes in that venv without a registered kernelspec.
KERNEL_NAME = os.environ.get("AIBUBBLE_KERNEL", "python3")

#: Set for the kernels the report runner starts, so notebooks know nobody can click (no widgets).
HEADLESS_ENV = "AIBUBBLE_HEADLESS"


def reports_dir() -> Path:
    """Folder that holds dated report runs (``AIBUBBLE_REPORTS_DIR`` overrides)."""
    return Path(os.environ.get("AIBUBBLE_REPORTS_DIR", ROOT / "reports"))


def keep_failed() -> int:
    """How many failed runs ``reports/failed/`` keeps (newest first; ``AIBUBBLE_KEEP_FAILED``
    overrides, default 30): enough to diagnose a bad week of scheduled runs, bounded so a job that
    fails every day cannot fill the disk with executed notebooks."""
    text = os.environ.get("AIBUBBLE_KEEP_FAILED", "").strip()
    if not text:
        return 30
    if not text.isdigit() or int(text) < 1:
        from analysis.errors import ConfigError

        raise ConfigError(f"AIBUBBLE_KEEP_FAILED={text!r} must be a whole number of at least 1")
    return int(text)


def cache_dir() -> Path:
    """Market-data cache folder (``AIBUBBLE_CACHE_DIR`` overrides; git-ignored by default)."""
    return Path(os.environ.get("AIBUBBLE_CACHE_DIR", DATA_DIR / "cache"))


def shared_market_dir() -> Path:
    """The market snapshot for tests, benchmarks and calibration (test and development data only,
    never copied into the project): ``AIBUBBLE_SHARED_MARKET``, else ``../shared/market`` next to
    the repository (or next to the folder holding it, for a git worktree in a subfolder). The
    first candidate is returned when none exists, so messages name the expected place."""
    env = os.environ.get("AIBUBBLE_SHARED_MARKET")
    if env:
        return Path(env)
    candidates = [ROOT.parent / "shared" / "market", ROOT.parent.parent / "shared" / "market"]
    return next((c for c in candidates if c.is_dir()), candidates[0])


def display_path(path: os.PathLike | str) -> str:
    """A path as it may appear in a report: relative to the repo, else just the file name.

    Reports are shared; an absolute path would leak the machine's layout and user names.
    """
    p = Path(path)
    try:
        return p.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return p.name
