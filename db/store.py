"""Writers that never delete and remember every change.

Every sourced row is written through `save_row` (or `save_rows`, the same for many
rows at once): new rows are inserted, changed fields are updated, and each inserted
or changed field is written to `changes` (run, table, key, column, old, new). Rows a
source no longer shows are not deleted: `mark_removed` stamps `removed_at`.

Reads and writes here are plain SQL on the connection: sqlite-utils' table methods
re-read the schema on every call (about 49 statements per saved row), which
dominated a 5,000-video sync.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional

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


_JSON_TYPES = (dict, list, tuple)


def _stored(value):
    """A value as a column stores it: what sqlite-utils' insert did for dicts and lists."""
    if isinstance(value, _JSON_TYPES):
        return json.dumps(value, default=repr, ensure_ascii=False)
    return value


def select_rows(db: sqlite_utils.Database, table: str, where: str = "1", params: Iterable = ()) -> Iterator[dict]:
    """Rows of `table` matching `where`, as dicts, in one query."""
    cursor = db.execute(f"SELECT * FROM [{table}] WHERE {where}", list(params))
    columns = [d[0] for d in cursor.description]
    return (dict(zip(columns, row)) for row in cursor)


def get_row(db: sqlite_utils.Database, table: str, key: dict) -> Optional[dict]:
    where = " AND ".join(f"[{c}] = ?" for c in key)
    return next(select_rows(db, table, f"{where} LIMIT 1", key.values()), None)


_LEDGER_INSERT = (
    "INSERT INTO changes (run_id, table_name, row_key, column_name, old_value, new_value)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


def _ledger_row(run: RunContext, table: str, key: str, column: str, old, new) -> tuple:
    return (run.run_id, table, key, column, _as_text(old), _as_text(new))


def record_change(db, run: RunContext, table: str, key: str, column: str, old, new) -> None:
    db.execute(_LEDGER_INSERT, _ledger_row(run, table, key, column, old, new))


def _insert(db, table: str, row: dict):
    columns = ", ".join(f"[{c}]" for c in row)
    marks = ", ".join("?" for _ in row)
    cursor = db.execute(f"INSERT INTO [{table}] ({columns}) VALUES ({marks})", [_stored(v) for v in row.values()])
    return cursor.lastrowid


def _update(db, table: str, key: dict, updates: dict) -> None:
    sets = ", ".join(f"[{c}] = ?" for c in updates)
    where = " AND ".join(f"[{c}] = ?" for c in key)
    db.execute(f"UPDATE [{table}] SET {sets} WHERE {where}", [*map(_stored, updates.values()), *key.values()])


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
    # Sourced tables carry first/last_seen_run and removed_at; organizers' decisions do not.
    tracked = "last_seen_run" in TABLES[table]["columns"]
    key = {c: values[c] for c in pk if c in values}
    existing = get_row(db, table, key) if len(key) == len(pk) else None
    if existing is None:
        row = {**values, "first_seen_run": run.run_id, "last_seen_run": run.run_id} if tracked else dict(values)
        row_id = _insert(db, table, row)
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
    if seen and tracked:
        updates["last_seen_run"] = run.run_id
    if not updates:
        return existing
    _update(db, table, key, updates)
    return {**existing, **updates}


def save_rows(
    db: sqlite_utils.Database, run: RunContext, table: str, rows: Iterable[dict],
    where: str = "1", params: Iterable = (), seen: bool = True,
) -> None:
    """`save_row` for many rows, each holding its whole primary key, with the same
    outcome and the same ledger: the stored rows matching `where` are read in one
    query (`where` must hold every stored row whose key `rows` carry), and inserts,
    updates and ledger rows go out in batches (executemany), not row by row."""
    plan = RowsPlan(db, run, table, where, params, seen)
    plan.add(rows)
    plan.apply()


class RowsPlan:
    """`save_rows` in two halves: `add(rows)` as they come, in any number of calls (the
    outcome is that of one call with all of them), then `apply()` writes it all.

    `add` only reads what the first query read, so it can run while the rows are still
    arriving (a playlist's pages); `apply` writes what was added since the last
    `apply`, so it may follow each `add` (a key added twice is then inserted, then
    updated: the same table and ledger). Nothing else may write the rows `where`
    selects meanwhile. Both run in the caller's transaction. `live_before` counts the
    rows `where` selected without removed_at, as they were before any `apply`.
    """

    def __init__(
        self, db: sqlite_utils.Database, run: RunContext, table: str,
        where: str = "1", params: Iterable = (), seen: bool = True,
    ):
        self.db, self.run, self.table, self.seen = db, run, table, seen
        self.pk = pk = _pk_columns(table)
        self.stored = {tuple(row[c] for c in pk): row for row in select_rows(db, table, where, params)}
        self.live_before = sum(1 for row in self.stored.values() if row.get("removed_at") is None)
        self.inserts: dict[tuple, dict] = {}
        self.updates: dict[tuple, dict] = {}
        self.ledger: list[tuple] = []

    def add(self, rows: Iterable[dict]) -> None:
        pk, stored, inserts, updates, ledger = self.pk, self.stored, self.inserts, self.updates, self.ledger
        run, table, seen = self.run, self.table, self.seen
        run_id = run.run_id
        for values in rows:
            key = tuple(values[c] for c in pk)
            existing = stored.get(key)
            if existing is None:
                row = {**values, "first_seen_run": run_id, "last_seen_run": run_id}
                key_text = "/".join(map(str, key))  # row_key(table, row), without looking pk up again
                # _ledger_row's tuples, inlined: this loop writes every field of every new row
                ledger += [(run_id, table, key_text, c, None, v if v.__class__ is str else _as_text(v))
                           for c, v in values.items() if v is not None and c not in pk]
                run.rows_changed += 1
                inserts[key] = stored[key] = row
                continue
            changed = {c: v for c, v in values.items() if c not in pk and _as_text(existing.get(c)) != _as_text(v)}
            if seen and existing.get("removed_at") is not None:
                changed["removed_at"] = None
            key_text = row_key(table, existing)
            ledger += [_ledger_row(run, table, key_text, c, existing.get(c), v) for c, v in changed.items()]
            if changed:
                run.rows_changed += 1
            if seen:
                changed["last_seen_run"] = run.run_id
            if not changed:
                continue
            stored[key] = {**existing, **changed}
            if key in inserts:
                inserts[key].update(changed)  # the same key twice: one insert of the last state
            else:
                updates.setdefault(key, {}).update(changed)

    def apply(self) -> None:
        db, table, pk = self.db, self.table, self.pk
        for columns, group in _by_columns((row, ()) for row in self.inserts.values()):
            db.conn.executemany(
                f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in columns)}) VALUES ({', '.join('?' for _ in columns)})",
                group,
            )
        where_key = " AND ".join(f"[{c}] = ?" for c in pk)
        for columns, group in _by_columns((changed, key) for key, changed in self.updates.items()):
            db.conn.executemany(f"UPDATE [{table}] SET {', '.join(f'[{c}] = ?' for c in columns)} WHERE {where_key}", group)
        db.conn.executemany(_LEDGER_INSERT, self.ledger)
        self.inserts, self.updates, self.ledger = {}, {}, []


def _by_columns(rows: Iterable[tuple[dict, tuple]]):
    """(columns, parameter lists) per set of columns: the values, then `extra` (a key)."""
    groups: dict[tuple, list] = {}
    for row, extra in rows:
        groups.setdefault(tuple(row), []).append([*map(_stored, row.values()), *extra])
    return groups.items()


def mark_removed(
    db: sqlite_utils.Database,
    run: RunContext,
    table: str,
    seen_keys: Iterable[str],
    where: str = "1",
    params: Iterable = (),
) -> list[str]:
    """Stamp `removed_at` on live rows matching `where` whose key is not in `seen_keys`."""
    removed = []
    pk = _pk_columns(table)
    # SQLite picks the rows whose key text (row_key's) is not among the seen, from
    # thousands of live ones on every sync; and they are read before any is updated:
    # updating rows under a live cursor over the same table is undefined in SQLite
    # (rows may be skipped or visited twice).
    key_text_sql = " || '/' || ".join(f"CAST([{c}] AS TEXT)" for c in pk)
    keys = db.execute(
        f"SELECT {', '.join(f'[{c}]' for c in pk)} FROM [{table}] WHERE removed_at IS NULL AND ({where})"
        f" AND {key_text_sql} NOT IN (SELECT value FROM json_each(?))",
        [*params, json.dumps(list(dict.fromkeys(seen_keys)))],
    ).fetchall()
    for key in keys:
        row = dict(zip(pk, key))
        key_text = row_key(table, row)
        _update(db, table, row, {"removed_at": run.now})
        record_change(db, run, table, key_text, "removed_at", None, run.now)
        run.rows_changed += 1
        removed.append(key_text)
    return removed


def live_count(db: sqlite_utils.Database, table: str, where: str = "1", params=()) -> int:
    return db.execute(
        f"SELECT count(*) FROM [{table}] WHERE removed_at IS NULL AND ({where})", list(params)
    ).fetchone()[0]
