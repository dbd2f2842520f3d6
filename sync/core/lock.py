"""The database's lock: one writer at a time, whichever command writes.

Every `talks` command that writes (sync, backfill, caption runs, decisions) holds
`<db>.lock` for its whole run, so a second one fails at once with one sentence
(exit 3) instead of waiting on SQLite's write lock or interleaving its runs.
"""
from __future__ import annotations

import contextlib
import fcntl
import os

from .errors import LockHeld


@contextlib.contextmanager
def sync_lock(db_path: str):
    """Hold `<db>.lock` for the whole run; a second writer fails at once instead of waiting."""
    lock_path = f"{db_path}.lock"
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockHeld(f"another sync holds the lock on {db_path} ({lock_path}); try again later") from None
        yield
    finally:
        os.close(fd)
