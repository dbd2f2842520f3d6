"""`talks serve`: the site, in Datasette."""
from __future__ import annotations

import click

from . import terminal
from .options import db_option, fail_cleanly


@click.command()
@db_option
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port; one in use is refused with a sentence.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on (0.0.0.0: every interface).")
@click.option("--immutable", is_flag=True,
              help="The file never changes while served (a published copy): no locking or change checks.")
@fail_cleanly
def serve(db_path, port, host, immutable):
    """Serve the database in Datasette, read-only, with metadata.yml.

    The file may have any name: it is served as the database `talks`. Syncs may
    run against the same file while it is served; readers see each sync's
    result at their next request, never an error. SIGTERM or Ctrl-C stop it.

    \b
    Examples:
      talks serve                          db/talks.db at http://127.0.0.1:8001/talks
      talks serve --db archive.db --port 8080
    """
    from sync.site.serve import serve as run_server

    terminal.guard_process_output()  # Datasette prints the SQL of a failed anonymous query
    try:
        run_server(db_path, host, port, announce=lambda line: terminal.echo(line, err=True), immutable=immutable)
    except KeyboardInterrupt:
        pass
