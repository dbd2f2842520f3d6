"""SQLite's per-connection limits (sqlite3_limit) on every Python the site supports.

Python 3.11 added `Connection.setlimit`. Python 3.10 has no way to call sqlite3_limit, and
SQLite has no PRAGMA for these limits (its heap-limit PRAGMAs bound the whole process's
memory, not the size of one value), so on 3.10 the site calls SQLite's own C function,
through ctypes, on the connection's handle: the first field after the object header of
CPython's connection struct, which is so in 3.10 to 3.13. The handle comes from the
sqlite3 module's own extension, so it is the same SQLite library the connection uses.

`setlimit` is proven before it is trusted: a limit set on a probe connection must make
SQLite refuse a value one byte over it. If anything fails (another Python implementation,
a symbol missing), `setlimit` is None and the site refuses arbitrary SQL instead.

`LIMITS` are what every connection the site opens gets (Datasette's, the archive pages',
the SQL trial worker's), from the numbers in sync/core/limits.py: SQLite's time limit
(the progress handler) runs between a statement's steps, never inside one, so one long
step (a function over a huge string, one LIKE over a huge text) is bounded by its inputs
or not at all. Light on purpose: the SQL trial worker imports it.
"""
from __future__ import annotations

import sqlite3
import sys
from typing import Callable, Optional

from sync.core.limits import (
    SITE_MAX_COLUMNS, SITE_MAX_LIKE_PATTERN, SITE_MAX_SQL_CHARS, SITE_MAX_SQL_VARIABLES, SITE_MAX_VALUE_BYTES,
)

__all__ = [
    "CAN_LIMIT", "LIMITS", "SQLITE_LIMIT_COLUMN", "SQLITE_LIMIT_LENGTH", "SQLITE_LIMIT_LIKE_PATTERN_LENGTH",
    "SQLITE_LIMIT_SQL_LENGTH", "SQLITE_LIMIT_VARIABLE_NUMBER", "apply_limits", "c_setlimit", "setlimit",
]

# sqlite3.h's categories (the sqlite3 module names them only from Python 3.11 on).
SQLITE_LIMIT_LENGTH = 0
SQLITE_LIMIT_SQL_LENGTH = 1
SQLITE_LIMIT_COLUMN = 2
SQLITE_LIMIT_LIKE_PATTERN_LENGTH = 8
SQLITE_LIMIT_VARIABLE_NUMBER = 9

SetLimit = Callable[[sqlite3.Connection, int, int], int]


def c_setlimit() -> Optional[SetLimit]:
    """`setlimit(conn, category, value) -> old value` through SQLite's C API, or None."""
    if sys.implementation.name != "cpython" or not (3, 10) <= sys.version_info[:2] <= (3, 13):
        return None  # the struct layout is checked for these versions only
    try:
        import ctypes

        import _sqlite3

        sqlite3_limit = ctypes.CDLL(_sqlite3.__file__).sqlite3_limit
    except (ImportError, OSError, AttributeError):
        return None
    sqlite3_limit.restype = ctypes.c_int
    sqlite3_limit.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    offset = object.__basicsize__  # PyObject_HEAD, then `sqlite3 *db`

    def limit(conn: sqlite3.Connection, category: int, value: int) -> int:
        if not isinstance(conn, sqlite3.Connection):
            raise TypeError(f"not a sqlite3.Connection: {type(conn).__name__}")
        handle = ctypes.c_void_p.from_address(id(conn) + offset).value
        if not handle:  # closed
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        return sqlite3_limit(handle, category, value)

    return limit


def _proven(limit: Optional[SetLimit]) -> Optional[SetLimit]:
    """`limit` if SQLite enforces what it sets on a probe connection, else None."""
    if limit is None:
        return None
    probe = sqlite3.connect(":memory:")
    try:
        limit(probe, SQLITE_LIMIT_LENGTH, 1000)
        if limit(probe, SQLITE_LIMIT_LENGTH, -1) != 1000:  # -1 reads without changing
            return None
        probe.execute("select length(zeroblob(1000))").fetchone()
        try:
            probe.execute("select zeroblob(1001)").fetchone()
        except sqlite3.DataError:
            return limit
        return None
    except (sqlite3.Error, TypeError, ValueError, OSError):
        return None
    finally:
        probe.close()


def _setlimit() -> Optional[SetLimit]:
    if hasattr(sqlite3.Connection, "setlimit"):
        return _proven(sqlite3.Connection.setlimit)
    return _proven(c_setlimit())


setlimit: Optional[SetLimit] = _setlimit()


CAN_LIMIT = setlimit is not None
LIMITS = {
    SQLITE_LIMIT_LENGTH: SITE_MAX_VALUE_BYTES,
    SQLITE_LIMIT_SQL_LENGTH: SITE_MAX_SQL_CHARS,
    SQLITE_LIMIT_COLUMN: SITE_MAX_COLUMNS,
    SQLITE_LIMIT_LIKE_PATTERN_LENGTH: SITE_MAX_LIKE_PATTERN,
    SQLITE_LIMIT_VARIABLE_NUMBER: SITE_MAX_SQL_VARIABLES,
}


def apply_limits(conn: sqlite3.Connection) -> None:
    """The site's limits on `conn`, where they can be set (CAN_LIMIT)."""
    if setlimit is not None:
        for category, value in LIMITS.items():
            setlimit(conn, category, value)
