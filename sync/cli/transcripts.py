"""`talks transcripts fetch|import`: captions of the recordings as searchable segments."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from sync.core.redact import redact

from . import logs
from .logs import configure_logging
from .options import EXIT_FAILURE, db_option, fail_cleanly, progress_printer, stops_on_signals


@click.group()
def transcripts():
    """Captions of the recordings as timed, searchable segments (search_recordings).

    \b
    Examples:
      talks transcripts fetch --max-videos 5       captions of due recordings, via yt-dlp
      talks transcripts import captions/           files fetched elsewhere:
          yt-dlp --skip-download --write-subs --write-auto-subs --sub-langs 'en,en-orig' \\
                 --sub-format 'json3/vtt' -o '%(id)s' URL      (names them <video_id>.<lang>.<ext>)
      talks transcripts export out/                every talk's transcript as .vtt, .srt and .txt

    The captions table says, per video, what the last check found (uploaded,
    automatic, none, blocked, needs_token, unavailable) and when it is checked again.
    """


CAPTION_COUNTS = ("fetched", "unchanged", "none", "blocked", "needs_token", "unavailable", "deferred")


def _report_captions(report, quiet: bool) -> None:
    if logs.is_json():  # `sync --transcripts --log-format json`: the same summary as one object
        for error in report.errors:
            logs.event(logging.ERROR, redact(error), error=redact(error), run_id=report.run_id)
        logs.event(logging.WARNING if report.stopped else logging.INFO, redact(report.summary()), step="captions",
                   run_id=report.run_id, counts={name: getattr(report, name) for name in CAPTION_COUNTS})
        return
    if sys.stderr.isatty() and not quiet:
        click.echo("\r\x1b[K", err=True, nl=False)
    for error in report.errors:
        click.echo(f"Error: {redact(error)}", err=True)
    if not quiet or report.errors or report.stopped:
        click.echo(report.summary())


def fetch_transcripts(db_path: str, max_videos, quiet: bool):
    from sync.transcripts.runs import DEFAULT_MAX_VIDEOS, run_fetch

    report = run_fetch(db_path, max_videos or DEFAULT_MAX_VIDEOS, progress=progress_printer(quiet, sys.stderr.isatty() and not quiet))
    _report_captions(report, quiet)
    return report


@transcripts.command("fetch")
@db_option
@click.option("--max-videos", type=click.IntRange(min=1), default=None, metavar="N",
              help="Check at most N recordings this run (default 10); yt-dlp pauses seconds between videos.")
@click.option("-q", "--quiet", is_flag=True, help="Print the summary only when something stopped or failed.")
@fail_cleanly
@stops_on_signals
def transcripts_fetch(db_path, max_videos, quiet):
    """Fetch captions of talks' watchable recordings that are due a check, one video at a time.

    A bot wall ("Sign in to confirm you're not a bot", common on cloud and CI
    machines) or HTTP 429 stops the caption work for hours; the command still
    exits 0 and the captions table says when each video is tried again. From such
    machines, fetch elsewhere and use `talks transcripts import`. SIGTERM or SIGINT
    stops it after the video in hand (exit 143 or 130); the videos saved stay.
    """
    configure_logging(False, quiet)
    if not Path(db_path).exists():
        raise click.ClickException(f"{db_path} does not exist; run `talks sync` first")
    fetch_transcripts(db_path, max_videos, quiet)


@transcripts.command("import")
@db_option
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@fail_cleanly
@stops_on_signals
def transcripts_import(db_path, directory, quiet):
    """Load caption files from DIRECTORY: <video_id>.<lang>.json3 or .vtt, as yt-dlp names them.

    Per video the best file wins (uploaded English, then the original automatic
    track; json3 before vtt). A file that is not a caption file gets one error
    line naming it and nothing is stored from it; every other file is loaded.
    The exit code is 1 only when files were bad and none could be loaded (or the
    database failed); with some loaded it is 0, the bad ones listed.
    """
    from sync.transcripts.runs import run_import

    configure_logging(False, quiet)
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    report = run_import(db_path, directory, progress=progress_printer(quiet, sys.stderr.isatty() and not quiet))
    _report_captions(report, quiet)
    if report.errors and not report.loaded:
        sys.exit(EXIT_FAILURE)


@transcripts.command("export")
@db_option
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@fail_cleanly
def transcripts_export(db_path, directory, quiet):
    """Write every talk's transcript to DIRECTORY as CODE.vtt, CODE.srt and CODE.txt.

    The same files as the talk pages' downloads: one cue per stored segment (a sentence or a
    few seconds), timed as the captions were; talks without a code are talk-ID.*.
    """
    from db.runs import open_readonly
    from sync.core.dbfile import check_readable
    from sync.transcripts.export import export_transcripts

    check_readable(db_path)
    con = open_readonly(db_path)
    try:
        written = export_transcripts(con, Path(directory))
    finally:
        con.close()
    if not quiet:
        click.echo(f"{len(written) // 3} transcripts written to {directory} (.vtt, .srt, .txt)")
