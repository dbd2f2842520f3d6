"""The SQL trial's worker process: `python -m sync.site.sqlworker DB_PATH`.

It runs one arbitrary SQL request at a time exactly as Datasette would (its SQL check,
its parameter extraction, the same limits, time limit and rows fetched) on a read-only
connection of its own, and answers one JSON line: {"ok": true}, or {"ok": false,
"kind": "interrupted" | "memory" | "error", "error": "..."}. The site kills it when
it does not answer in time (sqltrial.py): what cannot be interrupted in SQLite (one
long function call, preparing a statement whose CTEs expand exponentially, Datasette's
own regular expressions over the SQL) ends with the process.
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import time

from sync.core.limits import SITE_SQL_WORKER_MEMORY
from sync.site.sqlite_limits import apply_limits
from sync.site.transcript_search import register_functions


def _die_with_the_site() -> None:
    """Linux: SIGKILL when the site's process ends, however it ends (a killed site leaves no
    worker busy with a query that would take days)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _bound_memory() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (SITE_SQL_WORKER_MEMORY, SITE_SQL_WORKER_MEMORY))
    except (ImportError, ValueError, OSError):  # not on this platform: time still bounds it
        pass


class _Database:
    """What datasette.utils.derive_named_parameters asks of a database (0.65.2 ran `explain`)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    async def execute(self, sql, params=None):
        class Results(list):
            pass

        cursor = self.conn.execute(sql, params or {})
        columns = [d[0] for d in cursor.description or ()]
        return Results(dict(zip(columns, row)) for row in cursor.fetchall())


def run(conn: sqlite3.Connection, request: dict) -> dict:
    from datasette.utils import InvalidSql, derive_named_parameters, validate_sql_select

    sql, args = request["sql"], request["args"]
    try:
        validate_sql_select(sql)
    except InvalidSql as exc:
        return {"ok": False, "kind": "error", "error": str(exc)}
    named = asyncio.run(derive_named_parameters(_Database(conn), sql))
    params = {k: v for k, v in args.items() if k not in ("sql", "_shape")}
    for name in named:
        if not name.startswith("_"):
            params.setdefault(name, "")
    deadline = time.perf_counter() + request["time_limit_ms"] / 1000
    conn.set_progress_handler(lambda: 1 if time.perf_counter() >= deadline else 0, 1000)
    try:
        cursor = conn.execute(sql, params)
        if request.get("all_rows"):
            rows = cursor.fetchall()
        else:
            rows = cursor.fetchmany(request["max_rows"] + 1)[:request["max_rows"]]
        cells = len(rows) * len(cursor.description or ())
        if request.get("max_cells") and cells > request["max_cells"]:
            return {"ok": False, "kind": "cells", "error": f"{cells:,} cells"}
    except sqlite3.DatabaseError as exc:
        if exc.args == ("interrupted",):
            return {"ok": False, "kind": "interrupted", "error": "interrupted"}
        return {"ok": False, "kind": "error", "error": str(exc)}
    except MemoryError:
        return {"ok": False, "kind": "memory", "error": "out of memory"}
    finally:
        conn.set_progress_handler(None, 1000)
    return {"ok": True}


def main(db_path: str) -> None:
    _die_with_the_site()
    _bound_memory()
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    # As the site's connections are set up (Datasette's own, then the plugin's
    # prepare_connection): the same SQL must fail or succeed here as there.
    conn.text_factory = lambda data: str(data, "utf-8", "replace")
    apply_limits(conn)
    register_functions(conn)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        try:
            answer = run(conn, json.loads(line))
        except MemoryError:
            answer = {"ok": False, "kind": "memory", "error": "out of memory"}
        except Exception as exc:  # anything else: Datasette will say it its own way
            answer = {"ok": False, "kind": "error", "error": f"{type(exc).__name__}: {exc}"[:500]}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
