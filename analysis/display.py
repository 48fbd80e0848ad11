"""Display helpers the page modules share: escaping, number formats, display names, headless.

Every data-derived string a page shows goes through :func:`md_text` (Markdown and HTML safe);
every id a reader sees goes through :func:`label` (the taxonomy's display names).
"""

from __future__ import annotations

import html
import os

from analysis import config


def md_text(value: object) -> str:
    """Escape a data-derived string for a Markdown/HTML display (company names, investors)."""
    # Quotes need no escaping in Markdown text (only inside HTML attributes, which text never
    # reaches); escaping them would leave entities whose '#' the Markdown escaping then breaks.
    escaped = html.escape(str(value), quote=False)
    for ch in "\\`*_[]#|":
        escaped = escaped.replace(ch, "\\" + ch)
    return escaped


def pct(value: float | None) -> str:
    """A fraction as a whole percentage (0.123 -> "12%"); "n/a" for None."""
    return "n/a" if value is None else f"{value:.0%}"


def usd_bn(value: float | None) -> str:
    """US dollars in billions with one decimal ("$12.3 bn"); "n/a" for None."""
    return "n/a" if value is None else f"${value / 1e9:,.1f} bn"


def label(key: str) -> str:
    """The display name of a domain, LLM segment, basket or ticker segment (from the taxonomy);
    any other string (a ticker, a custom column) is returned as given."""
    from analysis.data.taxonomy import load_taxonomy

    return load_taxonomy().label(key, default=key)


def headless() -> bool:
    """True under ``aibubble report``/papermill runs, False in an interactive JupyterLab session."""
    return os.environ.get(config.HEADLESS_ENV) == "1"
