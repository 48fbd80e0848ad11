"""The "change since the last run" section: this run's headline numbers against the previous run
of the same job, from the run history (``reports/history.csv``)."""

from __future__ import annotations

#: Metrics compared with the previous run: each segment's risk score and the full-market LLM share.
COMPARED = r"^(risk_scores\.[^.]+\.score|spending\.full_market_llm_share\.\w+\.share_mid)$"


def score_changes(metrics: dict, as_of: str):
    """Risk scores and headline shares now against the previous run of this job."""
    from analysis.reporting.history import change_since_last_run

    changes = change_since_last_run(metrics, as_of, changed_only=False)
    table = changes.table
    if table is not None and len(table):
        table = table[table["metric"].str.match(COMPARED)].reset_index(drop=True)
    from dataclasses import replace

    return replace(changes, table=table)
