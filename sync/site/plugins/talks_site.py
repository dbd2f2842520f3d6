"""The archive's Datasette plugin: its pages, safe cell rendering, feeds, and hard limits.

Loaded by `--plugins-dir` (see sync.site.datasette_options); the work is in sync.site.*.
"""
from __future__ import annotations

from datasette import hookimpl

from sync.site import feeds, hooks, transcript_search, views
from sync.site.admission import limit_arguments, limit_costly
from sync.site.headers import security_headers
from sync.site.sqltrial import trial_arbitrary_sql

# Installed plugins this one replaces, dropped before Datasette builds its routes:
# datasette-youtube-embed put `v=` unescaped into markup (stored XSS), and
# datasette-render-markdown had no size bound (a 140 KB abstract stalled the server) and
# exposed an unbounded render_markdown() to arbitrary SQL. The feeds are the site's own
# (sync/site/feeds.py): datasette-atom linked entries away from the archive, sent
# application/xml and answered 500 on a control character or a bad date; datasette-ics
# wrote no all-day events, DTSTAMP or URL, and its ics dependency fails to import on 3.12+.
# datasette-search-all's search is the archive's /search (views.py redirects its address);
# its menu link listed the searchable tables on every page render, through Datasette's
# SQL threads, so one busy with anonymous queries held the archive's pages too.
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
    # Outermost first: every answer gets the security headers, refusals included; bad
    # requests and over-long arguments are refused before anything waits its turn;
    # arbitrary SQL is tried in a worker first (waiting for that holds no SQL thread);
    # costly requests leave one SQL thread free.
    admit, trial, costly = limit_arguments(datasette), trial_arbitrary_sql(datasette), limit_costly(datasette)
    return lambda app: security_headers(hooks.refuse_writes(admit(trial(costly(hooks.quiet_large_tables(app))))))


@hookimpl
def menu_links():
    # datasette-search-all's menu link, without its queries (see REPLACED_PLUGINS).
    return [{"href": "/search", "label": "Search talks and recordings"}]


@hookimpl
def handle_exception(datasette, request, exception):
    return hooks.bad_request(datasette, request, exception)


@hookimpl
def register_routes():
    return views.ROUTES
