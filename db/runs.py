"""Opening the database file, and the `sync_runs` ledger.

A run's row is written and committed before its data transaction starts, so a
run that fails (or is killed) still leaves a trace, while the data tables are
left exactly as they were. A run's end is written in the transaction that commits
its data (`finish_run` inside it), so data is never booked under a run that says
otherwise; a run that fails or is interrupted rolls its data back first.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sqlite3
from typing import Optional
from urllib.parse import quote

import sqlite_utils

from .schema import RUN_KINDS, ensure_schema


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def open_database(path: str, *, threads: bool = False) -> sqlite_utils.Database:
    """Open (creating if needed) a database file with the current schema.

    The file stays in WAL mode for good: a reader (Datasette) keeps reading the
    last committed state while a sync writes, sees the new state at its next
    query, and a writer killed at any moment (even mid-checkpoint) leaves a WAL
    that the next connection replays. synchronous=FULL syncs the WAL at every
    commit, so a run recorded `ok` is on disk. With `threads` the connection may be
    handed to another thread (one user at a time: `sync.save.stream`).
    """
    # No sqlite-utils plugins: none is ours, and one installed on the machine would run
    # its code on this connection (finding them also scans every installed package).
    db = sqlite_utils.Database(sqlite3.connect(str(path), check_same_thread=not threads), execute_plugins=False)
    db.execute("PRAGMA busy_timeout=5000")
    # Never write into a damaged file: a write there could spread the damage and
    # record a run as if all were well. (Linear in the file's size, and fast.)
    problems = [row[0] for row in db.execute("PRAGMA quick_check(3)")]
    if problems != ["ok"]:
        db.close()
        raise sqlite3.DatabaseError("database disk image is malformed: " + "; ".join(problems))
    if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    # A first sync of a large playlist writes tens of MB in one transaction: with
    # SQLite's default 2 MB page cache it spills and re-reads its own pages.
    db.execute("PRAGMA cache_size=-65536")  # KiB: at most 64 MB, used only as needed
    with db.atomic():
        ensure_schema(db)
    return db


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database):
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on any error): the write lock from the start,
    so a writer that committed meanwhile cannot fail this transaction's first write."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def open_readonly(path: str) -> sqlite3.Connection:
    """A reader's connection, as Datasette opens the file (`mode=ro`, WAL honoured)."""
    return sqlite3.connect(f"file:{quote(os.path.abspath(path))}?mode=ro", uri=True, timeout=5.0)


def checkpoint(db: sqlite_utils.Database) -> bool:
    """Copy committed pages into the main file as far as no reader needs them.

    PASSIVE never waits for and never blocks a reader; what it cannot copy stays
    in the WAL, where every reader finds it (the next checkpoint, or the last
    connection to close, moves it). A checkpoint is only housekeeping: the run's
    data is durable in the WAL already, so a failure here is logged, not raised.
    Returns True when the WAL was copied whole.
    """
    try:
        busy, frames, copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    except sqlite3.DatabaseError as exc:
        logging.getLogger("talks.db").warning("could not checkpoint the WAL (%s); the data is safe in it", exc)
        return False
    return not busy and frames == copied


def start_run(db: sqlite_utils.Database, kind: str, **fields) -> int:
    """Record a run as `running` (committed at once); `kind` is one of RUN_KINDS."""
    if kind not in RUN_KINDS:
        raise ValueError(f"a run's kind is one of {RUN_KINDS}, not {kind!r}")
    with db.atomic():
        return db["sync_runs"].insert(
            {"started_at": utc_now(), "status": "running", "kind": kind, **fields}
        ).last_pk


INTERRUPTED = (
    "interrupted: the process ended before recording its end (killed or crashed);"
    " what it had not committed was rolled back"
)


def close_interrupted_runs(db: sqlite_utils.Database) -> int:
    """Mark runs still 'running' as interrupted; call with the sync lock held.

    Under the lock no other run is alive, so a 'running' row belongs to a
    process that was killed or crashed before `finish_run`.
    """
    with db.atomic():
        cursor = db.execute(
            "UPDATE sync_runs SET status = 'interrupted', error = ? WHERE status = 'running'", [INTERRUPTED]
        )
    return cursor.rowcount


def finish_run(
    db: sqlite_utils.Database, run_id: int, status: str, error: Optional[str] = None, **fields
) -> bool:
    """Record a run's end, unless it has one already; False then.

    Called inside a data transaction, the end commits with the data. A run whose
    end committed stays as it is: a signal that lands just after that commit ends
    the process, but cannot turn an `ok` run into an interrupted one.
    """
    values = {"finished_at": utc_now(), "status": status, "error": error, **fields}
    with db.atomic():
        cursor = db.execute(
            f"UPDATE sync_runs SET {', '.join(f'[{c}] = ?' for c in values)} WHERE id = ? AND status = 'running'",
            [*values.values(), run_id],
        )
    return cursor.rowcount == 1


def book_changes(db: sqlite_utils.Database, run_id: int, rows_changed: int) -> None:
    """A running run's count of changed rows, written in the transaction that changes
    them: runs that commit piece by piece (captions) stay true to their data if killed."""
    db.execute("UPDATE sync_runs SET rows_changed = ? WHERE id = ? AND status = 'running'", [rows_changed, run_id])
