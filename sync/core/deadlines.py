"""Deadlines that bind inside blocking calls.

`Deadline` is an end time; `time_limit(deadline)` makes it bind inside blocking
calls too (a server that drips one byte every few seconds), through a SIGALRM timer
in the main thread, where the CLI runs. Elsewhere only the explicit `check()` calls
between reads and requests stop the work.
"""
from __future__ import annotations

import contextlib
import signal
import threading
import time
from typing import Iterator, Optional

from .errors import DeadlineExceeded


class Deadline:
    """A point in time (monotonic clock) by which some work must be done."""

    def __init__(self, seconds: float, what: str, hint: str = ""):
        self.seconds = seconds
        self.what = what
        self.hint = hint  # said after the sentence: which option sets it, what happened
        self.fired = False  # its alarm went off (main thread)
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def passed(self) -> bool:
        return self.remaining() <= 0

    def error(self) -> DeadlineExceeded:
        return DeadlineExceeded(f"{self.what} ran past its deadline of {self.seconds:g} s{self.hint}.")

    def check(self) -> None:
        if self.passed():
            raise self.error()


class DeadlineReached(BaseException):
    """Raised inside blocking code when a `time_limit` expires.

    A BaseException, so that libraries' `except Exception` (and httplib2's own retry
    of a failed socket read) cannot swallow it; `time_limit` turns it back into the
    sentence of the deadline that expired.
    """

    requests: int = 0  # what the interrupted work had spent, for the run ledger
    units: int = 0

    def __init__(self, deadline: Deadline):
        super().__init__(deadline.what)
        self.deadline = deadline

    def charged(self, requests: int, units: int) -> "DeadlineReached":
        self.requests, self.units = requests, units
        return self


_active: list[Deadline] = []  # the deadlines armed in the main thread, outermost first


def _on_alarm(signum, frame) -> None:
    expired = [d for d in _active if d.passed() and not d.fired]
    if expired:
        expired[0].fired = True  # once: its exception is unwinding now, don't raise into that
        raise DeadlineReached(expired[0])  # the outermost expired one wins: it ends more work
    _arm()


def _arm() -> None:
    pending = [d.remaining() for d in _active if not d.fired]
    signal.setitimer(signal.ITIMER_REAL, max(min(pending), 0.001) if pending else 0)


@contextlib.contextmanager
def time_limit(deadline: Optional[Deadline]) -> Iterator[None]:
    """Run the block under `deadline`, interrupting blocking calls when it passes.

    Raises `deadline.error()` (a DeadlineExceeded) when this deadline expired; an
    outer one's expiry passes through as DeadlineReached to that outer block.
    """
    if deadline is None:
        yield
        return
    deadline.check()
    main = threading.current_thread() is threading.main_thread()
    if main:
        for outer in _active:
            if outer.passed():  # some code swallowed its alarm: stop at this next step instead
                raise DeadlineReached(outer)
        previous = signal.getsignal(signal.SIGALRM)
        if previous not in (_on_alarm, signal.SIG_DFL, signal.SIG_IGN, None):
            main = False  # someone else's timer (a test harness): leave it alone
    if main:
        signal.signal(signal.SIGALRM, _on_alarm)
        _active.append(deadline)
        _arm()
    try:
        yield
    except DeadlineReached as reached:
        if reached.deadline is deadline:
            raise deadline.error().charged(reached.requests, reached.units) from None
        raise
    finally:
        if main:
            _active.remove(deadline)
            _arm()
            if not _active:
                # an alarm held back by hold_deadlines() is delivered now, to a handler
                # with nothing left to interrupt
                signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})
                signal.signal(signal.SIGALRM, previous)


def hold_deadlines() -> None:
    """From here on no deadline interrupts this thread (until the outermost `time_limit` ends).

    Called once the work is as good as done (the sync's transaction is about to
    commit): a deadline passing then must not make a committed run read as failed.
    """
    if threading.current_thread() is threading.main_thread() and _active:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
