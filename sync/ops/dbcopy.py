"""A self-contained copy of a live database file: what the nightly job uploads and publishes.

    talks copy-db SOURCE TARGET

SQLite's online backup reads SOURCE as one consistent state (the WAL included, so a
checkpoint is not needed first), and the copy is switched to the rollback journal:
one file, no -wal or -shm, which an immutable reader (the published site) reads
whole and a later sync reopens as usual (it turns WAL back on). The copy is checked
like any file a reader opens (`quick_check`, a talks database) before it is trusted.
Exit 0, or 1 with one sentence.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from db.runs import open_readonly

from sync.core.dbfile import check_readable
from sync.core.errors import DatabaseFileError


def copy_database(source: str, target: str) -> int:
    """Copy `source` to a new file `target`; its size in bytes."""
    if not Path(source).is_file():
        raise DatabaseFileError(f"{source} does not exist or is not a file: nothing to copy", path=source)
    if Path(target).exists():
        raise DatabaseFileError(f"{target} exists already; the copy goes to a new file", path=target)
    check_readable(source)
    try:
        reader, copy = open_readonly(source), sqlite3.connect(target)
        try:
            reader.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            reader.close()
            copy.close()
    except sqlite3.Error as exc:
        Path(target).unlink(missing_ok=True)
        raise DatabaseFileError(f"copying {source} to {target} failed: {' '.join(str(exc).split())}",
                                path=target) from None
    check_readable(target)
    return Path(target).stat().st_size
