"""The database file as the commands meet it: one sentence for every way it can be unusable.

SQLite and the OS name a fault in their own words ("file is not a database",
"attempt to write a readonly database", EACCES on the lock file); a user needs
to know which file, what is wrong with it, and what to do. `database_error`
turns those errors into a `DatabaseFileError`; `check_readable` is what a
reader (`serve`, `status`) runs before trusting the file.
"""
from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from typing import Optional

from db.runs import open_readonly

from .errors import DatabaseFileError

# The table every talks database has: a file without it is someone else's SQLite file.
MARKER_TABLE = "sync_runs"


def _kind(message: str) -> str:
    text = message.lower()
    for needle, kind in (
        ("not a database", "corrupt"),
        ("malformed", "corrupt"),
        ("corrupt", "corrupt"),
        ("disk is full", "full"),
        ("disk i/o error", "io"),
        ("readonly", "readonly"),
        ("read-only", "readonly"),
        ("unable to open", "cantopen"),
        ("database is locked", "locked"),
    ):
        if needle in text:
            return kind
    return "other"


# One sentence per kind of failure; {path} and {message} are filled in.
_SENTENCES = {
    "corrupt": "{path} is damaged or is not a SQLite database ({message}); restore it from a backup, "
               "or move it aside and rebuild it with `talks sync` (its change history then starts anew)",
    "full": "writing {path} failed: the disk is full ({message}); the unfinished transaction was "
            "rolled back, so free some space and run the command again",
    "io": "reading or writing {path} failed with a disk I/O error (a full disk, a file size limit "
          "or a failing disk); the unfinished transaction was rolled back",
    "readonly": "{path} cannot be written ({message}): the file, its folder or its -wal/-shm files "
                "are read-only for this user",
    "cannot create": "cannot create {path}: its folder does not exist or is not writable for this user",
    "cantopen": "cannot open {path}: the file or its folder is not accessible for this user "
                "(a reader needs the folder writable, or the -wal and -shm files present)",
    "locked": "{path} is locked by another program writing to it ({message}); nothing was changed: "
              "run the command again once it is done",
    "other": "the database {path} could not be used: {message}",
}


def _describe_sqlite(exc: sqlite3.Error, path: str) -> DatabaseFileError:
    message = " ".join(str(exc).split()) or type(exc).__name__
    kind = _kind(message)
    if kind == "cantopen" and not os.path.exists(path):
        kind = "cannot create"
    return DatabaseFileError(_SENTENCES[kind].format(path=path, message=message), path=path)


def _about(filename: Optional[str], path: str) -> bool:
    """Is an OS error about the database, its folder or its companion files?"""
    if not filename:
        return False
    name, db = Path(os.fspath(filename)).absolute(), Path(path).absolute()
    return str(name).startswith(str(db)) or db.is_relative_to(name)


def database_error(exc: BaseException, path: Optional[str]) -> Optional[DatabaseFileError]:
    """The sentence for an error about the database file, or None when it is about something else."""
    if path is None:
        return None
    if isinstance(exc, sqlite3.Error):
        return _describe_sqlite(exc, path)
    if isinstance(exc, OSError) and _about(exc.filename, path):
        name, reason = os.fspath(exc.filename), exc.strerror or str(exc)
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            reason = f"its folder is read-only for this user ({reason})"
        return DatabaseFileError(f"cannot write {name} next to the database {path}: {reason}", path=path)
    return None


def check_readable(path: str) -> None:
    """Fail with one sentence unless `path` is a talks database every reader can read.

    Opens it the way Datasette does (read-only, WAL honoured: a WAL left by a
    killed sync is replayed), checks its pages (`quick_check`, linear in the
    file's size) and that it is a talks database.
    """
    if not os.path.exists(path):
        raise DatabaseFileError(f"{path} does not exist; build it first with `talks sync --snapshot --db {path}`",
                                path=path)
    try:
        con = open_readonly(path)
        try:
            problems = [row[0] for row in con.execute("PRAGMA quick_check(3)")]
            tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise _describe_sqlite(exc, path) from None
    if problems != ["ok"]:
        detail = "; ".join(" ".join(p.split()) for p in problems)[:300]
        raise DatabaseFileError(f"{path} is damaged ({detail}); restore it from a backup, or move it aside and "
                                "rebuild it with `talks sync`", path=path)
    if MARKER_TABLE not in tables:
        raise DatabaseFileError(f"{path} is not a talks database (it has no {MARKER_TABLE} table); build one "
                                f"with `talks sync --snapshot --db {path}`", path=path)
