"""The SQLite limits of every connection the site opens (Datasette's, the archive pages',
the SQL trial's), from the numbers in sync/core/limits.py.

They bound what one statement may build or read: SQLite's time limit (Datasette's
progress handler) runs between a statement's steps, never inside one, so one long
step (a `replace()` over a huge string, one LIKE over a huge text) is bounded by its
inputs or not at all. Light on purpose: the SQL trial worker imports it.
"""
from __future__ import annotations

import sqlite3

from sync.core.limits import (
    SITE_MAX_COLUMNS, SITE_MAX_LIKE_PATTERN, SITE_MAX_SQL_CHARS, SITE_MAX_SQL_VARIABLES, SITE_MAX_VALUE_BYTES,
)

# The categories are SQLite's own numbers (sqlite3.h); Python 3.10's module lacks the names.
LIMITS = {
    getattr(sqlite3, "SQLITE_LIMIT_LENGTH", 0): SITE_MAX_VALUE_BYTES,
    getattr(sqlite3, "SQLITE_LIMIT_SQL_LENGTH", 1): SITE_MAX_SQL_CHARS,
    getattr(sqlite3, "SQLITE_LIMIT_COLUMN", 2): SITE_MAX_COLUMNS,
    getattr(sqlite3, "SQLITE_LIMIT_LIKE_PATTERN_LENGTH", 8): SITE_MAX_LIKE_PATTERN,
    getattr(sqlite3, "SQLITE_LIMIT_VARIABLE_NUMBER", 9): SITE_MAX_SQL_VARIABLES,
}

# Connection.setlimit is Python 3.11+.
CAN_LIMIT = hasattr(sqlite3.Connection, "setlimit")


def apply_limits(conn: sqlite3.Connection) -> None:
    if CAN_LIMIT:
        for category, value in LIMITS.items():
            conn.setlimit(category, value)
