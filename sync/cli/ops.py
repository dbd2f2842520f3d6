"""`talks check-continuity` and `talks copy-db`: what a scheduled job does to the kept
database besides syncing it (contrib/github/keep-db.sh, contrib/cloudrun/build-context.sh)."""
from __future__ import annotations

import sys

import click

from sync.core.errors import DatabaseFileError

from . import terminal
from .options import EXIT_FAILURE, regular_file


def _fail(prefix: str, sentences: list[str]) -> None:
    for sentence in sentences:
        terminal.echo(f"{prefix}: {sentence}", err=True)
    sys.exit(EXIT_FAILURE)


@click.command("check-continuity")
@click.argument("old", metavar="OLD", type=click.Path(dir_okay=False), callback=regular_file)
@click.argument("new", metavar="NEW", type=click.Path(dir_okay=False), callback=regular_file)
def check_continuity(old, new):
    """May NEW replace the kept database OLD? Not if it lost any run, decision, change or talk.

    Exit 0 (one summary line): NEW keeps everything OLD had. Exit 1: one sentence per
    loss on stderr (rows missing, or rows that never change written differently), or one
    sentence saying why a file cannot be read.

    \b
    Example (the nightly job, before any upload):
      talks check-continuity kept/talks.db upload/talks.db
    """
    from sync.ops.continuity import compare, losses, summary

    try:
        tallies = compare(old, new)
    except DatabaseFileError as exc:
        _fail("continuity", [str(exc)])
    lost = losses(tallies, old, new)
    if lost:
        _fail("continuity", lost)
    terminal.echo(summary(tallies, old, new))


@click.command("copy-db")
@click.argument("source", metavar="SOURCE", type=click.Path(dir_okay=False), callback=regular_file)
@click.argument("target", metavar="TARGET", type=click.Path(dir_okay=False))
def copy_db(source, target):
    """Copy a live talks database to TARGET, a new self-contained file (the WAL folded in).

    SQLite's online backup reads SOURCE as one consistent state while syncs and the site
    use it; the copy needs no -wal or -shm file. Exit 1 with one sentence if it cannot.
    """
    from sync.ops.dbcopy import copy_database

    try:
        size = copy_database(source, target)
    except DatabaseFileError as exc:
        _fail("dbcopy", [str(exc)])
    terminal.echo(f"dbcopy: {target} holds {source} ({size} bytes)")
