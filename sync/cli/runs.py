"""`talks sync` and `talks backfill`: the commands that write the archive from its sources."""
from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path

import click

from sync.core.errors import TalksError
from sync.core.limits import MAX_REQUEST_TIMEOUT, MAX_SYNC_DEADLINE
from sync.core.lock import sync_lock
from sync.core.redact import redact
from sync.core.signals import Interrupted

from . import logs, terminal
from .logs import configure_logging
from .notify import notify_after_sync, notify_options, notify_setup
from .options import (
    Seconds, db_option, fail_cleanly, finish_lines, progress_printer, say_error, stops_on_signals, today_option,
)
from .transcripts import fetch_transcripts


@click.command()
@db_option
@click.option("--page", "webinar_page", metavar="PATH_OR_URL", help="The webinar page (markdown). Default: the series' raw _pages/webinar.md.")
@click.option("--talks-page", metavar="PATH_OR_URL", help="The talks page with abstracts. Default: the series' raw _pages/webinar_talks.md.")
@click.option("--no-talks-page", is_flag=True, help="Read the webinar page alone.")
@today_option
@click.option("--source", type=click.Choice(["auto", "api", "ytdlp", "none"]), default="auto", show_default=True,
              help="Where YouTube facts come from: the Data API (needs YOUTUBE_API_KEY), yt-dlp, "
                   "auto (API when a key is set, else yt-dlp) or none (pages only).")
@click.option("--playlist", "playlists", multiple=True, metavar="ID",
              help="Playlist to read instead of those the webinar page links (repeatable).")
@click.option("--snapshot", is_flag=True, help="Use the bundled snapshot: real pages and a recorded playlist, no network.")
@click.option("--allow-shrink", is_flag=True, help="Accept a source that suddenly shows far fewer talks or videos.")
@click.option("--timeout", type=Seconds(0.1, MAX_REQUEST_TIMEOUT), default=30.0, show_default=True, metavar="SECONDS",
              help="Give up on one page or API request after this long, from its first byte to its last "
                   "(it is then retried).")
@click.option("--deadline", type=Seconds(0.1, MAX_SYNC_DEADLINE), default=3600.0, show_default=True, metavar="SECONDS",
              help="Fail the whole sync, changing nothing, if it has not finished after this long.")
@click.option("--transcripts", "with_transcripts", is_flag=True,
              help="Then fetch the captions of due recordings (like `talks transcripts fetch`); a bot wall "
                   "stops only that part.")
@click.option("-v", "--verbose", is_flag=True, help="Log every step.")
@click.option("-q", "--quiet", is_flag=True, help="Log only warnings and errors; no summary line.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one object a line on stderr (time, level, step, counts, error), INFO and up unless -q.")
@notify_options
@fail_cleanly
@stops_on_signals
def sync(db_path, webinar_page, talks_page, no_talks_page, today, source, playlists, snapshot, allow_shrink,
         timeout, deadline, with_transcripts, verbose, quiet, log_format, notify, site_url):
    """Read the pages and the playlist, match recordings, update the database.

    Idempotent and safe to run from cron: one transaction under a lock; a failed
    run changes no data and records why in sync_runs. SIGTERM or SIGINT (Ctrl-C)
    stops it the same way: rolled back, recorded `interrupted` with the requests
    and quota units spent, exit 143 (SIGTERM) or 130 (SIGINT). Away from a terminal
    it prints only warnings, errors and its summary line (-v: every step).

    \b
    Examples:
      talks sync --snapshot --db db/talks.db
      talks sync --source none --page webinar.md --talks-page webinar_talks.md --today 2026-08-11
      YOUTUBE_API_KEY=... talks sync --playlist PLWCikipQZ8HILJaadZnNVyC9cLpg7A2dy
    """
    from sync.pipeline import SyncOptions
    from sync.pages.sources import DEFAULT_TALKS_PAGE, DEFAULT_WEBINAR_PAGE

    configure_logging(verbose, quiet, log_format)
    notify_urls, site = notify_setup(notify, site_url)
    if snapshot and (webinar_page or talks_page):
        raise click.UsageError("--snapshot brings its own pages; drop --page/--talks-page")
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    options = SyncOptions(
        db_path=db_path,
        webinar_page=webinar_page or DEFAULT_WEBINAR_PAGE,
        talks_page=None if no_talks_page else (talks_page or DEFAULT_TALKS_PAGE),
        today=today.date() if today else None,
        source=source,
        playlists=tuple(playlists),
        snapshot=snapshot,
        allow_shrink=allow_shrink,
        api_key=os.environ.get("YOUTUBE_API_KEY") or None,
        api_endpoint=os.environ.get("YOUTUBE_API_ENDPOINT") or None,
        timeout=timeout,
        deadline=deadline,
        lock_held=bool(notify_urls),  # held below, through the notification that follows
    )
    if source == "api" and not options.api_key and not snapshot:
        raise click.UsageError("--source api needs the YOUTUBE_API_KEY environment variable")
    with sync_lock(db_path) if notify_urls else contextlib.nullcontext():
        _sync_and_say(options, quiet, log_format, notify_urls, site)
    if with_transcripts:  # in either log format: JSON changes only how it is said
        fetch_transcripts(db_path, None, quiet)


def _sync_and_say(options, quiet, log_format, notify_urls, site):
    """Run the sync, notify (when URLs are given) whatever its outcome, and say how it went."""
    from sync.pipeline import run_sync

    as_json = log_format == "json"
    live_line = not quiet and not as_json and sys.stderr.isatty()
    try:
        report = run_sync(options, progress=progress_printer(quiet, live_line))
    except (TalksError, Interrupted) as exc:
        if live_line:
            terminal.end_live()
        spent = {"requests": exc.requests, "quota_units": exc.units}
        stopped = isinstance(exc, Interrupted)
        if notify_urls and isinstance(exc, TalksError):  # a failed sync is news: the job is unhealthy
            notify_after_sync(options.db_path, notify_urls, site)
        if as_json:
            say_error(redact(exc), step="interrupted" if stopped else "failed", counts=spent)
            sys.exit(exc.exit_code)
        # Failed requests cost quota too: say what was spent before the error sentence.
        if spent["requests"]:
            terminal.echo(f"sync {'stopped' if stopped else 'failed'} after {spent['requests']} requests, "
                          f"{spent['quota_units']} quota units", err=True)
        raise
    if live_line:
        terminal.end_live()  # the summary replaces the live step line
    if as_json:
        for warning in report.warnings:
            logs.event(logging.WARNING, redact(warning), run_id=report.run_id)
        counts = {k: getattr(report, k) for k in
                  ("talks_seen", "videos_seen", "rows_changed", "requests", "quota_units")}
        logs.event(logging.INFO, f"sync {report.run_id} ok ({report.source})", step="done", run_id=report.run_id,
                   counts=counts)
    else:
        finish_lines(report.warnings, quiet, (
            f"sync {report.run_id} ok ({report.source}): {report.talks_seen} talks, "
            f"{report.videos_seen} videos, {report.rows_changed} rows changed, "
            f"{report.requests} requests, {report.quota_units} quota units"
        ))
    if notify_urls:
        notify_after_sync(options.db_path, notify_urls, site)
    return report


@click.command()
@db_option
@click.option("--repo", "repo", required=True, metavar="PATH",
              help="A local clone of the site's repository (a checkout, bare clone or mirror).")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Replay only commits made on or after this day (YYYY-MM-DD).")
@click.option("--webinar-path", default="_pages/webinar.md", show_default=True, metavar="PATH",
              help="The webinar page's path inside the repository.")
@click.option("--talks-path", default="_pages/webinar_talks.md", show_default=True, metavar="PATH",
              help="The talks page's path inside the repository.")
@click.option("-q", "--quiet", is_flag=True, help="Print only warnings and errors.")
@fail_cleanly
@stops_on_signals
def backfill(db_path, repo, since, webinar_path, talks_path, quiet):
    """Replay the site repository's history of the pages into the database.

    Every commit of HEAD's first-parent line (what the site published) that changed
    either page, oldest first, is synced as the pages stood at that commit, dated
    the commit's day, YouTube off: a sync_runs row carrying commit_id and
    commit_date, every change in changes (the talk_history view reads them).
    Commits already replayed are skipped, so re-running changes nothing; a later
    `talks sync` continues from where the newest commit left.

    Exit 1 when the path is no git repository or has no page history, or when a
    commit's pages could not be used (the others are replayed); 3 when a sync
    holds the database's lock; 143 or 130 when SIGTERM or SIGINT stopped it (the
    commit in hand is rolled back and recorded `interrupted`, earlier ones stay).

    \b
    Examples:
      git clone https://github.com/medical-datasets/medical-datasets.github.io site
      talks backfill --repo site --db db/talks.db
      talks backfill --repo site --since 2025-01-01
      sqlite3 db/talks.db "select * from talk_history where code = 'S02E03'"
    """
    from sync.pipeline.backfill import BackfillOptions, backfill as run_backfill

    configure_logging(False, quiet)
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    options = BackfillOptions(repo=repo, db_path=db_path, since=since.date() if since else None,
                              webinar_path=webinar_path, talks_path=talks_path)
    live_line = not quiet and sys.stderr.isatty()

    def show(done, total, commit):
        if live_line:
            terminal.live(f"backfill: {done}/{total} commits ({commit.day_text} {commit.short})")

    try:
        report = run_backfill(options, progress=show)
    finally:
        if live_line:
            terminal.end_live()  # the summary replaces the live line
    finish_lines(report.warnings, quiet, (
        f"backfill ok: {report.commits} commits touch the pages, {report.replayed} replayed, "
        f"{report.already} already replayed, {report.without_page} without the webinar page, "
        f"{len(report.failed)} failed; {report.talks} talks, {report.rows_changed} rows changed"
    ))
    if report.failed:
        for failure in report.failed:
            terminal.echo(f"not replayed: {redact(failure)}", err=True)
        raise TalksError(f"{len(report.failed)} of {report.commits} commits could not be replayed; see sync_runs")
