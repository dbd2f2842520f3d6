"""Opening the database file, and the `sync_runs` ledger.

A run's row is written and committed before its data transaction starts, so a
run that fails (or is killed) still leaves a trace, while the data tables are
left exactly as they were.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Optional

import sqlite_utils

from .schema import ensure_schema


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def open_database(path: str) -> sqlite_utils.Database:
    """Open (creating if needed) a database file with the current schema.

    WAL keeps the main file untouched until a checkpoint, so a killed run can
    never leave half-written pages where an immutable reader looks.
    """
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA busy_timeout=5000")
    with db.atomic():
        ensure_schema(db)
    return db


def fold_wal(db: sqlite_utils.Database) -> None:
    """Copy every committed page into the main file and empty the WAL.

    Datasette's immutable mode (-i) reads the main file only.
    """
    busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        # A reader that is not immutable holds the WAL open: the rows are safe,
        # but an immutable Datasette will not see them until the next fold.
        logging.getLogger("talks.db").warning(
            "could not fold the WAL into the database file (a reader holds it); "
            "an immutable Datasette sees this run's rows after the next sync"
        )


def start_run(db: sqlite_utils.Database, **fields) -> int:
    with db.atomic():
        return db["sync_runs"].insert(
            {"started_at": utc_now(), "status": "running", **fields}
        ).last_pk


INTERRUPTED = (
    "interrupted: the sync process ended before recording its end (killed or crashed);"
    " its data transaction was applied whole or not at all"
)


def close_interrupted_runs(db: sqlite_utils.Database) -> int:
    """Mark runs still 'running' as failed; call with the sync lock held.

    Under the lock no other sync is alive, so a 'running' row belongs to a
    process that was killed or crashed before `finish_run`.
    """
    with db.atomic():
        cursor = db.execute(
            "UPDATE sync_runs SET status = 'failed', error = ? WHERE status = 'running'", [INTERRUPTED]
        )
    return cursor.rowcount


def finish_run(
    db: sqlite_utils.Database, run_id: int, status: str, error: Optional[str] = None, **fields
) -> None:
    with db.atomic():
        db["sync_runs"].update(
            run_id, {"finished_at": utc_now(), "status": status, "error": error, **fields}
        )
