"""`talks status`, `talks missing` and `talks match pin|reject`: what organizers and
monitoring ask of the archive, and organizers' decisions."""
from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import click

from sync.core.redact import redact

from .options import EXIT_MISSING, EXIT_UNHEALTHY, db_option, fail_cleanly, stops_on_signals


def _age(ctx, param, value):
    from sync.ops.status import parse_age

    try:
        return parse_age(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command()
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

    from sync.ops.status import format_status, read_status

    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    report = read_status(db_path, max_age, now)
    if fmt == "json":
        click.echo(redact(json.dumps(report.as_dict(), indent=2, ensure_ascii=False)))
    else:
        click.echo(redact(format_status(report)), nl=False)
    if not report.healthy:
        sys.exit(EXIT_UNHEALTHY)


@click.command()
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
    from sync.reports import missing_report

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


@click.group()
def match():
    """Organizers' decisions: pin or reject a talk's recording. They survive every sync.

    Decisions are kept in match_decisions and never deleted; the latest wins. A newer
    pin of a talk (or of the same video for another talk) supersedes the older one.
    VIDEO_ID may also be a YouTube URL.
    """


def _decide(db_path: str, code: str, video_id: str, action: str) -> None:
    from db.reports import is_watchable
    from sync.reports import record_decision

    if not Path(db_path).exists():
        raise click.ClickException(f"{db_path} does not exist; run `talks sync` first")
    done = record_decision(db_path, code, video_id, action)
    lines = [f"{'pinned' if action == 'pin' else 'rejected'} {done.video_id} for {done.code}"]
    if action == "pin" and done.availability is None:
        lines.append(
            f"note: no sync has seen {done.video_id} yet; it is pinned anyway (organizers know best)"
            " and counts as the recording while its availability is unknown"
        )
    elif action == "pin" and not is_watchable(done.availability):
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
    @stops_on_signals
    def decide(db_path, code, video_id):
        _decide(db_path, code, video_id, action)

    return decide


match_pin = _decision_command("pin", """Make VIDEO_ID the recording of talk CODE (like S03E02 or s3e2) whatever the evidence.

    A video no sync has seen yet can be pinned too (the output says so). An id that
    starts with "-" is read as the id ("--" before the arguments works too).
    """)


match_reject = _decision_command("reject", "Never match VIDEO_ID to talk CODE again.")
