"""`talks serve`: Datasette in this very process, over the live database file.

One process to the operator: Datasette runs here under uvicorn, so SIGTERM or
SIGINT (uvicorn's handlers) stop all of it and free the port; nothing is left
behind to hold it. The port is bound before anything else happens, so a port in
use is one sentence, not a traceback from deep inside the server.

The file is served in Datasette's normal read-only mode (`mode=ro`), not
immutable: SQLite's WAL gives every query the last committed state, so a sync
may write under a running site, readers see the state before or after it, and
the next query after its commit sees the new rows. `--immutable` is for a copy
nothing writes (the published image): SQLite then skips locking and change
checks. The database is always named `talks` whatever the file is called, so
metadata.yml (which describes the database `talks`) applies to `archive.db` too.
"""
from __future__ import annotations

import asyncio
import errno
import os
import socket
import sys
from typing import Optional

from sync.core.dbfile import check_readable
from sync.core.errors import PortInUse
from . import SITE, datasette_options

DATABASE_NAME = "talks"
# metadata.yml ships inside the package (sync/site/metadata.yml links to the
# canonical top-level file in a checkout; a wheel carries a copy).
METADATA = SITE / "metadata.yml"


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or one sentence saying why not."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise PortInUse(f"cannot serve on {host}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    # as uvicorn does: a port in TIME_WAIT after the last server stopped is free
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"port {port} on {host} is in use (another `talks serve`?); stop it or pick "
                            "another with --port") from None
        raise PortInUse(f"cannot serve on {host}:{port}: {exc.strerror}") from None
    return sock


def _datasette_arguments(extra: list[str]) -> dict:
    """Datasette's own `serve` options parsed by Datasette's parser, so every flag
    `datasette_options()` hands over means what it means to `datasette serve`."""
    from datasette.cli import serve as datasette_serve

    args = list(extra)
    if METADATA.exists():
        args += ["--metadata", str(METADATA)]
    context = datasette_serve.make_context("serve", args)
    return dict(context.params)


def build_datasette(db_path: str, extra: Optional[list[str]] = None, immutable: bool = False):
    """The Datasette app serving `db_path` as the database `talks` (read-only; immutable if asked)."""
    from datasette.app import Database
    from datasette.cli import serve as datasette_serve

    params = _datasette_arguments(datasette_options() + list(extra or []))
    # Datasette's own `serve` builds the instance (settings, metadata, plugins, static
    # mounts) exactly as its command line would; return_instance stops it before it
    # starts a server. The database is added below under our name.
    params.update(files=(), immutable=(), return_instance=True, memory=False)
    datasette = datasette_serve.callback(**params)
    if "_memory" in datasette.databases:  # Datasette adds it when given no files
        datasette.remove_database("_memory")
    datasette.add_database(Database(datasette, path=os.path.abspath(db_path), is_mutable=not immutable),
                           name=DATABASE_NAME)
    return datasette


def serve(db_path: str, host: str, port: int, announce=print, immutable: bool = False) -> None:
    """Serve until SIGTERM or SIGINT; raise TalksError (one sentence) if it cannot start."""
    import uvicorn

    check_readable(db_path)
    sock = bind(host, port)
    try:
        datasette = build_datasette(db_path, immutable=immutable)
        asyncio.run(datasette.invoke_startup())
        announce(f"Serving {db_path} as /{DATABASE_NAME} at http://{host}:{sock.getsockname()[1]}/ (Ctrl-C stops)")
        config = uvicorn.Config(datasette.app(), log_level="warning", lifespan="on")
        try:
            uvicorn.Server(config).run(sockets=[sock])
        except KeyboardInterrupt:  # uvicorn raises a caught SIGINT again once it has stopped
            pass
    finally:
        sock.close()
    _end_now()


def _end_now() -> None:
    """The server has stopped: end the process now. A query thread still inside one long
    SQLite call would otherwise be waited for at exit (Python joins its pool's threads),
    burning CPU after Ctrl-C; the SQL trial's workers end with this process."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(0)
