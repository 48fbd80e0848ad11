"""Running notebooks (papermill), exporting briefings (nbconvert) and keeping the reports index."""

from analysis.reporting.metrics import METRICS_MIME, publish_metrics  # noqa: F401
