"""What the plugin (plugins/talks_site.py) does for every Datasette page: safety and limits.

- `unregister_replaced_plugins`: drop installed plugins this site replaces, whatever is installed.
- `limit_connection`: SQLite limits on every connection, so anonymous SQL cannot build
  huge values (the 1 s time limit does not interrupt one long C call like replace(hex(...)));
  on every supported Python (sqlite_limits.py); `allow_arbitrary_sql` refuses arbitrary SQL
  where they cannot be set.
- `render_cell`: abstracts and bios as bounded safe markdown.
- `refuse_writes`, `bad_request`: 405/400 instead of Datasette 0.65's 500s on bad requests.
- `quiet_large_tables`: table pages of transcript_segments without the work that grows with it.
"""
from __future__ import annotations

import asyncio
import re
import sqlite3

from datasette.plugins import pm
from datasette.utils.asgi import Response
from markupsafe import Markup

from .render import markdown
from .sqlite_limits import CAN_LIMIT, LIMITS, apply_limits

__all__ = [
    "CAN_LIMIT",
    "LIMITS",
    "REPLACED_PLUGINS",
    "allow_arbitrary_sql",
    "bad_request",
    "limit_connection",
    "quiet_large_tables",
    "refuse_writes",
    "render_cell",
    "unregister_replaced_plugins",
]

REPLACED_PLUGINS = ("datasette_youtube_embed", "datasette_render_markdown", "datasette_atom", "datasette_ics",
                    "datasette_search_all")

# LIMITS (sqlite_limits.py): the largest string or blob any statement may make or read
# (every stored field is capped below it: sync/core/limits.py), a LIKE pattern's length,
# parameters, result columns and SQL text length. With these, the
# `replace(hex(zeroblob(200000000)), ...)` of issue #13 fails at once instead of taking 8 s
# and 2.2 GB.

MARKDOWN_COLUMNS = {"abstract", "bio"}


def unregister_replaced_plugins() -> None:
    for _name, plugin in list(pm.list_name_plugin()):
        if getattr(plugin, "__name__", None) in REPLACED_PLUGINS:
            pm.unregister(plugin)


# CAN_LIMIT: Connection.setlimit on 3.11+, SQLite's C function on 3.10 (sqlite_limits.py).
# Where neither works nothing bounds what a statement may build, so arbitrary SQL is
# refused (canned queries and every page still work).


def limit_connection(conn: sqlite3.Connection) -> None:
    apply_limits(conn)


def allow_arbitrary_sql() -> bool | None:
    """False (refuse) when connections cannot be limited; None leaves the decision to Datasette."""
    return None if CAN_LIMIT else False


async def _markdown_off_loop(value: str) -> Markup:
    # Bounded already (MARKDOWN_LIMIT); a thread keeps even that work off the event loop.
    return await asyncio.get_running_loop().run_in_executor(None, markdown, value)


def render_cell(value, column, table):
    if table == "talks" and column in MARKDOWN_COLUMNS and isinstance(value, str) and value:
        return _markdown_off_loop(value)
    return None


# ----------------------------------------------------------------------------- bad requests


def refuse_writes(app):
    """No write canned query exists: any POST outside Datasette's own /-/ pages is a 405."""

    async def wrapped(scope, receive, send):
        if scope.get("type") == "http" and scope.get("method") not in ("GET", "HEAD", "OPTIONS") \
                and not scope.get("path", "").startswith("/-/"):
            response = Response.text("Error: this site is read-only; only GET is allowed here.\n", status=405,
                                     headers={"Allow": "GET, HEAD"})
            await response.asgi_send(send)
            return
        await app(scope, receive, send)

    return wrapped


# A million transcript segments: Datasette 0.65 would count every match of a table search
# and try each column as a facet (p95 1.3 s a page); the rows alone take milliseconds. No
# setting does this per table in 0.65, so these pages get `_nocount` (with a search) and
# `_nosuggest`, as Datasette itself adds `_nocount` to its CSV requests. `_facet=` still works.
_LARGE_TABLE = re.compile(r"/talks/transcript_segments(\.\w{1,10})?\Z")


def quiet_large_tables(app):
    """Add `_nosuggest=1`, and `_nocount=1` to a search, on transcript_segments' table pages."""

    async def wrapped(scope, receive, send):
        if scope.get("type") == "http" and _LARGE_TABLE.match(scope.get("path", "")):
            query = scope.get("query_string", b"").decode("latin-1")
            keys = {part.split("=", 1)[0] for part in query.split("&")}
            extra = ["_nosuggest=1"] if "_nosuggest" not in keys else []
            if "_nocount" not in keys and any(key == "_search" or key.startswith("_search_") for key in keys):
                extra.append("_nocount=1")
            if extra:
                query = "&".join(([query] if query else []) + extra)
                scope = {**scope, "query_string": query.encode("latin-1")}
        await app(scope, receive, send)

    return wrapped


def _is_bad_request(request, exception) -> str | None:
    from datasette.views.base import DatasetteError

    if isinstance(exception, DatasetteError) and getattr(exception, "status", 500) == 500:
        message = str(getattr(exception, "message", exception))
        if message.startswith(("Cannot sort", "Cannot use _sort")):
            return message
    # Datasette 0.65 trusts ?_through= to be {"table", "column", "value"} naming a real
    # many-to-many table; anything else raised a KeyError, TypeError or sqlite3 error (500).
    if "_through" in request.args and getattr(exception, "status", 500) >= 500:
        return "_through must be JSON like {\"table\": ..., \"column\": ..., \"value\": ...}"
    if "_timelimit" in request.args and isinstance(exception, ValueError):  # int("abc") in 0.65
        return "_timelimit must be a whole number of milliseconds"
    return None


def bad_request(datasette, request, exception):
    message = _is_bad_request(request, exception)
    if message is None:
        return None

    async def inner():
        if request.path.endswith(".json"):
            return Response.json({"ok": False, "error": message, "status": 400}, status=400)
        html = await datasette.render_template(
            "error.html", {"ok": False, "error": message, "status": 400, "title": "Bad request"}, request=request
        )
        return Response.html(html, status=400)

    return inner
