"""What a request's URL may ask of the site, checked before anything reads it.

Datasette turns query arguments into SQL: every filter is a term, every `__in` value a
named parameter (preparing n of them costs n squared: 9,000 values took 23 s), every
value a string that regular expressions and LIKE patterns run over. A request with more
arguments, longer values or longer `__in` lists than sync/core/limits.py allows answers
400 at once. `_where` (an SQL fragment Datasette puts into a table's query, out of reach
of the SQL trial) is refused: `?sql=` does the same, tried first (sqltrial.py).

Datasette runs every request's SQL on one small pool of threads. A request whose
arguments make it search, filter, sort, facet or query (`costly`) waits its turn for
all but one of them, so a page asked for plainly (a table, a row, a feed) always finds a
thread free however many searches are running; the archive's own pages have threads of
their own (pagedb.py).
"""
from __future__ import annotations

import asyncio
import json
import re
from typing import Optional
from urllib.parse import parse_qsl

from datasette.utils.asgi import Request, Response

from sync.core.limits import SITE_MAX_ARG_CHARS, SITE_MAX_IN_VALUES, SITE_MAX_QUERY_ARGS, SITE_MAX_SQL_CHARS

__all__ = ["check_arguments", "is_costly", "limit_arguments", "limit_costly", "query_arguments", "refuse"]

# A query string past this is refused unread (SITE_MAX_SQL_CHARS of SQL, percent-encoded, and the rest).
MAX_QUERY_BYTES = 3 * SITE_MAX_SQL_CHARS + SITE_MAX_QUERY_ARGS * SITE_MAX_ARG_CHARS


def query_arguments(scope) -> list[tuple[str, str]]:
    """The query string's arguments as Datasette reads them (blank values kept)."""
    return parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)


def _in_values(value: str) -> int:
    """How many values an `__in` filter holds: a JSON list, or comma-separated."""
    if value.startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            return 1
        return len(parsed) if isinstance(parsed, list) else 1
    return value.count(",") + 1


def check_arguments(scope) -> Optional[str]:
    """Why the request's arguments are refused, or None."""
    if len(scope.get("query_string", b"")) > MAX_QUERY_BYTES:
        return f"the query string is longer than {MAX_QUERY_BYTES:,} bytes"
    args = query_arguments(scope)
    if len(args) > SITE_MAX_QUERY_ARGS:
        return f"at most {SITE_MAX_QUERY_ARGS} query arguments are allowed ({len(args)} given)"
    for key, value in args:
        limit = SITE_MAX_SQL_CHARS if key == "sql" else SITE_MAX_ARG_CHARS
        if len(key) > SITE_MAX_ARG_CHARS or len(value) > limit:
            return f"the argument {key[:40]!r} is longer than {limit:,} characters"
        if key == "_where":
            return "_where is not available here; put the whole query in ?sql= instead"
        if key == "sql" and "/*" in value[value.rfind("*/") + 2:]:
            # Datasette's regular expression over the SQL costs the square of unclosed `/*`,
            # on the event loop: 7,000 of them held every request for a second.
            return "the SQL has an unclosed /* comment; close it with */"
        if key.endswith(("__in", "__notin")) and _in_values(value) > SITE_MAX_IN_VALUES:
            return f"{key[:40]} lists more than {SITE_MAX_IN_VALUES} values"
    return None


async def refuse(datasette, scope, receive, send, status: int, message: str, headers: Optional[dict] = None) -> None:
    """Answer with Datasette's error page (or its JSON error for a .json address)."""
    # Outside Datasette's own middleware: no CSRF token is set up yet (the page has no form).
    request = Request({"csrftoken": lambda: "", **scope}, receive)
    if request.path.endswith(".json"):
        response = Response.json({"ok": False, "error": message, "status": status}, status=status, headers=headers)
    else:
        html = await datasette.render_template(
            "error.html", {"ok": False, "error": message, "status": status, "title": "Refused"}, request=request
        )
        response = Response.html(html, status=status, headers=headers)
    await response.asgi_send(send)


# Arguments that only change how an answer is written, not what SQL runs.
_PLAIN_ARGUMENTS = {"_shape", "_nl", "_labels", "_json", "_json_infinity", "_dl", "_header"}
_SITE_PAGES = re.compile(r"/(\Z|talk/|speaker/|search\Z|desk\Z|static/|-/)")
MAX_COSTLY_WAITING = 50  # costly requests queued; more answer 503


def is_costly(scope) -> bool:
    """A Datasette page asked to search, filter, sort, facet or run a query."""
    if _SITE_PAGES.match(scope.get("path", "")):
        return False
    return any(key not in _PLAIN_ARGUMENTS for key, _ in query_arguments(scope))


def limit_costly(datasette):
    """ASGI middleware: costly requests run at most `num_sql_threads - 1` at a time."""
    slots = max(1, int(datasette.setting("num_sql_threads") or 1) - 1)
    turn = asyncio.Semaphore(slots)
    waiting = 0

    def wrap(app):
        async def wrapped(scope, receive, send):
            nonlocal waiting
            if scope.get("type") != "http" or not is_costly(scope):
                return await app(scope, receive, send)
            if waiting >= MAX_COSTLY_WAITING:
                return await refuse(datasette, scope, receive, send, 503,
                                    "Busy: many searches and queries are waiting their turn; try again in a moment.",
                                    headers={"Retry-After": "2"})
            waiting += 1
            try:
                await turn.acquire()
            finally:
                waiting -= 1
            try:
                await app(scope, receive, send)
            finally:
                turn.release()

        return wrapped

    return wrap


def limit_arguments(datasette):
    """ASGI middleware: 400 for a request whose arguments exceed the limits."""

    def wrap(app):
        async def wrapped(scope, receive, send):
            if scope.get("type") == "http":
                problem = check_arguments(scope)
                if problem:
                    await refuse(datasette, scope, receive, send, 400, f"Refused: {problem}.")
                    return
            await app(scope, receive, send)

        return wrapped

    return wrap
