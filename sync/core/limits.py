"""The sync's deadlines and caps, in one place (the README's "Reliability: limits" table).

Every byte from a page, the API or yt-dlp is hostile: each read is bounded in
size, and each network request and the sync as a whole in time.

Deadlines: `Deadline` is an end time; `time_limit(deadline)` makes it bind inside
blocking calls too (a server that drips one byte every few seconds), through a
SIGALRM timer in the main thread, where the CLI runs. Elsewhere only the explicit
`check()` calls between reads and requests stop the work.
"""
from __future__ import annotations

import contextlib
import re
import signal
import threading
import time
from typing import Iterator, Optional

from .errors import DeadlineExceeded

DEFAULT_REQUEST_TIMEOUT = 30.0  # s, one page or API request, start to last byte (--timeout)
DEFAULT_SYNC_DEADLINE = 3600.0  # s, a whole sync (--deadline)
MAX_RESPONSE_BYTES = 16 * 1024 * 1024  # one API answer; a real 50-video page is ~100 KB
MAX_PLAYLIST_PAGES = 100  # a playlist holds at most 5,000 videos: 100 pages of 50
MAX_TITLE_CHARS = 1_000  # YouTube allows 100
MAX_DESCRIPTION_CHARS = 20_000  # YouTube allows 5,000 bytes
MAX_FIELD_CHARS = 2_000  # any other text field (channel, URLs, dates, ids)
MAX_YTDLP_VIDEOS = 200  # yt-dlp extractions per sync; the rest wait for the next sync
YTDLP_ROTATION = 50  # known videos yt-dlp re-checks per keyless sync beyond the reports' own
# A playlist that answers 304 is not described again whole: the API path refreshes the
# videos the reports depend on, plus those last described this many days ago or more ...
REFRESH_DAYS = 7
REFRESH_CAP = 1_000  # ... at most this many of them a sync (20 videos.list units), oldest first
YTDLP_PACE_SECONDS = 1.0  # between yt-dlp's HTTP requests (its sleep_interval_requests)
MASS_DISAPPEARANCE_MIN = 5  # this many watchable videos vanishing at once is suspicious ...
MASS_DISAPPEARANCE_RATIO = 0.5  # ... when they are at least this share of the watchable ones


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


_SURROGATES = re.compile("[\ud800-\udfff]")


def clean_text(value: object, limit: int) -> tuple[Optional[str], bool]:
    """(text fit to store, whether it was truncated): lone surrogates (which no UTF-8
    database can hold) become U+FFFD, NULs go, and the text is cut at `limit` chars.
    Anything not a string is None."""
    if not isinstance(value, str):
        return None, False
    truncated = len(value) > limit
    text = value[:limit]
    if not text.isascii():  # the common case needs neither pass
        text = _SURROGATES.sub("\ufffd", text)
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text, truncated
