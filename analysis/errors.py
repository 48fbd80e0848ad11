"""Exception types. The CLI turns each into a one-line message and an exit code."""

from __future__ import annotations

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
