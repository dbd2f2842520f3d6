"""`talks`: thin click commands that wire pages, YouTube, matching and the database.

Exit codes: 0 success; 1 the command failed (one sentence on stderr says why);
2 usage error; 3 another sync holds the database's lock; 4 `talks missing
--fail-if-any` found missing recordings; 5 `talks status` found the last sync
failed or none succeeded within --max-age.
"""
from __future__ import annotations

import csv
import functools
import gc
import io
import json
import logging
import os
import sqlite3
import sys
from pathlib import Path

import click

from .dbfile import database_error
from .errors import LockHeld, TalksError
from .logs import configure_logging
from .redact import redact

EXIT_FAILURE, EXIT_USAGE, EXIT_LOCKED, EXIT_MISSING, EXIT_UNHEALTHY = 1, 2, 3, 4, 5
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
    from . import logs

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
    5 unhealthy (talks status: last sync failed, or none ok within --max-age).
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


@cli.command()
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
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True, metavar="SECONDS",
              help="Give up on one page or API request after this long, from its first byte to its last "
                   "(it is then retried).")
@click.option("--deadline", type=click.FloatRange(min=0.1), default=3600.0, show_default=True, metavar="SECONDS",
              help="Fail the whole sync, changing nothing, if it has not finished after this long.")
@click.option("--transcripts", "with_transcripts", is_flag=True,
              help="Then fetch the captions of due recordings (like `talks transcripts fetch`); a bot wall "
                   "stops only that part.")
@click.option("-v", "--verbose", is_flag=True, help="Log every step.")
@click.option("-q", "--quiet", is_flag=True, help="Log only warnings and errors; no summary line.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one object a line on stderr (time, level, step, counts, error), INFO and up unless -q.")
@fail_cleanly
def sync(db_path, webinar_page, talks_page, no_talks_page, today, source, playlists, snapshot, allow_shrink,
         timeout, deadline, with_transcripts, verbose, quiet, log_format):
    """Read the pages and the playlist, match recordings, update the database.

    Idempotent and safe to run from cron: one transaction under a lock; a failed
    run changes no data and records why in sync_runs. Away from a terminal it
    prints only warnings, errors and its summary line (-v: every step).

    \b
    Examples:
      talks sync --snapshot --db db/talks.db
      talks sync --source none --page webinar.md --talks-page webinar_talks.md --today 2026-08-11
      YOUTUBE_API_KEY=... talks sync --playlist PLWCikipQZ8HILJaadZnNVyC9cLpg7A2dy
    """
    from .pipeline import SyncOptions, run_sync
    from .sources import DEFAULT_TALKS_PAGE, DEFAULT_WEBINAR_PAGE

    configure_logging(verbose, quiet, log_format)
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
    )
    if source == "api" and not options.api_key and not snapshot:
        raise click.UsageError("--source api needs the YOUTUBE_API_KEY environment variable")
    as_json = log_format == "json"
    live_line = not quiet and not as_json and sys.stderr.isatty()
    try:
        report = run_sync(options, progress=_progress_printer(quiet, live_line))
    except TalksError as exc:
        if live_line:
            click.echo("\r\x1b[K", err=True, nl=False)
        spent = {"requests": exc.requests, "quota_units": exc.units}
        if as_json:
            say_error(redact(exc), step="failed", counts=spent)
            sys.exit(EXIT_LOCKED if isinstance(exc, LockHeld) else EXIT_FAILURE)
        # Failed requests cost quota too: say what was spent before the error sentence.
        if spent["requests"]:
            click.echo(f"sync failed after {spent['requests']} requests, {spent['quota_units']} quota units", err=True)
        raise
    if live_line:
        click.echo("\r\x1b[K", err=True, nl=False)  # the summary replaces the live step line
    if as_json:
        from . import logs

        for warning in report.warnings:
            logs.event(logging.WARNING, redact(warning), run_id=report.run_id)
        counts = {k: getattr(report, k) for k in
                  ("talks_seen", "videos_seen", "rows_changed", "requests", "quota_units")}
        logs.event(logging.INFO, f"sync {report.run_id} ok ({report.source})", step="done", run_id=report.run_id,
                   counts=counts)
        return
    _finish_lines(report.warnings, quiet, (
        f"sync {report.run_id} ok ({report.source}): {report.talks_seen} talks, "
        f"{report.videos_seen} videos, {report.rows_changed} rows changed, "
        f"{report.requests} requests, {report.quota_units} quota units"
    ))
    if with_transcripts:
        _fetch_transcripts(db_path, None, quiet)


def _finish_lines(warnings: list[str], quiet: bool, summary: str) -> None:
    """A run's warnings on stderr (always), then its one summary line (unless -q)."""
    for warning in warnings:
        click.echo(f"warning: {redact(warning)}", err=True)
    if not quiet:
        click.echo(summary)


def _progress_printer(quiet: bool, live_line: bool):
    """Steps as a live line on a terminal, as INFO log lines elsewhere (shown with -v, or as JSON)."""
    from . import logs

    if quiet:
        return lambda message: None
    if live_line:
        def show(message):
            click.echo(f"\r\x1b[K… {message}", err=True, nl=False)
        return show
    return logs.step


@cli.command()
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
    holds the database's lock.

    \b
    Examples:
      git clone https://github.com/medical-datasets/medical-datasets.github.io site
      talks backfill --repo site --db db/talks.db
      talks backfill --repo site --since 2025-01-01
      sqlite3 db/talks.db "select * from talk_history where code = 'S02E03'"
    """
    from .backfill import BackfillOptions, backfill as run_backfill

    configure_logging(False, quiet)
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    options = BackfillOptions(repo=repo, db_path=db_path, since=since.date() if since else None,
                              webinar_path=webinar_path, talks_path=talks_path)
    live_line = not quiet and sys.stderr.isatty()

    def show(done, total, commit):
        if live_line:
            click.echo(f"\r\x1b[K… backfill: {done}/{total} commits ({commit.committed[:10]} {commit.short})",
                       err=True, nl=False)

    try:
        report = run_backfill(options, progress=show)
    finally:
        if live_line:
            click.echo("\r\x1b[K", err=True, nl=False)  # the summary replaces the live line
    _finish_lines(report.warnings, quiet, (
        f"backfill ok: {report.commits} commits touch the pages, {report.replayed} replayed, "
        f"{report.already} already replayed, {report.without_page} without the webinar page, "
        f"{len(report.failed)} failed; {report.talks} talks, {report.rows_changed} rows changed"
    ))
    if report.failed:
        for failure in report.failed:
            click.echo(f"not replayed: {redact(failure)}", err=True)
        raise TalksError(f"{len(report.failed)} of {report.commits} commits could not be replayed; see sync_runs")


@cli.command()
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
    from .serve import serve as run_server

    try:
        run_server(db_path, host, port, announce=lambda line: click.echo(line, err=True), immutable=immutable)
    except KeyboardInterrupt:
        pass


def _age(ctx, param, value):
    from .status import parse_age

    try:
        return parse_age(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@cli.command()
@db_option
@click.option("--max-age", default="36h", show_default=True, callback=_age, metavar="AGE",
              help="Unhealthy unless a sync succeeded within this long (36h, 2d, 90m).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--now", type=click.DateTime(formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"]), default=None,
              hidden=True, help="Judge as of this moment (tests, replays); default: now.")
@fail_cleanly
def status(db_path, max_age, fmt, now):
    """Is the archive healthy? Last runs, quota spent today, counts.

    Shows the last runs (outcome, duration, requests, quota units), the Data API
    quota spent today (the quota day is Pacific time; 10,000 units a day), counts
    of talks, recordings, missing recordings, stale links and orphan videos, and
    caption states once transcripts exist. Read-only: safe next to a sync.

    \b
    Exit 5 when the last finished sync failed, or none succeeded within --max-age:
      talks status --max-age 26h >/dev/null || alert "talks: see talks status"
      talks status --format json
    """
    import datetime as dt

    from .status import format_status, read_status

    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    report = read_status(db_path, max_age, now)
    if fmt == "json":
        click.echo(redact(json.dumps(report.as_dict(), indent=2, ensure_ascii=False)))
    else:
        click.echo(redact(format_status(report)), nl=False)
    if not report.healthy:
        sys.exit(EXIT_UNHEALTHY)


@cli.command()
@db_option
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Count past talks from this date (YYYY-MM-DD); default: the --today of the last sync.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.option("--fail-if-any", is_flag=True, help=f"Exit {EXIT_MISSING} when any recording is missing (for alerts).")
@fail_cleanly
def missing(db_path, today, fmt, fail_if_any):
    """Past talks with no public or unlisted recording, and why.

    Reasons: no_video, private, deleted, broken_link, never_listed. Talks still
    announced (upcoming) and talks dated today or later are never missing.

    \b
    Examples:
      talks missing --fail-if-any            exit 4 when anything is missing (cron, CI)
      talks missing --format csv --today 2026-08-11
    """
    from .reports import missing_report

    if not Path(db_path).exists():
        raise click.ClickException(f"{db_path} does not exist; run `talks sync` first")
    fields, rows = missing_report(db_path, today.date() if today else None)
    click.echo(format_rows(rows, fmt, ["code", "date", "reason", "speakers", "title"], fields), nl=False)
    if fail_if_any and rows:
        sys.exit(EXIT_MISSING)


def format_rows(rows: list[dict], fmt: str, columns: list[str], fields: list[str] | None = None) -> str:
    """`columns` for the table; json and csv give every field (`fields`: their order,
    also the csv header when there are no rows)."""
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        header = list(fields) if fields else list(rows[0]) if rows else columns
        writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()
    if not rows:
        return "nothing missing\n"
    widths = {c: min(48, max(len(c), *(len(str(r.get(c) or "")) for r in rows))) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    for row in rows:
        lines.append("  ".join(str(row.get(c) or "")[: widths[c]].ljust(widths[c]) for c in columns))
    return "\n".join(line.rstrip() for line in lines) + f"\n{len(rows)} missing\n"


@cli.group()
def match():
    """Organizers' decisions: pin or reject a talk's recording. They survive every sync.

    Decisions are kept in match_decisions and never deleted; the latest wins. A newer
    pin of a talk (or of the same video for another talk) supersedes the older one.
    VIDEO_ID may also be a YouTube URL.
    """


def _decide(db_path: str, code: str, video_id: str, action: str) -> None:
    from .reports import record_decision

    if not Path(db_path).exists():
        raise click.ClickException(f"{db_path} does not exist; run `talks sync` first")
    done = record_decision(db_path, code, video_id, action)
    lines = [f"{'pinned' if action == 'pin' else 'rejected'} {done.video_id} for {done.code}"]
    if action == "pin" and done.availability is None:
        lines.append(
            f"note: no sync has seen {done.video_id} yet; it is pinned anyway (organizers know best)"
            " and counts as the recording while its availability is unknown"
        )
    elif action == "pin" and done.availability not in ("public", "unlisted"):
        lines.append(
            f"note: {done.video_id} is {done.availability} on YouTube, so {done.code} stays in"
            " missing_recordings until it is watchable"
        )
    if done.recording:
        lines.append(f"{done.code}'s recording is now {done.recording} ({done.method})")
    else:
        lines.append(f"{done.code} has no recording now")
    click.echo("\n".join(lines))


# Video ids may start with "-" ("-----------" is a valid id): what is no option of the
# command is an argument, and only --help asks for help ("-h..." may be an id).
DECISION_SETTINGS = {"ignore_unknown_options": True, "help_option_names": ["--help"]}


def _decision_command(action: str, help_text: str):
    """`talks match pin|reject CODE VIDEO_ID`: the two differ only in the action stored."""

    @match.command(action, context_settings=DECISION_SETTINGS, help=help_text)
    @db_option
    @click.argument("code")
    @click.argument("video_id")
    @fail_cleanly
    def decide(db_path, code, video_id):
        _decide(db_path, code, video_id, action)

    return decide


match_pin = _decision_command("pin", """Make VIDEO_ID the recording of talk CODE (like S03E02 or s3e2) whatever the evidence.

    A video no sync has seen yet can be pinned too (the output says so). An id that
    starts with "-" is read as the id ("--" before the arguments works too).
    """)
match_reject = _decision_command("reject", "Never match VIDEO_ID to talk CODE again.")


@cli.group()
def transcripts():
    """Captions of the recordings as timed, searchable segments (search_recordings).

    \b
    Examples:
      talks transcripts fetch --max-videos 5       captions of due recordings, via yt-dlp
      talks transcripts import captions/           files fetched elsewhere:
          yt-dlp --skip-download --write-subs --write-auto-subs --sub-langs 'en,en-orig' \\
                 --sub-format 'json3/vtt' -o '%(id)s' URL      (names them <video_id>.<lang>.<ext>)

    The captions table says, per video, what the last check found (uploaded,
    automatic, none, blocked, needs_token, unavailable) and when it is checked again.
    """


def _report_captions(report, quiet: bool) -> None:
    if sys.stderr.isatty() and not quiet:
        click.echo("\r\x1b[K", err=True, nl=False)
    for error in report.errors:
        click.echo(f"Error: {redact(error)}", err=True)
    if not quiet or report.errors or report.stopped:
        click.echo(report.summary())


def _fetch_transcripts(db_path: str, max_videos, quiet: bool):
    from .caption_runs import DEFAULT_MAX_VIDEOS, run_fetch

    report = run_fetch(db_path, max_videos or DEFAULT_MAX_VIDEOS, progress=_progress_printer(quiet, sys.stderr.isatty() and not quiet))
    _report_captions(report, quiet)
    return report


@transcripts.command("fetch")
@db_option
@click.option("--max-videos", type=click.IntRange(min=1), default=None, metavar="N",
              help="Check at most N recordings this run (default 10); yt-dlp pauses seconds between videos.")
@click.option("-q", "--quiet", is_flag=True, help="Print the summary only when something stopped or failed.")
@fail_cleanly
def transcripts_fetch(db_path, max_videos, quiet):
    """Fetch captions of talks' watchable recordings that are due a check, one video at a time.

    A bot wall ("Sign in to confirm you're not a bot", common on cloud and CI
    machines) or HTTP 429 stops the caption work for hours; the command still
    exits 0 and the captions table says when each video is tried again. From such
    machines, fetch elsewhere and use `talks transcripts import`.
    """
    configure_logging(False, quiet)
    if not Path(db_path).exists():
        raise click.ClickException(f"{db_path} does not exist; run `talks sync` first")
    _fetch_transcripts(db_path, max_videos, quiet)


@transcripts.command("import")
@db_option
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@fail_cleanly
def transcripts_import(db_path, directory, quiet):
    """Load caption files from DIRECTORY: <video_id>.<lang>.json3 or .vtt, as yt-dlp names them.

    Per video the best file wins (uploaded English, then the original automatic
    track; json3 before vtt). A file that is not a caption file gets one error
    line and nothing is stored from it; the rest are loaded, and the exit code is 1.
    """
    from .caption_runs import run_import

    configure_logging(False, quiet)
    Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    report = run_import(db_path, directory, progress=_progress_printer(quiet, sys.stderr.isatty() and not quiet))
    _report_captions(report, quiet)
    if report.errors:
        sys.exit(EXIT_FAILURE)
