"""SIGTERM and SIGINT end a run like an interruption, not like a kill.

systemd and CI send SIGTERM when they stop a job (on timeout too), a person at a
terminal sends SIGINT. Under `stop_on_signals()` either raises `Interrupted` in the
main thread, at the next Python step (a blocking socket read included): the open
transaction rolls back, the run records `interrupted` with what it spent, and the
command exits 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).
"""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Interrupted(BaseException):
    """SIGTERM or SIGINT arrived. A BaseException, like KeyboardInterrupt: no library's
    `except Exception` (nor a retry policy) swallows it."""

    requests: int = 0  # what the interrupted work had spent, for the run ledger
    units: int = 0

    def __init__(self, signum: int):
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(f"interrupted by {self.name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def charged(self, requests: int, units: int) -> "Interrupted":
        self.requests, self.units = requests, units
        return self

    def says(self, sentence: str) -> "Interrupted":
        """What was stopped and what became of it, for the user (str of the error)."""
        self.args = (sentence,)
        return self


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGINT raise `Interrupted` inside the block (main thread only; elsewhere
    the signals keep their handlers). Once: a second signal while the first unwinds (the
    rollback, the run's last row) is ignored, so the ledger gets written; SIGKILL is the
    way to cut that short, and even it leaves the data as committed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    raised = []

    def interrupt(signum, frame) -> None:
        if not raised:
            raised.append(signum)
            raise Interrupted(signum)

    previous = {signum: signal.signal(signum, interrupt) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)  # None: set outside Python
