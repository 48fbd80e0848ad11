"""Display helpers the page modules share: escaping, number formats, display names, headless.

Every data-derived string a page shows goes through :func:`md_text` (Markdown and HTML safe);
every id a reader sees goes through :func:`label` (the taxonomy's display names).
"""

from __future__ import annotations

import html
import math
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


def pct_down(value: float) -> str:
    """A fraction as a percentage to a tenth of a point, rounded down (0.2996 -> "29.9%"), so a
    share just under a bar never prints as the bar."""
    return f"{math.floor(value * 1000) / 10:.1f}%"


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


#: Reader's words for the ledger's vocabulary ids (investor types, money types, stages); any other
#: snake_case id reads with spaces (``series_c`` -> "series C").
WORDS = {"vc": "venture capital", "corporate_cloud": "cloud provider", "corporate_chip": "chip maker",
         "corporate_other": "other corporate", "sovereign": "sovereign fund", "pe_crossover": "private equity / crossover",
         "other": "other", "unclassified": "unclassified", "pre_seed": "pre-seed", "post_ipo": "post-IPO",
         "post_ipo_equity": "post-IPO equity", "post_ipo_debt": "post-IPO debt", "post_ipo_secondary": "post-IPO secondary",
         "series_unknown": "series (unknown letter)", "in_kind_compute": "compute in kind",
         "tier1": "tier 1", "ledger company": "ledger company"}


def words(key: object) -> str:
    """A vocabulary id in words: the taxonomy's display name for a domain, segment or basket,
    :data:`WORDS` for the ledger's vocabularies, otherwise underscores read as spaces and a
    series letter capitalised ("series_c" -> "series C")."""
    text = str(key)
    if text in WORDS:
        return WORDS[text]
    named = label(text)
    if named != text:
        return named
    if text.startswith("series_") and len(text) == 8:
        return f"series {text[-1].upper()}"
    return text.replace("_", " ")


def data_end(ledger, as_of) -> str:
    """The date the funding data stop: the ledger's last round, or ``as_of`` if earlier (charts
    mark the period running past it as partial)."""
    import pandas as pd

    end = ledger.last_round_date if not as_of else min(ledger.last_round_date, pd.Timestamp(as_of))
    return end.date().isoformat()
