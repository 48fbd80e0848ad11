"""Run history (placeholder until the runner split lands: re-exports from the batch module)."""

from analysis.reporting.batch import change_since_last_run  # noqa: F401
