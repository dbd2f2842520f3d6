"""The archive's Datasette plugin: its pages, safe cell rendering, feeds, and hard limits.

Loaded by `--plugins-dir` (see sync.site.datasette_options); the work is in sync.site.*.
"""
from __future__ import annotations

from datasette import hookimpl

from sync.site import feeds, hooks, transcript_search, views

# Installed plugins this one replaces, dropped before Datasette builds its routes:
# datasette-youtube-embed put `v=` unescaped into markup (stored XSS), and
# datasette-render-markdown had no size bound (a 140 KB abstract stalled the server) and
# exposed an unbounded render_markdown() to arbitrary SQL. The feeds are the site's own
# (sync/site/feeds.py): datasette-atom linked entries away from the archive, sent
# application/xml and answered 500 on a control character or a bad date; datasette-ics
# wrote no all-day events, DTSTAMP or URL, and its ics dependency fails to import on 3.12+.
hooks.unregister_replaced_plugins()


@hookimpl
def prepare_connection(conn):
    hooks.limit_connection(conn)
    transcript_search.register_functions(conn)


@hookimpl
def canned_queries(datasette, database):
    # search_recordings is built from the same SQL as the archive's /search (one meaning, one link)
    if database == views.DATABASE:  # `talks serve` always names the file so
        return {"search_recordings": transcript_search.search_recordings_query()}
    return None


@hookimpl
def permission_allowed(action):
    if action == "execute-sql":
        return hooks.allow_arbitrary_sql()
    return None


@hookimpl
def render_cell(value, column, table, database, datasette):
    return hooks.render_cell(value, column, table)


@hookimpl
def register_output_renderer(datasette):
    return [
        {"extension": "atom", "render": feeds.render_atom, "can_render": feeds.can_render_atom},
        {"extension": "ics", "render": feeds.render_ics, "can_render": feeds.can_render_ics},
    ]


@hookimpl
def asgi_wrapper(datasette):
    return lambda app: hooks.refuse_writes(hooks.quiet_large_tables(app))


@hookimpl
def handle_exception(datasette, request, exception):
    return hooks.bad_request(datasette, request, exception)


@hookimpl
def register_routes():
    return views.ROUTES
