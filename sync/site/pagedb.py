"""The archive's own pages (home, talk, speaker, search, desk) read on threads of their own.

Datasette runs every query of every request on one pool of threads (3 by default). Three
slow anonymous queries held all of them, and the home page waited 23 s behind them. The
archive's pages read through `PageDatabase` instead: the same file, the same connection
setup (limits, row factory) and the same time limit, on a pool no Datasette request can
reach, so they answer whatever anonymous SQL is running.
"""
from __future__ import annotations

import asyncio
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

from datasette.utils import sqlite_timelimit

__all__ = ["PageDatabase", "PAGE_THREADS"]

PAGE_THREADS = 2  # the pages' queries are bounded and take milliseconds


class _Results:
    def __init__(self, rows: list):
        self.rows = rows


class PageDatabase:
    """A Datasette `Database` read on the pages' own threads: `await execute(sql, params)`."""

    def __init__(self, datasette, database):
        self._datasette, self._database = datasette, database
        pool = getattr(datasette, "_talks_page_pool", None)
        if pool is None:
            pool = (ThreadPoolExecutor(PAGE_THREADS, thread_name_prefix="talks-pages"), threading.local())
            datasette._talks_page_pool = pool
        self._executor, self._connections = pool

    def _connection(self) -> sqlite3.Connection:
        connections = self._connections.__dict__
        conn = connections.get(self._database.name)
        if conn is None:
            conn = self._database.connect()
            self._datasette._prepare_connection(conn, self._database.name)
            connections[self._database.name] = conn
        return conn

    def _run(self, sql: str, params) -> _Results:
        conn = self._connection()
        with sqlite_timelimit(conn, self._datasette.sql_time_limit_ms):
            return _Results(conn.execute(sql, params or {}).fetchall())

    async def execute(self, sql: str, params=None) -> _Results:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._run, sql, params)
