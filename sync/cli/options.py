"""What every `talks` command shares: exit codes, the --db and --today options, one-sentence
errors, and how a run's progress and summary are printed."""
from __future__ import annotations

import functools
import logging
import signal
import sqlite3
import sys

import click

from sync.core.dbfile import database_error
from sync.core.errors import LockHeld, TalksError
from sync.core.redact import redact
from sync.core.signals import Interrupted, stop_on_signals

from . import logs

EXIT_FAILURE, EXIT_USAGE, EXIT_LOCKED, EXIT_MISSING, EXIT_UNHEALTHY = 1, 2, 3, 4, 5
# Stopped by a signal (Interrupted.exit_code: 128 + its number, as a shell reports it): the
# run in progress rolled back what it had not committed and is recorded `interrupted`.
EXIT_SIGINT, EXIT_SIGTERM = 128 + signal.SIGINT, 128 + signal.SIGTERM
DEFAULT_DB = "db/talks.db"


def db_option(fn):
    return click.option(
        "--db",
        "db_path",
        default=DEFAULT_DB,
        show_default=True,
        type=click.Path(dir_okay=False),
        help="SQLite database file.",
    )(fn)


def today_option(fn):
    return click.option(
        "--today",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help="Date the reports count from (YYYY-MM-DD); default: the real today.",
    )(fn)


def say_error(sentence: str, **fields) -> None:
    """`Error: sentence` on stderr, or with --log-format json an ERROR object carrying it."""
    if logs.is_json():
        logs.event(logging.ERROR, sentence, error=sentence, **fields)
    else:
        click.echo(f"Error: {sentence}", err=True)


def fail_cleanly(fn):
    """Turn our errors into one sentence on stderr and the documented exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except LockHeld as exc:
            say_error(str(exc))
            sys.exit(EXIT_LOCKED)
        except Interrupted as exc:
            say_error(redact(exc), step="interrupted")
            sys.exit(exc.exit_code)
        except TalksError as exc:
            say_error(redact(exc))
            sys.exit(EXIT_FAILURE)
        except (sqlite3.Error, OSError) as exc:
            error = database_error(exc, kwargs.get("db_path"))
            if error is None:
                raise
            say_error(redact(error))
            sys.exit(EXIT_FAILURE)

    return wrapper


def stops_on_signals(fn):
    """SIGTERM and SIGINT end the command like an interruption (put under `fail_cleanly`,
    which turns it into one sentence and exit 143 or 130)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with stop_on_signals():
            return fn(*args, **kwargs)

    return wrapper


def finish_lines(warnings: list[str], quiet: bool, summary: str) -> None:
    """A run's warnings on stderr (always), then its one summary line (unless -q)."""
    for warning in warnings:
        click.echo(f"warning: {redact(warning)}", err=True)
    if not quiet:
        click.echo(summary)


def progress_printer(quiet: bool, live_line: bool):
    """Steps as a live line on a terminal, as INFO log lines elsewhere (shown with -v, or as JSON)."""
    if quiet:
        return lambda message: None
    if live_line:
        def show(message):
            click.echo(f"\r\x1b[K… {message}", err=True, nl=False)
        return show
    return logs.step
