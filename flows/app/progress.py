"""Progress per stage: a live display on a terminal, plain log lines elsewhere.

The flow reports stages and counts to `current()`; the CLI picks the reporter (rich bars when stderr
is a terminal, timestamped lines when it is not). Inside a deployment run the default reporter writes
to the run's log, which the Prefect UI shows. Plain reporters repeat a "still working" line during
long stages, so a run never looks hung.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

HEARTBEAT_SECONDS = 20.0


def rate_text(rate: float) -> str:
    """A rate that reads right at any speed: 120, 4.5, 0.09 (never "0" for work that was done)."""
    if rate >= 10 or rate <= 0:
        return f"{rate:.0f}"
    return f"{rate:.2g}"


class Reporter:
    """Plain lines through `emit`; subclasses draw something nicer."""

    def __init__(self, emit: Callable[[str], None]):
        self.emit = emit
        self._stage: str | None = None
        self._total: int | None = None
        self._done = 0
        self._t0 = 0.0
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    @contextmanager
    def stage(self, name: str, total: int | None = None, unit: str = "articles") -> Iterator[Reporter]:
        self._begin(name, total, unit)
        failed = True
        try:
            yield self
            failed = False
        finally:
            self._end(failed)

    def advance(self, n: int) -> None:
        self._done += n
        if self._total:
            elapsed = time.monotonic() - self._t0
            rate = self._done / elapsed if elapsed > 0 else 0.0
            left = (self._total - self._done) / rate if rate > 0 else 0.0
            self.emit(
                f"{self._stage}: {self._done}/{self._total} {self._unit} "
                f"({100 * self._done / self._total:.0f}%), {rate_text(rate)} {self._unit}/s, ~{left:.0f} s left"
            )

    def note(self, text: str) -> None:
        self.emit(text)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None

    def _begin(self, name, total, unit) -> None:
        self._stage, self._total, self._unit, self._done, self._t0 = name, total, unit, 0, time.monotonic()
        self.emit(f"{name}: started" + (f" ({total} {unit})" if total else ""))
        self._stop.clear()
        self._beat = threading.Thread(target=self._heartbeat, daemon=True)
        self._beat.start()

    def _end(self, failed: bool = False) -> None:
        self._stop.set()
        if self._beat:
            self._beat.join()
        self.emit(f"{self._stage}: {'failed after' if failed else 'done in'} {time.monotonic() - self._t0:.1f} s")

    def _heartbeat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            self.emit(f"{self._stage}: still working ({time.monotonic() - self._t0:.0f} s)")


class TerminalReporter(Reporter):
    """rich progress bars (rich comes with Prefect): one line per stage, elapsed and time left."""

    def __init__(self, stream=None):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=Console(file=stream) if stream is not None else Console(stderr=True),
            transient=False,
        )
        super().__init__(lambda text: self._progress.console.print(text))
        self._task = None

    def __enter__(self):
        self._progress.start()
        return self

    def __exit__(self, *exc):
        self._progress.stop()

    def advance(self, n: int) -> None:
        self._done += n
        elapsed = time.monotonic() - self._t0
        rate = f"{rate_text(self._done / elapsed)} {self._unit}/s" if elapsed > 0 else ""
        self._progress.update(self._task, advance=n, rate=rate)

    def _begin(self, name, total, unit) -> None:
        self._stage, self._total, self._unit, self._done, self._t0 = name, total, unit, 0, time.monotonic()
        self._task = self._progress.add_task(name, total=total, rate="")

    def _end(self, failed: bool = False) -> None:
        task = self._progress.tasks[self._task]
        if failed:
            self._progress.update(self._task, description=f"{self._stage} FAILED")
        else:
            self._progress.update(self._task, total=task.total or 1, completed=task.total or 1)


_CURRENT: ContextVar[Reporter | None] = ContextVar("newsflow_progress", default=None)


def current() -> Reporter:
    """The reporter the caller installed, else lines in the Prefect run log (or the module logger)."""
    reporter = _CURRENT.get()
    if reporter is not None:
        return reporter
    try:
        from prefect import get_run_logger

        logger = get_run_logger()
    except Exception:  # outside a flow run
        logger = logging.getLogger("newsflow")
    return Reporter(logger.info)


@contextmanager
def use(reporter: Reporter) -> Iterator[Reporter]:
    token = _CURRENT.set(reporter)
    try:
        yield reporter
    finally:
        _CURRENT.reset(token)


def for_cli(stream=None) -> Reporter:
    """Bars on a terminal; timestamped lines otherwise (CI logs, cron mail, pipes). On `stream`, or stderr."""

    def out():
        return stream if stream is not None else sys.stderr

    try:
        tty = out().isatty()
    except (AttributeError, ValueError):
        tty = False
    if tty:
        return TerminalReporter(stream)
    return Reporter(lambda text: print(f"{time.strftime('%H:%M:%S')} newsflow {text}", file=out(), flush=True))
