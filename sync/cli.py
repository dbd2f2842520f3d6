"""`talks`: thin click commands that wire pages, YouTube, matching and the database.

Exit codes: 0 success; 1 the command failed (one sentence on stderr says why);
2 usage error; 3 another sync holds the database's lock; 4 `talks missing
--fail-if-any` found missing recordings.
"""
from __future__ import annotations

import csv
import functools
import io
import json
import logging
import os
import sys
from pathlib import Path

import click

from .errors import LockHeld, TalksError
from .redact import redact

EXIT_FAILURE, EXIT_USAGE, EXIT_LOCKED, EXIT_MISSING = 1, 2, 3, 4
DEFAULT_DB = "db/talks.db"
METADATA = Path(__file__).resolve().parent.parent / "metadata.yml"


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(verbose: bool, quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("talks")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
    root.propagate = False


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


def fail_cleanly(fn):
    """Turn our errors into one sentence on stderr and the documented exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except LockHeld as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(EXIT_LOCKED)
        except TalksError as exc:
            click.echo(f"Error: {redact(exc)}", err=True)
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
    3 another sync holds the lock, 4 missing recordings found (--fail-if-any).
    """


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
@click.option("-v", "--verbose", is_flag=True, help="Log every step.")
@click.option("-q", "--quiet", is_flag=True, help="Log only warnings and errors.")
@fail_cleanly
def sync(db_path, webinar_page, talks_page, no_talks_page, today, source, playlists, snapshot, allow_shrink,
         timeout, deadline, verbose, quiet):
    """Read the pages and the playlist, match recordings, update the database.

    Idempotent and safe to run from cron: one transaction under a lock; a failed
    run changes no data and records why in sync_runs.

    \b
    Examples:
      talks sync --snapshot --db db/talks.db
      talks sync --source none --page webinar.md --talks-page webinar_talks.md --today 2026-08-11
      YOUTUBE_API_KEY=... talks sync --playlist PLWCikipQZ8HILJaadZnNVyC9cLpg7A2dy
    """
    from .pipeline import SyncOptions, run_sync
    from .sources import DEFAULT_TALKS_PAGE, DEFAULT_WEBINAR_PAGE

    configure_logging(verbose, quiet)
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
    live_line = not quiet and sys.stderr.isatty()
    try:
        report = run_sync(options, progress=_progress_printer(quiet))
    except TalksError as exc:
        if live_line:
            click.echo("\r\x1b[K", err=True, nl=False)
        # Failed requests cost quota too: say what was spent before the error sentence.
        if exc.requests:
            click.echo(f"sync failed after {exc.requests} requests, {exc.units} quota units", err=True)
        raise
    if live_line:
        click.echo("\r\x1b[K", err=True, nl=False)  # the summary replaces the live step line
    for warning in report.warnings:
        click.echo(f"warning: {redact(warning)}", err=True)
    if not quiet:
        click.echo(
            f"sync {report.run_id} ok ({report.source}): {report.talks_seen} talks, "
            f"{report.videos_seen} videos, {report.rows_changed} rows changed, "
            f"{report.requests} requests, {report.quota_units} quota units"
        )


def _progress_printer(quiet: bool):
    """Steps as a live line on a terminal, as plain log lines elsewhere (cron, CI)."""
    if quiet:
        return lambda message: None
    if sys.stderr.isatty():
        def show(message):
            click.echo(f"\r\x1b[K… {message}", err=True, nl=False)
        return show
    return logging.getLogger("talks.sync").info


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
    for warning in report.warnings:
        click.echo(f"warning: {redact(warning)}", err=True)
    if not quiet:
        click.echo(
            f"backfill ok: {report.commits} commits touch the pages, {report.replayed} replayed, "
            f"{report.already} already replayed, {report.without_page} without the webinar page, "
            f"{len(report.failed)} failed; {report.talks} talks, {report.rows_changed} rows changed"
        )
    if report.failed:
        for failure in report.failed:
            click.echo(f"not replayed: {redact(failure)}", err=True)
        raise TalksError(f"{len(report.failed)} of {report.commits} commits could not be replayed; see sync_runs")


@cli.command()
@db_option
@click.option("--port", default=8001, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
def serve(db_path, port, host):
    """Serve the database read-only (immutable) in Datasette with metadata.yml."""
    import subprocess

    if not Path(db_path).exists():
        raise click.ClickException(f"{db_path} does not exist; build it first with `talks sync --snapshot`")
    from .site import datasette_options

    args = [sys.executable, "-m", "datasette", "serve", "-i", db_path, "--host", host, "--port", str(port)]
    if METADATA.exists():
        args += ["--metadata", str(METADATA)]
    args += datasette_options()
    click.echo(f"Serving {db_path} at http://{host}:{port}/ (Ctrl-C stops)", err=True)
    try:
        sys.exit(subprocess.call(args))
    except KeyboardInterrupt:
        pass


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


@match.command("pin")
@db_option
@click.argument("code")
@click.argument("video_id")
@fail_cleanly
def match_pin(db_path, code, video_id):
    """Make VIDEO_ID the recording of talk CODE (like S03E02) whatever the evidence.

    A video no sync has seen yet can be pinned too (the output says so).
    """
    _decide(db_path, code, video_id, "pin")


@match.command("reject")
@db_option
@click.argument("code")
@click.argument("video_id")
@fail_cleanly
def match_reject(db_path, code, video_id):
    """Never match VIDEO_ID to talk CODE again."""
    _decide(db_path, code, video_id, "reject")
