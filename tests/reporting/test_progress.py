"""Progress: a redrawn line on a terminal, plain lines in logs, and only run messages for ``report``."""

from __future__ import annotations

import io

from analysis.reporting.jobs import JobResult
from analysis.reporting.progress import Progress, QuietProgress
from tests.conftest import AS_OF


def test_progress_redraws_on_a_terminal_and_logs_plain_lines_otherwise():
    result = JobResult("a", AS_OF, "ok", 1.25, "now", report="x/a.html")
    plain = io.StringIO()
    p = Progress(plain, interactive=False)
    p.start(2, "2 job(s)")
    p.job_started("a")
    p.job_finished(result)
    p.close()
    lines = plain.getvalue().splitlines()
    assert "\r" not in plain.getvalue() and "\033" not in plain.getvalue()
    assert lines[1].endswith("start a") and "ok      a (1.2 s) [1/2] x/a.html" in lines[2]
    tty = io.StringIO()
    p = Progress(tty, interactive=True)
    p.start(2, "2 job(s)")
    p.job_started("a")
    p.close()
    assert "\r\033[K[0/2] 00:00 failed 0 | running: a" in tty.getvalue()


def test_quiet_progress_prints_only_messages_about_the_run():
    err = io.StringIO()
    p = QuietProgress(err)
    p.start(1, "1 job(s)")
    p.job_started("a")
    p.message("waiting: another run holds reports/ (pid 1)")
    p.job_finished(JobResult("a", AS_OF, "ok", 1.0, "now"))
    p.close()
    assert err.getvalue() == "waiting: another run holds reports/ (pid 1)\n"
