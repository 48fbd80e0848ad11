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
    rows = history_rows(tmp_path)
    assert len(rows) == 3 and list(rows[0])[:5] == list(history.HISTORY_COLUMNS)
    assert "label" not in rows[0] and rows[0]["score.a_b"] == "2.0"
    prev = history.previous_metrics(tmp_path, "m", NEXT_AS_OF)
    assert prev.as_of == AS_OF and prev.metrics == {"score.value": 6.0, "score.a_b": 2.0}  # the failed run is ignored
    assert history.previous_metrics(tmp_path, "m", "2025-01-01") is None  # nothing before the first run
    # a re-run of the same as-of date compares with the earlier run of that date
    same_day = history.previous_metrics(tmp_path, "m", AS_OF)
    assert same_day.as_of == AS_OF and same_day.metrics["score.value"] == 6.0
    change = history.change_since_last_run({"score": {"value": 7.5, "a.b": 2}}, NEXT_AS_OF, "m", tmp_path)
    assert change.previous_as_of == AS_OF
    assert change.table.to_dict("records") == [{"metric": "score.value", "previous": 6.0, "current": 7.5, "change": 1.5}]
    everything = history.change_since_last_run({"score": {"value": 7.5, "a.b": 2}}, NEXT_AS_OF, "m", tmp_path,
                                               changed_only=False)
    assert len(everything.table) == 2
    history.append_history(tmp_path, [_result("m", NEXT_AS_OF, 7.5)])
    assert len(history_rows(tmp_path)) == 4
    assert history.previous_metrics(tmp_path, "m", NEXT_AS_OF).as_of == NEXT_AS_OF  # a same-day re-run

def test_the_job_defaults_to_the_one_the_runner_names(tmp_path, monkeypatch):
    history.append_history(tmp_path, [_result("named-job", AS_OF, 1.0)])
    monkeypatch.setenv("AIBUBBLE_JOB", "named-job")
    monkeypatch.setenv("AIBUBBLE_REPORTS_DIR", str(tmp_path))
    change = history.change_since_last_run({"score": {"value": 2.0}}, NEXT_AS_OF)
    assert change.job == "named-job" and change.table["change"].tolist() == pytest.approx([1.0])


GOOD = "2025-04-30,m,2025-05-01T06:00:00+00:00,ok,1.50,4.0\n"


@pytest.mark.parametrize("damage, problem", [
    (b"2025-05-31,m,2025-06-01T06:00:00+00:00,ok,1.50,abc\n", "line 3: score.value 'abc' is not a number"),
    ("2025-05-31,m,2025-06-01T06:00:00+00:00,ok,1.50,caf\u00e9\n".encode("latin-1"), "line 3: not UTF-8 text"),
    (b"2025-05-31,m,2025-06-01,ok\n", "line 3: 4 fields where the header has 6"),
    (b"31/05/2025,m,2025-06-01T06:00:00+00:00,ok,1.50,1.0\n", "line 3: as_of '31/05/2025' is not a date"),
])
def test_a_bad_row_is_skipped_reported_and_kept(tmp_path, damage, problem):
    """A cell edited in a spreadsheet, a latin-1 byte, a cut row, in the newest run's row: the
    row is skipped with a line naming it, the comparison uses the newest good row, and the
    writer keeps the damaged row as it was."""
    path = tmp_path / "history.csv"
    path.write_bytes(b"as_of,job,finished_at,status,duration_s,score.value\n" + GOOD.encode() + damage)
    change = history.change_since_last_run({"score": {"value": 5.0}}, "2025-06-30", "m", tmp_path)
    assert change.previous_as_of == "2025-04-30" and change.table["change"].tolist() == [1.0]
    assert len(change.problems) == 1 and problem in change.problems[0] and "row skipped" in change.problems[0]
    assert "history.csv line 3" in change.banner and "history.csv line 3" in change._repr_html_()
    history.append_rows(path, [history.history_row(JobResult("m", "2025-06-30", "ok", 1.0, "2025-07-01T06:00:00+00:00",
                                                             metrics={"score": {"value": 5.0}}))])
    assert path.read_bytes().splitlines()[2] == damage.rstrip(b"\n")  # the user's row survives as it was
    assert len(history.load_history(path).rows) == 2


@pytest.mark.parametrize("content", [b"\x00\x01\x02PK\x03\x04 binary", b"date;value\n2025-01-01;3\n"])
def test_a_file_that_is_not_a_history_is_ignored_and_set_aside_not_destroyed(tmp_path, content):
    path = tmp_path / "history.csv"
    path.write_bytes(content)
    change = history.change_since_last_run({"score": {"value": 5.0}}, "2025-06-30", "m", tmp_path)
    assert change.previous_as_of is None and len(change.problems) == 1 and "ignored" in change.problems[0]
    history.append_rows(path, [history.history_row(_result("m", "2025-06-30", 5.0))])
    aside = list(tmp_path.glob("history.unreadable-*.csv"))
    assert len(aside) == 1 and aside[0].read_bytes() == content
    assert [r["job"] for r in history.read_history(path)] == ["m"]


def test_rows_written_in_the_old_stamp_format_still_order_by_time(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("as_of,job,finished_at,status,duration_s,score.value\n"
                    "2025-05-31,m,2025-06-01T09:00:00+02:00,ok,1.00,2.0\n"   # 07:00 UTC: the later run
                    "2025-05-31,m,2025-06-01 06:30:00 UTC,ok,1.00,1.0\n")
    assert history.previous_metrics(tmp_path, "m", "2025-06-30").metrics == {"score.value": 2.0}


def test_a_damaged_history_never_fails_a_report_and_the_page_says_what_was_skipped(tmp_path, capsys):
    from analysis.cli import main
    from tests.reporting.support import tiny_notebook

    root = tmp_path / "reports"
    root.mkdir()
    (root / "history.csv").write_bytes(b"as_of,job,finished_at,status,duration_s,score.value\n"
                                       b"2025-04-30,brief,2025-05-01T06:00:00+00:00,ok,1.50,4.0\n"
                                       b"2025-05-31,brief,2025-06-01T06:00:00+00:00,ok,1.50,abc\n"
                                       b"2025-03-31,brief,2025-04-01T06:00:00+00:00,ok,1.50,caf\xe9\n")
    nb = tiny_notebook(tmp_path / "brief.ipynb",
                       "from analysis.reporting.history import change_since_last_run\n"
                       "change_since_last_run({'score': {'value': 5.0}}, as_of)")
    assert main(["report", "--notebook", str(nb), "--out", str(root), "--as-of", AS_OF]) == 0, capsys.readouterr().err
    html = (root / AS_OF / "brief.html").read_text()
    assert "as of 2025-04-30, finished 2025-05-01T06:00:00+00:00" in html
    assert "Run history partly unreadable" in html and "history.csv line 3" in html and "history.csv line 4" in html
    assert len(history.load_history(root / "history.csv").kept) == 4  # the damaged rows are still there


def test_a_same_day_rerun_compares_with_the_latest_earlier_run_and_says_which(tmp_path):
    """Two runs on one day (the second after market data was added): the second's changes are
    against the first, not "no earlier run", and the comparison names the run's finish time."""
    history.append_history(tmp_path, [_result("m", AS_OF, 6.0, finished="2025-08-01T06:00:00+00:00")])
    history.append_history(tmp_path, [_result("m", AS_OF, 4.0, finished="2025-08-01T09:00:00+00:00")])
    change = history.change_since_last_run({"score": {"value": 5.0}}, AS_OF, "m", tmp_path)
    assert change.previous_as_of == AS_OF and change.previous_finished_at == "2025-08-01T09:00:00+00:00"
    assert change.table["change"].tolist() == [1.0]
    assert "finished 2025-08-01T09:00:00+00:00" in change._repr_html_()
