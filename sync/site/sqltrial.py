"""Arbitrary SQL runs first in a worker process that can be killed, and one at a time.

SQLite's time limit (Datasette's progress handler) stops a statement between its steps
only. Some single steps have no bound that input limits can give: `trim(X, Y)` costs
len(X) * len(Y) (two 25,000-character strings: 7 s), LIKE costs pattern * text,
`json_patch` the product of both objects' keys, and preparing a statement whose CTEs
each join the one before twice doubles with every CTE (20 of them: 13 s, 30: days),
before any step; Datasette's own regular expression over the SQL is quadratic in
unclosed `/*` (60 KB: 10 s, on the event loop). None of it can be interrupted in a
thread, and a stuck thread also keeps the process alive after SIGTERM.

So a request with `?sql=` on the database page is tried in `sqlworker` first, under the
same limits and time limit: a worker that has not answered within the time limit and a
grace period is killed (and replaced) and the request answers 400. Only SQL that
finished there runs in the site, where it takes the same time again at most. Arbitrary
SQL requests take turns (one trial and its run at a time, SITE_SQL_WAITING more
waiting, the rest 503), so they hold at most one of Datasette's SQL threads; the
archive's own pages read on threads of their own (pagedb.py).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sys
from typing import Optional

from sync.core.limits import SITE_MAX_HTML_CELLS, SITE_SQL_WAITING

from .admission import query_arguments, refuse

__all__ = ["SqlTrial", "trial_arbitrary_sql"]

GRACE_SECONDS = 1.0  # beyond the time limit: the worker's own Python (SQL check, parameters, answer)
START_SECONDS = 30.0  # a worker that has not started by then is not coming


class SqlTrial:
    """One worker process for one database file, started on demand, killed when late."""

    def __init__(self, db_path: str):
        self.db_path = db_path
        self._proc: Optional[asyncio.subprocess.Process] = None
        self._turn = asyncio.Lock()
        self.waiting = 0

    @contextlib.asynccontextmanager
    async def turn(self):
        """One trial and its run at a time; `waiting` counts those queued for their turn."""
        self.waiting += 1
        queued = True
        try:
            async with self._turn:
                self.waiting -= 1
                queued = False
                yield
        finally:
            if queued:  # cancelled while waiting (the client went away)
                self.waiting -= 1

    async def _worker(self) -> asyncio.subprocess.Process:
        if self._proc is not None and self._proc.returncode is None:
            return self._proc
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "sync.site.sqlworker", self.db_path,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            ready = await asyncio.wait_for(proc.stdout.readline(), START_SECONDS)
        except asyncio.TimeoutError:
            ready = b""
        if not ready.startswith(b'{"ready"'):
            await self._kill(proc)
            raise RuntimeError("the SQL trial worker did not start")
        self._proc = proc
        return proc

    @staticmethod
    async def _kill(proc: asyncio.subprocess.Process) -> None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()

    async def try_sql(self, sql: str, args: dict, time_limit_ms: int, max_rows: int, all_rows: bool,
                      max_cells: int = 0) -> dict:
        """The worker's answer; {"ok": False, "kind": "killed"} when it ran out of time."""
        proc = await self._worker()
        request = {"sql": sql, "args": args, "time_limit_ms": time_limit_ms, "max_rows": max_rows,
                   "all_rows": all_rows, "max_cells": max_cells}
        proc.stdin.write(json.dumps(request).encode() + b"\n")
        try:
            await proc.stdin.drain()
            answer = await asyncio.wait_for(proc.stdout.readline(), time_limit_ms / 1000 + GRACE_SECONDS)
            return json.loads(answer)
        except (asyncio.TimeoutError, ConnectionError, ValueError):
            self._proc = None
            await self._kill(proc)
            return {"ok": False, "kind": "killed", "error": "killed"}

    async def close(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            await self._kill(self._proc)
        self._proc = None


def _time_limit_ms(datasette, args: dict) -> int:
    limit = int(datasette.setting("sql_time_limit_ms"))
    asked = args.get("_timelimit", "")
    if asked.isdigit() and 0 < int(asked) < limit:
        limit = int(asked)
    return limit


def trial_arbitrary_sql(datasette):
    """ASGI middleware: arbitrary SQL is tried in the worker first, one request at a time."""
    trials: dict[str, SqlTrial] = {}
    pages = {}

    def database_page(path: str):
        """(the database, the address's match: group 1 is its format suffix) or (None, None)."""
        for name, database in datasette.databases.items():
            pattern = pages.setdefault(name, re.compile(rf"/{re.escape(name)}(\.[\w-]+)?/?\Z"))
            found = pattern.match(path)
            if database.path and found:
                return database, found
        return None, None

    def wrap(app):
        async def wrapped(scope, receive, send):
            database, match = database_page(scope.get("path", "")) if scope.get("type") == "http" else (None, None)
            if database is None:
                return await app(scope, receive, send)
            args: dict = {}
            for key, value in query_arguments(scope):
                args.setdefault(key, value)  # the first of a repeated argument, as Datasette's .get()
            if not args.get("sql") or not await datasette.permission_allowed(
                    None, "execute-sql", database.name, default=True):
                return await app(scope, receive, send)  # no SQL, or Datasette refuses it anyway
            trial = trials.setdefault(database.path, SqlTrial(database.path))
            if trial.waiting >= SITE_SQL_WAITING:
                return await refuse(datasette, scope, receive, send, 503,
                                    "Busy: other SQL queries are waiting their turn; try again in a moment.",
                                    headers={"Retry-After": "2"})
            async with trial.turn():
                limit = _time_limit_ms(datasette, args)
                html = match.group(1) in (None, ".html")
                try:
                    verdict = await trial.try_sql(args["sql"], args, limit, datasette.max_returned_rows,
                                                  all_rows="_stream" in args, max_cells=SITE_MAX_HTML_CELLS if html else 0)
                except RuntimeError as exc:
                    return await refuse(datasette, scope, receive, send, 503, f"Unavailable: {exc}.")
                if verdict.get("kind") in ("killed", "interrupted"):
                    return await refuse(datasette, scope, receive, send, 400, (
                        f"SQL query took too long: it did not finish within the time limit of {limit} ms "
                        "and was stopped."))
                if verdict.get("kind") == "cells":
                    return await refuse(datasette, scope, receive, send, 400, (
                        f"The answer has {verdict['error']}, more than the {SITE_MAX_HTML_CELLS:,} a page shows: "
                        "ask for fewer rows or columns, or for .json or .csv."))
                if verdict.get("kind") == "memory":
                    return await refuse(datasette, scope, receive, send, 400,
                                        "SQL query needed more memory than a query may have; it was stopped.")
                # It finished in time (or failed fast: Datasette says why in its own words).
                await app(scope, receive, send)

        return wrapped

    return wrap
