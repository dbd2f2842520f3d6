"""Writers that never delete and remember every change.

Every sourced row is written through `save_row`: new rows are inserted, changed
fields are updated, and each inserted or changed field is written to `changes`
(run, table, key, column, old, new). Rows a source no longer shows are not
deleted: `mark_removed` stamps `removed_at`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Optional

import sqlite_utils

from .schema import TABLES

BOOKKEEPING = {"first_seen_run", "last_seen_run", "removed_at"}


@dataclass
class RunContext:
    """The run a write belongs to, and what it changed so far."""

    run_id: int
    now: str  # ISO timestamp stamped into removed_at
    rows_changed: int = 0


def _pk_columns(table: str) -> tuple[str, ...]:
    pk = TABLES[table]["pk"]
    return pk if isinstance(pk, tuple) else (pk,)


def row_key(table: str, row: dict) -> str:
    """The text form of a row's primary key, as `changes.row_key` stores it."""
    return "/".join(str(row[c]) for c in _pk_columns(table))


def _as_text(value) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def get_row(db: sqlite_utils.Database, table: str, key: dict) -> Optional[dict]:
    where = " AND ".join(f"[{c}] = ?" for c in key)
    rows = list(db[table].rows_where(where, list(key.values()), limit=1))
    return rows[0] if rows else None


def record_change(db, run: RunContext, table: str, key: str, column: str, old, new) -> None:
    db["changes"].insert(
        {
            "run_id": run.run_id,
            "table_name": table,
            "row_key": key,
            "column_name": column,
            "old_value": _as_text(old),
            "new_value": _as_text(new),
        }
    )


def save_row(
    db: sqlite_utils.Database, run: RunContext, table: str, values: dict, seen: bool = True
) -> dict:
    """Insert or update one row by its primary key, recording what changed.

    `values` holds the primary key and the sourced columns to set; columns it
    leaves out keep their stored value. Seeing a row (`seen`, the default)
    clears its `removed_at`; a derived update (seen=False) leaves that alone.
    Returns the stored row.
    """
    pk = _pk_columns(table)
    key = {c: values[c] for c in pk if c in values}
    existing = get_row(db, table, key) if len(key) == len(pk) else None
    if existing is None:
        row = {**values, "first_seen_run": run.run_id, "last_seen_run": run.run_id}
        row_id = db[table].insert(row).last_pk
        if len(pk) == 1 and pk[0] not in row:
            row[pk[0]] = row_id
        key_text = row_key(table, row)
        for column, value in values.items():
            if value is not None and column not in pk:
                record_change(db, run, table, key_text, column, None, value)
        run.rows_changed += 1
        return row
    updates = {
        c: v for c, v in values.items() if c not in pk and _as_text(existing.get(c)) != _as_text(v)
    }
    if seen and existing.get("removed_at") is not None:
        updates["removed_at"] = None
    key_text = row_key(table, existing)
    for column, value in updates.items():
        record_change(db, run, table, key_text, column, existing.get(column), value)
    if updates:
        run.rows_changed += 1
    if seen:
        updates["last_seen_run"] = run.run_id
    if not updates:
        return existing
    db[table].update(tuple(key[c] for c in pk) if len(pk) > 1 else key[pk[0]], updates)
    return {**existing, **updates}


def mark_removed(
    db: sqlite_utils.Database,
    run: RunContext,
    table: str,
    seen_keys: Iterable[str],
    where: str = "1",
    params: Iterable = (),
) -> list[str]:
    """Stamp `removed_at` on live rows matching `where` whose key is not in `seen_keys`."""
    seen = set(seen_keys)
    removed = []
    # Read every candidate first: updating rows under a live cursor over the same table
    # is undefined in SQLite (rows may be skipped or visited twice).
    for row in list(db[table].rows_where(f"removed_at IS NULL AND ({where})", list(params))):
        key_text = row_key(table, row)
        if key_text in seen:
            continue
        pk = _pk_columns(table)
        pk_value = tuple(row[c] for c in pk) if len(pk) > 1 else row[pk[0]]
        db[table].update(pk_value, {"removed_at": run.now})
        record_change(db, run, table, key_text, "removed_at", None, run.now)
        run.rows_changed += 1
        removed.append(key_text)
    return removed


def live_count(db: sqlite_utils.Database, table: str, where: str = "1", params=()) -> int:
    return db.execute(
        f"SELECT count(*) FROM [{table}] WHERE removed_at IS NULL AND ({where})", list(params)
    ).fetchone()[0]
