"""`talks`: thin click commands that wire pages, YouTube, matching and the database.

    options       exit codes, --db/--today, one-sentence errors, progress and summary lines
    runs          talks sync, talks backfill
    reports       talks status, talks missing, talks match pin|reject
    notify        talks notify, and the --notify options of talks sync
    transcripts   talks transcripts fetch|import
    serve         talks serve
    ops           talks check-continuity, talks copy-db (the nightly job's kept database)
    logs          text and JSON log lines, redacted

Exit codes: 0 success; 1 the command failed (one sentence on stderr says why);
2 usage error; 3 another sync holds the database's lock; 4 `talks missing
--fail-if-any` found missing recordings; 5 `talks status` found the last sync
failed or interrupted, or none succeeded within --max-age; 130 / 143 stopped by
SIGINT / SIGTERM (the run rolled back what it had not committed; `interrupted`).
"""
from __future__ import annotations

import gc

import click

from .ops import check_continuity, copy_db
from .options import (
    DEFAULT_DB, EXIT_FAILURE, EXIT_LOCKED, EXIT_MISSING, EXIT_SIGINT, EXIT_SIGTERM, EXIT_UNHEALTHY, EXIT_USAGE,
)
from .notify import notify
from .reports import match, missing, status
from .runs import backfill, sync
from .serve import serve
from .transcripts import transcripts


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="talks")
def cli():
    """Archive of the webinar series "Datasets through the Looking-Glass".

    \b
    Start here:
      talks sync --snapshot            build db/talks.db offline from the bundled snapshot
      talks serve                      browse it in Datasette on 127.0.0.1:8001
      talks missing --fail-if-any      which past talks have no watchable recording

    \b
    Exit codes: 0 ok, 1 failed (one sentence on stderr), 2 usage,
    3 another sync holds the lock, 4 missing recordings found (--fail-if-any),
    5 unhealthy (talks status: last sync failed, or none ok within --max-age),
    130 / 143 stopped by SIGINT / SIGTERM (rolled back, recorded `interrupted`).
    """


def main() -> None:
    """The `talks` command (the console script, and `python -m sync`).

    The process ends when the command does: gc.freeze() spares its last moments a
    cycle collection over everything still alive (after a 5,000-video sync, ~50 ms
    of walking objects that are about to go anyway).
    """
    try:
        cli(prog_name="talks")
    finally:
        gc.freeze()


for command in (sync, backfill, serve, status, missing, match, notify, transcripts, check_continuity, copy_db):
    cli.add_command(command)

__all__ = [
    "DEFAULT_DB", "EXIT_FAILURE", "EXIT_LOCKED", "EXIT_MISSING", "EXIT_SIGINT", "EXIT_SIGTERM", "EXIT_UNHEALTHY",
    "EXIT_USAGE", "cli", "main",
]
