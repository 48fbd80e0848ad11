"""Progress of a run: a redrawn status line on a terminal, plain timestamped lines otherwise."""

from __future__ import annotations

import os
import sys
import threading
import time

from analysis import clock


class Progress:
    """Progress of a batch: a redrawn status line on a terminal, plain timestamped log lines
    otherwise (cron, CI, pipes). Thread-safe."""

    def __init__(self, stream=None, interactive: bool | None = None):
        self.stream = stream or sys.stdout
        if interactive is None:
            interactive = (hasattr(self.stream, "isatty") and self.stream.isatty()
                           and os.environ.get("TERM", "") not in ("", "dumb") and not os.environ.get("CI"))
        self.interactive = interactive
        self._lock = threading.Lock()
        self._running: list[str] = []
        self.done = self.failed = self.total = 0
        self._t0 = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _line(self, text: str) -> None:
        stamp = clock.now().strftime("%H:%M:%S")  # the zone of every other stamp of the run
        if self.interactive:
            self.stream.write("\r\033[K")
        self.stream.write(f"{stamp} {text}\n")
        if self.interactive:
            self._draw()
        self.stream.flush()

    def _draw(self) -> None:
        elapsed = time.monotonic() - self._t0
        current = ", ".join(self._running[:3]) + (" ..." if len(self._running) > 3 else "")
        self.stream.write(f"\r\033[K[{self.done}/{self.total}] {int(elapsed) // 60:02d}:{int(elapsed) % 60:02d} "
                          f"failed {self.failed} | running: {current or '-'}")
        self.stream.flush()

    def start(self, total: int, text: str) -> None:
        with self._lock:
            self.total, self._t0 = total, time.monotonic()
            self._line(text)
        if self.interactive:
            def tick():
                while not self._stop.wait(1.0):
                    with self._lock:
                        self._draw()
            self._thread = threading.Thread(target=tick, daemon=True)
            self._thread.start()

    def message(self, text: str) -> None:
        with self._lock:
            self._line(text)

    def job_started(self, name: str) -> None:
        with self._lock:
            self._running.append(name)
            if not self.interactive:
                self._line(f"start {name}")
            else:
                self._draw()

    def job_finished(self, result) -> None:
        with self._lock:
            if result.job in self._running:
                self._running.remove(result.job)
            self.done += 1
            self.failed += 0 if result.ok else 1
            detail = result.report if result.ok else result.error
            self._line(f"{result.status:<7} {result.job} ({result.duration_s:.1f} s) [{self.done}/{self.total}] {detail}")

    def close(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        if self.interactive:
            with self._lock:
                self.stream.write("\r\033[K")
                self.stream.flush()


class QuietProgress(Progress):
    """``aibubble report``: silent about the job (the command prints one line at the end), but
    every message about the run itself (waiting for the folder) goes to stderr."""

    def __init__(self, stream=None):
        super().__init__(stream or sys.stderr, interactive=False)

    def start(self, total: int, text: str) -> None:
        self.total = total

    def job_started(self, name: str) -> None:
        pass

    def job_finished(self, result) -> None:
        self.done += 1

    def message(self, text: str) -> None:
        with self._lock:
            self.stream.write(f"{text}\n")
            self.stream.flush()
