"""Exception types. The CLI turns each into a one-line message and an exit code."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass


class AIBubbleError(Exception):
    """Base class: an error the user can act on, printed without a traceback."""

    exit_code = 1


class ParameterError(AIBubbleError, ValueError):
    """A notebook or CLI parameter has an unknown name or a bad value."""

    exit_code = 2


class ConfigError(AIBubbleError):
    """A configuration file (YAML params, batch config) is unreadable or malformed."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One validation failure, located precisely enough to fix it."""

    file: str
    line: int | None  # 1-based line in the file, header = line 1; None for file-level problems
    column: str | None
    value: object
    rule: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        col = f" column {self.column}" if self.column else ""
        val = "" if self.value is None else f" value {self.value!r}"
        return f"{where}:{col}{val}: {self.rule}"


class DataValidationError(AIBubbleError):
    """A dataset failed validation; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        first = str(self.problems[0]) if self.problems else "no details"
        more = f" (and {len(self.problems) - 1} more problems)" if len(self.problems) > 1 else ""
        super().__init__(f"{first}{more}")


class NotebookExecutionError(AIBubbleError):
    """A notebook cell failed or timed out during a report run."""

    exit_code = 3


class MarketDataError(AIBubbleError):
    """Market data could not be fetched, read or imported."""


class ReportsBusyError(AIBubbleError):
    """Another run holds the reports folder and the caller asked not to wait."""

    exit_code = 75  # EX_TEMPFAIL: a scheduler (cron, systemd) may simply try again later


class LedgerParameterError(DataValidationError):
    """The ``ledger`` parameter names a file that fails validation (found before any kernel starts)."""

    exit_code = 2


class OutputError(AIBubbleError):
    """A file or folder a command must write cannot be written (disk full, permissions, ...);
    nothing was published. The message names the path and the fix."""


class OutputPathError(OutputError):
    """An output path given on the command line cannot be used at all (a file where a folder is
    needed, a read-only place): a bad parameter, found before anything starts."""

    exit_code = 2


#: What to do about an OS error, by errno: the second half of every one-line message.
_FIXES = {
    errno.ENOSPC: "free some disk space or choose another folder with --out, then run again",
    errno.EDQUOT: "free some space within your quota or choose another folder with --out, then run again",
    errno.EROFS: "the file system is read-only; choose a writable folder with --out",
    errno.EACCES: "you may not write there; fix the permissions or choose another folder with --out",
    errno.EPERM: "you may not write there; fix the permissions or choose another folder with --out",
    errno.ENOTDIR: "a part of the path is a file, not a folder; choose another path",
    errno.EISDIR: "a folder is in the way where a file should go; move it or choose another path",
    errno.EEXIST: "something is in the way; move it or choose another path",
    errno.ENAMETOOLONG: "the path is too long; choose a shorter one",
    errno.EMFILE: "too many open files; raise the limit (ulimit -n) and run again",
}


def os_error_message(exc: OSError, doing: str = "write") -> str:
    """One line for an OS error: what could not be done, to which path, why, and the fix.

    ``cannot write /srv/reports/index.html: No space left on device; free some disk space ...``
    """
    path = exc.filename if exc.filename is not None else ""
    target = f" {os.fsdecode(path)}" if path != "" else ""
    reason = exc.strerror or type(exc).__name__
    fix = _FIXES.get(exc.errno, "check the path and run again")
    return f"cannot {doing}{target}: {reason}; {fix}"
