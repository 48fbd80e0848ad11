"""history.csv: flattened metrics, one row per run, and the change since the previous run."""

from __future__ import annotations

import pytest

from analysis.reporting import history
from analysis.reporting.jobs import JobResult
from tests.conftest import AS_OF
from tests.reporting.support import history_rows

NEXT_AS_OF = "2025-07-31"


def test_flatten_metrics_documents_the_history_columns():
    flat = history.flatten_metrics({"llm_share_by_year": {"broad": {"2025": 0.61, "2024": None}},
                                    "ledger": {"rounds": 12, "source": "x"}, "v1.2": 3.0, "ok": True,
                                    "duration_s": 9.0, "nan": float("nan")})
    assert flat == {"llm_share_by_year.broad.2025": 0.61, "ledger.rounds": 12.0, "v1_2": 3.0}


def _result(job: str, as_of: str, value: float, status: str = "ok", finished: str = "2025-08-01T06:00:00+00:00"):
    return JobResult(job, as_of, status, 1.5, finished, metrics={"score": {"value": value, "a.b": 2}, "label": "x"})


def test_rows_accumulate_and_the_previous_run_is_the_latest_ok_one_before_the_date(tmp_path):
    history.append_history(tmp_path, [_result("m", AS_OF, 6.0), _result("other", AS_OF, 1.0)])
    history.append_history(tmp_path, [_result("m", AS_OF, 9.0, status="failed")])
    history.append_history(tmp_path, [_result("m", NEXT_AS_OF, 7.5)])
    rows = history_rows(tmp_path)
    assert len(rows) == 4 and list(rows[0])[:5] == list(history.HISTORY_COLUMNS)
    assert "label" not in rows[0] and rows[0]["score.a_b"] == "2.0"
    prev = history.previous_metrics(tmp_path, "m", NEXT_AS_OF)
    assert prev.as_of == AS_OF and prev.metrics == {"score.value": 6.0, "score.a_b": 2.0}  # the failed run is ignored
    assert history.previous_metrics(tmp_path, "m", AS_OF) is None  # nothing before the first run
    change = history.change_since_last_run({"score": {"value": 7.5, "a.b": 2}}, NEXT_AS_OF, "m", tmp_path)
    assert change.previous_as_of == AS_OF
    assert change.table.to_dict("records") == [{"metric": "score.value", "previous": 6.0, "current": 7.5, "change": 1.5}]
    everything = history.change_since_last_run({"score": {"value": 7.5, "a.b": 2}}, NEXT_AS_OF, "m", tmp_path,
                                               changed_only=False)
    assert len(everything.table) == 2


def test_the_job_defaults_to_the_one_the_runner_names(tmp_path, monkeypatch):
    history.append_history(tmp_path, [_result("named-job", AS_OF, 1.0)])
    monkeypatch.setenv("AIBUBBLE_JOB", "named-job")
    monkeypatch.setenv("AIBUBBLE_REPORTS_DIR", str(tmp_path))
    change = history.change_since_last_run({"score": {"value": 2.0}}, NEXT_AS_OF)
    assert change.job == "named-job" and change.table["change"].tolist() == pytest.approx([1.0])
