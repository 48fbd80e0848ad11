"""The deadline engine: one blocking call per ticker in worker threads, retried with backoff,
abandoned at a wall-clock deadline; and the per-ticker outcomes it reports."""

from __future__ import annotations

import heapq
import logging
import queue
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import pandas as pd

from analysis.data.market.common import ERROR, OK, PRICES, RATE_LIMITED, RETRIABLE, TIMEOUT, iso_date, shorten, to_day


def default_deadline_s() -> float:
    """Wall-clock budget of one refresh, all tickers together (seconds).

    yfinance's own ``timeout`` bounds each HTTP read, not the call: on a network that drops
    packets silently one ticker can block for about 130 s. 120 s fetches ~45 tickers with four
    workers on a healthy connection with room for retries, and bounds the damage on a bad one.
    """
    return 120.0


def retry_backoff_s() -> float:
    """First retry delay; attempt k waits ``backoff * 2**(k-1)`` (x4 after a rate-limit error)."""
    return 1.0


@dataclass(frozen=True)
class TickerOutcome:
    """What happened to one ticker in a fetch: status, rows returned and a message."""

    ticker: str
    kind: str
    status: str
    rows: int = 0
    first_date: pd.Timestamp | None = None
    last_date: pd.Timestamp | None = None
    attempts: int = 0
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == OK


def outcome_table(outcomes: Iterable[TickerOutcome]) -> pd.DataFrame:
    rows = [{"ticker": o.ticker, "kind": o.kind, "status": o.status, "rows": o.rows,
             "first_date": iso_date(o.first_date), "last_date": iso_date(o.last_date),
             "attempts": o.attempts, "message": o.message} for o in outcomes]
    return pd.DataFrame(rows, columns=["ticker", "kind", "status", "rows", "first_date", "last_date",
                                       "attempts", "message"])


class _ThreadLogCapture(logging.Handler):
    """Collects the yfinance logger's warnings per worker thread.

    ``yfinance.download`` swallows every exception (DNS failures, rate limits) and only logs
    it; with ``threads=False`` it logs from the calling thread, so the worker thread's id ties
    each message to its ticker.
    """

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self._buffers: dict[int, list[str]] = {}
        self._guard = threading.Lock()

    def start(self, ident: int) -> None:
        with self._guard:
            self._buffers[ident] = []

    def stop(self, ident: int) -> list[str]:
        with self._guard:
            return self._buffers.pop(ident, [])

    def emit(self, record: logging.LogRecord) -> None:
        buf = self._buffers.get(record.thread)
        if buf is not None:
            try:
                message = record.getMessage().strip()
            except Exception:  # a malformed record must not kill the worker
                message = str(record.msg)
            if message:
                buf.append(message)


_LOG_CAPTURE = _ThreadLogCapture()
_LOG_CAPTURE_INSTALLED = False
_INSTALL_GUARD = threading.Lock()


def install_log_capture() -> None:
    global _LOG_CAPTURE_INSTALLED
    with _INSTALL_GUARD:
        if not _LOG_CAPTURE_INSTALLED:
            logging.getLogger("yfinance").addHandler(_LOG_CAPTURE)
            _LOG_CAPTURE_INSTALLED = True


RATE_LIMIT_TEXT = re.compile(r"YFRateLimitError|Too Many Requests|Rate limited|\b429\b", re.I)
NETWORK_TEXT = re.compile(r"DNSError|Could not resolve|curl: \(\d+\)|ConnectionError|timed out|Timeout|"
                           r"SSLError|Connection (?:refused|reset|aborted)|Failed to get ticker", re.I)


def is_rate_limit(exc: BaseException) -> bool:
    try:
        from yfinance.exceptions import YFRateLimitError
    except ImportError:  # pragma: no cover - yfinance is a dependency
        YFRateLimitError = ()  # type: ignore[assignment]
    return isinstance(exc, YFRateLimitError) or bool(RATE_LIMIT_TEXT.search(f"{type(exc).__name__} {exc}"))


def said_about(logs: list[str], ticker: str) -> str:
    """The most telling yfinance message: its per-ticker summary line if any, else the last one."""
    if not logs:
        return ""
    tagged = [m for m in logs if f"['{ticker}']" in m or f"${ticker}:" in m]
    return shorten((tagged or logs)[-1])


@dataclass(frozen=True)
class Answer:
    status: str
    frame: pd.DataFrame | None
    message: str
    adjustment: str = "unknown"


def _worker(results: queue.Queue, ticker: str, attempt: int, work: Callable[[str], Any]) -> None:
    ident = threading.get_ident()
    _LOG_CAPTURE.start(ident)
    value, error = None, None
    try:
        value = work(ticker)
    except Exception as exc:  # reported per ticker, never raised through the refresh
        error = exc
    finally:
        logs = _LOG_CAPTURE.stop(ident)
    results.put((ticker, attempt, value, error, logs))


def run_with_deadline(tickers: Sequence[str], work: Callable[[str], Any],
                      classify: Callable[[str, Any, BaseException | None, list[str]], Answer], *,
                      kind: str, deadline_s: float, max_workers: int = 4, max_attempts: int = 3,
                      backoff_s: float | None = None) -> tuple[dict[str, Answer], tuple[TickerOutcome, ...]]:
    """Call ``work(ticker)`` for every ticker in daemon threads and stop waiting at the deadline.

    Parameters
    ----------
    tickers : sequence of str
    work : callable
        Blocking call for one ticker (a yfinance download); may hang, raise or return garbage.
    classify : callable
        ``(ticker, value, exception, log_messages) -> Answer``.
    deadline_s : float
        Wall-clock budget for all tickers together, retries included.
    max_workers : int
        Concurrent requests (Yahoo rate-limits bursts; four keeps ~45 tickers well inside 120 s).
    max_attempts : int
        Attempts per ticker for retriable failures (errors and rate limits).
    backoff_s : float, optional
        First retry delay (:func:`retry_backoff_s`); doubles per attempt, x4 after a rate limit,
        and a rate limit also pauses new requests for that long.

    Returns
    -------
    answers : dict
        The ``ok`` answers by ticker.
    outcomes : tuple of TickerOutcome
        One per requested ticker, in request order.

    Notes
    -----
    A thread cannot be killed, so a hung call is abandoned: its thread is a daemon (it does not
    keep the interpreter alive) and whatever it returns later goes into a queue nobody reads.
    Only the calling thread ever writes to the cache, so a late answer can never overwrite data.
    """
    backoff_s = retry_backoff_s() if backoff_s is None else backoff_s
    order = list(dict.fromkeys(tickers))
    t0 = time.monotonic()
    stop = t0 + max(0.0, deadline_s)
    results: queue.Queue = queue.Queue()
    waiting: list[tuple[float, int, str, int]] = [(t0, i, tk, 1) for i, tk in enumerate(order)]
    heapq.heapify(waiting)
    running: dict[str, int] = {}
    answers: dict[str, Answer] = {}
    final: dict[str, TickerOutcome] = {}
    last_failure: dict[str, Answer] = {}
    cooldown_until = t0
    seq = len(order)
    while waiting or running:
        now = time.monotonic()
        if now >= stop:
            break
        while waiting and len(running) < max_workers and waiting[0][0] <= now and cooldown_until <= now:
            _, _, tk, attempt = heapq.heappop(waiting)
            running[tk] = attempt
            threading.Thread(target=_worker, args=(results, tk, attempt, work), daemon=True,
                             name=f"aibubble-{kind}-{tk}").start()
        wake = stop
        if waiting and len(running) < max_workers:
            wake = min(wake, max(waiting[0][0], cooldown_until))
        try:
            tk, attempt, value, error, logs = results.get(timeout=max(0.001, wake - now))
        except queue.Empty:
            continue
        if running.get(tk) != attempt:  # pragma: no cover - a stale answer from an abandoned thread
            continue
        del running[tk]
        try:
            answer = classify(tk, value, error, logs)
        except Exception as exc:  # a classifier bug must not lose the other tickers
            answer = Answer(ERROR, None, f"could not interpret the answer: {exc!r}")
        if answer.status == OK:
            answers[tk] = answer
            final[tk] = _outcome(tk, kind, answer, attempt)
            continue
        if answer.status in RETRIABLE and attempt < max_attempts:
            delay = backoff_s * 2 ** (attempt - 1) * (4 if answer.status == RATE_LIMITED else 1)
            ready = time.monotonic() + delay
            if answer.status == RATE_LIMITED:
                cooldown_until = max(cooldown_until, ready)
            if ready < stop:
                last_failure[tk] = answer
                seq += 1
                heapq.heappush(waiting, (ready, seq, tk, attempt + 1))
                continue
            answer = Answer(answer.status, None, f"{answer.message} (no time left for a retry)")
        final[tk] = _outcome(tk, kind, answer, attempt)
    for tk, attempt in running.items():
        final[tk] = TickerOutcome(tk, kind, TIMEOUT, attempts=attempt,
                                  message=f"no answer within the {deadline_s:.1f} s deadline")
    for _, _, tk, attempt in waiting:
        previous = last_failure.get(tk)
        if previous is None:
            final[tk] = TickerOutcome(tk, kind, TIMEOUT, attempts=0,
                                      message=f"not attempted within the {deadline_s:.1f} s deadline")
        else:
            final[tk] = TickerOutcome(tk, kind, previous.status, attempts=attempt - 1,
                                      message=f"{previous.message} (deadline reached before retry)")
    return answers, tuple(final[tk] for tk in order)


def _outcome(ticker: str, kind: str, answer: Answer, attempts: int) -> TickerOutcome:
    frame = answer.frame
    if frame is not None and len(frame):
        key = "date" if kind == PRICES else "period_end"
        return TickerOutcome(ticker, kind, answer.status, len(frame), to_day(frame[key].iloc[0]),
                             to_day(frame[key].iloc[-1]), attempts, answer.message)
    return TickerOutcome(ticker, kind, answer.status, 0, None, None, attempts, answer.message)

